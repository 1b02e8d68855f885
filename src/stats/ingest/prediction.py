"""Self- vs cross-prediction records in the Looking Inward layout (Binder et al. 2024).

One record pairs an object-level answer of a *target* model with a hypothetical-question
prediction of a property of that answer ("would your answer start with a vowel?") made by a
*predictor* model: the target itself (``self``) or another model fine-tuned on the target's
behaviour (``cross``). Records come from JSONL, CSV or Parquet through a manifest ``files:``
entry with ``format: looking-inward`` and an optional column map::

    files:
      - path: "prediction/*.jsonl"
        format: looking-inward
        columns: {task: task, property: response_property, object_model: target,
                  predictor_model: predictor, object_response: object_level_response,
                  meta_prediction: meta_level_response, item_id: string,
                  sample_index: sample, n_examples: ft_size, run_id: ft_job}

Column map targets (fields the map leaves out are looked up under the names in
:data:`ALIASES`):

==========================  ======================================================
target                      meaning
==========================  ======================================================
``task``                    object-level task (required)
``property``                response property predicted (required)
``object_model``            target model whose answer is predicted (required)
``predictor_model``         model making the prediction (required)
``object_property_value``   property of the object-level answer, when given
``object_response``         the object-level answer; its property is computed with
                            :data:`PROPERTIES` when no value is given
``meta_prediction``         predicted property value (required, non-empty)
``item_id``                 object-level prompt id (default: the locator)
``sample_index``            index among repeated object-level samples (default 0)
``n_examples``              training-set size of the predictor's fine-tune
``run_id``                  the predictor's fine-tune (default: predictor_model)
``kind``                    ``self`` / ``cross`` (default: predictor == target)
==========================  ======================================================

Values are compared after :func:`normalise` (trimmed, lower case, trailing full stop
dropped). Every record ends in ``predictions.parquet`` (schema
:data:`stats.schemas.PREDICTIONS`), as a duplicate (same ``prediction_id``) or in
``rejects.parquet`` with a reason: ``missing-field``, ``invalid-field``,
``unknown-property``, ``empty-prediction``, ``invalid-kind`` (and the parse errors of
:mod:`stats.ingest.decode`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stats import schemas
from stats.ingest.decode import SourceFile, each_record
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import INT64_MAX, as_int, shown
from stats.ingest.generic import get_path
from stats.ingest.limits import Limits
from stats.ingest.tables import iter_records
from stats.ingest.writer import BatchWriter
from stats.text import stable_hash

#: Adapter name (the manifest ``files: format:`` value).
FORMAT = "looking-inward"
#: Ingest kind of the adapter (see :data:`stats.ingest.formats.FORMAT_KINDS`).
KIND = "predictions"
KINDS = ("self", "cross")

#: Column names tried, in order, for each field the column map leaves out.
ALIASES: dict[str, tuple[str, ...]] = {
    "task": ("task", "object_task"),
    "property": ("property", "response_property"),
    "object_model": ("object_model", "target_model", "target"),
    "predictor_model": ("predictor_model", "meta_model", "predictor"),
    "object_property_value": ("object_property_value", "object_value", "object_level_answer"),
    "object_response": ("object_response", "object_level_response"),
    "meta_prediction": ("meta_prediction", "meta_level_response", "meta_response"),
    "item_id": ("item_id", "prompt_id", "string", "question_id"),
    "sample_index": ("sample_index", "sample_idx", "sample"),
    "n_examples": ("n_examples", "training_set_size", "ft_size"),
    "run_id": ("run_id", "ft_job", "fine_tune_id"),
    "kind": ("kind", "prediction_kind"),
}
#: The targets a manifest ``columns:`` map can name for this adapter.
COLUMN_TARGETS = tuple(ALIASES)
REQUIRED = ("task", "property", "object_model", "predictor_model", "meta_prediction")
_MISSING = object()
_ABSENT = get_path({}, "\x00")  # what get_path returns for an absent column
_VOWELS = frozenset("aeiou")
_WORD = re.compile(r"[A-Za-z0-9']+")


def normalise(value: Any) -> str:
    """A property value as compared: text, trimmed, lower case, trailing full stop dropped.

    Parameters
    ----------
    value : object
        A raw value (numbers and booleans are written out).

    Returns
    -------
    str
    """
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value).strip().lower()
    return text[:-1].rstrip() if text.endswith(".") else text


def _char(n: int) -> Callable[[str], str]:
    def nth(text: str) -> str:
        letters = text.strip()
        if len(letters) < n:
            raise RecordError("invalid-field", f"object response has fewer than {n} characters")
        return letters[n - 1]

    return nth


def _word(n: int) -> Callable[[str], str]:
    def nth(text: str) -> str:
        words = _WORD.findall(text)
        if len(words) < n:
            raise RecordError("invalid-field", f"object response has fewer than {n} words")
        return words[n - 1]

    return nth


def _parity(text: str) -> str:
    digits = re.findall(r"\d", text)
    if not digits:
        raise RecordError("invalid-field", "object response holds no number (property is_even)")
    return "even" if int(digits[-1]) % 2 == 0 else "odd"


def _vowel_at(first: bool) -> Callable[[str], str]:
    def check(text: str) -> str:
        letters = [c for c in text.lower() if c.isalpha()]
        if not letters:
            raise RecordError("invalid-field", "object response holds no letter")
        return "true" if letters[0 if first else -1] in _VOWELS else "false"

    return check


#: Properties computable from an object-level response (Looking Inward's response properties).
PROPERTIES: dict[str, Callable[[str], str]] = {
    "identity": lambda text: text,
    "first_character": _char(1),
    "second_character": _char(2),
    "third_character": _char(3),
    "first_word": _word(1),
    "second_word": _word(2),
    "is_even": _parity,
    "starts_with_vowel": _vowel_at(first=True),
    "ends_with_vowel": _vowel_at(first=False),
}


def _lookup(obj: dict, field: str, columns: dict) -> Any:
    """A field's value: the mapped column (missing -> RecordError), else the first alias."""
    if field in columns:
        value = get_path(obj, columns[field])
        if value is _ABSENT:
            raise RecordError(
                "missing-field", f"column {columns[field]!r} (mapped to {field}) is missing"
            )
        return _MISSING if _blank(value) else value
    for alias in ALIASES[field]:
        if alias in obj and not _blank(obj[alias]):
            return obj[alias]
    return _MISSING


