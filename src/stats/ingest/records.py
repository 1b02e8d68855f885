"""Read raw files as streams of records, whatever their encoding, with bounded memory.

Each reader yields either a record ``(locator, obj, raw)`` (``raw`` is kept only to cut a
snippet if the record is later rejected) or a :class:`~stats.ingest.errors.Reject` for a
record that cannot even be parsed. Encoding problems are repaired where the meaning is
certain and noted in the file's warnings: a UTF-8 byte-order mark is stripped, CRLF line
ends are accepted, UTF-16 files (with a BOM) are decoded, and lines that are not valid UTF-8
are decoded as latin-1.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stats.ingest.errors import Reject, snippet_of
from stats.ingest.fastjson import SLOW, loads_line, loads_line_unchecked
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits

Record = tuple[str, Any, Any]
_decode = json.JSONDecoder().decode

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"


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
    """

    path: Path
    name: str
    report: FileReport
    spec: Any = None

    def where(self, locator: str) -> str:
        """``"<file>: <locator>"`` for error messages."""
        return f"{self.name}: {locator}"


def json_error_reason(err: json.JSONDecodeError, length: int) -> str:
    """``truncated-json`` when the text ends inside a value, else ``invalid-json``."""
    if err.msg.startswith("Unterminated string") or err.pos >= length:
        return "truncated-json"
    return "invalid-json"


def _json_reject(source: SourceFile, locator: str, err: json.JSONDecodeError, raw: Any) -> Reject:
    length = len(raw.strip()) if isinstance(raw, bytes | str) else 0
    reason = json_error_reason(err, length)
    what = "ends inside a JSON value" if reason == "truncated-json" else "is not valid JSON"
    detail = f"{source.where(locator)}: the record {what} (char {err.pos}: {err.msg})"
    return Reject(locator, reason, detail, snippet_of(raw))


def _number_reject(source: SourceFile, locator: str, err: ValueError, raw: Any) -> Reject:
    """The reject of a record the standard library cannot decode for a reason other than its
    syntax: an integer of more digits than Python converts (4300 by default)."""
    reason = str(err).split(";")[0]
    detail = f"{source.where(locator)}: the record holds a number that cannot be read ({reason})"
    return Reject(locator, "invalid-json", detail, snippet_of(raw))


def _raw_lines(source: SourceFile, limits: Limits) -> Iterator[tuple[int, bytes | Reject]]:
    """Physical lines as bytes (line end kept), oversized lines as rejects, BOM handled."""
    limit = limits.max_line_bytes
    with open(source.path, "rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(UTF16_BOMS):
            source.report.warn("UTF-16 file (byte-order mark): decoded as UTF-16")
            stream: Any = io.TextIOWrapper(handle, encoding="utf-16", newline="")
            for number, text in enumerate(stream, start=1):
                yield number, text.encode("utf-8")
            return
        if head.startswith(UTF8_BOM):
            source.report.warn("UTF-8 byte-order mark at the start of the file: stripped")
            handle.seek(len(UTF8_BOM))
        readline = handle.readline
        number = 0
        while True:
            raw = readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                size = len(raw)
                while True:
                    chunk = readline(1 << 20)
                    size += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                locator = f"line {number}"
                detail = (
                    f"{source.where(locator)}: the line has {size} bytes, over the limit of "
                    f"{limit} bytes; not read"
                )
                yield number, Reject(locator, "oversized-line", detail, snippet_of(raw[:1024]))
                continue
            yield number, raw


def iter_jsonl(
    source: SourceFile, limits: Limits, *, checked: bool = True
) -> Iterator[Record | Reject]:
    """JSON objects of a JSON Lines file, one per non-blank line (``locator`` ``"line N"``).

    ``checked=False``: objects decoded by orjson whose integers beyond 64 bits may be floats;
    the caller passes ``(obj, raw)`` to :func:`stats.ingest.fastjson.exact` before using a
    field that such a number could change (see :mod:`stats.ingest.fastjson`).
    """
    loads = loads_line if checked else loads_line_unchecked
    crlf_noted = False
    for number, raw in _raw_lines(source, limits):
        if isinstance(raw, Reject):
            yield raw
            continue
        if not crlf_noted and raw.endswith(b"\r\n"):
            crlf_noted = True
            source.report.warn("CRLF line endings: accepted")
        line = raw.strip()
        if not line:
            continue
        locator = f"line {number}"
        obj = loads(line)
        if obj is SLOW:  # the standard library decides (and words the error)
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("latin-1")
                source.report.warn(f"{locator}: not valid UTF-8; decoded as latin-1")
            try:
                obj = _decode(text)
            except json.JSONDecodeError as err:
                yield _json_reject(source, locator, err, line)
                continue
            except RecursionError:
                detail = f"{source.where(locator)}: JSON nested too deeply to parse"
                yield Reject(locator, "invalid-json", detail, snippet_of(line))
                continue
            except ValueError as err:  # an integer too long to convert
                yield _number_reject(source, locator, err, line)
                continue
        if type(obj) is not dict:
            detail = f"{source.where(locator)}: expected a JSON object, found {type(obj).__name__}"
            yield Reject(locator, "not-an-object", detail, snippet_of(line))
            continue
        yield locator, obj, line


def read_text(source: SourceFile, limits: Limits) -> str | Reject:
    """The whole file as text (UTF-8, BOM stripped, UTF-16 with BOM, latin-1 fallback)."""
    size = source.path.stat().st_size
    if size > limits.max_document_bytes:
        detail = (
            f"{source.where('file')}: {size} bytes, over the limit of "
            f"{limits.max_document_bytes} bytes for a whole-file document"
        )
        return Reject("file", "oversized-file", detail, None)
    data = source.path.read_bytes()
    if data.startswith(UTF16_BOMS):
        source.report.warn("UTF-16 file (byte-order mark): decoded as UTF-16")
        return data.decode("utf-16")
    if data.startswith(UTF8_BOM):
        source.report.warn("UTF-8 byte-order mark at the start of the file: stripped")
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        source.report.warn(f"not valid UTF-8 (byte {err.start}); decoded as latin-1")
        text = data.decode("latin-1")
    if "\r\n" in text:
        source.report.warn("CRLF line endings: accepted")
    return text


def read_json_document(source: SourceFile, limits: Limits) -> Any | Reject:
    """Parse a file holding one JSON document (object or array)."""
    text = read_text(source, limits)
    if isinstance(text, Reject):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        return _json_reject(source, "file", err, text)
    except RecursionError:
        return Reject("file", "invalid-json", f"{source.where('file')}: nested too deeply", None)
    except ValueError as err:  # an integer too long to convert
        return _number_reject(source, "file", err, text)


class _Latin1Fallback:
    """Codec error handler decoding undecodable bytes as latin-1, counting the repairs."""

    name = "stats-ingest-latin1"

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, err: UnicodeError) -> tuple[str, int]:
        if not isinstance(err, UnicodeDecodeError):
            raise err
        self.count += 1
        return err.object[err.start : err.end].decode("latin-1"), err.end


