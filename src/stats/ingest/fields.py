"""Checked field values and the keys of a *candidate*: one trial as a reader yields it.

A candidate is a plain ``dict`` (cheap to build in hot loops). Keys (only ``locator``,
``prompt`` and ``response`` are required; a ``model`` or a ``run_id`` is needed too):

``locator`` where in the file; ``model`` the model id that answered; ``model_alt`` another id
to try when matching runs (e.g. the requested id when the response names a snapshot);
``prompt``; ``system_prompt``; ``response``; ``sample_index`` (None: numbered in file order
among the repeated samples of a prompt); ``choice`` (index of the answer within its record);
``temperature``; ``finish_reason``; ``prompt_id``; ``judge_labels`` (dict); ``record_key``
(the source's own key of the record, hashed into ``trial_id`` so that distinct requests with
identical text never collapse); ``record_id`` (the provider's id of the record: completion id,
``custom_id``, inspect sample id, a mapped id column; kept in ``transcripts.parquet``);
``raw`` (the raw record, whose digest identifies a record without ``record_key``);
``run_id`` (a run named by the record); ``values`` (run columns given by the record: word,
arm, base_model, n_examples, ...: trial-level values that beat the run's); ``conditions``
(dict); ``greeting`` (bool given by the record).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from stats.config import ARMS
from stats.ingest.errors import RecordError, Reject, snippet_of

if TYPE_CHECKING:
    from stats.ingest.decode import SourceFile

#: One answer of a record: ``(choice index, text or the error that rejects it, finish reason)``.
Answer = tuple[int, "str | RecordError", "str | None"]

#: The largest value of an int64 column (``sample_index``, ``n_examples``, ...).
INT64_MAX = 2**63 - 1
#: The most answers one request may ask for (``n``); a choice index is below it. Sample
#: indexes numbered from ``n`` then stay far below :data:`INT64_MAX`.
MAX_CHOICES = 1 << 16

#: Run columns a record may give for its own trial (``values``).
RUN_VALUE_KEYS = tuple("word arm base_model n_examples lr_multiplier n_epochs batch_size".split())
#: Keys of request/sample metadata read as trial fields.
TRIAL_KEYS = ("run_id", "prompt_id", "sample_index", "greeting")


def split_metadata(metadata: Any) -> tuple[dict, dict, dict]:
    """Split request or sample metadata into ``(trial fields, run values, conditions)``."""
    if not isinstance(metadata, dict):
        return {}, {}, {}
    trial, values, conditions = {}, {}, {}
    for key, value in metadata.items():
        if key in TRIAL_KEYS:
            trial[key] = value
        elif key in RUN_VALUE_KEYS:
            values[key] = value
        else:
            conditions[key] = value
    return trial, values, conditions


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


INT_VALUES = ("n_examples", "n_epochs", "batch_size")


def run_values(values: dict) -> dict:
    """Run columns named by a record (``values``), converted to their column types.

    Raises
    ------
    RecordError
        ``invalid-field`` naming the field, for a count that is not a whole number from 0
        to 2**63 - 1, a multiplier that is not a finite number, an arm that is not one of
        :data:`stats.config.ARMS`, or text that is an object or a list.
    """
    out = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if key in INT_VALUES:
            value = as_int(value, key)
        elif key == "lr_multiplier":
            value = as_float(value, key)
        else:
            value = as_text(value, key)
            if key == "word":
                value = value.strip().upper() or None
            elif key == "arm" and value not in ARMS:
                raise RecordError(
                    "invalid-field",
                    f"field 'arm' should be one of {', '.join(ARMS)}, found {shown(value)}",
                )
        if value is not None:
            out[key] = value
    return out


class Parts(NamedTuple):
    """What one record gives for the candidates of its answers.

    Attributes
    ----------
    ctx : dict
        What the request fixes: ``model`` (the requested id), ``system_prompt``, ``prompt``,
        ``temperature``, ``trial`` (``sample_index``, ``prompt_id``, ``run_id``,
        ``greeting``), ``values`` and ``conditions``.
    choices : list of Answer
        The record's answers.
    model : object
        The id of the model that answered, if the response names it (else the requested one).
    record_key, record_id : str or None
        The source's key and the provider's id of the record (see the module docstring).
    base_sample : int, optional
        Sample index of the first answer (a batch request's); None: numbered in file order.
    """

    ctx: dict
    choices: list
    model: Any
    record_key: str | None
    record_id: str | None
    base_sample: int | None = None


def answers(source: SourceFile, locator: str, raw: Any, parts: Parts) -> list[dict | Reject]:
    """The candidates of one record's answers (an answer that is an error is its reject).

    ``locator`` is where the record is (``"line 3"``; an answer of several is ``"line 3
    choice 1"``); ``raw`` the raw record (snippets; the identity of a record without
    ``record_key``).

    Raises
    ------
    RecordError
        For the whole record: no model id, a ``sample_index`` that is not a whole number.
    """
    ctx, choices, model, record_key, record_id, base_sample = parts
    requested = ctx.get("model")
    if requested is not None and type(requested) is not str:
        requested = as_text(requested, "model")
    if model is not None and type(model) is not str:
        model = as_text(model, "model")
    model = model or requested
    if not model:
        raise RecordError("missing-model", "no model id in the response or its request")
    trial = ctx.get("trial")
    given = as_int(trial.get("sample_index"), "metadata.sample_index") if trial else None
    shared = {
        "model": model,
        "model_alt": requested,
        "prompt": ctx["prompt"],
        "system_prompt": ctx.get("system_prompt"),
        "temperature": ctx.get("temperature"),
        "record_key": record_key,
        "record_id": record_id,
        "raw": raw,
    }
    if trial:
        shared.update(prompt_id=trial.get("prompt_id"), run_id=trial.get("run_id"))
        shared["greeting"] = trial.get("greeting")
    for key in ("values", "conditions"):
        if ctx.get(key):
            shared[key] = ctx[key]
    several = len(choices) > 1
    out: list[dict | Reject] = []
    for index, text, finish in choices:
        place = f"{locator} choice {index}" if several else locator
        if type(text) is not str:
            out.append(source.reject(place, text, raw))
            continue
        if given is not None:
            sample = given + index
            if sample > INT64_MAX:
                detail = (
                    f"{source.where(place)}: field 'metadata.sample_index' plus the choice index "
                    f"is {sample}, beyond {INT64_MAX}"
                )
                out.append(Reject(place, "invalid-field", detail, snippet_of(raw)))
                continue
        elif base_sample is not None:
            sample = base_sample + index
        else:
            sample = None
        candidate = dict(shared) if several else shared
        candidate.update(locator=place, response=text, sample_index=sample, choice=index)
        candidate["finish_reason"] = finish
        out.append(candidate)
    return out