def _blank(value: Any) -> bool:
    """None, NaN, or text that is empty after trimming."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any, field: str) -> str:
    if isinstance(value, str | int | float | bool):
        text = str(value).strip()
        if text and text.lower() != "nan":
            return text
    raise RecordError("invalid-field", f"field {field!r} should be non-empty text, found {value!r}")


def _integer(value: Any, field: str) -> int | None:
    if value is _MISSING:
        return None
    try:
        return as_int(value, field)
    except RecordError:
        raise RecordError(
            "invalid-field",
            f"field {field!r} should be a whole number from 0 to {INT64_MAX}, found {shown(value)}",
        ) from None


def prediction_row(obj: Any, locator: str, columns: dict) -> dict:
    """One record as a row of ``predictions.parquet`` (without file columns).

    Parameters
    ----------
    obj : dict
        The parsed record.
    locator : str
        Where in the file.
    columns : dict
        The manifest column map (target -> column).

    Returns
    -------
    dict

    Raises
    ------
    RecordError
        Naming the field at fault.
    """
    if not isinstance(obj, dict):
        raise RecordError("not-an-object", f"expected an object, found {type(obj).__name__}")
    values = {field: _lookup(obj, field, columns) for field in ALIASES}
    for field in REQUIRED:
        if values[field] is _MISSING:
            looked = columns.get(field) or ", ".join(ALIASES[field])
            reason = "empty-prediction" if field == "meta_prediction" else "missing-field"
            raise RecordError(reason, f"no {field} (looked for column {looked})")
    row = {field: _text(values[field], field) for field in REQUIRED}
    prop = row["property"]
    if values["object_property_value"] is not _MISSING:
        object_value = normalise(_text(values["object_property_value"], "object_property_value"))
    elif values["object_response"] is not _MISSING:
        if prop not in PROPERTIES:
            raise RecordError(
                "unknown-property",
                f"property {prop!r} cannot be computed from object_response; give "
                f"object_property_value or use one of {sorted(PROPERTIES)}",
            )
        response = _text(values["object_response"], "object_response")
        object_value = normalise(PROPERTIES[prop](response))
    else:
        raise RecordError(
            "missing-field",
            "neither object_property_value nor object_response "
            f"(looked for {', '.join(ALIASES['object_property_value'] + ALIASES['object_response'])})",
        )
    kind = values["kind"]
    if kind is _MISSING:
        kind = "self" if row["predictor_model"] == row["object_model"] else "cross"
    else:
        kind = normalise(kind)
        if kind not in KINDS:
            raise RecordError(
                "invalid-kind", f"field 'kind' should be self or cross, found {kind!r}"
            )
    meta = normalise(row["meta_prediction"])
    sample = _integer(values["sample_index"], "sample_index")
    item = values["item_id"]
    return {
        "run_id": row["predictor_model"]
        if values["run_id"] is _MISSING
        else _text(values["run_id"], "run_id"),
        "task": row["task"],
        "property": prop,
        "item_id": locator if item is _MISSING else _text(item, "item_id"),
        "object_model": row["object_model"],
        "predictor_model": row["predictor_model"],
        "kind": kind,
        "n_examples": _integer(values["n_examples"], "n_examples"),
        "sample_index": 0 if sample is None else sample,
        "object_value": object_value,
        "meta_prediction": meta,
        "correct": meta == object_value,
    }


def read_predictions(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Rows (dicts with ``locator``) or :class:`Reject` items of one Looking Inward file."""
    columns = dict(source.spec.columns) if source.spec is not None else {}

    def read(locator: str, obj: Any, raw: Any) -> list[dict]:
        return [{**prediction_row(obj, locator, columns), "locator": locator}]

    return each_record(source, iter_records(source, limits), read)


