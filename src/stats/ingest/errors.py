"""Errors raised by ingest and the record-level rejection shared by every adapter."""

from __future__ import annotations

from typing import Any, NamedTuple

SNIPPET_CHARS = 200


class IngestError(ValueError):
    """Nothing usable could be read, or the inputs cannot be ingested at all.

    Parameters
    ----------
    message : str
        Says why, naming files and reasons.
    ledger : dict, optional
        The ledger of the failed ingest (what was read, rejected, ignored), when one exists.
    """

    def __init__(self, message: str, ledger: dict | None = None) -> None:
        super().__init__(message)
        self.ledger = ledger


class ManifestError(IngestError):
    """The manifest (``runs.yaml``) is malformed: unknown keys, wrong types, bad values."""


class Reject(NamedTuple):
    """One input record that could not become a transcript (a row of ``rejects.parquet``).

    Attributes
    ----------
    locator : str
        Where in the file, e.g. ``"line 12"``, ``"line 12 choice 2"``, ``"samples/3_epoch_1.json"``.
    reason : str
        Short machine-readable code, e.g. ``"truncated-json"``, ``"refusal"``, ``"batch-error"``.
    detail : str
        Human sentence naming the field at fault.
    snippet : str or None
        The first :data:`SNIPPET_CHARS` characters of the raw record.
    """

    locator: str
    reason: str
    detail: str
    snippet: str | None = None


class RecordError(Exception):
    """Raised inside an adapter for one record; the adapter turns it into a :class:`Reject`.

    Parameters
    ----------
    reason : str
        Short code (see :class:`Reject`).
    detail : str
        Sentence naming the field, e.g. ``"field 'choices[0].message.content' is missing"``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple:
        return (RecordError, (self.reason, self.detail))


def snippet_of(raw: Any) -> str | None:
    """First :data:`SNIPPET_CHARS` characters of a raw record (bytes, text or parsed JSON)."""
    if raw is None:
        return None
    if isinstance(raw, bytes | bytearray):
        head = raw[:SNIPPET_CHARS]
        if head.isascii():  # one character a byte: the same as decoding more and cutting
            return head.decode("ascii")
        return bytes(raw[: SNIPPET_CHARS * 4]).decode("utf-8", errors="replace")[:SNIPPET_CHARS]
    if isinstance(raw, str):
        return raw[:SNIPPET_CHARS]
    import json

    try:
        return json.dumps(raw, ensure_ascii=False, default=str)[:SNIPPET_CHARS]
    except (TypeError, ValueError):
        return repr(raw)[:SNIPPET_CHARS]
