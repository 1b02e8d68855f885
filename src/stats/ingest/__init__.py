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
load_manifest(path) -> Manifest
    Validate a runs manifest without ingesting.
write_zip_zstd(path, members)
    Write a zip with zstd members (method 93), as recent inspect-ai logs are.
"""

from stats.ingest.errors import IngestError, ManifestError
from stats.ingest.formats import FORMATS
from stats.ingest.inspect_log import write_zip_zstd
from stats.ingest.limits import Limits
from stats.ingest.manifest import load_manifest
from stats.ingest.pipeline import ingest

__all__ = [
    "FORMATS",
    "IngestError",
    "Limits",
    "ManifestError",
    "ingest",
    "load_manifest",
    "write_zip_zstd",
]
