"""The ingest stage: every run source -> transcripts, runs, rejects and a ledger.

Order of work (so that run values are known before any transcript row is written, and every
row is written once, in batches):

1. collect the files and decide their formats (:mod:`stats.ingest.collect`);
2. read fine-tuning jobs, then training files; fill run defaults (:mod:`stats.ingest.runs`);
3. index batch request files by ``custom_id`` (:mod:`stats.ingest.batch`);
4. read every transcript source (:mod:`stats.ingest.readers`) and accept each candidate
   (:mod:`stats.ingest.accept`) into ``transcripts.parquet``; rejects into
   ``rejects.parquet``; prediction records into ``predictions.parquet``;
5. count the requests no output answered; write ``runs.parquet`` and ``ledger.json``;
6. publish the outputs all at once (:mod:`stats.ingest.outputs`).

Every record ends in exactly one place, and the ledger proves it: ``records = accepted +
rejected + duplicates`` per file and in total (checked before anything is published).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stats import __version__, schemas
from stats.config import PROCESSED_DIR, Artifacts
from stats.ingest.accept import Acceptor
from stats.ingest.batch import JOINED, join_outputs, request_files
from stats.ingest.collect import UNUSABLE, Collector, unusable
from stats.ingest.decode import SourceFile
from stats.ingest.errors import IngestError, RecordError, Reject, snippet_of
from stats.ingest.formats import FORMAT_KINDS, FORMATS
from stats.ingest.ledger import check_balance, nothing_usable, totals
from stats.ingest.limits import Limits
from stats.ingest.manifest import Manifest, load_manifest
from stats.ingest.outputs import Outputs, describe
from stats.ingest.prediction import KIND as PREDICTIONS
from stats.ingest.prediction import PredictionTable
from stats.ingest.readers import ReadAhead
from stats.ingest.requests import RequestIndex
from stats.ingest.runs import RunRegistry
from stats.ingest.training import Metadata
from stats.ingest.writer import INGEST_ID_KEY, BatchWriter

Progress = Callable[[int], None]
PROGRESS_EVERY = 2000
#: Limits that change how fast ingest runs, never what it writes.
SPEED_LIMITS = ("batch_rows", "parallel_bytes")
PRIVATE = "the content of a file named as a run's training or job file is not copied"


def ingest(
    paths: list[Path],
    manifest: Path | None = None,
    out_dir: Path = PROCESSED_DIR,
    fmt: str | None = None,
    progress: Progress | None = None,
    *,
    limits: Limits | None = None,
) -> dict:
    """Read run sources into ``transcripts.parquet``, ``runs.parquet``, ``rejects.parquet``
    and ``ledger.json`` in ``out_dir``, replacing the previous ones all at once.

    Parameters
    ----------
    paths : list of Path
        Files or folders (walked recursively, sorted).
    manifest : Path or None
        The runs manifest; None: no manifest. A path that does not exist is an error.
    out_dir : Path
        Processed-data folder (file names from :class:`stats.config.Artifacts`).
    fmt : str or None
        Force one format for every file (one of :data:`stats.ingest.FORMATS`); None:
        detect each file's format from its content.
    progress : callable, optional
        Called with the number of records handled since its previous call.
    limits : Limits, optional
        Size limits (oversized lines, zip bombs, alias bombs, batch size).

    Returns
    -------
    dict
        The ledger (also written to ``ledger.json``).

    Raises
    ------
    IngestError
        When nothing usable was read, the outputs cannot be written, or another ingest is
        writing to ``out_dir``, saying why; the outputs in ``out_dir`` are then left as they
        were. :class:`~stats.ingest.errors.ManifestError` for a malformed manifest.
    """
    if fmt is not None and fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    limits = limits or Limits()
    spec = load_manifest(Path(manifest) if manifest is not None else None, limits.max_yaml_values)
    return _Session(spec, Path(out_dir), progress, limits).run([Path(p) for p in paths], fmt)


class _Session:
    """State of one ingest call."""

    def __init__(
        self, manifest: Manifest, out_dir: Path, progress: Progress | None, limits: Limits
    ) -> None:
        self.manifest = manifest
        self.out_dir = out_dir
        self.progress = progress
        self.limits = limits
        self.registry = RunRegistry(manifest)
        self.collector = Collector(manifest, self.registry, out_dir)
        self.metadata = Metadata(self.registry, limits, self.on_reject, self._tick)
        self.first_problems: list[str] = []
        self.index = RequestIndex()
        self._since_progress = 0
        self._rejects: list[tuple] = []

    def run(self, paths: list[Path], fmt: str | None) -> dict:
        """Ingest ``paths`` and publish the outputs; returns the ledger (see :func:`ingest`)."""
        self.files = self.collector.collect(paths)
        self.collector.classify(fmt, self.limits)
        with Outputs(self.out_dir, self.fingerprint(fmt)) as outputs:
            self.ahead = ReadAhead(self.files, self.limits, outputs.scratch)
            staged = Artifacts(outputs.staging)
            ingest_id = outputs.ingest_id
            self.transcripts = BatchWriter(staged.transcripts, "transcripts", ingest_id)
            self.rejects = BatchWriter(staged.rejects, "rejects", ingest_id)
            self.predictions = PredictionTable(
                staged.predictions, self.limits.batch_rows, ingest_id
            )
            self.acceptor = Acceptor(
                self.registry, self.transcripts.write_columns, self.limits.batch_rows
            )
            writers = (self.transcripts, self.rejects, self.predictions)
            try:
                ledger = self._read_all(ingest_id)
                self._write_runs(staged.runs, ingest_id)
                staged.ledger.write_text(
                    json.dumps(ledger, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8",
                )
                for writer in writers:
                    writer.close()
                outputs.publish()
            except BaseException as err:
                self.ahead.close()
                for writer in writers:
                    writer.abort()
                if isinstance(err, OSError):
                    raise IngestError(describe(err, self.out_dir), kind="output") from err
                raise
        return ledger

    def fingerprint(self, fmt: str | None) -> str:
        """The ingest's id: a digest of what it reads (files by name, size and modification
        time; the manifest's text; the format forced; the limits that decide what is read;
        the package version)."""
        digest = hashlib.blake2b(digest_size=8)
        manifest = self.manifest.path
        limits = {k: v for k, v in vars(self.limits).items() if k not in SPEED_LIMITS}
        parts = [__version__, fmt, sorted(limits.items()), manifest]
        if manifest is not None:
            parts.append(hashlib.blake2b(manifest.read_bytes()).hexdigest())
        for source in self.files:
            try:
                info = source.path.stat()
                parts += [source.name, info.st_size, info.st_mtime_ns]
            except OSError as err:
                parts += [source.name, str(err)]
        digest.update(json.dumps(parts, default=str).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def _read_all(self, ingest_id: str) -> dict:
        self.read_metadata()
        self.read_requests()
        self.read_transcripts()
        for source in self.files:
            if source.report.kind == PREDICTIONS:
                self.predictions.read(source, self.limits, self.on_reject)
        self.count_requests()
        self.acceptor.flush()
        self._flush_rejects()
        self._tick(0, force=True)
        ledger = self.ledger(ingest_id)
        broken = check_balance(ledger)
        if broken:  # a bug, never a user error: fail loudly
            raise IngestError(f"internal error: ledger does not add up for {broken}", ledger)
        if self.acceptor.rows_written == 0 and self.predictions.rows_written == 0:
            raise IngestError(nothing_usable(ledger, self.first_problems), ledger)
        return ledger

    # ================================================================== rejects & progress
    def on_reject(self, source: SourceFile, reject: Reject, *, ticked: bool = False) -> None:
        """Count a rejected record and write it to rejects.parquet (see :data:`PRIVATE`)."""
        if source.private:
            reject = Reject(
                reject.locator,
                reject.reason,
                f"{source.where(reject.locator)}: {reject.reason} ({PRIVATE})",
                None,
            )
        source.report.reject(reject.reason)
        self._rejects.append((source.name, *reject))
        if len(self._rejects) >= self.limits.batch_rows:
            self._flush_rejects()
        if len(self.first_problems) < 5:
            self.first_problems.append(reject.detail)
        if not ticked:
            self._tick()

    def _flush_rejects(self) -> None:
        rows, self._rejects = self._rejects, []
        self.rejects.write_rows(rows)

    def _tick(self, n: int = 1, force: bool = False) -> None:
        self._since_progress += n
        if force or self._since_progress >= PROGRESS_EVERY:
            if self.progress is not None and self._since_progress:
                self.progress(self._since_progress)
            self._since_progress = 0

    # ================================================================== metadata
    def read_metadata(self) -> None:
        """Read jobs, resolve messages tables, read training files, fill run defaults."""
        for source in self.files:
            fmt = source.report.format
            if fmt in UNUSABLE:
                if (reject := unusable(source, self.limits)) is not None:
                    self.on_reject(source, reject)
            elif fmt == "openai-job":
                self._guarded(source, self.metadata.read_jobs)
        self.collector.resolve_messages()
        for source in self.files:
            if source.report.format == "openai-training":
                self._guarded(source, self.metadata.read_training)
        self.registry.finalize_all()

    def _guarded(self, source: SourceFile, read: Callable[[SourceFile], None]) -> None:
        """Read a metadata file; an I/O error rejects the rest of it instead of stopping ingest."""
        try:
            read(source)
        except OSError as err:
            detail = f"{source.where('file')}: reading stopped ({type(err).__name__}: {err})"
            self.on_reject(source, Reject("file", "unreadable-file", detail, None))

    # ================================================================== batch requests
    def read_requests(self) -> None:
        """Index every batch request file by custom_id (the first big transcript file is
        read meanwhile, in a child process)."""
        self.ahead.start_after(-1, "transcripts")
        for index, source in enumerate(self.files):
            if source.report.kind == "requests":
                for item in self.ahead.items(index):
                    if type(item) is Reject:
                        self.on_reject(source, item)
                    else:
                        self.index.add(index, item)  # a block of requests
        self.index.build()

    def count_requests(self) -> None:
        """Answered requests are accepted; repeats are duplicates; the rest are rejects."""
        for file_id, n in self.index.answered().items():
            report = self.files[file_id].report
            report.records += n
            report.accepted += n
            self._tick(n)
        for file_id, locator, custom_id, reason in self.index.unanswered():
            source = self.files[file_id]
            where = source.where(locator)
            if reason == "duplicate":
                source.report.records += 1
                source.report.duplicates += 1
                self._tick()
                continue
            if reason == "duplicate-custom-id":
                detail = (
                    f"{where}: custom_id {custom_id!r} repeats an earlier request of the file, "
                    "asking something else; the first one is used"
                )
            else:
                detail = f"{where}: no batch output line answered custom_id {custom_id!r}"
            self.on_reject(source, Reject(locator, reason, detail, custom_id))

    # ================================================================== transcripts
    def read_transcripts(self) -> None:
        """Stream every transcript source through the one accept path."""
        for index, source in enumerate(self.files):
            fmt = source.report.format
            if FORMAT_KINDS.get(fmt) != "transcripts":
                continue
            self.acceptor.start(source, fmt)
            items = self.ahead.items(index)
            if fmt in JOINED:
                files = request_files(self.files, index)
                items = join_outputs(source, items, lambda ids, f=files: self.index.lookup(ids, f))
            last = "the start"
            try:
                for item in items:
                    if type(item) is Reject:
                        self.on_reject(source, item)
                        last = item.locator
                        continue
                    last = item["locator"]
                    self._accept(source, item)
            except OSError as err:  # the disk failed under the file: say where it stopped
                detail = (
                    f"{source.where(f'after {last}')}: reading stopped ({type(err).__name__}: "
                    f"{err}); records after this point were not read"
                )
                self.on_reject(source, Reject(f"after {last}", "unreadable-rest", detail, None))
                source.report.warn(detail)

    def _accept(self, source: SourceFile, item: dict) -> None:
        try:
            self.acceptor.add(item)
        except RecordError as err:
            self.on_reject(source, source.reject(item["locator"], err, item.get("raw")))
            return
        except (RecursionError, ValueError, TypeError) as err:
            detail = (
                f"{source.where(item['locator'])}: the record could not be read "
                f"({type(err).__name__}: {str(err)[:200]})"
            )
            reject = Reject(
                item["locator"], "unreadable-record", detail, snippet_of(item.get("raw"))
            )
            self.on_reject(source, reject)
            return
        self._tick()

    # ================================================================== outputs
    def _write_runs(self, path: Path, ingest_id: str) -> None:
        rows = self.registry.rows()
        runs = schemas.validate(pd.DataFrame(rows) if rows else schemas.empty("runs"), "runs")
        table = pa.Table.from_pandas(runs, preserve_index=False)
        metadata = {**(table.schema.metadata or {}), INGEST_ID_KEY: ingest_id.encode()}
        pq.write_table(table.replace_schema_metadata(metadata), path, compression="zstd")

    def ledger(self, ingest_id: str) -> dict:
        """The ledger: counts per file and in total, ignored files, conflicts, study."""
        record_values = self.registry.adopt_record_values(
            self.acceptor.record_values, self.acceptor.run_rows
        )
        files = {}
        for source in self.files:
            entry = source.report.as_dict()
            entry["detected_by"] = source.evidence
            if source.private and source.report.format in UNUSABLE:  # may quote the content
                entry["detected_by"] = f"format not recognised ({PRIVATE})"
            files[source.name] = entry
        total = totals([source.report for source in self.files])
        total["transcripts"] = self.acceptor.rows_written
        total["predictions"] = self.predictions.rows_written
        runs = list(self.registry.runs.values())
        total["runs"] = len(runs)
        unmatched = [
            {
                "model": r.model,
                "run_id": r.run_id,
                "arm": r.arm,
                "transcripts": sum(r.models.values()),
            }
            for r in runs
            if r.origin.startswith("transcripts")
        ]
        warnings = self.collector.warnings + self.metadata.warnings + self.registry.warnings
        return {
            "version": 1,
            "package_version": __version__,
            "ingest_id": ingest_id,
            "manifest": str(self.manifest.path) if self.manifest.path else None,
            "files": files,
            "total": total,
            "ignored": self.collector.ignored,
            "conflicts": self.registry.conflicts,
            "record_values": record_values,
            "unmatched_models": unmatched,
            "runs_without_transcripts": [run.run_id for run in runs if not run.models],
            "training_files": self.metadata.training_files,
            "warnings": list(dict.fromkeys(warnings)),
            "study": self.manifest.study,
        }
