"""On-disk scratch state (SQLite) that keeps ingest's memory flat in the number of records.

Two things grow with the input and live here instead of in Python objects: the set of
``trial_id`` values already written (duplicates are counted, not doubled) and the index of
batch requests by ``custom_id`` (batch outputs come in any order and are joined to their
inputs). The database is a temporary file, deleted with the ingest's temporary folder.
``custom_id`` is indexed by Python's ``hash`` (stable within one process, which is all the
database lives for), and matched on the full text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 900  # below SQLite's bound-parameter limit on old builds


def hash_id(text: str) -> int:
    """A signed 64-bit integer hash of a text (SQLite's INTEGER PRIMARY KEY)."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def trial_int(trial_id: str) -> int:
    """The 64-bit integer form of a 16-hex-digit ``trial_id``."""
    return int(trial_id, 16) - (1 << 63)


class Scratch:
    """The scratch database of one ingest.

    Parameters
    ----------
    folder : Path
        A temporary folder that the caller deletes afterwards.
    """

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "ingest-scratch.sqlite", isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            "temp_store=FILE",
            "cache_size=-65536",  # 64 MiB: a bound, reached only by large inputs
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            """
            CREATE TABLE seen(id INTEGER PRIMARY KEY);
            CREATE TABLE ctx(id INTEGER PRIMARY KEY, data TEXT NOT NULL);
            CREATE TABLE req(file_id INTEGER, line INTEGER, locator TEXT, custom_id TEXT,
                             cid INTEGER, ctx INTEGER, base INTEGER);
            CREATE TABLE used(file_id INTEGER, line INTEGER, PRIMARY KEY(file_id, line))
                WITHOUT ROWID;
            """
        )
        self.db.execute("BEGIN")
        self._requests: list[tuple] = []
        self._contexts: dict[int, str] = {}
        self._used: list[tuple[int, int]] = []
        self._ctx_cache: dict[int, dict] = {}
        self._ids: dict[tuple, int] = {}
        self._sample_base: dict[tuple, int] = {}
        self.has_requests = False

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # ------------------------------------------------------------------ duplicates
    def filter_new(self, ids: list[int]) -> list[bool]:
        """For each id, whether it is new (not seen before, nor earlier in ``ids``); records them."""
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
    def add_request(self, file_id: int, line: int, locator: str, custom_id: str, ctx: dict) -> None:
        """Index one batch request line by ``custom_id``.

        Its ``base`` sample index counts the earlier requests (times their ``n``) of the same
        model, system prompt, prompt and temperature in the file; the counter is kept in
        memory, one entry per distinct prompt context (not per record).
        """
        n = ctx.pop("n", 1) or 1
        key = (
            ctx.get("model"),
            ctx.get("system_prompt"),
            ctx.get("prompt"),
            ctx.get("temperature"),
        )
        plain = not (ctx.get("trial") or ctx.get("hints") or ctx.get("conditions"))
        ctx_id = self._ids.get(key) if plain else None
        if ctx_id is None:
            data = json.dumps(ctx, sort_keys=True, ensure_ascii=False, default=str)
            ctx_id = hash_id(data)
            self._contexts.setdefault(ctx_id, data)
            if plain:
                if len(self._ids) > 100_000:
                    self._ids.clear()
                self._ids[key] = ctx_id
        counter = (file_id, key)
        base = self._sample_base.get(counter, 0)
        self._sample_base[counter] = base + n
        self._requests.append((file_id, line, locator, custom_id, hash(custom_id), ctx_id, base))
        if len(self._requests) >= 20_000:
            self._flush_requests()

    def _flush_requests(self) -> None:
        if self._contexts:
            rows = self._contexts.items()
            self.db.executemany("INSERT OR IGNORE INTO ctx(id, data) VALUES (?, ?)", rows)
            self._contexts.clear()
        if self._requests:
            self.db.executemany("INSERT INTO req VALUES (?, ?, ?, ?, ?, ?, ?)", self._requests)
            self._requests.clear()
            self.has_requests = True

    def build_requests(self) -> None:
        """Index the requests by custom_id (call once, after the last :meth:`add_request`)."""
        self._flush_requests()
        self._sample_base.clear()
        # covering index: a lookup never visits the table (random reads are the cost)
        self.db.execute("CREATE INDEX req_cid ON req(cid, custom_id, file_id, line, ctx, base)")

    def lookup_many(
        self, custom_ids: list[str], file_ids: list[int]
    ) -> dict[str, tuple[dict, int]]:
        """``{custom_id: (request context, base sample index)}`` for the ids found.

        Each id is taken from the first of ``file_ids`` (request files, in order of
        preference) that holds it, from its first line there; the matched requests are
        marked as answered.
        """
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
        cache = self._ctx_cache
        used = self._used
        for custom_id, (_, row) in best.items():
            if custom_id in wanted:  # a hash collision between different ids is ignored
                ctx = cache.get(row[3])
                found[custom_id] = (ctx if ctx is not None else self._context(row[3]), row[4])
                used.append((row[1], row[2]))
        if len(used) >= 20_000:
            self.flush_used()
        return found

    def _context(self, ctx_id: int) -> dict:
        ctx = self._ctx_cache.get(ctx_id)
        if ctx is None:
            (data,) = self.db.execute("SELECT data FROM ctx WHERE id = ?", (ctx_id,)).fetchone()
            ctx = json.loads(data)
            if len(self._ctx_cache) > 4096:
                self._ctx_cache.clear()
            self._ctx_cache[ctx_id] = ctx
        return ctx

    def flush_used(self) -> None:
        """Write the answered-request marks."""
        if self._used:
            self.db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)", self._used)
            self._used.clear()

    def request_counts(self) -> dict[int, int]:
        """Parsed request lines per request file."""
        if not self.has_requests:
            return {}
        return dict(self.db.execute("SELECT file_id, COUNT(*) FROM req GROUP BY file_id"))

    _UNANSWERED = """
        FROM req r
        WHERE NOT EXISTS (SELECT 1 FROM used u WHERE u.file_id = r.file_id AND u.line = r.line)
    """

    def unanswered_counts(self) -> dict[int, int]:
        """Requests no output answered (or repeated custom_ids), per request file."""
        if not self.has_requests:
            return {}
        self.flush_used()
        query = f"SELECT r.file_id, COUNT(*) {self._UNANSWERED} GROUP BY r.file_id"
        return dict(self.db.execute(query))

    def unanswered(self) -> Iterator[tuple[int, str, str, str]]:
        """``(file_id, locator, custom_id, reason)`` of requests no output answered, streamed.

        A request whose custom_id repeats an earlier line of its file is a
        ``duplicate-custom-id`` (the first line is the one joined).
        """
        if not self.has_requests:
            return
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
