"""Ingest state that grows with the input: the batch-request index and the trial_id set.

Two things grow with the number of records: the set of ``trial_id`` values already written
(duplicates are counted, not doubled) and the index of batch requests by ``custom_id``
(batch outputs come in any order and are joined to their inputs). Both are kept in compact
numpy arrays while they are small (about 50 bytes per request plus its custom_id and
locator, 8 bytes per trial id; they are searched vectorised, a chunk at a time) and move
to a temporary SQLite database once they pass
:attr:`stats.ingest.limits.Limits.memory_rows` rows, so that memory stays bounded whatever
the input's size. Both stores give the same answers; the database is deleted with the
ingest's temporary folder.

``custom_id`` values are indexed by Python's ``hash`` (stable within one process, which is
all these stores live for) and always matched on their full text. A request's context
(model, prompts, temperature, metadata) is stored once per distinct context, as JSON, by
the id that :class:`stats.ingest.batch.RequestContexts` gives it (in the process that
decodes the request file).
"""

from __future__ import annotations

import ctypes
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

_CHUNK = 900  # below SQLite's bound-parameter limit on old builds
_FLUSH_ROWS = 20_000
#: Text bytes (locators, custom_ids, request contexts) allowed in memory per ``memory_rows``.
MEMORY_BYTES_PER_ROW = 64
_EMPTY = np.empty(0, dtype=np.int64)


def trial_int(trial_id: str) -> int:
    """The 64-bit integer form of a 16-hex-digit ``trial_id``."""
    return int(trial_id, 16) - (1 << 63)


