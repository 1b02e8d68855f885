"""On-disk scratch state (SQLite) that keeps ingest's memory flat in the number of records.

Two things grow with the input and live here instead of in Python objects: the set of
``trial_id`` values already written (duplicates are counted, not doubled) and the index of
batch requests by ``custom_id`` (batch outputs come in any order and are joined to their
inputs). The database is a temporary file, deleted with the ingest's temporary folder.
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
            "cache_size=-32768",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            """
            CREATE TABLE seen(id INTEGER PRIMARY KEY);
            CREATE TABLE ctx(id INTEGER PRIMARY KEY, data TEXT NOT NULL);
            CREATE TABLE req_raw(file_id INTEGER, line INTEGER, locator TEXT, custom_id TEXT,
                                 ctx INTEGER, pkey INTEGER, n INTEGER);
            CREATE TABLE used(file_id INTEGER, line INTEGER, PRIMARY KEY(file_id, line))
                WITHOUT ROWID;
            """
        )
        self.db.execute("BEGIN")
        self._requests: list[tuple] = []
        self._contexts: dict[int, str] = {}
        self._used: list[tuple[int, int]] = []
        self._ctx_cache: dict[int, dict] = {}
        self._ids: dict[tuple, tuple[int, int]] = {}
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
        """Index one batch request line by ``custom_id``."""
        n = ctx.pop("n", 1) or 1
        key = (
            ctx.get("model"),
            ctx.get("system_prompt"),
            ctx.get("prompt"),
            ctx.get("temperature"),
        )
        extra = (ctx.get("trial"), ctx.get("hints"), ctx.get("conditions"))
        ids = self._ids.get(key) if not any(extra) else None
        if ids is None:
            data = json.dumps(ctx, sort_keys=True, ensure_ascii=False, default=str)
            pkey = hash_id(json.dumps(key, ensure_ascii=False, default=str))
            ids = (hash_id(data), pkey)
            self._contexts.setdefault(ids[0], data)
            if not any(extra):
                if len(self._ids) > 100_000:
                    self._ids.clear()
                self._ids[key] = ids
        self._requests.append((file_id, line, locator, custom_id, ids[0], ids[1], n))
        if len(self._requests) >= 20_000:
            self._flush_requests()

    def _flush_requests(self) -> None:
        if self._contexts:
            self.db.executemany(
                "INSERT OR IGNORE INTO ctx(id, data) VALUES (?, ?)", self._contexts.items()
            )
            self._contexts.clear()
        if self._requests:
            self.db.executemany("INSERT INTO req_raw VALUES (?, ?, ?, ?, ?, ?, ?)", self._requests)
            self._requests.clear()
            self.has_requests = True

    def build_requests(self) -> None:
        """Number repeated requests of a prompt (``base`` sample index) and index by custom_id."""
        self._flush_requests()
        self.db.executescript(
            """
            CREATE TABLE req AS SELECT file_id, line, locator, custom_id, ctx, n,
                SUM(n) OVER (PARTITION BY file_id, pkey ORDER BY line
                             ROWS UNBOUNDED PRECEDING) - n AS base,
                ROW_NUMBER() OVER (PARTITION BY file_id, custom_id ORDER BY line) AS dup
            FROM req_raw;
            DROP TABLE req_raw;
            CREATE INDEX req_custom_id ON req(custom_id);
            """
        )

    def lookup_many(
        self, custom_ids: list[str], file_ids: list[int]
    ) -> dict[str, tuple[dict, int]]:
        """``{custom_id: (request context, base sample index)}`` for the ids found.

        Each id is taken from the first of ``file_ids`` (request files, in order of
        preference) that holds it; the matched requests are marked as answered.
        """
        rank = {file_id: i for i, file_id in enumerate(file_ids)}
        best: dict[str, tuple] = {}
        unique = list(dict.fromkeys(custom_ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT custom_id, file_id, line, ctx, base FROM req "
                f"WHERE dup = 1 AND custom_id IN ({marks})"
            )
            for row in self.db.execute(query, chunk):
                order = rank.get(row[1])
                if order is None:
                    continue
                current = best.get(row[0])
                if current is None or order < rank[current[1]]:
                    best[row[0]] = row
        found: dict[str, tuple[dict, int]] = {}
        for custom_id, (_, file_id, line, ctx_id, base) in best.items():
            found[custom_id] = (self._context(ctx_id), base)
            self._used.append((file_id, line))
        if len(self._used) >= 20_000:
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

    def unanswered(self) -> Iterator[tuple[int, str, str, str]]:
        """``(file_id, locator, custom_id, reason)`` of requests that no output answered."""
        if not self.has_requests:
            return
        self.flush_used()
        query = """
            SELECT r.file_id, r.locator, r.custom_id, r.dup FROM req r
            WHERE r.dup > 1 OR NOT EXISTS
                (SELECT 1 FROM used u WHERE u.file_id = r.file_id AND u.line = r.line)
            ORDER BY r.file_id, r.line
        """
        for file_id, locator, custom_id, dup in self.db.execute(query):
            yield (
                file_id,
                locator,
                custom_id,
                "duplicate-custom-id" if dup > 1 else "unanswered-request",
            )
