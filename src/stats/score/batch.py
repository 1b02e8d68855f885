"""The text pass of the scorer, and the worker processes that run it on large tables.

Scoring a table has two passes (see :mod:`stats.score.core`):

1. the **text pass** (this module): for every distinct (response, target) pair,
   the scorable lines, their initials and the articulation - the expensive part,
   pure and independent from row to row, so it can run in worker processes;
2. the **table pass** (:mod:`stats.score.core`): the outcomes derived from the
   text pass (prefix match, spelled word, guessability...) and from the prompt
   (greeting, leak), each computed once per distinct key and cached.

Worker processes
----------------
:class:`WorkerPool` starts fresh interpreters (``python -c`` running
:func:`serve`) and exchanges pickles with them over their standard input and
output. It never forks the calling process - a process running other threads
(pyarrow's pool, a test runner's watchdog...) can deadlock its forked children,
and Python 3.12 warns about it - and, unlike multiprocessing's ``spawn`` and
``forkserver`` methods, it does not re-import the caller's ``__main__`` module,
so scripts need no ``if __name__ == "__main__":`` guard and a worker starts in
about 0.1 s: it imports only this module, :mod:`stats.score.lines` and
:mod:`stats.score.articulation` (not pandas, not the wordfreq lexicon, whose
outcomes the caller computes once per distinct key). Chunks go to whichever
worker is free (one thread of the caller per worker waits on its pipes) and
results come back in order, so they do not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from stats.score.articulation import NONE, articulation_levels
from stats.score.lines import initials_and_lines

#: (n_lines, acrostic_letters, level index, articulation_line, word_line, named_word)
TextScores = tuple[int, str, int, int | None, int | None, str | None]
#: (distinct (response, target) pairs, study words, threshold level index, sentences_as_lines)
TextChunk = tuple[list[tuple[str | None, str | None]], frozenset[str], int, bool]


def text_scores(chunk: TextChunk) -> list[TextScores]:
    """Lines, initials and articulation of each (response, target) pair of a chunk.

    Parameters
    ----------
    chunk : tuple
        ``(pairs, study, threshold_index, sentences_as_lines)``: the
        (response, upper-case target or None) pairs, the upper-case study words
        (including every target), the level index that ``articulation_line``
        looks for, and whether single paragraphs are scored sentence by sentence.

    Returns
    -------
    list of tuple
        One ``(n_lines, acrostic_letters, level, articulation_line, word_line,
        named_word)`` per pair, in order; ``level`` indexes
        ``config.ARTICULATION_LEVELS``.
    """
    pairs, study, threshold_index, sentences_as_lines = chunk
    with _gc_paused():
        return _text_scores(pairs, study, threshold_index, sentences_as_lines)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored on exit).

    The text pass allocates many small objects that hold no reference cycles,
    and the collector would keep rescanning the growing line cache (about 8%
    of the time of a large table).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _text_scores(
    pairs: list[tuple[str | None, str | None]],
    study: frozenset[str],
    threshold_index: int,
    sentences_as_lines: bool,
) -> list[TextScores]:
    out: list[TextScores] = []
    append = out.append
    for block_start in range(0, len(pairs), _BLOCK):
        block = pairs[block_start : block_start + _BLOCK]
        # a block of responses is split, then read: each stage's code stays in the CPU caches
        split = [
            initials_and_lines(text, sentences_as_lines=sentences_as_lines) for text, _ in block
        ]
        for (letters, lines), (_, target) in zip(split, block, strict=True):
            levels, word_line, named_word = articulation_levels(
                lines, target, study, every_line=False
            )
            if levels is None:
                append((len(lines), letters, NONE, None, word_line, named_word))
                continue
            articulation_line = None
            for line_no, level in enumerate(levels, start=1):
                if level >= threshold_index:
                    articulation_line = line_no
                    break
            append((len(lines), letters, max(levels), articulation_line, word_line, named_word))
    return out


#: Responses split before they are read, at a time (see :func:`_text_scores`).
_BLOCK = 1024


_PROTOCOL = pickle.HIGHEST_PROTOCOL


def _worker_command() -> list[str]:
    """The command of a worker: this interpreter, with this process's import path."""
    path = [os.fspath(p) for p in sys.path if isinstance(p, str | os.PathLike)]
    code = f"import sys; sys.path[:] = {path!r}; from stats.score.batch import serve; serve()"
    return [sys.executable, "-c", code]


