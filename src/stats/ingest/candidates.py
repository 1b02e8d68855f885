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

import math
from typing import Any

from stats.ingest.errors import RecordError

#: The largest value of an int64 column (``sample_index``, ``n_examples``, ...).
INT64_MAX = 2**63 - 1
#: The most answers one request may ask for (``n``); a choice index is below it. Sample
#: indexes numbered from ``n`` then stay far below :data:`INT64_MAX`.
MAX_CHOICES = 1 << 16

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


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    try:
        text = repr(value)
    except ValueError:  # an int of more digits than Python converts to text
        return f"an integer of {value.bit_length()} bits"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def as_int(value: Any, where: str, high: int = INT64_MAX) -> int | None:
    """A whole-number field (``sample_index``, ``n``...) from 0 to ``high``.

    Accepts integral floats and digit strings; a boolean, a fraction, NaN, infinity or a
    number outside the range raises :class:`RecordError` (``invalid-field``) naming the
    field, so that no value reaches an int64 column it does not fit.
    """
    if value is None or value == "":
        return None
    if type(value) is int:
        number = value
    elif isinstance(value, bool):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a whole number, found {value!r}"
        )
    else:
        try:
            number = int(value, 10) if isinstance(value, str) else None
        except ValueError:
            number = None
        if number is None:
            try:
                real = float(value)
            except (TypeError, ValueError, OverflowError):
                raise RecordError(
                    "invalid-field",
                    f"field '{where}' should be a whole number, found {shown(value)}",
                ) from None
            if not math.isfinite(real) or real != int(real):
                raise RecordError(
                    "invalid-field",
                    f"field '{where}' should be a whole number, found {shown(value)}",
                )
            number = int(real)
    if not 0 <= number <= high:
        raise RecordError(
            "invalid-field",
            f"field '{where}' should be a whole number from 0 to {high}, found {shown(value)}",
        )
    return number


def as_float(value: Any, where: str) -> float | None:
    """A float field (``temperature``...): a finite float64 (NaN is kept: it reads as null)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("invalid-field", f"field '{where}' should be a number, found {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a number, found {shown(value)}"
        ) from None
    if number in (math.inf, -math.inf):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a finite number, found {shown(value)}"
        )
    return number


def as_text(value: Any, where: str) -> str | None:
    """A text field that may be absent: text or None as it is, a number written out; an
    object, a list or a boolean raises :class:`RecordError` (``invalid-field``)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError(
        "invalid-field", f"field '{where}' should be text, found {type(value).__name__}"
    )


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
