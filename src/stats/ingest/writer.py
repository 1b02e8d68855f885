"""Write validated tables to Parquet in batches (constant memory).

Each batch is built as Arrow columns of the declared types (:mod:`stats.schemas`) and
validated there, vectorised: a value that does not fit its column's type fails while the
column is built, a null in a non-nullable column fails the check, and NaN in a float column
becomes null (as coercing to pandas' ``Float64`` does). Parquet encoding and compression run
in a background thread (pyarrow releases the GIL), overlapping the next batch's Python work;
at most one batch waits there, so memory stays bounded. Every file carries the id of the
ingest that wrote it (key ``stats.ingest_id`` of the Parquet metadata).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stats import schemas
from stats.provenance import INGEST_ID_KEY

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


def file_schema(table: str, ingest_id: str) -> pa.Schema:
    """The schema a file of ``table`` is written with: pandas metadata (the declared dtypes
    read back: Int64, boolean, string) and the ingest's id."""
    # the pandas metadata of an empty *validated* frame: the files read back with the dtypes
    # every stage has read so far (string with NaN for missing, Int64, boolean)
    empty = schemas.validate(schemas.empty(table), table)
    schema = pa.Table.from_pandas(empty, schema=arrow_schema(table), preserve_index=False).schema
    return schema.with_metadata({**schema.metadata, INGEST_ID_KEY: ingest_id.encode()})


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
        The table's Arrow schema.

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
    """Validate batches of a declared table and append them to a Parquet file.

    Parameters
    ----------
    path : Path
        The file (in the ingest's staging folder).
    table : str
        Declared table name (``"transcripts"``, ``"rejects"``, ``"predictions"``).
    ingest_id : str
        Written into the file's metadata.
    """

    def __init__(self, path: Path, table: str, ingest_id: str) -> None:
        self.path = Path(path)
        self.table = table
        self.schema = file_schema(table, ingest_id)
        self.rows_written = 0
        self._writer: pq.ParquetWriter | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def write_rows(self, rows: list[tuple]) -> None:
        """Validate rows (tuples in column order) and write them."""
        if rows:
            self.write_columns(list(zip(*rows, strict=True)))

    def write_columns(self, columns: Sequence[Sequence[Any] | pa.Array]) -> None:
        """Validate columns (one per declared column, in order) now and write them; encoding
        finishes in the background (see :func:`validated_batch` for the errors)."""
        batch = validated_batch(columns, self.table, self.schema)
        if batch.num_rows == 0:
            return
        self._wait()
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"write-{self.table}")
        self._pending = self._thread.submit(self._open().write_table, batch)
        self.rows_written += batch.num_rows

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        return self._writer

    def _wait(self) -> None:
        """Wait for the batch being encoded (re-raising its error)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Finish the file (a table without rows is still written)."""
        try:
            self._wait()
            self._open().close()
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Stop writing (the staging folder, and the file in it, is removed by the caller)."""
        try:
            self._wait()
        except Exception:  # the batch that failed is discarded with the file
            pass
        finally:
            self._shutdown()
            if self._writer is not None:
                try:
                    self._writer.close()
                except Exception:  # a file that cannot even be closed is deleted anyway
                    pass

    def _shutdown(self) -> None:
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None
