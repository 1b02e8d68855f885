"""Which files an ingest reads, and in which format.

Folders are walked recursively (sorted). Skipped, and listed in the ledger as ``ignored``
with the reason: inside walked folders, hidden files and folders, ``*.yaml``/``*.yml``,
``truth.json``, ``README*``, ``LICENSE*``/``COPYING*`` and anything that is not a regular
file (a FIFO, a device, a socket); anywhere: the manifest itself, files inside the output
folder, ``ignore:`` globs, and a path listed twice. A path named on the command line that is
not a regular file is never opened (a FIFO would block, ``/dev/zero`` never ends): it is
rejected as ``not-a-regular-file``. Files the manifest names (a run's ``training_file`` and
``job_file``, a ``files:`` entry's ``requests``) are added; training and job files named by
the manifest are *private*: rejects never copy their content.

Formats: forced by ``fmt`` (``--format``), else by the manifest ``files:`` entry, else by
content (:mod:`stats.ingest.detect`); a ``messages`` table is a training file when the
manifest or a job names it, or its name contains ``train``, else HF-style transcripts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stats.ingest.decode import SourceFile
from stats.ingest.detect import DAMAGED, EMPTY, MESSAGES, UNKNOWN, detect
from stats.ingest.documents import read_json_document
from stats.ingest.errors import IngestError, RecordError, Reject, snippet_of
from stats.ingest.formats import FAMILY, FORMAT_KINDS, FORMATS
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits
from stats.ingest.manifest import Manifest
from stats.ingest.runs import RunRegistry

UNREADABLE = "unreadable"
NOT_A_FILE = "not-a-file"
#: Formats that leave a file unread: one rejected record (an empty file: a warning).
UNUSABLE = (NOT_A_FILE, UNREADABLE, DAMAGED, UNKNOWN, EMPTY)
SKIPPED_SUFFIXES = (".yaml", ".yml")
SKIPPED_NAMES = ("truth.json",)
SKIPPED_PREFIXES = ("readme", "license", "licence", "copying")
FILE_TYPES = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def file_type(path: Path) -> str | None:
    """What a path is when it is not a regular file (None for a regular file)."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    return FILE_TYPES.get(stat.S_IFMT(mode), "not a regular file")


