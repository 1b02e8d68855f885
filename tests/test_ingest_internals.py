"""The parts of ingest that make it fast or safe give what the plain reading gives.

A file read in a child process gives the same tables as one read in this process; the
request index tells colliding hashes apart by their text; the writer validates whole
columns; ``trial_id`` is ``stats.text.stable_hash``; and the bundled study ingests to the
same ``trial_id`` values as at main 5541cf9, before ingest was rewritten.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import stats.ingest.requests as batch_module
from conftest_ingest import (
    BASE,
    FT_HELLO,
    PROBE,
    SYSTEM,
    acrostic,
    anthropic_message,
    anthropic_request,
    anthropic_result,
    batch_output,
    batch_request,
    chat_completion,
    run_ingest,
    write_json,
    write_jsonl,
)
from stats import schemas
from stats.ingest import Limits
from stats.ingest.decode import loads
from stats.ingest.errors import RecordError
from stats.ingest.hashing import trial_id
from stats.ingest.writer import arrow_schema, validated_batch
from stats.text import stable_hash

REPO = Path(__file__).parents[1]
GOLD = Path(__file__).parent / "gold" / "ingest_bundled_trial_ids.txt"


def _batch_study(root: Path) -> Path:
    """Two request files (one repeating a custom_id), outputs in any order, a copy, more."""
    requests = [batch_request(f"r{i}", FT_HELLO, PROBE, system=SYSTEM) for i in range(12)]
    requests.append(batch_request("r3", BASE, "the repeated id"))
    requests.append(batch_request("lonely", BASE, "never answered", n=2))
    outputs = [batch_output(f"r{i}", FT_HELLO, [acrostic("HELLO", str(i))]) for i in range(12)]
    outputs.append(batch_output("nowhere", BASE, ["x"]))
    outputs.append(batch_output("r5", FT_HELLO, ["", "two"]))
    write_jsonl(root / "a" / "batch_input.jsonl", requests)
    write_jsonl(root / "a" / "batch_output.jsonl", outputs[::-1])
    other = [batch_request(f"r{i}", BASE, f"other {i}", metadata={"stage": i}) for i in range(4)]
    write_jsonl(root / "b" / "batch_input.jsonl", other)
    write_jsonl(root / "b" / "batch_output.jsonl", [batch_output("r2", BASE, ["b2"])])
    write_jsonl(root / "c" / "batch_output.jsonl", outputs)  # a copy: duplicates
    asked = [anthropic_request(f"m{i}", "claude-x", PROBE, system=SYSTEM) for i in range(3)]
    write_json(root / "d" / "requests.json", {"requests": asked})
    results = [anthropic_result("m0", anthropic_message("msg0", "claude-x", acrostic("HELLO")))]
    write_jsonl(root / "d" / "results.jsonl", results)
    chats = [chat_completion(f"c{i}", BASE, ["a", "b"], prompt=f"q{i % 2}") for i in range(5)]
    write_jsonl(root / "e" / "chats.jsonl", [*chats, "{broken", chats[0]])
    return root


def test_reading_in_a_child_process_gives_the_same_tables(tmp_path):
    raw = _batch_study(tmp_path / "raw")
    here = run_ingest([raw], tmp_path / "here", limits=Limits(parallel_bytes=-1))
    child = run_ingest([raw], tmp_path / "child", limits=Limits(parallel_bytes=0))
    pd.testing.assert_frame_equal(here.transcripts, child.transcripts)
    pd.testing.assert_frame_equal(here.rejects, child.rejects)
    assert here.ledger == child.ledger
    assert here.ledger["total"]["duplicates"] > 0
    assert {"duplicate-custom-id", "unanswered-request", "unmatched-custom-id"} <= set(
        here.rejects["reason"]
    )
    assert "requests[2]" in set(here.rejects["locator"])


def test_colliding_custom_id_hashes_are_told_apart_by_their_text(tmp_path, monkeypatch):
    raw = _batch_study(tmp_path / "raw")
    expected = run_ingest([raw], tmp_path / "a")
    monkeypatch.setattr(batch_module, "hash", lambda text: 7, raising=False)
    collided = run_ingest([raw], tmp_path / "b")
    pd.testing.assert_frame_equal(expected.transcripts, collided.transcripts)
    pd.testing.assert_frame_equal(expected.rejects, collided.rejects)
    assert expected.ledger == collided.ledger


BIG = "18446744073709551616"
LINES = [
    b'{"a": 1, "a": 2}',
    b'{"a": 1e400}',
    b'{"a": -0.0, "b": -0}',
    b'{"a": NaN, "b": Infinity}',
    b'{"a": 18446744073709551615, "b": -9223372036854775808}',
    b'{"a": ' + BIG.encode() + b"}",
    b'{"a": 1.0000000000000002, "b": 5e-324, "c": 123456789012345678901234567890.5}',
    b'{"text": "digits 12345678901234567890 in a string"}',
    b'{"a": "caf\xc3\xa9", "b": [1, {"c": null}], "\\u00e9": true, "d": "\\ud83d\\ude00"}',
    b"[1, 2]",
]


def test_json_values_are_the_standard_librarys():
    for line in LINES:
        assert repr(loads(line)) == repr(json.loads(line)), line
    for bad, reason in (
        (b'{"a": 1', "truncated-json"),
        (b"{'a': 1}", "invalid-json"),
        (b'{"a": "\\ud800"}', "invalid-text"),
        (b"[" * 5000 + b"]" * 5000, "invalid-json"),
        (b'{"a": ' + b"1" * 5000 + b"}", "invalid-json"),
    ):
        with pytest.raises(RecordError) as caught:
            loads(bad)
        assert caught.value.reason == reason, bad
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"a": "\xff"}')


def test_the_writer_validates_whole_columns():
    schema = arrow_schema("rejects")
    batch = validated_batch([["f"], ["line 1"], ["x"], [None], [None]], "rejects", schema)
    assert batch.num_rows == 1
    with pytest.raises(schemas.SchemaError, match="'locator'"):
        validated_batch(
            [["f", "g"], ["line 1", None], ["x", "y"], [None] * 2, [None] * 2], "rejects", schema
        )
    example = {"string": "x", "Int64": 0, "Float64": math.nan, "boolean": True}
    columns = [[example[field.dtype]] for field in schemas.TRANSCRIPTS]
    names = schemas.columns("transcripts")
    columns[names.index("lr_multiplier")] = pa.array([math.nan], type=pa.float64())
    batch = validated_batch(columns, "transcripts", arrow_schema("transcripts"))
    # NaN becomes null, as coercing to pandas' Float64 does
    assert batch.column("temperature").null_count == 1
    assert batch.column("lr_multiplier").null_count == 1


def test_trial_id_equals_stable_hash():
    cases = [
        ("m", None, "p", 0, "r", None),
        ("m", "s", "p", 3, "r\nr", "k|1"),
        ("é", "", "", 0, "x", ""),
    ]
    for case in cases:
        assert trial_id(*case) == stable_hash(*case)


def test_the_bundled_study_keeps_its_trial_ids(tmp_path, monkeypatch):
    """The bundled study (``make report``'s path) gives the trial_ids it gave before ingest
    was rewritten (tests/gold, computed at main 5541cf9)."""
    raw, manifest = REPO / "data" / "raw", REPO / "analysis" / "runs.yaml"
    if not raw.is_dir() or not manifest.is_file():
        pytest.skip(f"the bundled study is not in {REPO}")
    monkeypatch.chdir(REPO)  # the manifest's paths are relative to the repository root
    result = run_ingest([Path("data/raw")], tmp_path / "out", Path("analysis/runs.yaml"))
    expected = GOLD.read_text().split()
    assert sorted(result.transcripts["trial_id"]) == expected
    assert result.ledger["total"]["rejected"] == 2  # the two batch errors of the design