class Scratch:
    """The growing state of one ingest (see the module docstring).

    Parameters
    ----------
    folder : Path
        A temporary folder that the caller deletes afterwards (for the database).
    memory_rows : int
        Requests (and, separately, trial ids) kept in memory before moving to the database;
        0: on disk from the start.
    """

    def __init__(self, folder: Path, memory_rows: int = 2_000_000) -> None:
        self.folder = folder
        self.memory_rows = max(int(memory_rows), 0)
        self._db: sqlite3.Connection | None = None
        self.has_requests = False
        self._ctx_cache: dict[int, dict] = {}
        self._contexts: dict[int, str] = {}  # in memory: every context; on disk: unflushed
        self._context_bytes = 0
        # requests in memory (until they move to the database)
        self._on_disk = self.memory_rows == 0
        self._memory = _MemoryRequests()
        self._requests: list[tuple] = []  # on disk: unflushed rows
        self._used: list[tuple[int, int]] = []
        # trial ids in memory (sorted), until they spill
        self._seen = _EMPTY
        self._seen_on_disk = self.memory_rows == 0

    # ------------------------------------------------------------------ database
    @property
    def db(self) -> sqlite3.Connection:
        """The scratch database (created on first use)."""
        if self._db is None:
            self._db = sqlite3.connect(self.folder / "ingest-scratch.sqlite", isolation_level=None)
            for pragma in (
                "journal_mode=OFF",
                "synchronous=OFF",
                "locking_mode=EXCLUSIVE",
                "temp_store=FILE",
                "cache_size=-65536",  # 64 MiB: a bound, reached only by large inputs
            ):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.executescript(
                """
                CREATE TABLE seen(id INTEGER PRIMARY KEY);
                CREATE TABLE ctx(id INTEGER PRIMARY KEY, data TEXT NOT NULL);
                CREATE TABLE req(file_id INTEGER, line INTEGER, locator TEXT, custom_id TEXT,
                                 cid INTEGER, ctx INTEGER, base INTEGER);
                CREATE TABLE used(file_id INTEGER, line INTEGER, PRIMARY KEY(file_id, line))
                    WITHOUT ROWID;
                """
            )
            self._db.execute("BEGIN")
        return self._db

    def close(self) -> None:
        """Close the database (if one was opened)."""
        if self._db is not None:
            self._db.close()

    # ------------------------------------------------------------------ duplicates
    def filter_new(self, ids: np.ndarray) -> np.ndarray:
        """For each id, whether it is new (not seen before, nor earlier in ``ids``); records them.

        Parameters
        ----------
        ids : numpy.ndarray
            64-bit integer ids (:func:`trial_int`).

        Returns
        -------
        numpy.ndarray
            Booleans, one per id.
        """
        values = np.asarray(ids, dtype=np.int64)
        if len(values) == 0:
            return np.zeros(0, dtype=bool)
        if not self._seen_on_disk and len(self._seen) + len(values) > self.memory_rows:
            self._seen_to_disk()
        if self._seen_on_disk:
            return np.array(self._filter_new_on_disk(values.tolist()), dtype=bool)
        unique, first = np.unique(values, return_index=True)
        fresh_unique = ~_contains(self._seen, unique)
        fresh = np.zeros(len(values), dtype=bool)
        fresh[first[fresh_unique]] = True
        added = unique[fresh_unique]  # sorted: merge it into the sorted set
        self._seen = np.insert(self._seen, np.searchsorted(self._seen, added), added)
        return fresh

    def _seen_to_disk(self) -> None:
        self.db.executemany("INSERT INTO seen(id) VALUES (?)", ((v,) for v in self._seen.tolist()))
        self._seen = _EMPTY
        self._seen_on_disk = True

    def _filter_new_on_disk(self, ids: list[int]) -> list[bool]:
        existing: set[int] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            existing.update(
                r[0] for r in self.db.execute(f"SELECT id FROM seen WHERE id IN ({marks})", chunk)
            )
        fresh: set[int] = set()
        out = []
        for value in ids:
            if value in existing or value in fresh:
                out.append(False)
            else:
                fresh.add(value)
                out.append(True)
        self.db.executemany("INSERT INTO seen(id) VALUES (?)", ((v,) for v in fresh))
        return out

    # ------------------------------------------------------------------ batch requests
    def add_requests(
        self,
        file_id: int,
        first_line: int,
        locators: list[str | int],
        custom_ids: list[str],
        ctx_ids: list[int],
        bases: list[int],
        contexts: dict[int, str],
    ) -> None:
        """Index consecutive batch request lines of one file by ``custom_id``.

        Parameters
        ----------
        file_id : int
            The request file.
        first_line : int
            The first request's rank among the parsed requests of its file (1-based; the
            others follow): the first line of a repeated ``custom_id`` wins.
        locators : list of str or int
            Where in the file (for the rejects of unanswered requests); an int ``n`` stands
            for ``"line n"``.
        custom_ids : list of str
        ctx_ids, bases : list of int
            From :class:`stats.ingest.batch.RequestContexts`: each request's context id and
            base sample index.
        contexts : dict
            ``{context id: JSON}``, given at least with the first request of each context.
        """
        for ctx_id, data in contexts.items():
            if ctx_id not in self._contexts:
                self._contexts[ctx_id] = data
                self._context_bytes += len(data)
        if self._on_disk:
            rows = zip(locators, custom_ids, ctx_ids, bases, strict=True)
            for line, (locator, custom_id, ctx_id, base) in enumerate(rows, start=first_line):
                if type(locator) is int:
                    locator = f"line {locator}"
                row = (file_id, line, locator, custom_id, hash(custom_id), ctx_id, base)
                self._requests.append(row)
            if len(self._requests) >= _FLUSH_ROWS:
                self._flush_requests()
            return
        memory = self._memory
        memory.add(file_id, first_line, locators, custom_ids, ctx_ids, bases)
        text = memory.custom_ids.size + memory.text_bytes + self._context_bytes
        if memory.rows >= self.memory_rows or text > MEMORY_BYTES_PER_ROW * self.memory_rows:
            self._requests_to_disk()

    def _requests_to_disk(self) -> None:
        """Move the in-memory requests and contexts to the database."""
        self._on_disk = True
        for row in self._memory.rows_in_order():
            self._requests.append(row)
            if len(self._requests) >= _FLUSH_ROWS:
                self._flush_requests()
        self._memory = _MemoryRequests()
        self._flush_requests()

    def _flush_requests(self) -> None:
        if self._contexts:
            rows = self._contexts.items()
            self.db.executemany("INSERT OR IGNORE INTO ctx(id, data) VALUES (?, ?)", rows)
            self._contexts.clear()
        if self._requests:
            self.db.executemany("INSERT INTO req VALUES (?, ?, ?, ?, ?, ?, ?)", self._requests)
            self._requests.clear()

    def build_requests(self) -> None:
        """Index the requests by custom_id (call once, after the last :meth:`add_requests`)."""
        if self._on_disk:
            self._flush_requests()
            self.has_requests = bool(
                self.db.execute("SELECT EXISTS (SELECT 1 FROM req)").fetchone()[0]
            )
            # covering index: a lookup never visits the table (random reads are the cost)
            self.db.execute("CREATE INDEX req_cid ON req(cid, custom_id, file_id, line, ctx, base)")
            return
        self._memory.build()
        self.has_requests = self._memory.rows > 0
        release_memory()

    def lookup_many(
        self, custom_ids: list[str], file_ids: list[int]
    ) -> dict[str, tuple[dict, int]]:
        """``{custom_id: (request context, base sample index)}`` for the ids found.

        Each id is taken from the first of ``file_ids`` (request files, in order of
        preference) that holds it, from its first line there; the matched requests are
        marked as answered.

        Parameters
        ----------
        custom_ids : list of str
            The ids to look up (repeats allowed).
        file_ids : list of int
            Request files to search, most preferred first.
        """
        if self._on_disk:
            return self._lookup_on_disk(custom_ids, file_ids)
        if not self.has_requests or not custom_ids or not file_ids:
            return {}
        return self._memory.lookup(custom_ids, file_ids, self._context)

    def _lookup_on_disk(
        self, custom_ids: list[str], file_ids: list[int]
    ) -> dict[str, tuple[dict, int]]:
        rank = {file_id: i for i, file_id in enumerate(file_ids)}
        best: dict[str, tuple] = {}
        unique = list({hash(c): c for c in custom_ids})
        execute = self.db.execute
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = (
                "SELECT custom_id, file_id, line, ctx, base FROM req "
                f"WHERE cid IN ({','.join('?' * len(chunk))})"
            )
            for row in execute(query, chunk):
                order = rank.get(row[1])
                if order is None:
                    continue
                current = best.get(row[0])
                if current is None or (order, row[2]) < current[0]:
                    best[row[0]] = ((order, row[2]), row)
        found: dict[str, tuple[dict, int]] = {}
        wanted = set(custom_ids)
        used = self._used
        for custom_id, (_, row) in best.items():
            if custom_id in wanted:  # a hash collision between different ids is ignored
                found[custom_id] = (self._context(row[3]), row[4])
                used.append((row[1], row[2]))
        if len(used) >= _FLUSH_ROWS:
            self.flush_used()
        return found

    def _context(self, ctx_id: int) -> dict:
        ctx = self._ctx_cache.get(ctx_id)
        if ctx is None:
            data = self._contexts.get(ctx_id) if not self._on_disk else None
            if data is None:
                (data,) = self.db.execute("SELECT data FROM ctx WHERE id = ?", (ctx_id,)).fetchone()
            ctx = json.loads(data)
            if len(self._ctx_cache) > 4096:
                self._ctx_cache.clear()
            self._ctx_cache[ctx_id] = ctx
        return ctx

    def flush_used(self) -> None:
        """Write the answered-request marks (kept in memory while the requests are)."""
        if self._used:
            self.db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)", self._used)
            self._used.clear()

    def request_counts(self) -> dict[int, int]:
        """Parsed request lines per request file."""
        if not self.has_requests:
            return {}
        if self._on_disk:
            return dict(self.db.execute("SELECT file_id, COUNT(*) FROM req GROUP BY file_id"))
        return _counts(self._memory.files)

    _UNANSWERED = """
        FROM req r
        WHERE NOT EXISTS (SELECT 1 FROM used u WHERE u.file_id = r.file_id AND u.line = r.line)
    """

    def unanswered_counts(self) -> dict[int, int]:
        """Requests no output answered (or repeated custom_ids), per request file."""
        if not self.has_requests:
            return {}
        if self._on_disk:
            self.flush_used()
            query = f"SELECT r.file_id, COUNT(*) {self._UNANSWERED} GROUP BY r.file_id"
            return dict(self.db.execute(query))
        return _counts(self._memory.files[~self._memory.used])

    def unanswered(self) -> Iterator[tuple[int, str, str, str]]:
        """``(file_id, locator, custom_id, reason)`` of requests no output answered, streamed.

        A request whose custom_id repeats an earlier line of its file is a
        ``duplicate-custom-id`` (the first line is the one joined).
        """
        if not self.has_requests:
            return
        if self._on_disk:
            yield from self._unanswered_on_disk()
            return
        yield from self._memory.unanswered()

    def _unanswered_on_disk(self) -> Iterator[tuple[int, str, str, str]]:
        self.flush_used()
        query = f"""
            SELECT r.file_id, r.locator, r.custom_id, EXISTS (
                SELECT 1 FROM req r2 WHERE r2.cid = r.cid AND r2.file_id = r.file_id
                AND r2.custom_id = r.custom_id AND r2.line < r.line) AS dup
            {self._UNANSWERED}
            ORDER BY r.rowid
        """
        for file_id, locator, custom_id, dup in self.db.execute(query):
            yield (
                file_id,
                locator,
                custom_id,
                "duplicate-custom-id" if dup else "unanswered-request",
            )