class Collector:
    """The files of one ingest (see the module docstring).

    Parameters
    ----------
    manifest : Manifest
    registry : RunRegistry
        The manifest's runs (for the files they name).
    out_dir : Path
        The output folder (never read).
    """

    def __init__(self, manifest: Manifest, registry: RunRegistry, out_dir: Path) -> None:
        self.manifest = manifest
        self.registry = registry
        self.out_dir = out_dir.resolve()
        self.files: list[SourceFile] = []
        self.ignored: list[dict] = []
        self.warnings: list[str] = []
        self._seen: set[Path] = set()
        self._private = {p.resolve() for p in (*registry.job_paths(), *registry.training_paths())}

    def collect(self, paths: list[Path]) -> list[SourceFile]:
        """Walk ``paths``, add the files the manifest names; raises when there is no file."""
        for given in paths:
            if not given.exists():
                raise IngestError(f"{given}: no such file or folder")
            if not given.is_dir():
                self._add(given, str(given))
                continue
            for path in sorted(given.rglob("*")):
                if path.is_dir() and not path.is_symlink():
                    continue
                reason = self._skip_reason(path, given)
                if reason:
                    self.ignored.append({"path": str(path), "reason": reason})
                else:
                    self._add(path, str(path))
        for path, origin in self._named():
            if path.resolve() in self._seen:
                continue
            if not path.is_file():
                self.warnings.append(f"{origin}: {path} not found")
                continue
            self._add(path, _display(path))
        if not self.files:
            where = ", ".join(map(str, paths)) or "(no paths)"
            ignored = f"; {len(self.ignored)} ignored" if self.ignored else ""
            raise IngestError(f"no input files found in {where}{ignored}")
        return self.files

    def _named(self) -> list[tuple[Path, str]]:
        named: list[tuple[Path, str]] = []
        for run in self.manifest.runs:
            for key in ("job_file", "training_file"):
                path = getattr(run, key)
                if path is not None:
                    named.append((path, f"manifest {run.label}.{key}"))
        for spec in self.manifest.files:
            named += [(path, f"manifest files[{spec.index}].requests") for path in spec.requests]
        return named

    def _skip_reason(self, path: Path, top: Path) -> str | None:
        if any(part.startswith(".") for part in path.relative_to(top).parts):
            return "hidden file"
        try:
            kind = file_type(path)
        except OSError as err:
            return f"cannot be read ({err.strerror})"
        if kind is not None:
            return f"not a regular file ({kind})"
        name = path.name.lower()
        if name.endswith(SKIPPED_SUFFIXES):
            return "manifest or other YAML file"
        if name in SKIPPED_NAMES:
            return "simulation truth"
        if name.startswith(SKIPPED_PREFIXES):
            return "README or licence"
        return None

    def _add(self, path: Path, name: str) -> None:
        resolved = path.resolve()
        reason = None
        if resolved in self._seen:
            reason = "already listed"
        elif self.manifest.path is not None and resolved == self.manifest.path.resolve():
            reason = "the manifest"
        elif resolved.is_relative_to(self.out_dir):
            reason = "inside the output folder"
        elif (pattern := self.manifest.is_ignored(path)) is not None:
            reason = f"manifest ignore {pattern!r}"
        if reason:
            self.ignored.append({"path": name, "reason": reason})
            return
        self._seen.add(resolved)
        source = SourceFile(
            path=path,
            name=name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
            report=FileReport(name, "?", "?"),
            spec=self.manifest.file_spec(path),
            private=resolved in self._private,
        )
        self.files.append(source)

    # ------------------------------------------------------------------ formats
    def classify(self, fmt: str | None, limits: Limits) -> None:
        """Decide each file's format (``report.format``, ``report.kind``, ``evidence``)."""
        jobs = {p.resolve() for p in self.registry.job_paths()}
        training = {p.resolve() for p in self.registry.training_paths()}
        for source in self.files:
            forced = fmt or (source.spec.format if source.spec else None)
            resolved = source.path.resolve()
            try:
                kind = file_type(source.path)
            except OSError as err:
                kind, found = None, (UNREADABLE, f"{type(err).__name__}: {err}")
            else:
                found = (NOT_A_FILE, kind) if kind else None
            if found is not None:
                pass
            elif forced and forced not in FAMILY:
                found = (forced, "forced" if fmt else "manifest files: format")
            else:
                try:
                    found = detect(source.path, limits)
                except OSError as err:
                    found = (UNREADABLE, f"{type(err).__name__}: {err}")
                if forced and found[0] not in FAMILY[forced]:
                    found = (forced, "forced")
                elif resolved in training and found[0] in (MESSAGES, "generic-jsonl"):
                    found = ("openai-training", "a run's training_file in the manifest")
                elif resolved in jobs and found[0] == UNKNOWN:
                    found = ("openai-job", "a run's job_file in the manifest")
            self.set_format(source, *found)

    def resolve_messages(self) -> None:
        """Tell training files from HF transcripts among ``messages`` tables."""
        job_files = self.registry.job_training_files()
        for source in self.files:
            if source.report.format != MESSAGES:
                continue
            path = source.path
            if path.name in job_files or path.stem in job_files:
                self.set_format(source, "openai-training", "a job's training_file")
            elif "train" in path.name.lower():
                self.set_format(source, "openai-training", "'train' in the file name")
            else:
                self.set_format(source, "hf-messages", "messages table not named as training data")

    @staticmethod
    def set_format(source: SourceFile, fmt: str, evidence: str) -> None:
        """Record a file's format and the evidence for it."""
        source.report.format = fmt
        source.report.kind = FORMAT_KINDS.get(fmt, "unknown")
        source.evidence = evidence


def _display(path: Path) -> str:
    """A path relative to the current folder when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def unusable(source: SourceFile, limits: Limits) -> Reject | None:
    """The reject of a file whose format leaves it unread (None for an empty file: a warning)."""
    fmt, where, evidence = source.report.format, source.where("file"), source.evidence
    if fmt == EMPTY:
        source.report.warn("empty file: no records")
        return None
    if fmt == NOT_A_FILE:
        detail = f"{where}: {evidence}, not a regular file: not read (name a file)"
        return Reject("file", "not-a-regular-file", detail, None)
    if fmt == UNREADABLE:
        return Reject("file", "unreadable-file", f"{where}: cannot be read ({evidence})", None)
    if fmt == DAMAGED:
        try:
            read_json_document(source, limits)
        except RecordError as err:
            return source.reject("file", err)
    detail = (
        f"{where}: format not recognised ({evidence}); name the format with a manifest files: "
        f"entry (format: one of {', '.join(FORMATS)})"
    )
    try:
        with open(source.path, "rb") as handle:
            head = snippet_of(handle.read(800))
    except OSError:
        head = None
    return Reject("file", "unknown-format", detail, head)
