"""Size limits that keep ingest safe on untrusted files (oversized lines, zip bombs)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what ingest reads into memory at once.

    Parameters
    ----------
    max_line_bytes : int
        Longest JSONL/CSV line accepted (default 16 MiB); longer lines are rejected as
        ``oversized-line`` without being read into memory whole.
    max_document_bytes : int
        Largest single JSON document (a job, a chat completion, a legacy inspect log) parsed
        whole (default 512 MiB).
    max_member_bytes : int
        Largest decompressed member of a zip (``.eval``) log (default 256 MiB).
    max_zip_ratio : float
        Largest decompressed/compressed ratio of a zip member bigger than
        ``ratio_floor_bytes`` (default 200); above it the member is a ``zip-bomb``.
    ratio_floor_bytes : int
        Members smaller than this (default 1 MiB) are never judged by their ratio.
    max_zip_total_bytes : int
        Total decompressed bytes read from one zip (default 4 GiB).
    batch_rows : int
        Rows buffered before a parquet batch is validated and written (default 50,000).
    parallel_bytes : int
        JSON Lines files at least this big (default 32 MiB) are decoded and read in a child
        process while the main process joins, checks and writes rows; 0: always, negative:
        never. Only used on machines with more than one CPU.
    max_yaml_values : int
        Most values a YAML document (a manifest, a text transcript's front matter) may hold
        once its aliases are expanded (default 100,000); more is an alias bomb, refused.
    """

    max_line_bytes: int = 16 * MIB
    max_document_bytes: int = 512 * MIB
    max_member_bytes: int = 256 * MIB
    max_zip_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * MIB
    max_zip_total_bytes: int = 4096 * MIB
    batch_rows: int = 50_000
    parallel_bytes: int = 32 * MIB
    max_yaml_values: int = 100_000
