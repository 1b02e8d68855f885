"""Run a parsing generator in a child process, so that parsing overlaps the rest of ingest.

JSON decoding is most of ingest's cost for large batch files. :class:`Prefetch` runs a
module-level generator function in a child Python process and yields its items in order.
The child is a plain ``python -c`` subprocess (not :mod:`multiprocessing`), so it never
re-imports the caller's ``__main__`` and works from scripts without a ``__main__`` guard.
Items travel as pickled chunks through the child's stdout pipe; the pipe's small buffer
keeps memory flat (the child waits when the parent is behind). The same generator runs
inline for small files, so both paths produce identical records.
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
from typing import Any

CHUNK = 500
_DONE = "__done__"
_FAILED = "__failed__"
_BOOT = "from stats.ingest.prefetch import serve; serve()"


class PrefetchError(RuntimeError):
    """The child process failed; the message carries its traceback."""


def serve() -> None:
    """Child side: read ``(module, function, args, chunk)`` from stdin, stream the items."""
    out = sys.stdout.buffer
    try:
        module, name, args, chunk = pickle.load(sys.stdin.buffer)
        func = getattr(importlib.import_module(module), name)
        buffer = []
        for item in func(*args):
            buffer.append(item)
            if len(buffer) >= chunk:
                pickle.dump(buffer, out, protocol=pickle.HIGHEST_PROTOCOL)
                buffer = []
        if buffer:
            pickle.dump(buffer, out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(_DONE, out)
    except BrokenPipeError:  # the parent stopped reading: nothing to report
        return
    except BaseException as err:
        pickle.dump((_FAILED, type(err).__name__, str(err), traceback.format_exc()), out)
    out.flush()


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
    """

    def __init__(self, func: Callable[..., Iterator], args: tuple, *, chunk: int = CHUNK) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
        )
        assert self.process.stdin is not None
        pickle.dump((func.__module__, func.__name__, args, chunk), self.process.stdin)
        self.process.stdin.close()

    def __iter__(self) -> Iterator[Any]:
        """Yield the child's items in order.

        Raises
        ------
        PrefetchError
            When the child raised or died.
        """
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                try:
                    message = pickle.load(stream)
                except EOFError:
                    self.process.wait(timeout=10)
                    self.errors.seek(0)
                    text = self.errors.read().decode("utf-8", errors="replace")[-2000:]
                    raise PrefetchError(
                        f"the parsing process ended early (exit code {self.process.returncode}): {text}"
                    ) from None
                if isinstance(message, str) and message == _DONE:
                    break
                if isinstance(message, tuple) and message and message[0] == _FAILED:
                    _, kind, text, trace = message
                    raise PrefetchError(f"{kind}: {text}\n{trace}")
                yield from message
            self.process.wait(timeout=10)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if still running) and release its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()
