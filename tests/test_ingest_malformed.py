"""Damaged input: every bad record lands in rejects with a specific reason, and the ledger adds up.

Each case writes one damaged file beside a good one (so that the ingest has something usable),
then checks the reject's reason and locator, that its detail names the file, the place and
the field, and that the file's ledger entry balances.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest_ingest import (
    BASE,
    FT_HELLO,
    PROBE,
    anthropic_result,
    batch_output,
    batch_request,
    chat_completion,
    good_generic,
    inspect_header,
    inspect_sample,
    job,
    run_ingest,
    write_eval,
    write_json,
    write_jsonl,
    write_yaml,
)
from stats.config import Artifacts
from stats.ingest import IngestError, Limits, ingest


@dataclass
class Case:
    """A damaged file and the reject it must produce."""

    build: Callable[[Path], Path]
    reason: str
    locator: str
    mentions: tuple[str, ...] = ()
    manifest: dict | None = None
    limits: Limits = field(default_factory=Limits)


def _chat(text=None, **message) -> dict:
    obj = chat_completion("c1", BASE, [text or "x"], prompt=PROBE)
    obj["choices"][0]["message"].update(message)
    return obj


def _lines(name: str, *rows) -> Callable[[Path], Path]:
    return lambda tmp: write_jsonl(tmp / name, list(rows))


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def _zip_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.eval"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps(inspect_header()))
        archive.writestr("samples/1_epoch_1.json", b" " * (4 * 1024 * 1024))
        archive.writestr("samples/2_epoch_1.json", json.dumps(inspect_sample(2, 1, "q", "fine")))
    return path


def _big_zstd_member(tmp: Path) -> Path:
    samples = [inspect_sample(1, 1, "q", "x" * 5000), inspect_sample(2, 1, "q", "ok")]
    return write_eval(tmp / "big.eval", inspect_header(), samples, zstd=True)


def _truncated_zip(tmp: Path) -> Path:
    good = write_eval(tmp / "whole.eval", inspect_header(), [inspect_sample(1, 1, "q", "a")])
    data = good.read_bytes()
    good.unlink()
    path = tmp / "cut.eval"
    path.write_bytes(data[: len(data) // 2])
    return path


def _inspect(name: str, sample: dict, zstd: bool = False) -> Callable[[Path], Path]:
    return lambda tmp: write_eval(
        tmp / name, inspect_header(), [sample, inspect_sample(9, 1, "q", "fine")], zstd=zstd
    )


def _csv_extra_field(tmp: Path) -> Path:
    path = tmp / "t.csv"
    path.write_text(f"prompt,response,model\nhi,there,{BASE}\nhi,there,{BASE},EXTRA\n")
    return path


def _text(name: str, content: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_text(content)
        return path

    return build


def _pair(requests: list, outputs: list) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        write_jsonl(tmp / "batch" / "input.jsonl", requests)
        return write_jsonl(tmp / "batch" / "output.jsonl", outputs)

    return build


def _pair_input(requests: list, outputs: list) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        write_jsonl(tmp / "batch" / "output.jsonl", outputs)
        return write_jsonl(tmp / "batch" / "input.jsonl", requests)

    return build


_OK_REQUEST = batch_request("ok", BASE, PROBE)
_OK_OUTPUT = batch_output("ok", BASE, ["fine"])

CASES: dict[str, Case] = {
    "truncated-json": Case(
        _lines(
            "t.jsonl",
            {"prompt": "a", "response": "b", "model": BASE},
            '{"prompt": "a", "response": "b',
        ),
        "truncated-json",
        "line 2",
        ("ends inside a JSON value",),
    ),
    "invalid-json": Case(
        _lines("t.jsonl", "{prompt: a}"), "invalid-json", "line 1", ("not valid JSON",)
    ),
    "not-an-object": Case(
        _lines("t.jsonl", {"prompt": "a", "response": "b", "model": BASE}, "[1, 2]"),
        "not-an-object",
        "line 2",
        ("found list",),
    ),
    "empty-response": Case(
        _lines("c.jsonl", _chat(content="  ")),
        "empty-response",
        "line 1",
        ("choices[0].message.content",),
    ),
    "refusal": Case(
        _lines("c.jsonl", _chat(content=None, refusal="I can't help with that.")),
        "refusal",
        "line 1",
        ("message.refusal",),
    ),
    "tool-calls-only": Case(
        _lines("c.jsonl", _chat(content=None, tool_calls=[{"id": "t", "type": "function"}])),
        "no-text",
        "line 1",
        ("tool calls",),
    ),
    "missing-prompt": Case(
        _lines("c.jsonl", chat_completion("c", BASE, ["a"])),
        "missing-prompt",
        "line 1",
        ("prompt",),
    ),
    "batch-error-field": Case(
        _pair(
            [_OK_REQUEST, batch_request("bad", BASE, "q")],
            [
                _OK_OUTPUT,
                batch_output("bad", BASE, [], error={"code": "server_error", "message": "boom"}),
            ],
        ),
        "batch-error",
        "line 2",
        ("field 'error'", "boom"),
    ),
    "batch-error-status": Case(
        _pair(
            [_OK_REQUEST, batch_request("bad", BASE, "q")],
            [_OK_OUTPUT, batch_output("bad", BASE, ["x"], status=500)],
        ),
        "batch-error",
        "line 2",
        ("status_code", "500"),
    ),
    "batch-missing-custom-id": Case(
        _pair(
            [_OK_REQUEST],
            [
                _OK_OUTPUT,
                {
                    "response": {"status_code": 200, "body": chat_completion("c", BASE, ["x"])},
                    "error": None,
                    "id": "b",
                },
            ],
        ),
        "missing-field",
        "line 2",
        ("custom_id",),
    ),
    "unmatched-custom-id": Case(
        _pair([_OK_REQUEST], [_OK_OUTPUT, batch_output("nowhere", BASE, ["x"])]),
        "unmatched-custom-id",
        "line 2",
        ("'nowhere'",),
    ),
    "unanswered-request": Case(
        _pair_input([_OK_REQUEST, batch_request("lost", BASE, "q")], [_OK_OUTPUT]),
        "unanswered-request",
        "line 2",
        ("'lost'",),
    ),
    "duplicate-custom-id": Case(
        _pair_input([_OK_REQUEST, batch_request("ok", BASE, "other")], [_OK_OUTPUT]),
        "duplicate-custom-id",
        "line 2",
        ("'ok'", "repeats"),
    ),
    "unknown-role": Case(
        _lines(
            "chats.jsonl",
            {
                "model": BASE,
                "messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}],
            },
        ),
        "unknown-role",
        "line 1",
        ("messages[1].role", "'bot'", "assistant"),
    ),
    "mapped-column-missing": Case(
        _lines("probe.jsonl", {"prompt": "q", "model_key": BASE}),
        "missing-field",
        "line 1",
        ("'raw_response'", "mapped to response"),
        manifest={
            "root": ".",
            "files": [
                {
                    "path": "probe.jsonl",
                    "columns": {"response": "raw_response", "model": "model_key"},
                }
            ],
        },
    ),
    "missing-model": Case(
        _lines("g.jsonl", {"prompt": "q", "response": "a"}),
        "missing-model",
        "line 1",
        ("no model id",),
    ),
    "bad-sample-index": Case(
        _lines("g.jsonl", {"prompt": "q", "response": "a", "model": BASE, "sample_index": "first"}),
        "invalid-field",
        "line 1",
        ("sample_index", "'first'"),
    ),
    "oversized-line": Case(
        _lines("g.jsonl", {"prompt": "q", "response": "a" * 5000, "model": BASE}),
        "oversized-line",
        "line 1",
        ("over the limit of 1000 bytes",),
        limits=Limits(max_line_bytes=1000),
    ),
    "zip-bomb-ratio": Case(
        _zip_bomb,
        "zip-bomb",
        "samples/1_epoch_1.json",
        ("expands",),
        limits=Limits(max_zip_ratio=50, ratio_floor_bytes=1024 * 1024),
    ),
    "zip-bomb-size-zstd": Case(
        _big_zstd_member,
        "zip-bomb",
        "samples/1_epoch_1.json",
        ("over the limit of 3000",),
        limits=Limits(max_member_bytes=3000),
    ),
    "truncated-zip": Case(_truncated_zip, "bad-zip", "file", ("not a readable zip",)),
    "inspect-sample-error": Case(
        _inspect(
            "e.eval", dict(inspect_sample(1, 1, "q", "a"), error={"message": "model timed out"})
        ),
        "sample-error",
        "samples/1_epoch_1.json",
        ("model timed out",),
    ),
    "missing-attachment": Case(
        _inspect("a.eval", inspect_sample(1, 1, "attachment://nope", "a"), zstd=True),
        "missing-attachment",
        "samples/1_epoch_1.json",
        ("attachment://nope",),
    ),
    "csv-extra-field": Case(_csv_extra_field, "wrong-field-count", "line 3", ("1 more fields",)),
    "text-without-front-matter": Case(
        _text("notes.txt", "just some notes\n"), "missing-front-matter", "file", ("front matter",)
    ),
    "text-bad-front-matter": Case(
        _text("p.md", "---\nmodel: [unclosed\n---\nbody\n"),
        "invalid-front-matter",
        "file",
        ("not valid YAML",),
    ),
    "unknown-format": Case(
        _bytes("blob.bin", b"\x00\x01\x02binary"),
        "unknown-format",
        "file",
        ("format not recognised", "generic-jsonl"),
    ),
    "truncated-json-document": Case(
        _text("doc.json", json.dumps(job("j", FT_HELLO))[:-30]),
        "truncated-json",
        "file",
        ("ends inside",),
    ),
    "training-without-assistant": Case(
        _lines("train.jsonl", {"messages": [{"role": "user", "content": "q"}]}),
        "no-assistant",
        "line 1",
        ("no trained assistant answer",),
    ),
    "job-without-id": Case(
        lambda tmp: write_json(
            tmp / "job.json", {k: v for k, v in job("j", FT_HELLO).items() if k != "id"}
        ),
        "missing-field",
        "document",
        ("'id'",),
    ),
    "anthropic-canceled": Case(
        _lines("results.jsonl", anthropic_result("q", kind="canceled")),
        "batch-canceled",
        "line 1",
        ("'canceled'",),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_damaged_record_is_rejected_with_a_specific_reason(tmp_path, name):
    case = CASES[name]
    bad = case.build(tmp_path)
    good = good_generic(tmp_path / "good" / "good.jsonl")
    manifest = write_yaml(tmp_path / "runs.yaml", case.manifest) if case.manifest else None
    result = run_ingest([tmp_path], tmp_path / "out", manifest, limits=case.limits)
    rejects = result.rejects[result.rejects["source_file"] == str(bad)]
    match = rejects[(rejects["reason"] == case.reason) & (rejects["locator"] == case.locator)]
    assert len(match) == 1, rejects[["locator", "reason", "detail"]].to_dict("records")
    detail = match.iloc[0]["detail"]
    assert detail.startswith(f"{bad}: {case.locator}"), detail
    for text in case.mentions:
        assert text in detail, detail
    entry = result.ledger["files"][str(bad)]
    assert entry["reasons"][case.reason] >= 1
    assert entry["records"] == entry["accepted"] + entry["rejected"] + entry["duplicates"]
    assert result.ledger["files"][str(good)]["accepted"] == 1


def test_there_are_at_least_twenty_malformed_cases():
    assert len(CASES) >= 20
    assert len({case.reason for case in CASES.values()}) >= 20


@pytest.mark.parametrize(
    ("name", "data", "warning"),
    [
        (
            "bom.jsonl",
            b"\xef\xbb\xbf"
            + json.dumps({"prompt": "p", "response": "r", "model": BASE}).encode()
            + b"\n",
            "byte-order mark",
        ),
        (
            "crlf.jsonl",
            json.dumps({"prompt": "p", "response": "r", "model": BASE}).encode() + b"\r\n",
            "CRLF",
        ),
        (
            "latin1.jsonl",
            '{"prompt": "caf\xe9", "response": "r", "model": "m"}\n'.encode("latin-1"),
            "line 1: not valid UTF-8; decoded as latin-1",
        ),
        (
            "utf16.jsonl",
            json.dumps({"prompt": "p", "response": "r", "model": BASE}).encode("utf-16")
            + "\n".encode("utf-16-le"),
            "UTF-16",
        ),
        ("bom.csv", b"\xef\xbb\xbfprompt,response,model\r\ncaf\xe9,r,m\r\n", "byte-order mark"),
    ],
)
def test_encoding_problems_are_repaired_and_noted(tmp_path, name, data, warning):
    path = tmp_path / name
    path.write_bytes(data)
    result = run_ingest([path], tmp_path / "out")
    entry = result.ledger["files"][str(path)]
    assert (entry["accepted"], entry["rejected"]) == (1, 0)
    assert any(warning in w for w in entry["warnings"]), entry["warnings"]
    prompt = result.transcripts.iloc[0]["prompt"]
    assert prompt in ("p", "café")


def test_empty_file_counts_no_record_and_is_noted(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    good = good_generic(tmp_path / "good.jsonl")
    result = run_ingest([empty, good], tmp_path / "out")
    entry = result.ledger["files"][str(empty)]
    assert entry["records"] == 0 and entry["warnings"] == ["empty file: no records"]


def test_nothing_usable_raises_and_leaves_outputs_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    sentinel = Artifacts(out).transcripts
    sentinel.write_bytes(b"previous")
    write_jsonl(tmp_path / "in" / "a.jsonl", ['{"prompt": "a", "resp', "[]"])
    write_jsonl(tmp_path / "in" / "b.jsonl", [chat_completion("c", BASE, ["a"])])
    with pytest.raises(IngestError) as caught:
        ingest([tmp_path / "in"], None, out)
    message = str(caught.value)
    assert "nothing usable was read: 0 transcripts from 2 files" in message
    assert (
        "truncated-json 1" in message
        and "missing-prompt 1" in message
        and "not-an-object 1" in message
    )
    assert f"{tmp_path / 'in' / 'a.jsonl'}: line 1" in message
    assert caught.value.ledger["total"]["rejected"] == 3
    assert sentinel.read_bytes() == b"previous"
    assert not Artifacts(out).ledger.exists()


def test_only_run_metadata_is_not_usable(tmp_path):
    write_jsonl(
        tmp_path / "train.jsonl",
        [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}],
    )
    with pytest.raises(IngestError, match="no file holds transcripts"):
        ingest([tmp_path], None, tmp_path / "out")


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest([tmp_path / "nope"], None, tmp_path / "out")


def test_snippet_is_the_raw_record(tmp_path):
    bad = write_jsonl(tmp_path / "t.jsonl", ['{"prompt": "abc", "response": "x' + "y" * 500])
    good = good_generic(tmp_path / "g.jsonl")
    result = run_ingest([bad, good], tmp_path / "out")
    snippet = result.rejects.iloc[0]["snippet"]
    assert snippet.startswith('{"prompt": "abc"') and len(snippet) == 200


def test_unreadable_file_is_rejected_not_fatal(tmp_path, monkeypatch):
    import stats.ingest.collect as pipeline

    locked = good_generic(tmp_path / "locked.jsonl")
    good = good_generic(tmp_path / "good.jsonl")
    real_detect = pipeline.detect

    def detect(path, limits):
        if path.name == "locked.jsonl":
            raise PermissionError(13, "Permission denied", str(path))
        return real_detect(path, limits)

    monkeypatch.setattr(pipeline, "detect", detect)
    result = run_ingest([locked, good], tmp_path / "out")
    row = result.rejects.iloc[0]
    assert (row["source_file"], row["reason"]) == (str(locked), "unreadable-file")
    assert "Permission denied" in row["detail"]
    assert result.ledger["files"][str(good)]["accepted"] == 1


_LINE_KINDS = {
    "good": None,
    "truncated": ('{"prompt": "p", "response": "r', "truncated-json"),
    "garbage": ("not json at all", "invalid-json"),
    "array": ("[1, 2]", "not-an-object"),
    "empty": (json.dumps({"prompt": "p", "response": " ", "model": BASE}), "empty-response"),
    "no-model": (json.dumps({"prompt": "p", "response": "r"}), "missing-model"),
    "blank": ("", None),
}


@settings(derandomize=True, max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(sorted(_LINE_KINDS)), min_size=1, max_size=30), st.integers(0, 3))
def test_every_line_is_accounted_for(kinds, repeats):
    """Any mix of good, damaged, blank and repeated lines: the ledger adds up line by line."""
    lines, expected = [], {"accepted": 0, "duplicates": 0, "rejected": 0}
    reasons: dict[str, int] = {}
    good = 0
    for kind in kinds:
        if kind == "good":
            lines.append(
                json.dumps(
                    {"prompt": "p", "response": f"r{good}", "model": BASE, "sample_index": good}
                )
            )
            good += 1
            expected["accepted"] += 1
            continue
        text, reason = _LINE_KINDS[kind]
        lines.append(text)
        if reason:
            expected["rejected"] += 1
            reasons[reason] = reasons.get(reason, 0) + 1
    goods = [line for line in lines if '"model"' in line and '" "' not in line]
    lines += goods[:repeats]  # re-ingested lines are duplicates, not new trials
    expected["duplicates"] = len(goods[:repeats])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.jsonl"
        path.write_text("\n".join(lines) + "\n")
        keeper = good_generic(Path(tmp) / "keeper.jsonl")  # so that something is usable
        result = run_ingest([path, keeper], Path(tmp) / "out")
        entry = result.ledger["files"][str(path)]
        assert {k: entry[k] for k in expected} == expected
        assert entry["records"] == sum(1 for line in lines if line.strip())
        assert entry["reasons"] == reasons
        assert (result.transcripts["source_file"] == str(path)).sum() == expected["accepted"]
