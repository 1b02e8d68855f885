"""Worker processes that run module-level functions (the scorer's text pass) on chunks.

:class:`WorkerPool` starts fresh interpreters (``python -c`` running
:func:`serve`) and exchanges pickles with them over their standard input and
output. It never forks the calling process - a process running other threads
(pyarrow's pool, a test runner's watchdog...) can deadlock its forked children,
and Python 3.12 warns about it - and, unlike multiprocessing's ``spawn`` and
``forkserver`` methods, it does not re-import the caller's ``__main__`` module,
so scripts need no ``if __name__ == "__main__":`` guard and a worker starts in
about 0.1 s: it imports only this module and, for the text pass
(:func:`stats.score.batch.text_scores`), :mod:`stats.score.lines` and
:mod:`stats.score.articulation` (not pandas, not the wordfreq lexicon, whose
outcomes the caller computes once per distinct key). Chunks are handed out in
order, two at a time to each worker (the next one waits in its pipe), by the
calling thread alone: it reads and writes the pipes without blocking, and with
``share=True`` it scores the next chunk itself whenever the result it needs is
not ready, so ``n - 1`` workers and the caller keep ``n`` processes busy.
Results come back in order, so they do not depend on the number of workers.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import pickle
import selectors
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

_PROTOCOL = pickle.HIGHEST_PROTOCOL
#: Length prefix of a reply (the caller reads replies without blocking, so they are framed).
_FRAME = 8
#: Pipe capacity asked for (Linux): a request or reply that fits is written without waiting
#: for the other side to read it.
_PIPE_SIZE = 1 << 20
#: Requests queued per worker: the next chunk waits in its pipe while it computes one.
_IN_FLIGHT = 2


def _worker_command() -> list[str]:
    """The command of a worker: this interpreter, with this process's import path.

    ``-S``: the import path is given, so the ``site`` module (a few ms) is not needed.
    """
    path = [os.fspath(p) for p in sys.path if isinstance(p, str | os.PathLike)]
    code = f"import sys; sys.path[:] = {path!r}; from stats.score.workers import serve; serve()"
    return [sys.executable, "-S", "-c", code]


def serve(reader: BinaryIO | None = None, writer: BinaryIO | None = None) -> None:
    """Worker loop: answer pickled ``(function, argument)`` calls until end of input.

    Each call is answered by a pickled ``(True, function(argument))``, or
    ``(False, traceback text)`` when it raises, after its length (8 bytes,
    big-endian). Run by the worker processes of :class:`WorkerPool` on their
    standard input and output.

    Parameters
    ----------
    reader, writer : binary file, optional
        Default: standard input and output (``sys.stdout`` is then pointed at
        standard error, so that a stray ``print`` cannot corrupt the replies,
        and the process ends without tearing down its objects at end of input).
    """
    worker_process = reader is None or writer is None
    if worker_process:
        reader, writer = sys.stdin.buffer, sys.stdout.buffer
        sys.stdout = sys.stderr
        gc.disable()  # a worker runs pure functions that create no reference cycles
        # Ctrl-C reaches the whole process group: the caller stops the workers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert reader is not None and writer is not None
    while True:
        try:
            function, argument = pickle.load(reader)
        except (EOFError, KeyboardInterrupt):
            break
        try:
            reply: tuple[bool, Any] = (True, function(argument))
        except Exception as error:  # reported to the caller, which raises
            reply = (False, "".join(traceback.format_exception(error)))
        data = pickle.dumps(reply, protocol=_PROTOCOL)
        try:
            writer.write(len(data).to_bytes(_FRAME, "big"))
            writer.write(data)
            writer.flush()
        except BrokenPipeError:  # the caller stopped reading (it left the pool early)
            break
    if worker_process:
        # freeing the line cache object by object would keep the caller waiting
        sys.stderr.flush()
        os._exit(0)


def _widen(pipe: int) -> None:
    """Ask for a pipe of :data:`_PIPE_SIZE` bytes (Linux; elsewhere, or if refused, no change)."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass


class WorkerError(RuntimeError):
    """A worker process failed (the message carries its traceback or exit code)."""


