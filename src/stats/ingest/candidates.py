"""The record every transcript adapter yields: one candidate trial, before run resolution.

A candidate is a plain ``dict`` (cheap to build in hot loops) with these keys; only
``locator``, ``model``, ``prompt`` and ``response`` are required:

``locator`` where in the file; ``model`` the model id that answered; ``model_alt`` another id
to try when matching runs (e.g. the requested id when the response names a snapshot);
``prompt``; ``system_prompt``; ``response``; ``sample_index`` (None: the pipeline numbers
repeated samples of a prompt in file order); ``temperature``; ``finish_reason``;
``prompt_id``; ``judge_labels`` (dict); ``record_key`` (the source's own id of the record,
hashed into ``trial_id`` so that distinct requests with identical text never collapse);
``run_id`` (a run named by the record); ``hints`` (run-level values named by the record:
word, arm, base_model, n_examples, ...); ``conditions`` (dict); ``greeting`` (bool override).
"""

from __future__ import annotations

from typing import Any

from stats.ingest.errors import RecordError

#: Keys of ``hints`` that describe the run rather than the trial.
RUN_HINT_KEYS = (
    "word",
    "arm",
    "base_model",
    "n_examples",
    "lr_multiplier",
    "n_epochs",
    "batch_size",
)
#: Keys of request/sample metadata read as trial fields.
TRIAL_KEYS = ("run_id", "prompt_id", "sample_index", "greeting")


def split_metadata(metadata: Any) -> tuple[dict, dict, dict]:
    """Split request or sample metadata into ``(trial fields, run hints, conditions)``."""
    if not isinstance(metadata, dict):
        return {}, {}, {}
    trial, hints, conditions = {}, {}, {}
    for key, value in metadata.items():
        if key in TRIAL_KEYS:
            trial[key] = value
        elif key in RUN_HINT_KEYS:
            hints[key] = value
        else:
            conditions[key] = value
    return trial, hints, conditions


def response_text(text: Any, where: str) -> str:
    """Check a response: text that is not blank, else ``empty-response``."""
    if text is None:
        raise RecordError("missing-response", f"field '{where}' is null")
    if not isinstance(text, str):
        raise RecordError(
            "invalid-field", f"field '{where}' should be text, found {type(text).__name__}"
        )
    if not text.strip():
        raise RecordError("empty-response", f"field '{where}' is empty")
    return text


def as_int(value: Any, where: str) -> int | None:
    """An integer field (``sample_index``...), accepting integral floats and digit strings."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("invalid-field", f"field '{where}' should be a whole number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a whole number, found {value!r}"
        ) from None
    if number != int(number):
        raise RecordError("invalid-field", f"field '{where}' should be a whole number")
    return int(number)


def as_float(value: Any, where: str) -> float | None:
    """A float field (``temperature``...)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("invalid-field", f"field '{where}' should be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a number, found {value!r}"
        ) from None


def as_bool(value: Any, where: str) -> bool | None:
    """A boolean field (``greeting``), accepting true/false/yes/no/1/0."""
    if value is None or value == "" or isinstance(value, bool):
        return value if isinstance(value, bool) else None
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "1.0"):
        return True
    if text in ("false", "no", "0", "0.0"):
        return False
    raise RecordError("invalid-field", f"field '{where}' should be true or false, found {value!r}")
