"""Batch outputs (OpenAI Batch API, vLLM ``run_batch``, Anthropic Message Batches) joined to
their requests by ``custom_id``.

Request files are read first, into a :class:`RequestIndex` (compact columns: about 60 bytes
a request, plus one dict per distinct request context). Each output line names the request
it answers; lines are looked up :data:`LOOKUP_CHUNK` at a time. Every line that names a
``custom_id`` marks its request as answered, failed lines included, so a failure is
counted once, on the output side. A request no output answered is an
``unanswered-request``; a repeated ``custom_id`` in one request file is a duplicate when it
asks the same thing, else a ``duplicate-custom-id`` (the first line is the one joined).

A request's *base* sample index counts the earlier requests (times their ``n``) of the same
model, system prompt, prompt and temperature in its file: repeated samples of a prompt are
numbered in request order, whatever order the outputs come in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stats.ingest import anthropic, openai
from stats.ingest.decode import SourceFile, each_record, iter_jsonl
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import answers
from stats.ingest.limits import Limits
from stats.ingest.tables import iter_records

LOOKUP_CHUNK = 2000
REQUEST_PARSERS = {
    "openai-batch-input": openai.batch_request,
    "anthropic-batch-input": anthropic.batch_request,
}
OUTPUT_PARSERS = {"openai-batch": openai.batch_output, "anthropic-batch": anthropic.batch_result}
#: ``lookup(custom_ids) -> {custom_id: (request context, base sample index)}``
Lookup = Callable[[list[str]], dict[str, tuple[dict, int]]]


def chunked(items: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    """Lists of up to ``size`` items."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ============================================================================ requests
class RequestIndex:
    """The requests of every request file, by ``custom_id`` (see the module docstring)."""

    def __init__(self) -> None:
        self.contexts: list[dict] = []
        self._numbers: dict[tuple[int, int], int] = {}
        self._columns: list[list] = [[], [], [], [], [], []]  # file, order, line, ctx, base, id
        self._parts: list[tuple] = []
        self._locators: dict[tuple[int, int], str] = {}
        self.rows = 0

    def add(self, file_id: int, item: tuple) -> None:
        """Index one request of :func:`parse_requests` (of the file ``file_id``)."""
        order, locator, custom_id, number, base, ctx = item
        if ctx is not None:  # the first request of a context in its file
            key = (file_id, number)
            self._numbers[key] = len(self.contexts)
            self.contexts.append(ctx)
        number = self._numbers[(file_id, number)]
        line = int(locator[5:]) if locator.startswith("line ") else -1
        if line < 0:
            self._locators[(file_id, order)] = locator
        for column, value in zip(
            self._columns, (file_id, order, line, number, base, custom_id), strict=True
        ):
            column.append(value)
        if len(self._columns[0]) >= 50_000:
            self._seal()

    def _seal(self) -> None:
        """Move the gathered requests into compact arrays."""
        if not self._columns[0]:
            return
        *numbers, ids = self._columns
        arrays = [np.array(values, dtype=np.int64) for values in numbers]
        self._parts.append((*arrays, pa.array(ids, type=pa.large_string())))
        self._columns = [[], [], [], [], [], []]

    def build(self) -> None:
        """Sort the requests by ``hash(custom_id)`` (call once, after the last :meth:`read`)."""
        self._seal()
        parts = self._parts or [(*[np.empty(0, np.int64)] * 5, pa.array([], pa.large_string()))]
        ids = pa.concat_arrays([part[5] for part in parts])
        hashes = np.fromiter(map(hash, ids.to_pylist()), dtype=np.int64, count=len(ids))
        file_order = [np.concatenate([part[i] for part in parts]) for i in range(5)]
        # by hash, then file and order: the first line of a file comes first
        order = np.lexsort((file_order[1], file_order[0], hashes))
        self.hashes = hashes[order]
        self.file, self.order, self.line, self.ctx, self.base = (c[order] for c in file_order)
        self.ids = ids.take(pa.array(order))
        self.used = np.zeros(len(order), dtype=bool)
        self.rows = len(order)
        self._parts = []

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


def parse_requests(source: SourceFile, limits: Limits, fmt: str) -> Iterator[tuple | Reject]:
    """The requests of one request file, for :meth:`RequestIndex.add` (or rejects).

    Each is ``(order, locator, custom_id, context number, base sample index, context)``;
    the context (model, prompts, temperature, metadata) comes with the first request that
    asks it (numbered in the file), None after.
    """
    records = iter_records(source, limits)
    if fmt == "anthropic-batch-input":
        records = anthropic.iter_request_items(records)
    parse = REQUEST_PARSERS[fmt]
    numbers: dict[tuple, int] = {}
    bases: dict[tuple, int] = {}
    order = 0
    for item in each_record(source, records, lambda loc, obj, raw: [(loc, *parse(obj))]):
        if type(item) is Reject:
            yield item
            continue
        locator, custom_id, ctx = item
        n = ctx.pop("n", 1) or 1
        numbered = (ctx["model"], ctx["system_prompt"], ctx["prompt"], ctx["temperature"])
        extra = (ctx["trial"], ctx["values"], ctx["conditions"])
        key = (*numbered, json.dumps(extra, sort_keys=True, default=str) if any(extra) else "")
        number = numbers.get(key)
        new = number is None
        if new:
            number = numbers[key] = len(numbers)
        base = bases.get(numbered, 0)
        bases[numbered] = base + n
        yield order, locator, custom_id, number, base, ctx if new else None
        order += 1


# ============================================================================ outputs
def parse_outputs(source: SourceFile, limits: Limits, fmt: str) -> Iterator[tuple | Reject]:
    """The lines of a batch output file as ``(locator, custom_id, model, record_key, answers,
    raw)`` (or rejects); ``answers`` is the line's error when it reports one."""
    parse = OUTPUT_PARSERS[fmt]
    return each_record(
        source, iter_jsonl(source, limits), lambda loc, obj, raw: [(loc, *parse(obj), raw)]
    )


def join_outputs(
    source: SourceFile, lines: Iterable[tuple | Reject], lookup: Lookup
) -> Iterator[dict | Reject]:
    """Candidates of the lines of :func:`parse_outputs`, each answer joined to its request."""
    for chunk in chunked(lines):
        found = lookup([item[1] for item in chunk if type(item) is not Reject])

        def join(locator: str, item: tuple, raw: Any, found: dict = found) -> list:
            _, custom_id, model, record_key, choices, _ = item
            if type(choices) is RecordError:
                raise choices
            request = found.get(custom_id)
            if request is None:
                raise RecordError(
                    "unmatched-custom-id",
                    f"custom_id {custom_id!r} matches no line of a batch input file; ingest "
                    "the batch input (or set files: requests:) to recover the prompt",
                )
            ctx, base = request
            return answers(
                source,
                ctx,
                choices,
                locator=locator,
                model=model,
                record_key=record_key,
                record_id=custom_id,
                raw=raw,
                base_sample=base,
            )

        items = (x if type(x) is Reject else (x[0], x, x[-1]) for x in chunk)
        yield from each_record(source, items, join)