_LATIN1 = _Latin1Fallback()
codecs.register_error(_LATIN1.name, _LATIN1)


def iter_csv(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """Rows of a CSV/TSV file as dicts keyed by the header (``locator`` ``"line N"``)."""
    previous = csv.field_size_limit(limits.max_line_bytes)
    try:
        yield from _csv_rows(source)
    finally:
        csv.field_size_limit(previous)  # the limit is process-wide: put it back


def _csv_rows(source: SourceFile) -> Iterator[Record | Reject]:
    with open(source.path, "rb") as binary:
        head = binary.read(4)
        binary.seek(0)
        encoding = "utf-16" if head.startswith(UTF16_BOMS) else "utf-8-sig"
        if head.startswith(UTF8_BOM):
            source.report.warn("UTF-8 byte-order mark at the start of the file: stripped")
        text = io.TextIOWrapper(binary, encoding=encoding, errors=_LATIN1.name, newline="")
        sample = text.read(64 * 1024)
        text.seek(0)
        if "\r\n" in sample:
            source.report.warn("CRLF line endings: accepted")
        delimiter = "\t" if source.path.suffix.lower() == ".tsv" else ","
        before = _LATIN1.count
        reader = csv.DictReader(text, delimiter=delimiter)
        try:
            reader.fieldnames  # noqa: B018 - reads the header, so line numbers start after it
        except csv.Error as err:
            yield Reject("line 1", "invalid-csv", f"{source.where('line 1')}: header: {err}", None)
            return
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                locator = f"line {start}"
                detail = f"{source.where(locator)}: CSV error: {err}"
                reason = "oversized-line" if "field larger" in str(err) else "invalid-csv"
                yield Reject(locator, reason, detail, None)
                continue
            locator = f"line {start}"
            if None in row:
                extra = row.pop(None)
                detail = (
                    f"{source.where(locator)}: {len(extra)} more fields than the header's "
                    f"{len(reader.fieldnames or [])}"
                )
                yield Reject(locator, "wrong-field-count", detail, snippet_of(row))
                continue
            yield locator, row, None
        if _LATIN1.count > before:
            source.report.warn(
                f"{_LATIN1.count - before} byte sequences were not valid UTF-8; decoded as latin-1"
            )


def iter_parquet(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """Rows of a Parquet file as dicts, read in batches (``locator`` ``"row N"``, 1-based)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source.path)
    except Exception as err:  # pyarrow raises several types for damaged files
        yield Reject("file", "invalid-parquet", f"{source.where('file')}: {err}", None)
        return
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                number += 1
                yield f"row {number}", row, None
    except Exception as err:
        locator = f"row {number + 1}"
        yield Reject(locator, "invalid-parquet", f"{source.where(locator)}: {err}", None)


def iter_document_items(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """Objects of a JSON document: the document itself, or each item of a top-level array."""
    doc = read_json_document(source, limits)
    if isinstance(doc, Reject):
        yield doc
        return
    if isinstance(doc, list):
        for index, item in enumerate(doc):
            locator = f"item {index}"
            if isinstance(item, dict):
                yield locator, item, item
            else:
                detail = (
                    f"{source.where(locator)}: expected a JSON object, found {type(item).__name__}"
                )
                yield Reject(locator, "not-an-object", detail, snippet_of(item))
        return
    if isinstance(doc, dict):
        yield "document", doc, doc
        return
    detail = f"{source.where('file')}: expected a JSON object or array, found {type(doc).__name__}"
    yield Reject("file", "not-an-object", detail, snippet_of(doc))


def iter_records(
    source: SourceFile, limits: Limits, *, checked: bool = True
) -> Iterator[Record | Reject]:
    """Records of a tabular or JSON file, chosen by its content and extension.

    ``checked`` is passed to :func:`iter_jsonl` (other formats are always exact).
    """
    with open(source.path, "rb") as handle:
        head = handle.read(4)
    suffix = source.path.suffix.lower()
    if head == PARQUET_MAGIC or suffix == ".parquet":
        return iter_parquet(source, limits)
    if suffix in (".csv", ".tsv"):
        return iter_csv(source, limits)
    if suffix == ".json" and not looks_like_jsonl(source.path):
        return iter_document_items(source, limits)
    return iter_jsonl(source, limits, checked=checked)


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
        json.loads(first)
    except (ValueError, RecursionError):  # invalid JSON or UTF-8, a number too long to read
        return False
    return True
