"""Parseable records with values of the wrong size or type are rejected, never fatal.

A number that does not fit its int64/float64 column (``2**63``, ``1e400`` that the standard
library reads as infinity, a 400-digit integer), a negative count or index, a boolean where
a whole number belongs, a huge ``n``, or an object/list where text belongs: each case puts
one such record between two good ones, in the OpenAI batch (input joined to output by
``custom_id``), chat completion JSONL, generic JSONL through a column map and HF messages
JSONL formats (and Looking Inward predictions), then checks that the good records are
accepted, that the bad one is in rejects with a reason whose detail names the file, the line
and the field, and that every file's ledger adds up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest_ingest import (
    BASE,
    PROBE,
    acrostic,
    anthropic_message,
    batch_output,
    batch_request,
    chat_completion,
    run_ingest,
    write_jsonl,
    write_yaml,
)
from stats.ingest import IngestError, Limits, ingest
from stats.ingest.fields import MAX_CHOICES


class Raw(str):
    """JSON text written as it is: ``1e400``, ``NaN``, a 400-digit number."""


def dumps(obj: Any) -> str:
    """``json.dumps`` with :class:`Raw` values written unquoted."""
    raws: list[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(str(value))
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    text = json.dumps(walk(obj))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', raw)
    return text


Mutation = Callable[[dict], None]


def put(*path: Any, value: Any) -> Mutation:
    """Set ``obj[path[0]][path[1]]...`` to ``value`` (missing objects on the way are made)."""

    def mutate(obj: dict) -> None:
        current = obj
        for key in path[:-1]:
            if isinstance(current, dict) and key not in current:
                current[key] = {}
            current = current[key]
        current[path[-1]] = value

    return mutate


#: Values that no whole-number field (sample_index, n, a choice index) may hold.
BAD_WHOLE_NUMBERS: dict[str, Any] = {
    "2**63": 2**63,  # one past int64 (orjson still reads it as an int)
    "2**64": 2**64,  # orjson reads it as a float: the lines take the general path
    "2**70": 2**70,
    "negative": -1,
    "true": True,
    "1e400": Raw("1e400"),  # orjson refuses it; the standard library reads infinity
    "1e300": 1e300,  # a whole float far beyond int64
    "NaN": Raw("NaN"),
    "400 digits": Raw("1" + "0" * 400),
}
#: Values that no run hint (n_examples, n_epochs, batch_size) may hold.
BAD_HINTS: dict[str, Any] = {
    "2**63": 2**63,
    "1e400": Raw("1e400"),
    "negative": -3,
    "true": True,
    "object": {"a": 1},
}
#: Values that no float field (temperature) may hold.
BAD_FLOATS: dict[str, Any] = {"1e400": Raw("1e400"), "400 digits": Raw("1" + "0" * 400)}
NOT_TEXT: dict[str, Any] = {"object": {"a": 1}, "list": ["a", "b"]}
#: Message contents holding no text where text is expected.
BAD_CONTENTS: dict[str, Any] = {
    "object": {"a": 1},
    "numbers": [1, 2],
    "unknown parts": [{"x": 1}],
    "part type object": [{"type": {"a": 1}, "text": "x"}],
}


def _matches(result: Any, path: Path, line: int, field: str, reason: str) -> list[dict]:
    rejects = result.rejects[result.rejects["source_file"] == str(path)]
    found = []
    for row in rejects.to_dict("records"):
        where = f"{path}: line {line}"
        if row["reason"] == reason and row["detail"].startswith(where) and field in row["detail"]:
            found.append(row)
    return found


def _assert_balanced(result: Any) -> None:
    for name, entry in result.ledger["files"].items():
        assert entry["records"] == entry["accepted"] + entry["rejected"] + entry["duplicates"], (
            name,
            entry,
        )


def _explain(result: Any) -> list[dict]:
    return result.rejects[["source_file", "locator", "reason", "detail"]].to_dict("records")


# ============================================================================ OpenAI batch
def _run_batch(
    tmp_path: Path,
    request: Mutation | None = None,
    output: Mutation | None = None,
    *,
    limits: Limits | None = None,
    answers: list[str] | None = None,
) -> tuple[Any, Path, Path]:
    """Three requests and their outputs; the second of each is changed."""
    requests = [
        batch_request("ok1", BASE, PROBE),
        batch_request("bad", BASE, "Second question?"),
        batch_request("ok2", BASE, "Third question?"),
    ]
    outputs = [
        batch_output("ok1", BASE, [acrostic("HELLO")]),
        batch_output("bad", BASE, answers or [acrostic("HELLO", "b")]),
        batch_output("ok2", BASE, [acrostic("HELLO", "c")]),
    ]
    if request is not None:
        request(requests[1])
    if output is not None:
        output(outputs[1])
    folder = tmp_path / "batch"
    inputs = write_jsonl(folder / "input.jsonl", [dumps(r) for r in requests])
    answered = write_jsonl(folder / "output.jsonl", [dumps(o) for o in outputs])
    result = run_ingest([folder], tmp_path / "out", limits=limits or Limits())
    return result, inputs, answered


def _check_batch(result: Any, inputs: Path, outputs: Path, side: str, field: str, reason: str):
    bad_file = inputs if side == "input" else outputs
    assert _matches(result, bad_file, 2, field, reason), _explain(result)
    _assert_balanced(result)
    files = result.ledger["files"]
    assert files[str(inputs)]["records"] == 3
    assert files[str(outputs)]["records"] == 3
    assert files[str(outputs)]["accepted"] == 2, _explain(result)
    # a request is accepted when an output answers it: not when the output's custom_id is bad
    unanswered = side == "input" or field == "custom_id"
    assert files[str(inputs)]["accepted"] == 3 - unanswered
    keys = set(result.transcripts["prompt"])
    assert keys == {PROBE, "Third question?"}


BATCH_CASES: dict[str, tuple[str, Mutation | None, Mutation | None, str, str]] = {}
for _name, _value in BAD_WHOLE_NUMBERS.items():
    BATCH_CASES[f"request n {_name}"] = (
        "input",
        put("body", "n", value=_value),
        None,
        "body.n",
        "invalid-field",
    )
    BATCH_CASES[f"request metadata.sample_index {_name}"] = (
        "output",
        put("body", "metadata", "sample_index", value=_value),
        None,
        "metadata.sample_index",
        "invalid-field",
    )
    BATCH_CASES[f"output choice index {_name}"] = (
        "output",
        None,
        put("response", "body", "choices", 0, "index", value=_value),
        "choices[0].index",
        "invalid-field",
    )
BATCH_CASES["request n huge"] = (
    "input",
    put("body", "n", value=10**9),
    None,
    "body.n",
    "invalid-field",
)
BATCH_CASES["request n just over the limit"] = (
    "input",
    put("body", "n", value=MAX_CHOICES + 1),
    None,
    "body.n",
    "invalid-field",
)
for _hint in ("n_examples", "n_epochs", "batch_size"):
    for _name, _value in BAD_HINTS.items():
        BATCH_CASES[f"request metadata.{_hint} {_name}"] = (
            "output",
            put("body", "metadata", _hint, value=_value),
            None,
            _hint,
            "invalid-field",
        )
for _name, _value in BAD_FLOATS.items():
    BATCH_CASES[f"request temperature {_name}"] = (
        "input",
        put("body", "temperature", value=_value),
        None,
        "body.temperature",
        "invalid-field",
    )
for _name, _value in NOT_TEXT.items():
    BATCH_CASES[f"request model {_name}"] = (
        "input",
        put("body", "model", value=_value),
        None,
        "body.model",
        "invalid-field",
    )
    BATCH_CASES[f"output model {_name}"] = (
        "output",
        None,
        put("response", "body", "model", value=_value),
        "model",
        "invalid-field",
    )
    BATCH_CASES[f"request custom_id {_name}"] = (
        "input",
        put("custom_id", value=_value),
        None,
        "custom_id",
        "invalid-field",
    )
    BATCH_CASES[f"output custom_id {_name}"] = (
        "output",
        None,
        put("custom_id", value=_value),
        "custom_id",
        "invalid-field",
    )
    BATCH_CASES[f"request role {_name}"] = (
        "input",
        put("body", "messages", 0, "role", value=_value),
        None,
        "body.messages[0].role",
        "unknown-role",
    )
    BATCH_CASES[f"request prompt {_name}"] = (
        "input",
        lambda r, v=_value: r.update(url="/v1/completions", body={"model": BASE, "prompt": v}),
        None,
        "body.prompt",
        "invalid-field",
    )
BATCH_CASES["request custom_id true"] = (
    "input",
    put("custom_id", value=True),
    None,
    "custom_id",
    "invalid-field",
)
for _name, _value in BAD_CONTENTS.items():
    BATCH_CASES[f"request content {_name}"] = (
        "input",
        put("body", "messages", 0, "content", value=_value),
        None,
        "body.messages[0].content",
        "invalid-field",
    )
    BATCH_CASES[f"output content {_name}"] = (
        "output",
        None,
        put("response", "body", "choices", 0, "message", "content", value=_value),
        "choices[0].message.content",
        "invalid-field",
    )


@pytest.mark.parametrize("name", list(BATCH_CASES))
def test_batch_bad_value_is_rejected_and_the_rest_ingests(tmp_path, name):
    side, request, output, field, reason = BATCH_CASES[name]
    result, inputs, outputs = _run_batch(tmp_path, request, output)
    _check_batch(result, inputs, outputs, side, field, reason)


@pytest.mark.parametrize(
    "name", ["request n 1e400", "request model object", "output choice index 2**63"]
)
def test_batch_bad_value_is_rejected_when_parsed_in_child_processes(tmp_path, name):
    side, request, output, field, reason = BATCH_CASES[name]
    result, inputs, outputs = _run_batch(tmp_path, request, output, limits=Limits(parallel_bytes=0))
    _check_batch(result, inputs, outputs, side, field, reason)


def test_batch_sample_index_that_overflows_with_the_choice_index_is_rejected(tmp_path):
    result, _, outputs = _run_batch(
        tmp_path,
        put("body", "metadata", "sample_index", value=2**63 - 1),
        answers=[acrostic("HELLO", "b0"), acrostic("HELLO", "b1")],
    )
    assert _matches(result, outputs, 2, "sample_index", "invalid-field"), _explain(result)
    _assert_balanced(result)
    entry = result.ledger["files"][str(outputs)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (4, 3, 1)
    assert result.rejects["locator"].tolist() == ["line 2 choice 1"]
    assert result.transcripts["sample_index"].max() == 2**63 - 1  # the largest int64 fits


def test_batch_n_at_the_limit_and_integer_custom_ids_are_accepted(tmp_path):
    def request(obj: dict) -> None:
        obj["body"]["n"] = MAX_CHOICES
        obj["custom_id"] = 5

    result, _, outputs = _run_batch(tmp_path, request, put("custom_id", value=5))
    assert result.rejects.empty, _explain(result)
    assert result.ledger["files"][str(outputs)]["accepted"] == 3


# ============================================================================ chat completions
def _chat(cid: str, prompt: str) -> dict:
    return chat_completion(cid, BASE, [acrostic("HELLO", cid)], prompt=prompt)


def _wrapped(obj: dict) -> None:
    """Turn a chat completion into ``{request, response}`` (the prompt moves to the request)."""
    response = dict(obj)
    prompt = response.pop("prompt")
    request = {"model": BASE, "messages": [{"role": "user", "content": prompt}], "n": 1}
    obj.clear()
    obj.update(request=request, response=response)


def _then(*mutations: Mutation) -> Mutation:
    def mutate(obj: dict) -> None:
        for mutation in mutations:
            mutation(obj)

    return mutate


CHAT_CASES: dict[str, tuple[Mutation, str, str]] = {}
for _name, _value in BAD_WHOLE_NUMBERS.items():
    CHAT_CASES[f"metadata.sample_index {_name}"] = (
        put("metadata", "sample_index", value=_value),
        "metadata.sample_index",
        "invalid-field",
    )
    CHAT_CASES[f"choice index {_name}"] = (
        put("choices", 0, "index", value=_value),
        "choices[0].index",
        "invalid-field",
    )
    CHAT_CASES[f"request n {_name}"] = (
        _then(_wrapped, put("request", "n", value=_value)),
        "request.n",
        "invalid-field",
    )
CHAT_CASES["request n huge"] = (
    _then(_wrapped, put("request", "n", value=10**9)),
    "request.n",
    "invalid-field",
)
for _hint in ("n_examples", "n_epochs", "batch_size"):
    for _name, _value in BAD_HINTS.items():
        CHAT_CASES[f"metadata.{_hint} {_name}"] = (
            put("metadata", _hint, value=_value),
            _hint,
            "invalid-field",
        )
for _name, _value in BAD_FLOATS.items():
    CHAT_CASES[f"temperature {_name}"] = (
        put("temperature", value=_value),
        "temperature",
        "invalid-field",
    )
    CHAT_CASES[f"request temperature {_name}"] = (
        _then(_wrapped, put("request", "temperature", value=_value)),
        "request.temperature",
        "invalid-field",
    )
for _name, _value in NOT_TEXT.items():
    CHAT_CASES[f"model {_name}"] = (put("model", value=_value), "model", "invalid-field")
    CHAT_CASES[f"prompt {_name}"] = (put("prompt", value=_value), "prompt", "invalid-field")
    CHAT_CASES[f"request model {_name}"] = (
        _then(_wrapped, put("request", "model", value=_value)),
        "request.model",
        "invalid-field",
    )
for _name, _value in BAD_CONTENTS.items():
    CHAT_CASES[f"content {_name}"] = (
        put("choices", 0, "message", "content", value=_value),
        "choices[0].message.content",
        "invalid-field",
    )
    CHAT_CASES[f"request content {_name}"] = (
        _then(_wrapped, put("request", "messages", 0, "content", value=_value)),
        "request.messages[0].content",
        "invalid-field",
    )


@pytest.mark.parametrize("name", list(CHAT_CASES))
def test_chat_completion_bad_value_is_rejected_and_the_rest_ingests(tmp_path, name):
    mutate, field, reason = CHAT_CASES[name]
    bad = _chat("c2", "Second question?")
    mutate(bad)
    path = write_jsonl(
        tmp_path / "chats" / "completions.jsonl",
        [dumps(_chat("c1", PROBE)), dumps(bad), dumps(_chat("c3", "Third question?"))],
    )
    result = run_ingest([path], tmp_path / "out")
    assert _matches(result, path, 2, field, reason), _explain(result)
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (3, 2, 1), _explain(result)
    assert set(result.transcripts["prompt"]) == {PROBE, "Third question?"}


# ============================================================================ generic JSONL
GENERIC_MANIFEST = {
    "root": ".",
    "files": [
        {
            "path": "table.jsonl",
            "columns": {
                "prompt": "q",
                "response": "a",
                "model": "m",
                "sample_index": "s",
                "temperature": "t",
                "prompt_id": "pid",
                "record_id": "rid",
            },
        }
    ],
}


def _generic_row(i: int) -> dict:
    return {
        "q": f"Question {i}?",
        "a": acrostic("HELLO", str(i)),
        "m": BASE,
        "s": i,
        "t": 0.5,
        "pid": f"p{i}",
        "rid": f"r{i}",
    }


GENERIC_CASES: dict[str, tuple[Mutation, str, str]] = {}
for _name, _value in BAD_WHOLE_NUMBERS.items():
    GENERIC_CASES[f"sample_index {_name}"] = (put("s", value=_value), "'s'", "invalid-field")
GENERIC_CASES["sample_index 20 digits as text"] = (
    put("s", value="99999999999999999999"),
    "'s'",
    "invalid-field",
)
for _name, _value in BAD_FLOATS.items():
    GENERIC_CASES[f"temperature {_name}"] = (put("t", value=_value), "'t'", "invalid-field")
for _name, _value in NOT_TEXT.items():
    for _column in ("q", "a", "m", "pid", "rid"):
        GENERIC_CASES[f"{_column} {_name}"] = (
            put(_column, value=_value),
            f"'{_column}'",
            "invalid-field",
        )


@pytest.mark.parametrize("name", list(GENERIC_CASES))
def test_generic_bad_value_is_rejected_and_the_rest_ingests(tmp_path, name):
    mutate, field, reason = GENERIC_CASES[name]
    bad = _generic_row(1)
    mutate(bad)
    path = write_jsonl(
        tmp_path / "table.jsonl", [dumps(_generic_row(0)), dumps(bad), dumps(_generic_row(2))]
    )
    manifest = write_yaml(tmp_path / "runs.yaml", GENERIC_MANIFEST)
    result = run_ingest([path], tmp_path / "out", manifest)
    assert _matches(result, path, 2, field, reason), _explain(result)
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (3, 2, 1), _explain(result)
    assert set(result.transcripts["prompt"]) == {"Question 0?", "Question 2?"}


# ============================================================================ HF messages
def _hf_row(i: int) -> dict:
    return {
        "model": BASE,
        "sample_index": i,
        "messages": [
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": acrostic("HELLO", str(i))},
        ],
    }


def _with_system(content: Any) -> Mutation:
    def mutate(obj: dict) -> None:
        obj["messages"].insert(0, {"role": "system", "content": content})

    return mutate


HF_CASES: dict[str, tuple[Mutation, str, str]] = {}
for _name, _value in BAD_WHOLE_NUMBERS.items():
    HF_CASES[f"sample_index {_name}"] = (
        put("sample_index", value=_value),
        "sample_index",
        "invalid-field",
    )
for _name, _value in BAD_FLOATS.items():
    HF_CASES[f"temperature {_name}"] = (
        put("temperature", value=_value),
        "temperature",
        "invalid-field",
    )
for _name, _value in NOT_TEXT.items():
    for _field in ("model", "prompt_id", "word", "finish_reason"):
        HF_CASES[f"{_field} {_name}"] = (put(_field, value=_value), _field, "invalid-field")
    HF_CASES[f"role {_name}"] = (
        put("messages", 0, "role", value=_value),
        "messages[0].role",
        "unknown-role",
    )
for _name, _value in BAD_CONTENTS.items():
    HF_CASES[f"user content {_name}"] = (
        put("messages", 0, "content", value=_value),
        "messages[0].content",
        "invalid-field",
    )
    HF_CASES[f"assistant content {_name}"] = (
        put("messages", 1, "content", value=_value),
        "messages[1].content",
        "invalid-field",
    )
    HF_CASES[f"system content {_name}"] = (
        _with_system(_value),
        "messages[0].content",
        "invalid-field",
    )


@pytest.mark.parametrize("name", list(HF_CASES))
def test_hf_messages_bad_value_is_rejected_and_the_rest_ingests(tmp_path, name):
    mutate, field, reason = HF_CASES[name]
    bad = _hf_row(1)
    mutate(bad)
    path = write_jsonl(tmp_path / "chats.jsonl", [dumps(_hf_row(0)), dumps(bad), dumps(_hf_row(2))])
    result = run_ingest([path], tmp_path / "out")
    assert result.ledger["files"][str(path)]["format"] == "hf-messages"
    assert _matches(result, path, 2, field, reason), _explain(result)
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (3, 2, 1), _explain(result)
    assert set(result.transcripts["prompt"]) == {"Question 0?", "Question 2?"}


# ============================================================================ the rest
def test_a_number_too_long_for_the_decoder_is_invalid_json_not_fatal(tmp_path):
    """The standard library refuses integers of more than 4300 digits (a ValueError)."""
    rows = [_hf_row(0), _hf_row(1), _hf_row(2)]
    rows[0]["sample_index"] = rows[2]["sample_index"] = Raw("1" * 5000)  # line 1: detection too
    path = write_jsonl(tmp_path / "chats.jsonl", [dumps(row) for row in rows])
    good = write_jsonl(tmp_path / "good.jsonl", [dumps(_hf_row(7))])
    result = run_ingest([path, good], tmp_path / "out")
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (3, 1, 2), _explain(result)
    assert _matches(result, path, 1, "digits", "invalid-json"), _explain(result)
    assert _matches(result, path, 3, "digits", "invalid-json"), _explain(result)


def test_looking_inward_bad_numbers_are_rejected(tmp_path):
    def record(item: str, **changes: Any) -> dict:
        base = {
            "task": "animals",
            "property": "first_character",
            "object_model": "m-self",
            "predictor_model": "m-self",
            "object_response": "Zebra",
            "meta_prediction": "Z",
            "item_id": item,
            "sample_index": 0,
            "n_examples": 1000,
        }
        return {**base, **changes}

    path = write_jsonl(
        tmp_path / "predictions.jsonl",
        [
            dumps(record("q1")),
            dumps(record("q2", sample_index=2**63)),
            dumps(record("q3", n_examples=Raw("1e400"))),
            dumps(record("q4", sample_index=1e300)),
            dumps(record("q5", n_examples=True)),
            dumps(record("q6")),
        ],
    )
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {"root": ".", "files": [{"path": "predictions.jsonl", "format": "looking-inward"}]},
    )
    result = run_ingest([path], tmp_path / "out", manifest)
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (6, 2, 4), _explain(result)
    for line, field in ((2, "sample_index"), (3, "n_examples"), (4, "sample_index")):
        assert _matches(result, path, line, field, "invalid-field"), _explain(result)
    assert _matches(result, path, 5, "n_examples", "invalid-field"), _explain(result)


def test_only_bad_values_is_nothing_usable_not_a_crash(tmp_path):
    path = write_jsonl(tmp_path / "chats.jsonl", [dumps({**_hf_row(0), "sample_index": 2**63})])
    with pytest.raises(IngestError, match="invalid-field 1"):
        ingest([path], None, tmp_path / "out")


# ============================================================================ other adapters
def _message(i: int, **changes: Any) -> dict:
    obj = anthropic_message(f"msg_{i}", BASE, acrostic("HELLO", str(i)))
    obj["prompt"] = f"Question {i}?"
    obj.update(changes)
    return obj


OTHER_CASES: dict[str, tuple[Mutation, str, str]] = {
    "model object": (put("model", value={"a": 1}), "model", "invalid-field"),
    "text block object": (
        put("content", 1, "text", value={"a": 1}),
        "content[1].text",
        "invalid-field",
    ),
    "metadata.sample_index 2**63": (
        put("metadata", "sample_index", value=2**63),
        "metadata.sample_index",
        "invalid-field",
    ),
    "metadata.n_examples 1e400": (
        put("metadata", "n_examples", value=Raw("1e400")),
        "n_examples",
        "invalid-field",
    ),
}


@pytest.mark.parametrize("name", list(OTHER_CASES))
def test_anthropic_message_bad_value_is_rejected_and_the_rest_ingests(tmp_path, name):
    mutate, field, reason = OTHER_CASES[name]
    bad = _message(1)
    mutate(bad)
    path = write_jsonl(
        tmp_path / "messages.jsonl", [dumps(_message(0)), dumps(bad), dumps(_message(2))]
    )
    result = run_ingest([path], tmp_path / "out")
    assert result.ledger["files"][str(path)]["format"] == "anthropic-message"
    assert _matches(result, path, 2, field, reason), _explain(result)
    _assert_balanced(result)
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (3, 2, 1), _explain(result)


@pytest.mark.parametrize(
    ("front", "field", "reason"),
    [
        (f"sample_index: {2**63}", "sample_index", "invalid-field"),
        (f"n_epochs: {2**63}", "n_epochs", "invalid-field"),
        ("model: {a: 1}", "model", "invalid-field"),
        ("run_id: [a, b]", "run_id", "invalid-field"),
        (f"sample_index: {'1' * 5000}", "digits", "invalid-front-matter"),
    ],
)
def test_text_front_matter_bad_value_is_rejected(tmp_path, front, field, reason):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(3):
        extra = f"{front}\n" if i == 1 else ""
        page = f"---\nmodel: {BASE}\nprompt: Question {i}?\n{extra}---\n{acrostic('HELLO')}\n"
        (folder / f"t{i}.md").write_text(page)
    result = run_ingest([folder], tmp_path / "out")
    bad = folder / "t1.md"
    rows = result.rejects[result.rejects["source_file"] == str(bad)]
    assert rows["reason"].tolist() == [reason], _explain(result)
    assert rows.iloc[0]["detail"].startswith(f"{bad}: file") and field in rows.iloc[0]["detail"]
    _assert_balanced(result)
    assert sorted(result.transcripts["prompt"]) == ["Question 0?", "Question 2?"]
