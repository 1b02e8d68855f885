"""The fast paths of ingest give exactly what the general paths give.

orjson decoding, the quick readers of common batch lines, the in-memory request index and
trial_id set (and their spill to SQLite), the vectorised writer and the spilling child
process are all checked against the slower code they stand in for.
"""

from __future__ import annotations

import itertools
import json
import math

import pandas as pd
import pyarrow as pa
import pytest

import stats.ingest.scratch as scratch_module
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
    run_ingest,
    write_json,
    write_jsonl,
)
from stats import schemas
from stats.ingest import Limits
from stats.ingest.batch import RequestContexts
from stats.ingest.fastjson import SLOW, exact, loads_line, loads_line_unchecked
from stats.ingest.hashing import finish, finish_answer, prefix_state
from stats.ingest.openai import (
    batch_request_parts,
    output_record,
    plain_batch_output,
    plain_chat_request,
)
from stats.ingest.pipeline import trial_ints
from stats.ingest.prefetch import Prefetch
from stats.ingest.scratch import trial_int
from stats.ingest.writer import arrow_schema, validated_batch

BIG = "18446744073709551616"
SMALL = "-9223372036854775809"
LINES = [
    b'{"a": 1, "a": 2}',
    b'{"a": 1e400}',
    b'{"a": -0.0, "b": -0}',
    b'{"a": "\\ud800"}',
    b'{"a": NaN, "b": Infinity}',
    b'{"a": 18446744073709551615, "b": -9223372036854775808}',
    b'{"a": ' + BIG.encode() + b"}",
    b'{"a": ' + SMALL.encode() + b"}",
    b'{"a": 1.0000000000000002, "b": 5e-324, "c": 123456789012345678901234567890.5}',
    b'{"text": "digits 12345678901234567890 in a string"}',
    b'{"a": "caf\xc3\xa9", "b": [1, {"c": null}], "\\u00e9": true}',
    b"[1, 2]",
    b'"text"',
]


def test_orjson_lines_decode_as_the_standard_library_does():
    for line in LINES:
        expected = json.loads(line)
        fast = loads_line(line)
        if fast is not SLOW:
            assert repr(fast) == repr(expected), line
        unchecked = loads_line_unchecked(line)
        if unchecked is not SLOW:
            assert repr(exact(unchecked, line)) == repr(expected), line
    for bad in (b'{"a": 1', b"{'a': 1}", b'{"a": "\x01"}', b"\xff{}"):
        assert loads_line(bad) is SLOW


def _request_lines() -> list[bytes]:
    body = batch_request("r", FT_HELLO, PROBE, system=SYSTEM, temperature=1.0)
    lines = [json.dumps(body)]
    variants = [
        ('"temperature": 1.0', '"temperature": 7'),
        ('"temperature": 1.0', f'"temperature": {BIG}'),
        ('"temperature": 1.0', '"temperature": 1e300'),
        ('"temperature": 1.0', '"temperature": "0.5"'),
        ('"temperature": 1.0', '"temperature": true'),
        ('"temperature": 1.0', '"temperature": 1.0, "n": 3'),
        ('"temperature": 1.0', f'"temperature": 1.0, "n": {BIG}'),
        ('"temperature": 1.0', '"temperature": 1.0, "n": 0'),
        ('"temperature": 1.0', '"temperature": 1.0, "metadata": {}'),
        ('"temperature": 1.0', '"temperature": 1.0, "metadata": "x"'),
        ('"temperature": 1.0', f'"temperature": 1.0, "metadata": {{"stage": {BIG}}}'),
        ('"custom_id": "r"', f'"custom_id": {BIG}'),
        ('"custom_id": "r"', '"custom_id": 12'),
        (f'"model": "{FT_HELLO}"', f'"model": {BIG}'),
        ('"role": "user"', '"role": "customer"'),
        (f'"content": "{SYSTEM}"', '"content": [{"type": "text", "text": "parts"}]'),
    ]
    lines += [lines[0].replace(old, new) for old, new in variants]
    return [line.encode() for line in lines]


def test_the_fast_request_reader_reads_as_the_general_one():
    fast_lines = 0
    for line in _request_lines():
        expected = json.loads(line)
        for obj in (expected, loads_line_unchecked(line)):
            plain = plain_chat_request(obj)
            if plain is None:
                continue
            fast_lines += 1
            custom_id, ctx = batch_request_parts(expected)
            key = (ctx["model"], ctx["system_prompt"], ctx["prompt"], ctx["temperature"])
            assert plain == (custom_id, key, ctx["n"]), line
            assert not (ctx["trial"] or ctx["hints"] or ctx["conditions"])
            # both ways of numbering give the same context id and JSON
            assert RequestContexts().plain(key, plain[2]) == RequestContexts().general(ctx)
    assert fast_lines >= 8


