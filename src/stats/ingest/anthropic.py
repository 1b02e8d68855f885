"""Anthropic sources: Message objects and Message Batches results (joined to requests).

A Message is ``{id, type: "message", role, model, content: [blocks], stop_reason, usage}``;
the response is its text blocks concatenated (``thinking`` and ``tool_use`` blocks are not
scored). Like chat completions, a Message does not carry its prompt: see
:func:`stats.ingest.openai.embedded_context` for where it is found. Batch results
``{custom_id, result: {type, message | error}}`` are joined by ``custom_id`` to request lines
``{custom_id, params: {model, messages, system, temperature}}`` (or a JSON
``{"requests": [...]}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stats.ingest.candidates import as_float, as_text, split_metadata
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.messages import content_text, prompt_of
from stats.ingest.openai import custom_id_of, embedded_context, expand
from stats.ingest.records import Record, SourceFile


def is_message(obj: Any) -> bool:
    """Whether a JSON object is an Anthropic Message."""
    return isinstance(obj, dict) and obj.get("type") == "message" and "content" in obj


def message_choice(message: dict, where: str) -> tuple[int, str | RecordError, str | None]:
    """The single answer of a Message as ``(0, text or error, stop_reason)``."""
    content = message.get("content")
    stop = message.get("stop_reason")
    try:
        if not isinstance(content, list):
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            else:
                raise RecordError("missing-field", f"field '{where}.content' is missing")
        texts = []
        for index, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text", "")
                if not isinstance(text, str):
                    raise RecordError(
                        "invalid-field",
                        f"field '{where}.content[{index}].text' should be text, found "
                        f"{type(text).__name__}",
                    )
                texts.append(text)
        text = "".join(texts)
        if not text.strip():
            if stop == "refusal":
                raise RecordError("refusal", f"field '{where}.stop_reason' is 'refusal'")
            if any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content):
                raise RecordError("no-text", f"field '{where}.content' has tool use but no text")
            raise RecordError("empty-response", f"field '{where}.content' has no text")
        return 0, text, stop
    except RecordError as err:
        return 0, err, stop


def request_context(params: dict, where: str) -> dict:
    """Trial fields fixed by a Messages request (``params``)."""
    if not isinstance(params, dict):
        raise RecordError("missing-field", f"field '{where}' is missing")
    system, prompt = prompt_of(params.get("messages"), f"{where}.messages")
    if params.get("system") is not None:
        extra = content_text(params["system"], f"{where}.system")
        system = extra or system
    trial, hints, conditions = split_metadata(params.get("metadata"))
    return {
        "model": as_text(params.get("model"), f"{where}.model"),
        "system_prompt": system,
        "prompt": prompt,
        "temperature": as_float(params.get("temperature"), f"{where}.temperature"),
        "n": 1,
        "trial": trial,
        "hints": hints,
        "conditions": conditions,
    }


def batch_request_parts(obj: dict) -> tuple[str, dict]:
    """``(custom_id, request context)`` of one Message Batches request."""
    return custom_id_of(obj), request_context(obj.get("params"), "params")


def iter_request_items(records: Iterator[Record | Reject]) -> Iterator[Record | Reject]:
    """Request lines, unpacking a JSON document ``{"requests": [...]}``."""
    for item in records:
        if isinstance(item, Reject):
            yield item
            continue
        _, obj, _ = item
        if isinstance(obj.get("requests"), list) and "custom_id" not in obj:
            for index, request in enumerate(obj["requests"]):
                place = f"requests[{index}]"
                if isinstance(request, dict):
                    yield place, request, request
                else:
                    yield Reject(place, "not-an-object", f"{place} is not an object", None)
            continue
        yield item


def batch_result_parts(obj: dict) -> tuple[str, dict]:
    """``(custom_id, message)`` of one Message Batches result line, or a batch error."""
    custom_id = custom_id_of(obj)
    result = obj.get("result")
    if not isinstance(result, dict):
        raise RecordError("missing-field", "field 'result' is missing")
    kind = result.get("type")
    if kind != "succeeded":
        error = result.get("error")
        if isinstance(error, dict) and isinstance(error.get("error"), dict):
            error = error["error"]
        message = error.get("message") if isinstance(error, dict) else error
        reason = {"canceled": "batch-canceled", "expired": "batch-expired"}.get(
            str(kind), "batch-error"
        )
        suffix = f": {message}" if message else ""
        raise RecordError(reason, f"field 'result.type' is {kind!r}{suffix}")
    message = result.get("message")
    if not isinstance(message, dict):
        raise RecordError("missing-field", "field 'result.message' is missing")
    return custom_id, message


def output_record(obj: dict) -> tuple[str, str | None, str, list]:
    """``(custom_id, model, record_key, answers)`` of one Message Batches result line."""
    custom_id, message = batch_result_parts(obj)
    answers = [message_choice(message, "result.message")]
    return custom_id, message.get("model"), f"{custom_id}|{message.get('id')}", answers


def read_messages(
    source: SourceFile, records: Iterator[Record | Reject]
) -> Iterator[dict | Reject]:
    """Candidates of Message objects (JSON or JSONL), with their prompt found beside them."""
    for item in records:
        if isinstance(item, Reject):
            yield item
            continue
        locator, obj, raw = item
        try:
            message = obj
            if isinstance(obj.get("response"), dict):
                message = obj["response"]
            elif isinstance(obj.get("message"), dict):
                message = obj["message"]
            if not is_message(message):
                raise RecordError("invalid-field", "not an Anthropic Message (type != 'message')")
            ctx = embedded_context(obj, source.spec, "the message")
            if "system" in obj and ctx.get("system_prompt") is None:
                ctx["system_prompt"] = content_text(obj["system"], "system") or None
        except RecordError as err:
            yield Reject(
                locator, err.reason, f"{source.where(locator)}: {err.detail}", snippet_of(raw)
            )
            continue
        model = (
            message.get("model") or ctx.get("model") or (source.spec.model if source.spec else None)
        )
        yield from expand(
            ctx,
            [message_choice(message, "content" if message is obj else "response")],
            locator=locator,
            model=model,
            model_alt=ctx.get("model"),
            record_key=str(message.get("id")),
            base_sample=None,
            raw=raw,
            source=source,
        )
