"""Batch outputs (OpenAI Batch API, vLLM ``run_batch``, Anthropic Message Batches) joined to
their requests by ``custom_id``.

Reading is split in two so that the costly part can run in a child process
(:mod:`stats.ingest.prefetch`): :func:`parse_output_file` decodes each line into a compact,
picklable tuple without needing anything but the file; :func:`read_outputs` looks the
requests up (in chunks, on disk) and expands each answer into a candidate. Every line that
names a ``custom_id`` marks its request as answered, errored lines included, so a failure is
counted once, on the output side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stats.ingest import anthropic, openai
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.ledger import FileReport
from stats.ingest.limits import Limits
from stats.ingest.openai import expand
from stats.ingest.records import SourceFile, iter_jsonl

#: ``lookup(custom_ids) -> {custom_id: (request context, base sample index)}``
Lookup = Callable[[list[str]], dict[str, tuple[dict, int]]]
LOOKUP_CHUNK = 2000
RECORD_PARSERS = {"openai-batch": openai.output_record, "anthropic-batch": anthropic.output_record}


def parse_output_file(path: str, name: str, limits: Limits, fmt: str) -> Iterator[tuple]:
    """Decode a batch output file into tuples (safe to run in a child process).

    Yields ``("warn", message)``, ``("reject", Reject)``, ``("error", locator, custom_id,
    reason, detail, snippet)`` or ``("ok", locator, custom_id, model, record_key, answers,
    snippet)``.
    """
    source = SourceFile(Path(path), name, FileReport(name, fmt, "transcripts"))
    parse = RECORD_PARSERS[fmt]
    warned = 0
    for item in iter_jsonl(source, limits):
        if len(source.report.warnings) > warned:
            for message in source.report.warnings[warned:]:
                yield ("warn", message)
            warned = len(source.report.warnings)
        if isinstance(item, Reject):
            yield ("reject", item)
            continue
        locator, obj, raw = item
        custom_id = obj.get("custom_id")
        custom_id = str(custom_id) if isinstance(custom_id, str | int) and custom_id != "" else None
        try:
            custom_id, model, record_key, answers = parse(obj)
        except RecordError as err:
            yield ("error", locator, custom_id, err.reason, err.detail, snippet_of(raw))
            continue
        yield ("ok", locator, custom_id, model, record_key, answers, snippet_of(raw))
    for message in source.report.warnings[warned:]:
        yield ("warn", message)


def read_outputs(
    source: SourceFile, parsed: Iterator[tuple], lookup: Lookup
) -> Iterator[dict | Reject]:
    """Candidates of a parsed batch output file, each joined to its request."""
    chunk: list[tuple] = []
    for item in parsed:
        chunk.append(item)
        if len(chunk) >= LOOKUP_CHUNK:
            yield from _join(source, chunk, lookup)
            chunk = []
    yield from _join(source, chunk, lookup)


def _join(source: SourceFile, chunk: list[tuple], lookup: Lookup) -> Iterator[dict | Reject]:
    ids = [item[2] for item in chunk if item[0] in ("ok", "error") and item[2] is not None]
    found = lookup(ids) if ids else {}
    for item in chunk:
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
