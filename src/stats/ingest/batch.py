"""Batch outputs (OpenAI Batch API, vLLM ``run_batch``, Anthropic Message Batches) joined to
their requests by ``custom_id``.

Request files are read first, into a :class:`~stats.ingest.requests.RequestIndex`
(compact columns: about 60 bytes a request, plus one dict per distinct request context). Each output line names the request
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
from typing import Any, NamedTuple

from stats.ingest import anthropic, openai
from stats.ingest.decode import SourceFile, each_record, iter_jsonl
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.fields import Parts, answers
from stats.ingest.limits import Limits
from stats.ingest.tables import iter_records

LOOKUP_CHUNK = 2000
#: Transcript formats joined to request files, and the format of those.
JOINED = {"openai-batch": "openai-batch-input", "anthropic-batch": "anthropic-batch-input"}
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
class Requests(NamedTuple):
    """Consecutive requests of one request file, as columns (see :func:`parse_requests`)."""

    orders: list[int]
    lines: list[int]  # -1: the locator is not "line n" (see ``locators``)
    locators: dict[int, str]  # order -> locator, for the others
    custom_ids: list[str]
    contexts: list[int]  # numbered in the file, in order of first appearance
    bases: list[int]
    new: list[dict]  # the contexts that first appear in this block, in number order


def parse_requests(source: SourceFile, limits: Limits, fmt: str) -> Iterator[Requests | Reject]:
    """The requests of one request file, :data:`LOOKUP_CHUNK` at a time (and its rejects).

    Each request gets its order in the file, its context (model, prompts, temperature,
    metadata: numbered in the file in order of first appearance) and its base sample index.
    """
    records = iter_records(source, limits)
    if fmt == "anthropic-batch-input":
        records = anthropic.iter_request_items(records)
    parse = REQUEST_PARSERS[fmt]
    numbers: dict[tuple, int] = {}
    bases: dict[tuple, int] = {}
    block = Requests([], [], {}, [], [], [], [])
    order = -1
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
        if number is None:
            number = numbers[key] = len(numbers)
            block.new.append(ctx)
        base = bases.get(numbered, 0)
        bases[numbered] = base + n
        order += 1
        block.orders.append(order)
        line = int(locator[5:]) if locator.startswith("line ") else -1
        if line < 0:
            block.locators[order] = locator
        block.lines.append(line)
        block.custom_ids.append(custom_id)
        block.contexts.append(number)
        block.bases.append(base)
        if len(block.orders) >= LOOKUP_CHUNK:
            yield block
            block = Requests([], [], {}, [], [], [], [])
    if block.orders:
        yield block


# ============================================================================ outputs
def parse_outputs(source: SourceFile, limits: Limits, fmt: str) -> Iterator[tuple | Reject]:
    """The lines of a batch output file as ``(locator, custom_id, model, record_key, answers,
    snippet)`` (or rejects); ``answers`` is the line's error when it reports one."""
    parse = OUTPUT_PARSERS[fmt]
    return each_record(
        source,
        iter_jsonl(source, limits),
        lambda loc, obj, raw: [(loc, *parse(obj), snippet_of(raw))],
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
                source, locator, raw, Parts(ctx, choices, model, record_key, custom_id, base)
            )

        items = (x if type(x) is Reject else (x[0], x, x[-1]) for x in chunk)
        yield from each_record(source, items, join)


REQUEST_SIBLINGS = (
    ("output", "input"),
    ("results", "requests"),
    ("result", "request"),
    ("out", "in"),
)


def request_files(files: list[SourceFile], index: int) -> list[int]:
    """The request files the output file ``files[index]`` joins to, most preferred first:
    named by its manifest ``files:`` entry, then a sibling named like it (``*output*`` ->
    ``*input*``), then the same folder, then any."""
    source = files[index]
    family = JOINED[source.report.format]
    candidates = [i for i, f in enumerate(files) if f.report.format == family]
    folder = source.path.parent.resolve()
    name = source.path.name
    siblings = {name.replace(a, b) for a, b in REQUEST_SIBLINGS if a in name}
    wanted = {p.resolve() for p in source.spec.requests} if source.spec else set()
    ordered = [i for i in candidates if files[i].path.resolve() in wanted]
    local = [i for i in candidates if files[i].path.parent.resolve() == folder]
    ordered += [i for i in local if files[i].path.name in siblings]
    ordered += local + candidates
    return list(dict.fromkeys(ordered))