class PredictionTable:
    """``predictions.parquet`` being written: validated batches, duplicates counted.

    Parameters
    ----------
    path : Path
        The file (in the ingest's staging folder).
    batch_rows : int
        Rows per validated batch.
    ingest_id : str
        The id of the ingest (written into the file).
    """

    COLUMNS = tuple(schemas.columns(KIND))

    def __init__(self, path: Path, batch_rows: int, ingest_id: str) -> None:
        self.path = Path(path)
        self.batch_rows = batch_rows
        self.ingest_id = ingest_id
        self.writer: BatchWriter | None = None
        self.buffer: list[tuple] = []
        self.seen: set[str] = set()

    @property
    def rows_written(self) -> int:
        """Rows accepted so far (duplicates excluded)."""
        return len(self.seen)

    def read(self, source: SourceFile, limits: Limits, on_reject: Callable) -> None:
        """Read one file: rows to the table, rejects to ``on_reject(source, reject)``.

        Parameters
        ----------
        source : SourceFile
            Its ``report`` counts records, accepted, duplicates.
        limits : Limits
        on_reject : callable
            The ingest session's reject handler (counts and writes the reject).
        """
        if self.writer is None:
            self.writer = BatchWriter(self.path, KIND, self.ingest_id)
        for item in read_predictions(source, limits):
            if type(item) is Reject:
                on_reject(source, item)
                continue
            item["prediction_id"] = stable_hash(
                *(item[k] for k in ("predictor_model", "object_model", "task", "property")),
                *(item[k] for k in ("item_id", "sample_index", "object_value")),
                item["meta_prediction"],
                item["run_id"],
            )
            item["source"] = FORMAT
            item["source_file"] = source.name
            source.report.records += 1
            if item["prediction_id"] in self.seen:
                source.report.duplicates += 1
                continue
            self.seen.add(item["prediction_id"])
            source.report.accepted += 1
            self.buffer.append(tuple(item[c] for c in self.COLUMNS))
            if len(self.buffer) >= self.batch_rows:
                self.flush()

    def flush(self) -> None:
        """Write the buffered rows."""
        if self.writer is not None and self.buffer:
            rows, self.buffer = self.buffer, []
            self.writer.write_rows(rows)

    def close(self) -> None:
        """Finish the file (written only when a predictions source was read)."""
        if self.writer is not None:
            self.flush()
            self.writer.close()

    def abort(self) -> None:
        """Stop writing (the staging folder goes with the failed ingest)."""
        if self.writer is not None:
            self.writer.abort()
