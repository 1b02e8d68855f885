"""Run a reader in a child process, so that decoding a big file overlaps the rest of ingest.

Any reader ``func(source, limits, *args)`` of :mod:`stats.ingest` is a plain generator of
picklable items: :func:`read` runs it here for a small file, or in a child process for a big
one (:attr:`~stats.ingest.limits.Limits.parallel_bytes`), with the same items either way.
The child is a plain ``python -c`` subprocess (not :mod:`multiprocessing`: it never
re-imports the caller's ``__main__``). It writes its items, pickled a chunk at a time (at most
:data:`CHUNK` items or :data:`CHUNK_SECONDS` of work), to an unnamed temporary file in the
output folder (it never waits for the parent, and memory
stays flat: the chunks wait on disk) and says on its stdout how long each chunk is. Warnings
the reader notes on the child's copy of the file's report are passed on to the real one.

When the child fails, the ingest stops with the cause: the exception it raised (an ``OSError``
keeps its errno, so a full disk reads as one), or how it died (the signal, e.g. SIGKILL from
the out-of-memory killer, or its exit code, with the last line it printed).
"""

from __future__ import annotations

import errno as errnos
import importlib
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stats.ingest.decode import SourceFile
from stats.ingest.errors import IngestError
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits

CHUNK = 1000
#: A chunk is sent after this many seconds at most (items may be blocks of many records).
CHUNK_SECONDS = 0.1
_BOOT = "from stats.ingest.worker import serve; serve()"
_LENGTH = 8  # bytes of a chunk's length on the pipe
_DONE = "done"
_FAILED = "failed"


class _Warnings(tuple):
    """``(new warnings, more suppressed)`` noted by the reader in the child."""


def read(
    func: Callable[..., Iterator], source: SourceFile, limits: Limits, *args: Any, folder: Path
) -> Iterator:
    """``func(source, limits, *args)``'s items, from a child process when the file is big.

    Parameters
    ----------
    func : callable
        A module-level generator function (found again by module and name in the child).
    source : SourceFile
        The file; warnings the reader notes land on its report.
    limits : Limits
        Size limits (``parallel_bytes`` decides where the reader runs).
    *args
        More (picklable) arguments of ``func``.
    folder : Path
        Where the child's temporary file goes (the ingest's scratch folder).
    """
    threshold = limits.parallel_bytes
    big = threshold >= 0 and source.path.stat().st_size >= threshold
    if big and (os.cpu_count() or 1) > 1:
        try:
            return Worker(func, source, limits, args, folder)
        except OSError as err:  # no child process possible: read here instead
            source.report.warn(f"read in this process, not a child ({err})")
    return func(source, limits, *args)


def serve() -> None:
    """Child side: read the task from stdin, write chunks of items to the spill file."""
    out = sys.stdout.buffer
    module, name, fields, limits, args, spill = pickle.load(sys.stdin.buffer)
    source = SourceFile(report=FileReport(fields["name"], "?", "?"), **fields)

    def send(message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(spill, view) :]
        out.write(len(data).to_bytes(_LENGTH, "little"))
        out.flush()

    report = source.report
    noted = suppressed = 0
    try:
        func = getattr(importlib.import_module(module), name)
        buffer: list = []
        due = time.monotonic() + CHUNK_SECONDS
        for item in func(source, limits, *args):
            if len(report.warnings) > noted or report.suppressed_warnings > suppressed:
                buffer.append(
                    _Warnings((report.warnings[noted:], report.suppressed_warnings - suppressed))
                )
                noted, suppressed = len(report.warnings), report.suppressed_warnings
            buffer.append(item)
            if len(buffer) >= CHUNK or time.monotonic() > due:
                send(buffer)
                buffer = []
                due = time.monotonic() + CHUNK_SECONDS
        buffer.append(_Warnings((report.warnings[noted:], report.suppressed_warnings - suppressed)))
        send(buffer)
        send(_DONE)
    except BrokenPipeError:  # the parent stopped reading: nothing to report
        return
    except BaseException as err:
        code = err.errno if isinstance(err, OSError) else None
        frames = traceback.extract_tb(err.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        send((_FAILED, type(err).__name__, str(err), code, where))


class Worker:
    """The items of ``func(source, limits, *args)``, computed by a child started at once.

    Iterate over it once to receive the items in order; :meth:`close` stops the child.
    """

    def __init__(
        self, func: Callable, source: SourceFile, limits: Limits, args: tuple, folder: Path
    ) -> None:
        self.source = source
        self.errors = tempfile.TemporaryFile(dir=folder)
        self.spill = tempfile.TemporaryFile(dir=folder)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
            pass_fds=(self.spill.fileno(),),
        )
        fields = {
            "path": source.path,
            "name": source.name,
            "spec": source.spec,
            "private": source.private,
        }
        task = (func.__module__, func.__name__, fields, limits, args, self.spill.fileno())
        assert self.process.stdin is not None
        try:
            pickle.dump(task, self.process.stdin)
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once: receiving says why
        self._offset = 0

    def __iter__(self) -> Iterator[Any]:
        """The child's items, in order.

        Raises
        ------
        IngestError
            ``kind="worker"``: the child raised (its exception named) or died (its signal
            or exit code); OSError when the child's exception was one (a full disk).
        """
        report = self.source.report
        try:
            while (message := self._receive()) != _DONE:
                if type(message) is tuple and message[0] == _FAILED:
                    self._raise(*message[1:])
                for item in message:
                    if type(item) is _Warnings:
                        for text in item[0]:
                            report.warn(text)
                        report.suppressed_warnings += item[1]
                    else:
                        yield item
        finally:
            self.close()

    def _raise(self, kind: str, text: str, code: int | None, where: str) -> None:
        if code in (errnos.ENOSPC, errnos.EDQUOT, errnos.EFBIG, errnos.EIO):
            raise OSError(code, f"{text} (in the process reading {self.source.name})")
        raise IngestError(
            f"{self.source.name}: the process reading it failed ({kind}: {text}, at {where}); "
            "nothing was written",
            kind="worker",
        )

    def _receive(self) -> Any:
        stream = self.process.stdout
        assert stream is not None
        head = stream.read(_LENGTH)
        if len(head) < _LENGTH:
            self._died()
        size = int.from_bytes(head, "little")
        data = os.pread(self.spill.fileno(), size, self._offset)
        self._offset += size
        return pickle.loads(data)

    def _died(self) -> None:
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.errors.seek(0)
        lines = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        said = f": {lines[-1][:300]}" if lines else ""
        if code < 0:
            name = signal.Signals(-code).name
            why = f"was killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
        else:
            why = f"ended early with exit code {code}"
        raise IngestError(
            f"{self.source.name}: the process reading it {why}{said}; nothing was written",
            kind="worker",
        )

    def close(self) -> None:
        """Stop the child (if still running) and release its pipes and files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()
        self.spill.close()
