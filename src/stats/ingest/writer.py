"""Write validated tables to Parquet in batches (constant memory), then move them in place."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
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


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a declared table (:mod:`stats.schemas`)."""
    return pa.schema(
        [pa.field(f.name, ARROW_TYPES[f.dtype], nullable=f.nullable) for f in schemas.TABLES[table]]
    )


class BatchWriter:
    """Validate rows with :func:`stats.schemas.validate` and append them to a Parquet file.

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
        # the pandas metadata of an empty validated frame makes the file read back with the
        # declared dtypes (Int64, boolean, string) rather than float64/object
        empty = schemas.validate(schemas.empty(table), table)
        self.schema = pa.Table.from_pandas(
            empty, schema=arrow_schema(table), preserve_index=False
        ).schema
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(self.partial, self.schema, compression="zstd")
        self.buffer: list[tuple] = []
        self.rows_written = 0

    def add(self, row: tuple) -> None:
        """Buffer one row; write a batch when the buffer is full."""
        self.buffer.append(row)
        if len(self.buffer) >= self.batch_rows:
            self.flush()

    def write_rows(self, rows: list[tuple]) -> None:
        """Validate and write rows now."""
        if not rows:
            return
        arrays = [
            pa.array(list(values), type=field.type)
            for values, field in zip(zip(*rows, strict=True), self.schema, strict=True)
        ]
        frame = pa.Table.from_arrays(arrays, schema=self.schema).to_pandas()
        checked = schemas.validate(frame, self.table)
        # written from the validated frame, so the file keeps pandas' dtypes (Int64, boolean)
        self.writer.write_table(
            pa.Table.from_pandas(checked[self.columns], schema=self.schema, preserve_index=False)
        )
        self.rows_written += len(rows)

    def flush(self) -> None:
        """Write the buffered rows."""
        rows, self.buffer = self.buffer, []
        self.write_rows(rows)

    def commit(self) -> Path:
        """Flush, close and move the file to its final name."""
        self.flush()
        self.writer.close()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the partial file."""
        try:
            self.writer.close()
        finally:
            self.partial.unlink(missing_ok=True)
