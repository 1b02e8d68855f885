"""Generic tables (CSV, JSONL, Parquet) through a column map, and HF-style ``messages`` rows.

A manifest ``files:`` entry maps trial fields to a record's columns
(``columns: {prompt: prompt, response: raw_response, model: model_key}``; dotted names reach
into nested JSON, ``a.b``). Fields the map leaves out are looked up under common names
(:data:`ALIASES`). A ``messages`` column (HF chat format) gives the system prompt, the last
user prompt and the final assistant answer. ``labels:`` columns become judge labels and
``condition_columns:`` columns become conditions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stats.ingest.decode import SourceFile, each_record
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import RUN_VALUE_KEYS, as_bool, as_float, as_int, response_text
from stats.ingest.limits import Limits
from stats.ingest.messages import split_conversation
from stats.ingest.tables import iter_records

#: Column names tried, in order, for each field the column map leaves out.
ALIASES: dict[str, tuple[str, ...]] = {
    "messages": ("messages", "conversation", "conversations"),
    "prompt": ("prompt", "question", "user_prompt", "input"),
    "response": tuple(
        "response completion raw_response generated_text generation answer output".split()
    ),
    "model": ("model", "model_id", "model_name", "model_key"),
    "sample_index": ("sample_index", "sample_idx"),
    "system_prompt": ("system_prompt", "system"),
    "finish_reason": ("finish_reason", "stop_reason"),
    "word": ("word", "target_word"),
    "record_id": ("record_id", "id", "trial_id"),
    **{name: (name,) for name in ("run_id", "prompt_id", "temperature", "greeting", "arm")},
    **{name: (name,) for name in ("base_model", "n_examples", "lr_multiplier", "n_epochs")},
    "batch_size": ("batch_size",),
}
_MISSING = object()
NUMBERS = ("n_examples", "lr_multiplier", "n_epochs", "batch_size")


def get_path(obj: Any, path: str) -> Any:
    """Value at a column name, or a dotted path into nested objects; a sentinel if absent."""
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    current = obj
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _lookup(obj: dict, field: str, columns: dict) -> tuple[Any, str | None]:
    """``(value, column)`` of a field: the mapped column, else the first alias present."""
    if field in columns:
        value = get_path(obj, columns[field])
        if value is _MISSING:
            raise RecordError(
                "missing-field",
                f"column {columns[field]!r} (mapped to {field}) is missing",
            )
        return value, columns[field]
    for alias in ALIASES.get(field, ()):
        if alias in obj:
            return obj[alias], alias
    return None, None


def _text(value: Any, column: str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError(
        "invalid-field", f"column {column!r} should be text, found {type(value).__name__}"
    )


def record_candidate(obj: dict, locator: str, spec: Any, raw: Any) -> dict:
    """One candidate from one record of a generic table (raises :class:`RecordError`)."""
    columns = spec.columns if spec is not None else {}
    messages, messages_column = _lookup(obj, "messages", columns)
    if messages is not None and not isinstance(messages, str):
        conversation = split_conversation(messages, messages_column or "messages")
        system, prompt = conversation.system_prompt, conversation.prompt
        response = response_text(conversation.response, f"{messages_column}[-1].content")
    else:
        prompt, column = _lookup(obj, "prompt", columns)
        prompt = _text(prompt, column)
        if prompt is None:
            prompt = spec.prompt if spec is not None else None
        if prompt is None:
            looked = columns.get("prompt") or ", ".join(ALIASES["prompt"])
            raise RecordError(
                "missing-prompt",
                f"no prompt (looked for column {looked}); map one with files: columns: prompt:",
            )
        value, column = _lookup(obj, "response", columns)
        if column is None:
            looked = ", ".join(ALIASES["response"])
            raise RecordError(
                "missing-response",
                f"no response column (looked for {looked}; found {', '.join(map(str, obj))}); "
                "map one with files: columns: response:",
            )
        response = response_text(_text(value, column), column)
        system, column = _lookup(obj, "system_prompt", columns)
        system = _text(system, column)
    if system is None and spec is not None:
        system = spec.system_prompt
    model, column = _lookup(obj, "model", columns)
    model = _text(model, column) or (spec.model if spec is not None else None)
    run_id, column = _lookup(obj, "run_id", columns)
    run_id = _text(run_id, column) or (spec.run_id if spec is not None else None)
    sample, column = _lookup(obj, "sample_index", columns)
    prompt_id, column_p = _lookup(obj, "prompt_id", columns)
    temperature, column_t = _lookup(obj, "temperature", columns)
    finish, column_f = _lookup(obj, "finish_reason", columns)
    greeting, column_g = _lookup(obj, "greeting", columns)
    record_id, column_r = _lookup(obj, "record_id", columns)
    record_id = None if record_id in (None, "") else str(_text(record_id, column_r))
    values = {}
    for field in RUN_VALUE_KEYS:
        value, where = _lookup(obj, field, columns)
        if value not in (None, ""):
            values[field] = value if field in NUMBERS else _text(value, where)
    labels = None
    conditions = None
    if spec is not None and spec.labels:
        labels = {name: _plain(get_path(obj, name)) for name in spec.labels}
    if spec is not None and spec.condition_columns:
        conditions = {name: _plain(get_path(obj, name)) for name in spec.condition_columns}
    return {
        "locator": locator,
        "model": model,
        "model_alt": None,
        "prompt": prompt,
        "system_prompt": system,
        "response": response,
        "sample_index": as_int(sample, column or "sample_index"),
        "temperature": as_float(temperature, column_t or "temperature"),
        "finish_reason": _text(finish, column_f),
        "prompt_id": None if prompt_id in (None, "") else str(_text(prompt_id, column_p)),
        "judge_labels": labels,
        "record_key": record_id,
        "record_id": record_id,
        "raw": raw,
        "run_id": run_id,
        "greeting": as_bool(greeting, column_g or "greeting"),
        "values": values or None,
        "conditions": conditions,
    }


def _plain(value: Any) -> Any:
    return None if value is _MISSING else value


def read_generic(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of a generic or HF-messages table, one per record."""
    spec = source.spec
    return each_record(
        source,
        iter_records(source, limits),
        lambda locator, obj, raw: [record_candidate(obj, locator, spec, raw)],
    )
