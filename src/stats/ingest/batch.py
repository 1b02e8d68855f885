"""Batch outputs (OpenAI Batch API, vLLM ``run_batch``, Anthropic Message Batches) joined to
their requests by ``custom_id``.

Reading is split in two so that the costly part can run in a child process
(:mod:`stats.ingest.prefetch`): :func:`parse_output_file` decodes each line into a compact,
picklable tuple without needing anything but the file; :func:`read_outputs` looks the
requests up (in chunks, see :mod:`stats.ingest.scratch`) and expands each answer into a
candidate. Every line that
names a ``custom_id`` marks its request as answered, errored lines included, so a failure is
counted once, on the output side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stats.ingest import anthropic, openai
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.fastjson import exact
from stats.ingest.hashing import hash_id
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits
from stats.ingest.openai import expand
from stats.ingest.records import SourceFile, iter_jsonl, iter_records

#: ``lookup(custom_ids) -> {custom_id: (request context, base sample index)}``
Lookup = Callable[[list[str]], dict[str, tuple[dict, int]]]
LOOKUP_CHUNK = 2000
#: Kinds of parsed output items that name the request they answer.
ANSWERED = frozenset(("plain", "ok", "error"))
_IDS_CACHE = 100_000
RECORD_PARSERS = {"openai-batch": openai.output_record, "anthropic-batch": anthropic.output_record}


def parse_output_file(path: str, name: str, limits: Limits, fmt: str) -> Iterator[tuple]:
    """Decode a batch output file into tuples (safe to run in a child process).

    Yields ``("warn", message)``, ``("reject", Reject)``, ``("error", locator, custom_id,
    reason, detail, snippet)`` or ``("ok", locator, custom_id, model, record_key, answers,
    snippet)``; ``"plain"`` instead of ``"ok"`` says that the model is text or None and that
    every answer is text with a text (or no) finish reason.
    """
    source = SourceFile(Path(path), name, FileReport(name, fmt, "transcripts"))
    parse = RECORD_PARSERS[fmt]
    fast = openai.plain_batch_output if fmt == "openai-batch" else None
    warned = 0
    for item in iter_jsonl(source, limits, checked=False):
        if len(source.report.warnings) > warned:
            for message in source.report.warnings[warned:]:
                yield ("warn", message)
            warned = len(source.report.warnings)
        if type(item) is Reject:
            yield ("reject", item)
            continue
        locator, obj, raw = item
        plain = fast(obj) if fast is not None else None
        if plain is not None:  # "plain": model str or None, answers all text, finish text
            yield ("plain", locator, *plain, snippet_of(raw))
            continue
        obj = exact(obj, raw)
        try:
            custom_id, model, record_key, answers = parse(obj)
        except RecordError as err:
            custom_id = obj.get("custom_id")
            named = type(custom_id) in (str, int) and custom_id != ""
            custom_id = str(custom_id) if named else None
            yield ("error", locator, custom_id, err.reason, err.detail, snippet_of(raw))
            continue
        yield ("ok", locator, custom_id, model, record_key, answers, snippet_of(raw))
    for message in source.report.warnings[warned:]:
        yield ("warn", message)


class RequestContexts:
    """Context ids and base sample indexes of the requests of one file, in file order.

    A request's ``base`` sample index counts the earlier requests (times their ``n``) of
    the same model, system prompt, prompt and temperature in the file; the counter is kept
    in memory, one entry per distinct prompt context (not per record).
    """

    def __init__(self) -> None:
        self._ids: dict[tuple, int] = {}
        self._sample_base: dict[tuple, int] = {}
        self._sent: set[int] = set()

    def plain(self, key: tuple, n: int) -> tuple[int, int, str | None]:
        """``(context id, base, context JSON or None)`` of a request without trial fields,
        hints or conditions; the JSON comes with the first request of each context.

        Parameters
        ----------
        key : tuple
            ``(model, system_prompt, prompt, temperature)``: the whole context.
        n : int
            Answers requested.
        """
        ctx_id = self._ids.get(key)
        data = None
        if ctx_id is None:
            model, system, prompt, temperature = key
            ctx = {"model": model, "system_prompt": system, "prompt": prompt}
            ctx.update(temperature=temperature, trial={}, hints={}, conditions={})
            ctx_id, data = self._identify(ctx)
            if len(self._ids) > _IDS_CACHE:
                self._ids.clear()
            self._ids[key] = ctx_id
        base = self._sample_base.get(key, 0)
        self._sample_base[key] = base + n
        return ctx_id, base, data

    def general(self, ctx: dict) -> tuple[int, int, str | None]:
        """:meth:`plain` of any request context (its ``n`` is taken out of it)."""
        n = ctx.pop("n", 1) or 1
        key = (
            ctx.get("model"),
            ctx.get("system_prompt"),
            ctx.get("prompt"),
            ctx.get("temperature"),
        )
        if not (ctx.get("trial") or ctx.get("hints") or ctx.get("conditions")):
            return self.plain(key, n)
        ctx_id, data = self._identify(ctx)
        base = self._sample_base.get(key, 0)
        self._sample_base[key] = base + n
        return ctx_id, base, data

    def _identify(self, ctx: dict) -> tuple[int, str | None]:
        data = json.dumps(ctx, sort_keys=True, ensure_ascii=False, default=str)
        ctx_id = hash_id(data)
        if ctx_id in self._sent:
            return ctx_id, None
        self._sent.add(ctx_id)
        return ctx_id, data


def parse_request_file(path: str, name: str, limits: Limits, fmt: str) -> Iterator[tuple]:
    """Decode a batch input file into tuples (safe to run in a child process).

    Yields ``("warn", message)``, ``("reject", Reject)``, ``("error", locator, reason,
    detail, snippet)`` or ``("requests", locators, custom_ids, context ids, base sample
    indexes, {context id: JSON})``: the parsed requests, up to :data:`LOOKUP_CHUNK` at a
    time, as columns (see :class:`RequestContexts`; the locator ``"line n"`` comes as the
    int ``n``; a context's JSON comes at least with its first request).
    """
    source = SourceFile(Path(path), name, FileReport(name, fmt, "requests"))
    if fmt == "anthropic-batch-input":
        records = anthropic.iter_request_items(iter_records(source, limits))
        parse, fast = anthropic.batch_request_parts, None
    else:  # the fast path reads unchecked lines (see stats.ingest.fastjson)
        records = iter_records(source, limits, checked=False)
        parse, fast = openai.batch_request_parts, openai.plain_chat_request
    contexts = RequestContexts()
    batch = _RequestColumns()
    warned = 0
    for item in records:
        if len(source.report.warnings) > warned:
            for message in source.report.warnings[warned:]:
                yield ("warn", message)
            warned = len(source.report.warnings)
        if type(item) is Reject:
            yield ("reject", item)
            continue
        locator, obj, raw = item
        plain = fast(obj) if fast is not None else None
        if plain is not None:
            custom_id, key, n = plain
            batch.add(locator, custom_id, contexts.plain(key, n))
        else:
            if fast is not None and type(raw) is bytes:  # a JSON Lines record, unchecked
                obj = exact(obj, raw)
            try:
                custom_id, ctx = parse(obj)
            except RecordError as err:
                yield ("error", locator, err.reason, err.detail, snippet_of(raw))
                continue
            batch.add(locator, custom_id, contexts.general(ctx))
        if len(batch.custom_ids) >= LOOKUP_CHUNK:
            yield batch.message()
            batch = _RequestColumns()
    if batch.custom_ids:
        yield batch.message()
    for message in source.report.warnings[warned:]:
        yield ("warn", message)


class _RequestColumns:
    """Parsed requests gathered as columns (one message of :func:`parse_request_file`)."""

    def __init__(self) -> None:
        self.locators: list[str | int] = []
        self.custom_ids: list[str] = []
        self.contexts: list[int] = []
        self.bases: list[int] = []
        self.json: dict[int, str] = {}

    def add(self, locator: str, custom_id: str, context: tuple[int, int, str | None]) -> None:
        ctx_id, base, data = context
        self.locators.append(_compact(locator))
        self.custom_ids.append(custom_id)
        self.contexts.append(ctx_id)
        self.bases.append(base)
        if data is not None:
            self.json[ctx_id] = data

    def message(self) -> tuple:
        return ("requests", self.locators, self.custom_ids, self.contexts, self.bases, self.json)


def _compact(locator: str) -> str | int:
    """``n`` for the locator ``"line n"`` (kept in less memory), any other locator as is."""
    if locator.startswith("line "):
        digits = locator[5:]
        if digits.isascii() and digits.isdigit() and digits[0] != "0":
            return int(digits)
    return locator


def join_chunks(
    parsed: Iterator[tuple], lookup: Lookup
) -> Iterator[tuple[list[tuple], dict[str, tuple[dict, int]]]]:
    """Parsed items in chunks, each with the requests of its custom_ids (one lookup a chunk)."""
    for chunk in chunked(parsed):
        yield chunk, _lookup(chunk, lookup)


def chunked(parsed: Any, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    """Lists of parsed items: a child's own messages, or up to ``size`` items at a time."""
    if hasattr(parsed, "chunks"):  # a Prefetch: its messages are lists already
        yield from parsed.chunks()
        return
    chunk: list = []
    for item in parsed:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lookup(chunk: list[tuple], lookup: Lookup) -> dict[str, tuple[dict, int]]:
    # errored lines name their request too: it was answered, with an error
    ids = [item[2] for item in chunk if item[0] in ANSWERED and item[2] is not None]
    return lookup(ids) if ids else {}


def read_outputs(
    source: SourceFile, parsed: Iterator[tuple], lookup: Lookup
) -> Iterator[dict | Reject]:
    """Candidates of a parsed batch output file, each joined to its request."""
    for chunk, found in join_chunks(parsed, lookup):
        for item in chunk:
            yield from item_candidates(source, item, found)


def item_candidates(
    source: SourceFile, item: tuple, found: dict[str, tuple[dict, int]]
) -> Iterator[dict | Reject]:
    """Candidates (or rejects) of one parsed item, given the requests found for its chunk."""
    kind = item[0]
    if kind == "warn":
        source.report.warn(item[1])
    elif kind == "reject":
        yield item[1]
    elif kind == "error":
        _, locator, _, reason, detail, snippet = item
        yield Reject(locator, reason, f"{source.where(locator)}: {detail}", snippet)
    else:
        yield from _expand(source, item, found)


def _expand(source: SourceFile, item: tuple, found: dict[str, Any]) -> Iterator[dict | Reject]:
    _, locator, custom_id, model, record_key, answers, snippet = item
    request = found.get(custom_id)
    if request is None:
        detail = (
            f"{source.where(locator)}: custom_id {custom_id!r} matches no line of a batch input "
            "file; ingest the batch input (or set files: requests:) to recover the prompt"
        )
        yield Reject(locator, "unmatched-custom-id", detail, snippet)
        return
    ctx, base = request
    yield from expand(
        ctx,
        answers,
        locator=locator,
        model=model or ctx.get("model"),
        model_alt=ctx.get("model"),
        record_key=record_key,
        base_sample=base,
        raw=snippet,
        source=source,
    )
