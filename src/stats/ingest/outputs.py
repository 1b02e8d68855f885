"""The output folder of an ingest: one writer at a time, and outputs replaced all at once.

Layout of ``--out`` (``data/processed`` by default)::

    transcripts.parquet -> .ingest/current/transcripts.parquet   (symbolic links)
    runs.parquet, rejects.parquet, ledger.json, predictions.parquet -> likewise
    .ingest/lock                 held (fcntl) by the ingest writing the folder
    .ingest/current -> <id>      the outputs of the last ingest that finished
    .ingest/<id>/                those outputs, written together

An ingest writes its outputs into ``.ingest/<id>.partial/`` and publishes them by pointing
``current`` at them with one ``rename(2)``: a reader sees the previous four files or the
new four, never a mix, whatever happens (an exception, a full disk, a kill) at any point.
A failed ingest removes its partial folder; one killed outright leaves it behind, hidden,
and the next ingest into the folder removes it. A second ingest into a folder that another
one holds stops at once with a message naming that one's process id.

Every file of one ingest carries its ``ingest_id`` (Parquet metadata, ``ledger.json``), so
stages that read them can tell a set written together from files mixed by hand
(:mod:`stats.provenance`). Outputs of versions before this layout (plain files) are moved
into it on the first ingest, without a moment where they are missing or mixed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import signal
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType

from stats.config import Artifacts
from stats.ingest.errors import IngestError

HIDDEN = ".ingest"
CURRENT = "current"
LOCK = "lock"
PARTIAL = ".partial"


def output_names(out_dir: Path) -> list[str]:
    """File names of the ingest outputs in a processed-data folder."""
    artifacts = Artifacts(out_dir)
    paths = (artifacts.transcripts, artifacts.runs, artifacts.rejects, artifacts.ledger)
    return [p.name for p in (*paths, artifacts.predictions)]


def describe(err: OSError, out_dir: Path) -> str:
    """One line saying why the outputs cannot be written to ``out_dir``, and what to do."""
    code = err.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{out_dir}: no space left on the device while writing the outputs; free some "
            "space or choose another --out (the previous outputs are unchanged)"
        )
    if code == errno.EFBIG:
        return f"{out_dir}: a file grew past the size this process may write ({err.strerror})"
    if code in (errno.ENOTDIR, errno.EEXIST) and not out_dir.is_dir():
        return f"--out {out_dir} is a file, not a folder: choose a folder"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{out_dir}: cannot write there ({err.strerror}); choose a folder you can write to"
    where = err.filename or out_dir
    return f"{where}: cannot write the outputs ({err.strerror or err})"


class Outputs:
    """Lock, staging folder and atomic publication of one ingest's outputs.

    Use as a context manager: entering takes the lock and makes the staging folder;
    :meth:`publish` makes the staged files the folder's outputs; leaving without publishing
    removes the staging folder (the previous outputs stay as they were).

    Parameters
    ----------
    out_dir : Path
        The processed-data folder.
    ingest_id : str
        The id of what the ingest reads (the same inputs give the same id and outputs).
    """

    def __init__(self, out_dir: Path, ingest_id: str) -> None:
        self.out_dir = Path(out_dir)
        self.hidden = self.out_dir / HIDDEN
        self.ingest_id = ingest_id
        self.folder = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        self.staging = self.hidden / f"{self.folder}{PARTIAL}"
        self.published = False
        self._lock: int | None = None
        self._signal: object = None

    def path(self, name: str) -> Path:
        """Where to write the output file ``name`` (e.g. ``transcripts.parquet``)."""
        return self.staging / name

    @property
    def scratch(self) -> Path:
        """A folder for temporary files, removed before the outputs are published."""
        folder = self.staging / "scratch"
        folder.mkdir(exist_ok=True)
        return folder

    def __enter__(self) -> Outputs:
        try:
            self.hidden.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            self._adopt_plain_files()
            self._remove_stale()
            self.staging.mkdir()
        except OSError as err:
            self._release()
            raise IngestError(describe(err, self.out_dir), kind="output") from err
        if threading.current_thread() is threading.main_thread():
            self._signal = signal.signal(signal.SIGTERM, _terminate)
        return self

    def __exit__(
        self, kind: type | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if not self.published:
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            if self._signal is not None:
                signal.signal(signal.SIGTERM, self._signal)  # type: ignore[arg-type]
            self._release()

    # ------------------------------------------------------------------ lock
    def _take_lock(self) -> None:
        fd = os.open(self.hidden / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise IngestError(
                f"{self.out_dir}: another ingest (process {holder}) is writing to this folder; "
                "wait for it to finish, or choose another --out",
                kind="busy",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock = fd

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None

    # ------------------------------------------------------------------ publication
    def publish(self) -> None:
        """Make the staged files the folder's outputs, all at once (see the module docstring)."""
        final = self.hidden / self.folder
        try:
            shutil.rmtree(self.staging / "scratch", ignore_errors=True)
            for path in self.staging.iterdir():
                _fsync(path)
            os.rename(self.staging, final)
            _fsync(self.hidden)
            self._point_current(self.folder)
            self.published = True
            self._link_names({p.name for p in final.iterdir()})
            self._remove_stale()
        except BaseException as err:
            if not self.published:
                (self.hidden / f"{CURRENT}.{self.folder}.tmp").unlink(missing_ok=True)
                shutil.rmtree(final, ignore_errors=True)
                if isinstance(err, OSError):
                    raise IngestError(describe(err, self.out_dir), kind="output") from err
            if not isinstance(err, OSError):
                raise
            # an OSError once published: the outputs are complete, and a leftover link or
            # folder is removed by the next ingest

    def _point_current(self, target: str) -> None:
        link = self.hidden / f"{CURRENT}.{self.folder}.tmp"
        os.symlink(target, link)
        os.replace(link, self.hidden / CURRENT)
        _fsync(self.hidden)

    def _link_names(self, present: set[str]) -> None:
        """Top-level links to the current outputs (a link whose file the set lacks goes)."""
        for name in output_names(self.out_dir):
            top = self.out_dir / name
            if name not in present:
                if top.is_symlink():
                    top.unlink()
                continue
            target = f"{HIDDEN}/{CURRENT}/{name}"
            if top.is_symlink() and os.readlink(top) == target:
                continue
            link = self.out_dir / f".{name}.{self.folder}.tmp"
            os.symlink(target, link)
            os.replace(link, top)

    def _adopt_plain_files(self) -> None:
        """Move outputs written as plain files (older versions, or a copy of the folder that
        followed its links) into the layout.

        Each file is first hard-linked into a generation of its own, then its name is
        replaced by a link to it: the name shows the same content throughout.
        """
        current = self.hidden / CURRENT
        if current.is_dir() and not current.is_symlink():  # a copy that followed the links
            os.rename(current, self.hidden / f"copied-{self.folder}")  # removed as stale
        plain = [
            name
            for name in output_names(self.out_dir)
            if (self.out_dir / name).is_file() and not (self.out_dir / name).is_symlink()
        ]
        if not plain:
            return
        legacy = f"legacy-{self.folder}"
        folder = self.hidden / legacy
        folder.mkdir()
        sources = {name: self.out_dir / name for name in plain}
        if current.is_dir():  # links to a current set beside plain files: keep those too
            for path in current.iterdir():
                sources.setdefault(path.name, path)
        for name, path in sources.items():
            try:
                os.link(path, folder / name)
            except OSError:
                shutil.copy2(path, folder / name)
        self._point_current(legacy)
        self._link_names(set(plain) | {p.name for p in folder.iterdir()})

    def _remove_stale(self) -> None:
        """Remove generations other than the current one, and leftovers of killed ingests."""
        current = self.hidden / CURRENT
        keep = os.readlink(current) if current.is_symlink() else None
        for path in self.hidden.iterdir():
            if path.name in (LOCK, CURRENT, keep) or path == self.staging:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for path in self.out_dir.glob(".*.tmp"):
            if path.is_symlink():
                path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file or folder to the disk (so that a crash cannot publish empty files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM during an ingest: unwind (the staging folder is removed), exit 143."""
    raise SystemExit(128 + signum)