class _MemoryRequests:
    """The batch-request index in memory: columns sorted by ``hash(custom_id)``.

    Requests are added a chunk of columns at a time (in the order added: a *row*);
    :meth:`build` sorts the columns by hash (stably, so rows of equal hash stay in
    file-and-line order, the order of preference) into *positions*.
    """

    def __init__(self) -> None:
        self._chunks: list[list[np.ndarray]] = []  # hash, file, line, context, base, locator
        self.rows = 0
        self.custom_ids = _Texts()
        self._locators: dict[int, str] = {}  # row -> a locator that is not "line n"
        self.text_bytes = 0
        self._context_numbers: dict[int, int] = {}
        self._context_ids: list[int] = []

    def add(
        self,
        file_id: int,
        first_line: int,
        locators: list[str | int],
        custom_ids: list[str],
        ctx_ids: list[int],
        bases: list[int],
    ) -> None:
        """Add consecutive requests of one file (see :meth:`Scratch.add_requests`)."""
        count = len(custom_ids)
        keys = np.fromiter(map(hash, custom_ids), dtype=np.int64, count=count)
        numbers = self._context_numbers
        for ctx_id in set(ctx_ids) - numbers.keys():
            numbers[ctx_id] = len(self._context_ids)
            self._context_ids.append(ctx_id)
        if all(type(locator) is int for locator in locators):
            lines = np.array(locators, dtype=np.int64)
        else:  # some locators are not "line n"
            lines = np.full(count, -1, dtype=np.int64)
            for i, locator in enumerate(locators):
                if type(locator) is int:
                    lines[i] = locator
                else:
                    self._locators[self.rows + i] = locator
                    self.text_bytes += len(locator)
        columns = [
            np.full(count, file_id, dtype=np.int64),
            np.arange(first_line, first_line + count, dtype=np.int64),
            np.fromiter(map(numbers.__getitem__, ctx_ids), dtype=np.int64, count=count),
            np.array(bases, dtype=np.int64),
            lines,
        ]
        self._chunks.append([keys, *map(_narrow, columns)])
        self.custom_ids.extend(custom_ids)
        self.rows += count

    def rows_in_order(self) -> Iterator[tuple]:
        """Sealed requests as rows of the ``req`` table, in the order added."""
        row = 0
        for chunk in self._chunks:
            columns = (column.tolist() for column in chunk)
            for key, file_id, line, number, base, locator in zip(*columns, strict=True):
                text = self._locators.get(row) if locator < 0 else f"line {locator}"
                custom_id = self.custom_ids[row]
                yield (file_id, line, text, custom_id, key, self._context_ids[number], base)
                row += 1

    def build(self) -> None:
        """Sort the columns by hash (call once, after the last :meth:`add`)."""
        chunks, self._chunks = self._chunks, []
        hashes = _column(chunks, 0)
        order = np.argsort(hashes, kind="stable")
        self.sorted = hashes[order]
        del hashes
        self.files, self.lines, self.contexts, self.bases, self.locator_lines = (
            _narrow(_column(chunks, i)[order]) for i in range(1, 6)
        )
        del chunks
        self.row_of = _narrow(order)
        self.used = np.zeros(len(order), dtype=bool)
        self.max_file = int(self.files.max()) if len(self.files) else 0
        self._contexts_by_number = np.array(self._context_ids, dtype=np.int64)

    def lookup(
        self, custom_ids: list[str], file_ids: list[int], context: Callable[[int], dict]
    ) -> dict[str, tuple[dict, int]]:
        """:meth:`Scratch.lookup_many` in memory; ``context(ctx_id)`` gives a context."""
        queries = np.fromiter(map(hash, custom_ids), dtype=np.int64, count=len(custom_ids))
        low = np.searchsorted(self.sorted, queries, "left")
        counts = np.searchsorted(self.sorted, queries, "right") - low
        allowed = np.zeros(max(self.max_file, *file_ids) + 1, dtype=bool)
        allowed[file_ids] = True
        at = np.minimum(low, len(self.sorted) - 1)
        # one request of that hash, in a preferred file, with the same text: the common case
        single = np.flatnonzero((counts == 1) & allowed[self.files[at]])
        wanted = [custom_ids[i] for i in single.tolist()]
        same = self.custom_ids.equal(self.row_of[at[single]], wanted)
        chosen = at[single[same]]
        ctx_ids = self._contexts_by_number[self.contexts[chosen]].tolist()
        known = {ctx_id: context(ctx_id) for ctx_id in set(ctx_ids)}
        found = dict(
            zip(
                [c for c, s in zip(wanted, same.tolist(), strict=True) if s],
                zip(map(known.__getitem__, ctx_ids), self.bases[chosen].tolist(), strict=True),
                strict=True,
            )
        )
        more = []  # repeated custom_ids, or a hash shared by different ids
        rank = {file_id: i for i, file_id in enumerate(file_ids)}
        for i in np.flatnonzero(counts > 1).tolist():
            position = self._best(custom_ids[i], int(low[i]), int(low[i] + counts[i]), rank)
            if position >= 0:
                ctx_id = int(self._contexts_by_number[self.contexts[position]])
                found[custom_ids[i]] = (context(ctx_id), int(self.bases[position]))
                more.append(position)
        self.used[chosen] = True
        self.used[more] = True
        return found

    def _best(self, custom_id: str, start: int, stop: int, rank: dict[int, int]) -> int:
        """The preferred position holding ``custom_id`` among ``start:stop``, or -1."""
        best, best_key = -1, None
        for position in range(start, stop):
            preference = rank.get(int(self.files[position]))
            if preference is None or self.custom_ids[int(self.row_of[position])] != custom_id:
                continue
            key = (preference, int(self.lines[position]))
            if best_key is None or key < best_key:
                best, best_key = position, key
        return best

    def unanswered(self) -> Iterator[tuple[int, str, str, str]]:
        """:meth:`Scratch.unanswered` in memory, in the order the requests were added."""
        repeated = self._repeated_positions()
        positions = np.flatnonzero(~self.used)
        positions = positions[np.argsort(self.row_of[positions], kind="stable")]
        for position in positions.tolist():
            row = int(self.row_of[position])
            line = int(self.locator_lines[position])
            locator = f"line {line}" if line >= 0 else self._locators[row]
            reason = "duplicate-custom-id" if position in repeated else "unanswered-request"
            yield int(self.files[position]), locator, self.custom_ids[row], reason

    def _repeated_positions(self) -> set[int]:
        """Positions whose custom_id repeats an earlier line of the same file."""
        sorted_hashes = self.sorted
        shared = np.unique(sorted_hashes[1:][sorted_hashes[1:] == sorted_hashes[:-1]])
        repeated: set[int] = set()
        starts = np.searchsorted(sorted_hashes, shared, "left").tolist()
        stops = np.searchsorted(sorted_hashes, shared, "right").tolist()
        for start, stop in zip(starts, stops, strict=True):
            seen: set[tuple[int, str]] = set()
            for position in range(start, stop):  # in (file, line) order: the sort is stable
                row = int(self.row_of[position])
                key = (int(self.files[position]), self.custom_ids[row])
                if key in seen:
                    repeated.add(position)
                else:
                    seen.add(key)
        return repeated