class _Worker:
    """One worker process, its pipes (non-blocking on the caller's side) and its queue."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            _worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin.fileno()
        self.stdout = self.process.stdout.fileno()
        for fd in (self.stdin, self.stdout):
            _widen(fd)
            os.set_blocking(fd, False)
        #: indices of the chunks sent and not answered yet, oldest first
        self.chunks: collections.deque[int] = collections.deque()
        self.unsent: collections.deque[memoryview] = collections.deque()
        self.received = bytearray()

    def send(self, index: int, request: bytes) -> None:
        self.chunks.append(index)
        self.unsent.append(memoryview(request))

    def write(self) -> None:
        """Write what the pipe takes now."""
        while self.unsent:
            data = self.unsent[0]
            try:
                written = os.write(self.stdin, data)
            except BlockingIOError:
                return
            except OSError as error:  # the worker has gone (broken pipe)
                raise self.exited() from error
            if written == len(data):
                self.unsent.popleft()
            else:
                self.unsent[0] = data[written:]

    def read(self) -> list[tuple[int, Any]]:
        """Read what the pipe holds now: the (chunk index, value) of each complete reply."""
        while True:
            try:
                data = os.read(self.stdout, _PIPE_SIZE)
            except BlockingIOError:
                break
            if not data:
                raise self.exited()
            self.received += data
        replies = []
        received = self.received
        while len(received) >= _FRAME:
            end = _FRAME + int.from_bytes(received[:_FRAME], "big")
            if len(received) < end:
                break
            ok, value = pickle.loads(memoryview(received)[_FRAME:end])
            del received[:end]
            if not ok:
                raise WorkerError(f"scoring worker failed:\n{value}")
            replies.append((self.chunks.popleft(), value))
        return replies

    def exited(self) -> WorkerError:
        self.process.wait()
        code = self.process.returncode
        return WorkerError(f"scoring worker exited unexpectedly (exit code {code})")

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.process.wait()  # an idle worker exits at the end of its input


class WorkerPool:
    """Worker processes for :func:`text_scores` and other module-level functions.

    Use as a context manager: the processes start on entering (about 0.1 s
    each, in parallel, while the caller prepares its chunks) and end on leaving.
    One thread drives them all, without blocking (POSIX only: it waits on
    their pipes with :mod:`selectors`).

    Parameters
    ----------
    workers : int
        Number of worker processes (at least 1).

    Examples
    --------
    >>> with WorkerPool(2) as pool:  # doctest: +SKIP
    ...     results = list(pool.map(text_scores, chunks))
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._started: list[_Worker] = []
        self._entered = False

    def __enter__(self) -> WorkerPool:
        try:
            for _ in range(self.workers):
                self._started.append(_Worker())
        except BaseException:
            self._close(failed=True)
            raise
        self._entered = True
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._close(failed=kind is not None)

    def _close(self, *, failed: bool) -> None:
        self._entered = False
        if failed:  # do not wait for chunks nobody will read
            for worker in self._started:
                worker.process.kill()
        for worker in self._started:
            worker.close()
        self._started.clear()

    def map[In, Out](
        self, function: Callable[[In], Out], chunks: Iterable[In], *, share: bool = False
    ) -> Iterator[Out]:
        """``map(function, chunks)`` in the workers, results in the order of ``chunks``.

        The first chunks are sent at once, :data:`_IN_FLIGHT` to each worker,
        the others as the results come back (read whenever the iterator is
        advanced); the results are yielded as soon as they are ready, in order.

        Parameters
        ----------
        function : callable
            A module-level function (the workers import it by name).
        chunks : iterable
            Picklable arguments, one call each.
        share : bool, default False
            The calling process computes chunks too: whenever the next result
            is not ready, it takes the next chunk that no worker has (so a pool
            of ``n - 1`` workers keeps ``n`` processes busy).

        Returns
        -------
        iterator
            ``function(chunk)`` for each chunk.

        Raises
        ------
        WorkerError
            When a call raises in a worker (with its traceback) or a worker dies.
        """
        if not self._entered:
            raise RuntimeError("WorkerPool.map outside its with-block")
        run = _Run(self._started, function, list(chunks))
        return run.results(share)


class _Run[In, Out]:
    """One :meth:`WorkerPool.map`: chunks handed out in order, replies read without blocking."""

    def __init__(
        self, workers: list[_Worker], function: Callable[[In], Out], chunks: list[In]
    ) -> None:
        self.workers = workers
        self.function = function
        self.chunks = chunks
        self.next_chunk = 0
        self.done: dict[int, Out] = {}
        self.selector = selectors.DefaultSelector()
        for worker in workers:
            self.selector.register(worker.stdout, selectors.EVENT_READ, worker)
            self.hand_out(worker)

    def hand_out(self, worker: _Worker) -> None:
        """Send chunks until the worker has its share, and write what its pipe takes."""
        while len(worker.chunks) < _IN_FLIGHT and self.next_chunk < len(self.chunks):
            argument = (self.function, self.chunks[self.next_chunk])
            worker.send(self.next_chunk, pickle.dumps(argument, protocol=_PROTOCOL))
            self.next_chunk += 1
        worker.write()
        writing = worker.stdin in self.selector.get_map()
        if worker.unsent and not writing:  # a request larger than the pipe: written as it drains
            self.selector.register(worker.stdin, selectors.EVENT_WRITE, worker)
        elif writing and not worker.unsent:
            self.selector.unregister(worker.stdin)

    def collect(self, timeout: float | None) -> None:
        """Read the replies that have come (waiting up to ``timeout`` s) and hand out chunks."""
        for key, _ in self.selector.select(timeout):
            worker = key.data
            if key.fd == worker.stdout:
                self.done.update(worker.read())
            self.hand_out(worker)

    def results(self, share: bool) -> Iterator[Out]:
        """The results in order (``share``: this process computes chunks too, see ``map``)."""
        try:
            for index in range(len(self.chunks)):
                while index not in self.done:
                    self.collect(0)
                    if index in self.done:
                        break
                    if share and self.next_chunk < len(self.chunks):
                        mine = self.next_chunk
                        self.next_chunk += 1
                        self.done[mine] = self.function(self.chunks[mine])
                    else:
                        self.collect(None)
                yield self.done.pop(index)
        finally:
            self.selector.close()
