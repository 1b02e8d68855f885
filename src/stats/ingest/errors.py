"""Errors raised by ingest and the record-level rejection shared by every reader."""

from __future__ import annotations

from typing import Any, NamedTuple

SNIPPET_CHARS = 200


class IngestError(ValueError):
    """The inputs cannot be ingested, or the outputs cannot be written; the message says why.

    Parameters
    ----------
    message : str
        One line (or a short list) naming the path at fault and the fix.
    ledger : dict, optional
        The ledger of the failed ingest (what was read, rejected, ignored), when one exists.
    kind : str
        ``input`` (nothing usable, a path that does not exist), ``manifest``, ``busy``
        (another ingest holds the output folder), ``output`` (the outputs cannot be written)
        or ``worker`` (the parsing process died).
    """

    def __init__(self, message: str, ledger: dict | None = None, *, kind: str = "input") -> None:
        super().__init__(message)
        self.ledger = ledger
        self.kind = kind


class ManifestError(IngestError):
    """The manifest (``runs.yaml``) is malformed: unknown keys, wrong types, bad values."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="manifest")


class Reject(NamedTuple):
    """One input record that could not become a transcript (a row of ``rejects.parquet``).

    Attributes
    ----------
    locator : str
        Where in the file, e.g. ``"line 12"``, ``"line 12 choice 2"``, ``"samples/3_epoch_1.json"``.
    reason : str
        Short machine-readable code, e.g. ``"truncated-json"``, ``"refusal"``, ``"batch-error"``.
    detail : str
        Human sentence naming the file, the place and the field at fault.
    snippet : str or None
        The first :data:`SNIPPET_CHARS` characters of the raw record.
    """

    locator: str
    reason: str
    detail: str
    snippet: str | None = None


class RecordError(Exception):
    """Raised by a reader for one record; the reader's loop turns it into a :class:`Reject`.

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
        return raw[:SNIPPET_CHARS].encode("utf-8", errors="replace").decode("utf-8")
    import json

    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(raw))
    return text[:SNIPPET_CHARS].encode("utf-8", errors="replace").decode("utf-8")
