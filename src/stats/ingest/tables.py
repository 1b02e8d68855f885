"""Tables: CSV/TSV and Parquet files as streams of row records.

Rows come as ``(locator, row dict, row dict)`` (see :mod:`stats.ingest.decode`); a row that
cannot be read is its own :class:`~stats.ingest.errors.Reject`, never the file's end.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from stats.ingest.decode import (
    PARQUET_MAGIC,
    UTF8_BOM,
    UTF16_BOMS,
    Record,
    SourceFile,
    iter_jsonl,
    looks_like_jsonl,
)
from stats.ingest.documents import iter_document_items
from stats.ingest.errors import Reject, snippet_of
from stats.ingest.limits import Limits


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
        if "\r\n" in text.read(64 * 1024):
            source.report.warn("CRLF line endings: accepted")
        text.seek(0)
        delimiter = "\t" if source.path.suffix.lower() == ".tsv" else ","
        before = _LATIN1.count
        reader = csv.DictReader(text, delimiter=delimiter)
        try:
            reader.fieldnames  # noqa: B018 - reads the header, so line numbers start after it
        except csv.Error as err:
            yield Reject("line 1", "invalid-csv", f"{source.where('line 1')}: header: {err}", None)
            return
        while True:
            locator = f"line {reader.line_num + 1}"
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                reason = "oversized-line" if "field larger" in str(err) else "invalid-csv"
                yield Reject(locator, reason, f"{source.where(locator)}: CSV error: {err}", None)
                continue
            if None in row:
                extra = row.pop(None)
                detail = (
                    f"{source.where(locator)}: {len(extra)} more fields than the header's "
                    f"{len(reader.fieldnames or [])}"
                )
                yield Reject(locator, "wrong-field-count", detail, snippet_of(row))
                continue
            yield locator, row, row
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
                yield f"row {number}", row, row
    except Exception as err:
        locator = f"row {number + 1}"
        yield Reject(locator, "invalid-parquet", f"{source.where(locator)}: {err}", None)


def iter_records(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """Records of a tabular or JSON file, chosen by its content and extension."""
    with open(source.path, "rb") as handle:
        head = handle.read(4)
    suffix = source.path.suffix.lower()
    if head == PARQUET_MAGIC or suffix == ".parquet":
        return iter_parquet(source, limits)
    if suffix in (".csv", ".tsv"):
        return iter_csv(source, limits)
    if suffix == ".json" and not looks_like_jsonl(source.path):
        return iter_document_items(source, limits)
    return iter_jsonl(source, limits)
