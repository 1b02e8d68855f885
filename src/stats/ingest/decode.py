"""Read raw files as streams of records, whatever their encoding, with bounded memory.

Each reader yields either a record ``(locator, obj, raw)`` (``raw`` is kept to cut a snippet
if the record is later rejected, and to tell repeated records apart) or a
:class:`~stats.ingest.errors.Reject` for a record that cannot even be parsed. One bad
record never ends its file: a line that is not JSON, holds a lone surrogate, nests too
deeply or holds a number no decoder reads is that line's reject. Encoding problems are
repaired where the meaning is certain and noted in the file's warnings: a UTF-8
byte-order mark is stripped, CRLF line ends are accepted, UTF-16 files (with a BOM) are
decoded, and lines that are not valid UTF-8 are decoded as latin-1.

JSON is decoded by orjson. The standard library decodes the lines orjson refuses (it
accepts ``NaN``, and words the errors) and the lines holding a run of 19 or more digits
(integers beyond 64 bits, which orjson reads as floats), so values are exactly
``json.loads``'s. YAML (manifests, front matter) is read by :func:`load_yaml`, which
refuses documents whose aliases expand past a bound (alias bombs).
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits

Record = tuple[str, Any, Any]

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
_DIGITS_TO_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_NUMBER = b"0" * 19
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError


@dataclass
class SourceFile:
    """One input file on its way through ingest.

    Parameters
    ----------
    path : Path
        Where to read it.
    name : str
        The file as given or walked (the ``source_file`` column).
    report : FileReport
        Its counts and warnings.
    spec : object, optional
        The manifest ``files:`` entry that matched it (:class:`~stats.ingest.manifest.FileSpec`).
    private : bool
        Named by the manifest as a run's training or job file: its content is never copied
        into rejects (no snippet; the detail says only the reason).
    evidence : str, optional
        Why its format was chosen (the ledger's ``detected_by``).
    """

    path: Path
    name: str
    report: FileReport
    spec: Any = None
    private: bool = False
    evidence: str | None = None

    def where(self, locator: str) -> str:
        """``"<file>: <locator>"`` for error messages."""
        return f"{self.name}: {locator}"

    def reject(self, locator: str, err: RecordError, raw: Any = None) -> Reject:
        """The reject of a record that raised ``err`` (the detail names file and place)."""
        return Reject(locator, err.reason, f"{self.where(locator)}: {err.detail}", snippet_of(raw))


# ============================================================================ JSON values
def json_error_reason(err: json.JSONDecodeError, length: int) -> str:
    """``truncated-json`` when the text ends inside a value, else ``invalid-json``."""
    if err.msg.startswith("Unterminated string") or err.pos >= length:
        return "truncated-json"
    return "invalid-json"


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``, through orjson where its value is the same.

    Parameters
    ----------
    data : bytes or str
        One JSON value; bytes must be UTF-8 (``UnicodeDecodeError`` otherwise, so that the
        caller can decide how to read them).

    Raises
    ------
    RecordError
        ``truncated-json`` or ``invalid-json`` (syntax, nesting too deep, a number of more
        digits than Python converts), ``invalid-text`` (a lone UTF-16 surrogate, which no
        text column can hold), naming the character where the text breaks.
    """
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as err:
            raise _lone_surrogate(err) from None
    else:
        raw = data
    try:
        value = _orjson_loads(raw)
    except _OrjsonError:
        pass
    else:
        if _LONG_NUMBER not in raw.translate(_DIGITS_TO_ZERO):
            return value
    text = data if isinstance(data, str) else data.decode("utf-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        reason = json_error_reason(err, len(text.strip()))
        what = "ends inside a JSON value" if reason == "truncated-json" else "is not valid JSON"
        raise RecordError(reason, f"the record {what} (char {err.pos}: {err.msg})") from None
    except RecursionError:
        raise RecordError("invalid-json", "the record is JSON nested too deeply to read") from None
    except ValueError as err:  # an integer too long to convert
        reason = str(err).split(";")[0]
        raise RecordError(
            "invalid-json", f"the record holds a number that cannot be read ({reason})"
        ) from None
    if _SURROGATE_ESCAPE.search(text):  # "\ud800" decodes to a lone surrogate
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            raise _lone_surrogate(err) from None
    return value


def _lone_surrogate(err: UnicodeEncodeError) -> RecordError:
    return RecordError(
        "invalid-text",
        f"the record holds a lone UTF-16 surrogate ({err.object[err.start]!r}), which is not text",
    )


# ============================================================================ lines
def _lines(source: SourceFile, limits: Limits) -> Iterator[tuple[int, bytes | Reject]]:
    """Physical lines as UTF-8 bytes (line end kept), oversized lines as rejects, BOM handled."""
    limit = limits.max_line_bytes
    with open(source.path, "rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(UTF16_BOMS):
            source.report.warn("UTF-16 file (byte-order mark): decoded as UTF-16")
            yield from _utf16_lines(source, handle)
            return
        if head.startswith(UTF8_BOM):
            source.report.warn("UTF-8 byte-order mark at the start of the file: stripped")
            handle.seek(len(UTF8_BOM))
        readline = handle.readline
        number = 0
        while raw := readline(limit + 1):
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                size = len(raw)
                while (chunk := readline(1 << 20)) and not chunk.endswith(b"\n"):
                    size += len(chunk)
                size += len(chunk)
                locator = f"line {number}"
                detail = (
                    f"{source.where(locator)}: the line has {size} bytes, over the limit of "
                    f"{limit} bytes; not read"
                )
                yield number, Reject(locator, "oversized-line", detail, snippet_of(raw[:1024]))
                continue
            yield number, raw


def _utf16_lines(source: SourceFile, handle: Any) -> Iterator[tuple[int, bytes | Reject]]:
    """Lines of a UTF-16 file; a line holding an unpaired surrogate is that line's reject."""
    stream = io.TextIOWrapper(handle, encoding="utf-16", errors="surrogatepass", newline="")
    for number, text in enumerate(stream, start=1):
        try:
            yield number, text.encode("utf-8")
        except UnicodeEncodeError as err:
            locator = f"line {number}"
            detail = (
                f"{source.where(locator)}: not valid UTF-16 (an unpaired surrogate at char "
                f"{err.start})"
            )
            yield number, Reject(locator, "invalid-text", detail, snippet_of(text))


def iter_jsonl(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """JSON objects of a JSON Lines file, one per non-blank line (``locator`` ``"line N"``)."""
    crlf_noted = False
    for number, raw in _lines(source, limits):
        if type(raw) is Reject:
            yield raw
            continue
        if not crlf_noted and raw.endswith(b"\r\n"):
            crlf_noted = True
            source.report.warn("CRLF line endings: accepted")
        line = raw.strip()
        if not line:
            continue
        locator = f"line {number}"
        try:
            try:
                obj = loads(line)
            except UnicodeDecodeError:
                source.report.warn(f"{locator}: not valid UTF-8; decoded as latin-1")
                obj = loads(line.decode("latin-1"))
        except RecordError as err:
            yield source.reject(locator, err, line)
            continue
        if type(obj) is not dict:
            detail = f"{source.where(locator)}: expected a JSON object, found {type(obj).__name__}"
            yield Reject(locator, "not-an-object", detail, snippet_of(line))
            continue
        yield locator, obj, line


def looks_like_jsonl(path: Path, probe: int = 1 << 20) -> bool:
    """Whether a file's first line is a whole JSON value followed by another line."""
    with open(path, "rb") as handle:
        first = handle.readline(probe)
        if first.startswith(UTF8_BOM):
            first = first[len(UTF8_BOM) :]
        rest = handle.read(64).strip()
    if not first.strip() or not rest:
        return False
    try:
        loads(first)
    except (RecordError, UnicodeDecodeError):
        return False
    return True


def each_record(
    source: SourceFile,
    records: Iterable[Record | Reject],
    read: Callable[[str, Any, Any], Iterable[Any]],
) -> Iterator[Any]:
    """``read(locator, obj, raw)``'s items for each record; a record it cannot read is a reject.

    The one loop of every reader: a :class:`RecordError` becomes the record's reject with
    the reader's reason; any other exception (a shape no reader expected, nesting too deep
    for a recursive step) becomes an ``unreadable-record`` reject naming it. Either way the
    next record is read: one bad record never ends its file. A record yields all of its
    items or none (a reject), never a part.
    """
    for item in records:
        if type(item) is Reject:
            yield item
            continue
        locator, obj, raw = item
        try:
            out = read(locator, obj, raw)
            if type(out) is not list:
                out = list(out)
        except RecordError as err:
            yield source.reject(locator, err, raw)
            continue
        except MemoryError:
            raise
        except Exception as err:  # one record's problem, reported as its reject
            detail = (
                f"{source.where(locator)}: the record could not be read "
                f"({type(err).__name__}: {str(err)[:200]})"
            )
            yield Reject(locator, "unreadable-record", detail, snippet_of(raw))
            continue
        yield from out
