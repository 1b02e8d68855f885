"""Ingest: every run source -> one validated transcripts table, runs table, rejects and ledger.

Public API
----------
ingest(paths, manifest, out_dir, fmt=None, progress=None) -> dict
    Read files/folders; write ``transcripts.parquet``, ``runs.parquet``,
    ``rejects.parquet`` and ``ledger.json``; return the ledger.
FORMATS
    Adapter names (the CLI's ``--format`` choices).
IngestError, ManifestError
    Nothing usable was read / the manifest is malformed.
Limits
    Size limits (oversized lines, zip bombs, batch sizes).
load_manifest(path) -> Manifest
    Validate a runs manifest without ingesting.
write_zip_zstd(path, members)
    Write a zip with zstd members (method 93), as recent inspect-ai logs are.

Names are imported on first use, so that ``import stats.ingest`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FORMATS": "stats.ingest.formats",
    "IngestError": "stats.ingest.errors",
    "Limits": "stats.ingest.limits",
    "ManifestError": "stats.ingest.errors",
    "ingest": "stats.ingest.pipeline",
    "load_manifest": "stats.ingest.manifest",
    "write_zip_zstd": "stats.ingest.zipped",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'stats.ingest' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