def _output_lines() -> list[bytes]:
    line = json.dumps(batch_output("o", BASE, [acrostic("HELLO")]))
    variants = [
        ('"index": 0', '"index": 3'),
        ('"index": 0', f'"index": {BIG}'),
        ('"index": 0', '"index": true'),
        ('"finish_reason": "stop"', '"finish_reason": null'),
        ('"finish_reason": "stop"', f'"finish_reason": {BIG}'),
        ('"status_code": 200', '"status_code": 200.0'),
        ('"status_code": 200', '"status_code": 500'),
        ('"error": null', '"error": 0'),
        ('"error": null', '"error": {"code": "x", "message": "y"}'),
        ('"custom_id": "o"', f'"custom_id": {BIG}'),
        ('"id": "batch_req_o"', f'"id": {BIG}'),
        ('"id": "batch_req_o"', f'"id": {SMALL}'),
        ('"id": "batch_req_o"', '"id": 1.5'),
        ('"id": "chatcmpl-o"', '"id": 7'),
        (f'"model": "{BASE}"', f'"model": {BIG}'),
        (f'"model": "{BASE}"', '"model": null'),
        ('"refusal": null', '"refusal": "no"'),
        ('"object": "chat.completion"', '"object": "response"'),
    ]
    lines = [line] + [line.replace(old, new) for old, new in variants]
    two = json.loads(line)
    choices = two["response"]["body"]["choices"]
    choices.append({**choices[0], "index": 1, "message": {"content": "second"}})
    lines.append(json.dumps(two))
    choices[1]["message"]["content"] = "   "
    lines.append(json.dumps(two))
    return [text.encode() for text in lines]


def test_the_fast_output_reader_reads_as_the_general_one():
    fast_lines = 0
    for line in _output_lines():
        expected = json.loads(line)
        for obj in (expected, loads_line_unchecked(line)):
            plain = plain_batch_output(obj)
            if plain is None:
                continue
            fast_lines += 1
            assert plain == output_record(expected), line
    assert fast_lines >= 10


def test_answer_hashes_and_vectorised_trial_ints_match_the_general_ones():
    prefix = prefix_state(FT_HELLO, None, PROBE)
    for sample, response, key in [(0, "x", "a|b|c"), (12345, "héllo\n", "é|None|x"), (-3, "", "")]:
        assert finish_answer(prefix, sample, response, key) == finish(prefix, sample, response, key)
    ids = ("0" * 16, "f" * 16, "8" + "0" * 15, "7" + "f" * 15, "0123456789abcdef")
    assert trial_ints(ids).tolist() == [trial_int(t) for t in ids]


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


@pytest.mark.parametrize("spill", [True, False])
def test_prefetch_streams_many_chunks_in_order(spill):
    items = list(Prefetch(itertools.repeat, ("x", 1201), spill=spill, chunk=500))
    assert items == ["x"] * 1201


def _batch_study(root):
    """Two request files (one repeating a custom_id), outputs in any order, a copy."""
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
    # Message Batches requests as one JSON document: locators "requests[i]"
    asked = [anthropic_request(f"m{i}", "claude-x", PROBE, system=SYSTEM) for i in range(3)]
    write_json(root / "d" / "requests.json", {"requests": asked})
    results = [anthropic_result("m0", anthropic_message("msg0", "claude-x", acrostic("HELLO")))]
    write_jsonl(root / "d" / "results.jsonl", results)
    return root


@pytest.mark.parametrize("memory_rows", [0, 3, 7])
def test_in_memory_and_on_disk_stores_give_the_same_tables(tmp_path, memory_rows):
    raw = _batch_study(tmp_path / "raw")
    default = run_ingest([raw], tmp_path / "default")
    small = run_ingest([raw], tmp_path / "small", limits=Limits(memory_rows=memory_rows))
    pd.testing.assert_frame_equal(default.transcripts, small.transcripts)
    pd.testing.assert_frame_equal(default.rejects, small.rejects)
    assert default.ledger == small.ledger
    assert default.ledger["total"]["duplicates"] > 0
    assert {"duplicate-custom-id", "unanswered-request", "unmatched-custom-id"} <= set(
        default.rejects["reason"]
    )
    assert "requests[2]" in set(default.rejects["locator"])


def test_colliding_custom_id_hashes_are_told_apart_by_their_text(tmp_path, monkeypatch):
    raw = _batch_study(tmp_path / "raw")
    expected = run_ingest([raw], tmp_path / "a")
    monkeypatch.setattr(scratch_module, "hash", lambda text: 7, raising=False)
    collided = run_ingest([raw], tmp_path / "b")
    pd.testing.assert_frame_equal(expected.transcripts, collided.transcripts)
    pd.testing.assert_frame_equal(expected.rejects, collided.rejects)
    assert expected.ledger == collided.ledger
