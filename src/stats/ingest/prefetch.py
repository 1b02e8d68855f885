"""Run a parsing generator in a child process, so that parsing overlaps the rest of ingest.

JSON decoding is most of ingest's cost for large batch files. :class:`Prefetch` runs a
module-level generator function in a child Python process and yields its items in order.
The child is a plain ``python -c`` subprocess (not :mod:`multiprocessing`), so it never
re-imports the caller's ``__main__`` and works from scripts without a ``__main__`` guard.
Items travel as pickled chunks. By default the chunks go through an anonymous temporary
file (a *spill*), and the child's stdout pipe only says how long each chunk is: the child
never waits for the parent, so it can decode a whole file while the parent is busy with
something else, and memory stays flat (the chunks are on disk, read back one at a time).
Without a spill the chunks go through the pipe itself, whose small buffer makes the child
wait when the parent is behind. The same generator runs inline for small files, so every
path produces identical records.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHUNK = 500
_DONE = "__done__"
_FAILED = "__failed__"
_BOOT = "from stats.ingest.prefetch import serve; serve()"
_LENGTH = 8  # bytes of a chunk's length on the pipe, in spill mode


class PrefetchError(RuntimeError):
    """The child process failed; the message carries its traceback."""


def serve() -> None:
    """Child side: read ``(module, function, args, chunk, spill fd)`` from stdin, stream items."""
    out = sys.stdout.buffer
    module, name, args, chunk, spill = pickle.load(sys.stdin.buffer)  # fails: stderr says why
    send = _spill_sender(out, spill) if spill is not None else _pipe_sender(out)
    try:
        func = getattr(importlib.import_module(module), name)
        buffer = []
        for item in func(*args):
            buffer.append(item)
            if len(buffer) >= chunk:
                send(buffer)
                buffer = []
        if buffer:
            send(buffer)
        send(_DONE)
    except BrokenPipeError:  # the parent stopped reading: nothing to report
        return
    except BaseException as err:
        send((_FAILED, type(err).__name__, str(err), traceback.format_exc()))
    out.flush()


def _pipe_sender(out: Any) -> Callable[[Any], None]:
    def send(message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)

    return send


def _spill_sender(out: Any, fd: int) -> Callable[[Any], None]:
    def send(message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        out.write(len(data).to_bytes(_LENGTH, "little"))
        out.flush()

    return send


class Prefetch:
    """The items of ``func(*args)``, computed in a child process started at once.

    Iterate over it (once) to receive the items in order; :meth:`close` stops the child.

    Parameters
    ----------
    func : callable
        A module-level generator function (found again by module and name in the child).
    args : tuple
        Its (picklable) arguments.
    chunk : int
        Items sent per message.
    spill : bool, optional
        Pass the chunks through an anonymous temporary file, so that the child runs ahead
        of the parent as far as it can (the default on POSIX systems); False: through the
        pipe only.
    spill_dir : Path, optional
        Folder of the temporary file (default: the system's temporary folder).
    """

    def __init__(
        self,
        func: Callable[..., Iterator],
        args: tuple,
        *,
        chunk: int = CHUNK,
        spill: bool | None = None,
        spill_dir: Path | None = None,
    ) -> None:
        if spill is None:
            spill = os.name == "posix"  # pass_fds and os.pread
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.errors = tempfile.TemporaryFile()
        self.spill = tempfile.TemporaryFile(dir=spill_dir) if spill else None
        fds = (self.spill.fileno(),) if self.spill is not None else ()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
            pass_fds=fds,
        )
        assert self.process.stdin is not None
        task = (func.__module__, func.__name__, args, chunk, fds[0] if fds else None)
        pickle.dump(task, self.process.stdin)
        self.process.stdin.close()
        self._offset = 0

    def __iter__(self) -> Iterator[Any]:
        """Yield the child's items in order.

        Raises
        ------
        PrefetchError
            When the child raised or died.
        """
        for chunk in self.chunks():
            yield from chunk

    def chunks(self) -> Iterator[list]:
        """Yield the child's items in order, a list (a message) at a time.

        Raises
        ------
        PrefetchError
            When the child raised or died.
        """
        try:
            while True:
                message = self._receive()
                if isinstance(message, str) and message == _DONE:
                    break
                if isinstance(message, tuple) and message and message[0] == _FAILED:
                    _, kind, text, trace = message
                    raise PrefetchError(f"{kind}: {text}\n{trace}")
                yield message
            self.process.wait(timeout=10)
        finally:
            self.close()

    def _receive(self) -> Any:
        """The next message of the child (a list of items, done, or failed)."""
        stream = self.process.stdout
        assert stream is not None
        try:
            if self.spill is None:
                return pickle.load(stream)
            head = stream.read(_LENGTH)
            if len(head) < _LENGTH:
                raise EOFError
            size = int.from_bytes(head, "little")
            data = os.pread(self.spill.fileno(), size, self._offset)
            while len(data) < size:  # a regular file returns it all; be safe anyway
                more = os.pread(self.spill.fileno(), size - len(data), self._offset + len(data))
                if not more:
                    raise EOFError
                data += more
            self._offset += size
            return pickle.loads(data)
        except EOFError:
            self.process.wait(timeout=10)
            self.errors.seek(0)
            text = self.errors.read().decode("utf-8", errors="replace")[-2000:]
            raise PrefetchError(
                f"the parsing process ended early (exit code {self.process.returncode}): {text}"
            ) from None

    def close(self) -> None:
        """Stop the child (if still running) and release its pipes and files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()
        if self.spill is not None:
            self.spill.close()
