"""Write validated tables to Parquet in batches (constant memory), then move them in place.

Each batch is built as Arrow columns of the declared types (:mod:`stats.schemas`) and
validated there, vectorised: a value that does not fit its column's type fails while the
column is built, a null in a non-nullable column fails the check, and NaN in a float column
becomes null (as coercing to pandas' ``Float64`` does). Parquet encoding and compression run
in a background thread (pyarrow releases the GIL), overlapping the next batch's Python work;
at most one batch waits there, so memory stays bounded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stats import schemas

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "Int64": pa.int64(),
    "int64": pa.int64(),
    "Float64": pa.float64(),
    "float64": pa.float64(),
    "boolean": pa.bool_(),
    "bool": pa.bool_(),
}
FAILURES_SHOWN = 5


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a declared table (:mod:`stats.schemas`)."""
    return pa.schema(
        [pa.field(f.name, ARROW_TYPES[f.dtype], nullable=f.nullable) for f in schemas.TABLES[table]]
    )


def validated_batch(
    columns: Sequence[Sequence[Any] | pa.Array], table: str, schema: pa.Schema
) -> pa.Table:
    """Columns as an Arrow table of ``schema``, checked against the declared ``table``.

    Parameters
    ----------
    columns : sequence
        One column per declared column, in order: Python values, or an Arrow array.
    table : str
        Declared table name (:data:`stats.schemas.TABLES`).
    schema : pyarrow.Schema
        The table's Arrow schema (with the pandas metadata the file keeps).

    Raises
    ------
    pyarrow.ArrowInvalid, pyarrow.ArrowTypeError
        A value does not fit its column's type.
    stats.schemas.SchemaError
        A non-nullable column holds a null; the message names the table, the column and
        up to five offending rows.
    """
    fields = schemas.TABLES[table]
    arrays = []
    for values, field, declared in zip(columns, schema, fields, strict=True):
        if isinstance(values, pa.Array):
            array = values if values.type == field.type else values.cast(field.type)
        else:
            array = pa.array(values, type=field.type)
        if pa.types.is_floating(field.type) and array.null_count < len(array):
            nan = pc.is_nan(array)
            if pc.any(nan).as_py():
                array = pc.if_else(nan, pa.scalar(None, field.type), array)
        if not declared.nullable and array.null_count:
            where = pc.indices_nonzero(pc.is_null(array))[:FAILURES_SHOWN].to_pylist()
            cases = [
                {"column": field.name, "check": "not_nullable", "failure_case": None, "index": i}
                for i in where
            ]
            raise schemas.SchemaError(f"table {table!r} failed validation: {cases}")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


class BatchWriter:
    """Validate rows against a declared table and append them to a Parquet file.

    Rows are tuples in the table's column order. The file is written under a temporary
    name and moved to ``path`` by :meth:`commit`, so a failed ingest leaves the previous
    output untouched.

    Parameters
    ----------
    path : Path
        Final file.
    table : str
        Declared table name (``"transcripts"``, ``"rejects"``).
    batch_rows : int
        Rows buffered before a batch is validated and written.
    """

    def __init__(self, path: Path, table: str, batch_rows: int) -> None:
        self.path = Path(path)
        self.table = table
        self.batch_rows = batch_rows
        self.columns = schemas.columns(table)
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        self._schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self.buffer: list[tuple] = []
        self.rows_written = 0
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    @property
    def schema(self) -> pa.Schema:
        """The file's Arrow schema (computed on first use: it imports the validation library)."""
        if self._schema is None:
            # the pandas metadata of an empty validated frame makes the file read back with
            # the declared dtypes (Int64, boolean, string) rather than float64/object
            empty = schemas.validate(schemas.empty(self.table), self.table)
            self._schema = pa.Table.from_pandas(
                empty, schema=arrow_schema(self.table), preserve_index=False
            ).schema
        return self._schema

    @property
    def writer(self) -> pq.ParquetWriter:
        """The Parquet writer of the partial file (opened on first use)."""
        if self._writer is None:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.partial, self.schema, compression="zstd")
        return self._writer

    def add(self, row: tuple) -> None:
        """Buffer one row; write a batch when the buffer is full."""
        self.buffer.append(row)
        if len(self.buffer) >= self.batch_rows:
            self.flush()

    def write_rows(self, rows: list[tuple]) -> None:
        """Validate rows now and write them (encoding finishes in the background).

        Raises
        ------
        stats.schemas.SchemaError
            When the rows do not match the declared table (see :func:`validated_batch`).
        pyarrow.ArrowInvalid, pyarrow.ArrowTypeError
            When a value does not fit its column's type.
        """
        if rows:
            self.write_columns(list(zip(*rows, strict=True)))

    def write_columns(self, columns: Sequence[Sequence[Any] | pa.Array]) -> None:
        """Validate columns (one per declared column, in order) now and write them.

        Encoding finishes in the background; see :meth:`write_rows` for the errors.
        """
        batch = validated_batch(columns, self.table, self.schema)
        if batch.num_rows == 0:
            return
        self._wait()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"write-{self.table}")
        self._pending = self._thread.submit(self.writer.write_table, batch)
        self.rows_written += batch.num_rows

    def _wait(self) -> None:
        """Wait for the batch being encoded (re-raising its error)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def flush(self) -> None:
        """Write the buffered rows."""
        rows, self.buffer = self.buffer, []
        self.write_rows(rows)

    def _close(self) -> None:
        try:
            self._wait()
        finally:
            if self._thread is not None:
                self._thread.shutdown()
                self._thread = None
            if self._writer is not None:
                self._writer.close()

    def commit(self) -> Path:
        """Flush, close and move the file to its final name."""
        self.flush()
        self.writer  # noqa: B018 - opens the file: a table without rows is still written
        self._close()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the partial file."""
        try:
            self._close()
        except Exception:  # the batch that failed is being discarded with the file
            pass
        finally:
            self.partial.unlink(missing_ok=True)