def release_memory() -> None:
    """Give the heap's free memory back to the system (glibc's ``malloc_trim``; else no-op).

    Building the index frees many mid-sized arrays; without this, the memory they held
    stays in the process (it is reused, but counts in its resident size).
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc
        pass


def _column(chunks: list[list[np.ndarray]], index: int) -> np.ndarray:
    """One column of the chunks, joined."""
    if not chunks:
        return _EMPTY
    return np.concatenate([chunk[index] for chunk in chunks])


def _narrow(values: np.ndarray) -> np.ndarray:
    """32-bit integers when every value fits (most columns), else the values as they are."""
    if len(values) == 0 or (values.min() >= -(2**31) and values.max() < 2**31):
        return values.astype(np.int32)
    return values


class _Texts:
    """Many short texts in one UTF-8 buffer, by row number (appended in chunks)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._ends: list[np.ndarray] = []
        self.size = 0
        self._buffer: np.ndarray | None = None
        self._offsets: np.ndarray | None = None

    def extend(self, texts: list[str]) -> None:
        """Append texts (rows numbered on from the last one)."""
        joined = "".join(texts)
        if joined.isascii():  # one byte a character: lengths without encoding each text
            data = joined.encode("ascii")
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        else:
            encoded = [text.encode("utf-8") for text in texts]
            data = b"".join(encoded)
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        self._ends.append(self.size + np.cumsum(lengths))
        self._chunks.append(data)
        self.size += len(data)
        self._buffer = self._offsets = None

    def _frozen(self) -> tuple[np.ndarray, np.ndarray]:
        if self._buffer is None or self._offsets is None:
            data = b"".join(self._chunks)
            self._chunks = [data]
            self._buffer = np.frombuffer(data, dtype=np.uint8)
            self._offsets = _narrow(np.concatenate([np.zeros(1, dtype=np.int64), *self._ends]))
            self._ends = [self._offsets[1:]]
        return self._buffer, self._offsets

    def __getitem__(self, row: int) -> str:
        buffer, offsets = self._frozen()
        return buffer[offsets[row] : offsets[row + 1]].tobytes().decode("utf-8")

    def equal(self, rows: np.ndarray, texts: list[str]) -> np.ndarray:
        """Whether the text of each of ``rows`` equals the given one (vectorised)."""
        buffer, offsets = self._frozen()
        encoded = [text.encode("utf-8") for text in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        starts = offsets[rows]
        same = lengths == offsets[rows + 1] - starts
        if not same.any():
            return same
        lengths, starts = lengths[same], starts[same]
        given = np.frombuffer(
            b"".join(e for e, s in zip(encoded, same.tolist(), strict=True) if s), dtype=np.uint8
        )
        owner = np.repeat(np.arange(len(lengths)), lengths)
        offset = np.arange(len(given)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        differ = buffer[starts[owner] + offset] != given
        where = np.flatnonzero(same)
        same[where[np.unique(owner[differ])]] = False
        return same


def _contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is in ``sorted_values`` (sorted, unique)."""
    if len(sorted_values) == 0:
        return np.zeros(len(values), dtype=bool)
    position = np.searchsorted(sorted_values, values)
    position[position == len(sorted_values)] = 0
    return sorted_values[position] == values


def _counts(files: np.ndarray) -> dict[int, int]:
    """``{file_id: rows}`` for the file ids present (file ids are small integers)."""
    counts = np.bincount(files)
    present = np.flatnonzero(counts)
    return dict(zip(present.tolist(), counts[present].tolist(), strict=True))