def serve(reader: BinaryIO | None = None, writer: BinaryIO | None = None) -> None:
    """Worker loop: answer pickled ``(function, argument)`` calls until end of input.

    Each call is answered by a pickled ``(True, function(argument))``, or
    ``(False, traceback text)`` when it raises. Run by the worker processes of
    :class:`WorkerPool` on their standard input and output.

    Parameters
    ----------
    reader, writer : binary file, optional
        Default: standard input and output (``sys.stdout`` is then pointed at
        standard error, so that a stray ``print`` cannot corrupt the replies).
    """
    if reader is None or writer is None:
        reader, writer = sys.stdin.buffer, sys.stdout.buffer
        sys.stdout = sys.stderr
        gc.disable()  # a worker runs pure functions that create no reference cycles
        # Ctrl-C reaches the whole process group: the caller stops the workers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            function, argument = pickle.load(reader)
        except (EOFError, KeyboardInterrupt):
            return
        try:
            reply: tuple[bool, Any] = (True, function(argument))
        except Exception as error:  # reported to the caller, which raises
            reply = (False, "".join(traceback.format_exception(error)))
        pickle.dump(reply, writer, protocol=_PROTOCOL)
        writer.flush()


class WorkerError(RuntimeError):
    """A worker process failed (the message carries its traceback or exit code)."""


class _Worker:
    """One worker process and its pipes."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            _worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def call(self, function: Callable[[Any], Any], argument: Any) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(pickle.dumps((function, argument), protocol=_PROTOCOL))
            stdin.flush()
            ok, value = pickle.load(stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            code = self.process.poll()
            raise WorkerError(f"scoring worker exited unexpectedly (exit code {code})") from error
        if not ok:
            raise WorkerError(f"scoring worker failed:\n{value}")
        return value

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self.process.wait()  # an idle worker exits at the end of its input


class WorkerPool:
    """Worker processes for :func:`text_scores` and other module-level functions.

    Use as a context manager: the processes start on entering (about 0.1 s
    each, in parallel, while the caller prepares its chunks) and end on leaving.

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
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._threads: ThreadPoolExecutor | None = None

    def __enter__(self) -> WorkerPool:
        try:
            for _ in range(self.workers):
                worker = _Worker()
                self._started.append(worker)
                self._idle.put(worker)
        except BaseException:
            self._close(failed=True)
            raise
        self._threads = ThreadPoolExecutor(max_workers=self.workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._close(failed=kind is not None)

    def _close(self, *, failed: bool) -> None:
        if failed:  # do not wait for chunks nobody will read
            for worker in self._started:
                worker.process.kill()
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
            self._threads = None
        for worker in self._started:
            worker.close()
        self._started.clear()

    def map[In, Out](self, function: Callable[[In], Out], chunks: Iterable[In]) -> Iterator[Out]:
        """``map(function, chunks)`` in the workers, results in the order of ``chunks``.

        Every chunk is submitted at once (each goes to the first free worker)
        and the results are yielded as soon as they are ready, in order.

        Parameters
        ----------
        function : callable
            A module-level function (the workers import it by name).
        chunks : iterable
            Picklable arguments, one call each.

        Returns
        -------
        iterator
            ``function(chunk)`` for each chunk.

        Raises
        ------
        WorkerError
            When a call raises in a worker (with its traceback) or a worker dies.
        """
        if self._threads is None:
            raise RuntimeError("WorkerPool.map outside its with-block")
        idle = self._idle

        def run(chunk: In) -> Out:
            worker = idle.get()
            try:
                return worker.call(function, chunk)
            finally:
                idle.put(worker)

        return self._threads.map(run, chunks)
