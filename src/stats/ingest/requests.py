"""The batch requests of every request file, indexed by ``custom_id`` in compact columns.

Requests are kept as numpy and Arrow columns (about 60 bytes a request) sorted by
``hash(custom_id)``; outputs are looked up a chunk at a time, vectorised, and always matched
on the full text of their ``custom_id`` (a hash shared by different ids is told apart).
Each distinct request context (model, prompts, temperature, metadata) is kept once.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stats.ingest.batch import Requests


class RequestIndex:
    """The requests of every request file, by ``custom_id`` (see the module docstring)."""

    def __init__(self) -> None:
        self.contexts: list[dict] = []
        self._parts: list[tuple] = []
        self._locators: dict[tuple[int, int], str] = {}
        self._first_context: dict[int, int] = {}
        self.rows = 0

    def add(self, file_id: int, block: Requests) -> None:
        """Index a block of :func:`parse_requests` (of the file ``file_id``)."""
        first = self._first_context.setdefault(file_id, len(self.contexts))
        self.contexts.extend(block.new)
        self._locators.update(((file_id, order), text) for order, text in block.locators.items())
        count = len(block.orders)
        self._parts.append(
            (
                np.full(count, file_id, dtype=np.int64),
                np.array(block.orders, dtype=np.int64),
                np.array(block.lines, dtype=np.int64),
                np.array(block.contexts, dtype=np.int64) + first,
                np.array(block.bases, dtype=np.int64),
                pa.array(block.custom_ids, type=pa.large_string()),
                np.fromiter(map(hash, block.custom_ids), dtype=np.int64, count=count),
            )
        )

    def build(self) -> None:
        """Sort the requests by ``hash(custom_id)`` (call once, after the last :meth:`add`)."""
        parts, self._parts = self._parts, []
        empty = np.empty(0, np.int64)
        parts = parts or [(*[empty] * 5, pa.array([], pa.large_string()), empty)]
        hashes = np.concatenate([part[6] for part in parts])
        columns = [_narrow(np.concatenate([part[i] for part in parts])) for i in range(5)]
        ids = pa.concat_arrays([part[5] for part in parts])
        del parts
        # by hash, then file and order: the first line of a file comes first
        order = np.lexsort((columns[1], columns[0], hashes))
        self.hashes = hashes[order]
        del hashes
        for i, column in enumerate(columns):
            columns[i] = column[order]
        self.file, self.order, self.line, self.ctx, self.base = columns
        self.ids = ids.take(pa.array(order))
        self.used = np.zeros(len(order), dtype=bool)
        self.rows = len(order)
        del ids, order
        release_memory()

    def lookup(self, custom_ids: list[str], files: list[int]) -> dict[str, tuple[dict, int]]:
        """``{custom_id: (request context, base sample index)}`` of the ids found.

        Each id is taken from the first of ``files`` (request files, most preferred first)
        that holds it, from its first line there; the requests found are marked answered.
        """
        if not self.rows or not custom_ids or not files:
            return {}
        rank = np.full(int(max(self.file.max(), *files)) + 1, len(files), dtype=np.int64)
        rank[files] = np.arange(len(files))
        queries = np.fromiter(map(hash, custom_ids), dtype=np.int64, count=len(custom_ids))
        low = np.searchsorted(self.hashes, queries, "left")
        counts = np.searchsorted(self.hashes, queries, "right") - low
        # every position holding a query's hash: (query, position), then the right file and text
        query = np.repeat(np.arange(len(queries)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        position = np.repeat(low, counts) + np.arange(len(query)) - starts
        preference = rank[self.file[position]]
        keep = preference < len(files)
        query, position, preference = query[keep], position[keep], preference[keep]
        wanted = pa.array([custom_ids[i] for i in query.tolist()], pa.large_string())
        same = pc.equal(self.ids.take(pa.array(position)), wanted).to_numpy(zero_copy_only=False)
        query, position, preference = query[same], position[same], preference[same]
        best = np.lexsort((self.order[position], preference, query))
        query, position = query[best], position[best]
        first = np.ones(len(query), dtype=bool)
        first[1:] = query[1:] != query[:-1]
        query, position = query[first], position[first]
        self.used[position] = True
        contexts = self.contexts
        pairs = zip(self.ctx[position].tolist(), self.base[position].tolist(), strict=True)
        return {
            custom_ids[i]: (contexts[number], base)
            for i, (number, base) in zip(query.tolist(), pairs, strict=True)
        }

    def answered(self) -> dict[int, int]:
        """Answered requests per request file."""
        counts = np.bincount(self.file[self.used], minlength=1) if self.rows else np.zeros(0)
        return {i: int(n) for i, n in enumerate(counts.tolist()) if n}

    def unanswered(self) -> Iterator[tuple[int, str, str, str]]:
        """``(file, locator, custom_id, reason)`` of the requests no output answered, in file
        and line order: ``duplicate`` for a repeat of an earlier line of its file asking the
        same thing, ``duplicate-custom-id`` for a repeat asking something else,
        ``unanswered-request`` otherwise.
        """
        if not self.rows:
            return
        shared = np.zeros(self.rows, dtype=bool)  # same hash and file as the position before
        shared[1:] = (self.hashes[1:] == self.hashes[:-1]) & (self.file[1:] == self.file[:-1])
        repeats: dict[int, int] = {}  # position -> the earlier position of the same id
        for position in np.flatnonzero(shared & ~self.used).tolist():
            start = position - 1
            while shared[start]:
                start -= 1
            text = self.ids[position].as_py()
            for earlier in range(start, position):
                if self.ids[earlier].as_py() == text:
                    repeats[position] = earlier
                    break
        left = np.flatnonzero(~self.used)
        for position in left[np.lexsort((self.order[left], self.file[left]))].tolist():
            if position in repeats:
                same = self.ctx[position] == self.ctx[repeats[position]]
                reason = "duplicate" if same else "duplicate-custom-id"
            else:
                reason = "unanswered-request"
            file_id = int(self.file[position])
            line = int(self.line[position])
            order = int(self.order[position])
            locator = f"line {line}" if line >= 0 else self._locators[(file_id, order)]
            yield file_id, locator, self.ids[position].as_py(), reason


def _narrow(values: np.ndarray) -> np.ndarray:
    """32-bit integers when every value fits (most columns), else the values as they are."""
    if len(values) == 0 or (values.min() >= -(2**31) and values.max() < 2**31):
        return values.astype(np.int32)
    return values


def release_memory() -> None:
    """Give freed memory back to the system (glibc's ``malloc_trim``, Arrow's pool)."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc
        pass
