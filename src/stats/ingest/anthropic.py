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

from stats.ingest.decode import Record, SourceFile
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import Answer, Parts, as_float, as_text, split_metadata
from stats.ingest.limits import Limits
from stats.ingest.messages import content_text, prompt_of
from stats.ingest.openai import custom_id_of, embedded_context, read_objects


def is_message(obj: Any) -> bool:
    """Whether a JSON object is an Anthropic Message."""
    return isinstance(obj, dict) and obj.get("type") == "message" and "content" in obj


def message_choice(message: dict, where: str) -> Answer:
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
    trial, values, conditions = split_metadata(params.get("metadata"))
    return {
        "model": as_text(params.get("model"), f"{where}.model"),
        "system_prompt": system,
        "prompt": prompt,
        "temperature": as_float(params.get("temperature"), f"{where}.temperature"),
        "n": 1,
        "trial": trial,
        "values": values,
        "conditions": conditions,
    }


def batch_request(obj: dict) -> tuple[str, dict]:
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


def batch_result(obj: dict) -> tuple[str, Any, str, list[Answer] | RecordError]:
    """``(custom_id, model, record_key, answers)`` of one Message Batches result line.

    ``answers`` is a :class:`RecordError` for a result that did not succeed (the line still
    names the request it answered); see :func:`stats.ingest.openai.batch_output`.
    """
    custom_id = custom_id_of(obj)
    result = obj.get("result")
    message = result.get("message") if isinstance(result, dict) else None
    message_id = message.get("id") if isinstance(message, dict) else None
    try:
        if not isinstance(result, dict):
            raise RecordError("missing-field", "field 'result' is missing")
        kind = result.get("type")
        if kind != "succeeded":
            error = result.get("error")
            if isinstance(error, dict) and isinstance(error.get("error"), dict):
                error = error["error"]
            text = error.get("message") if isinstance(error, dict) else error
            reason = {"canceled": "batch-canceled", "expired": "batch-expired"}.get(
                str(kind), "batch-error"
            )
            suffix = f": {text}" if text else ""
            raise RecordError(reason, f"field 'result.type' is {kind!r}{suffix}")
        if not isinstance(message, dict):
            raise RecordError("missing-field", "field 'result.message' is missing")
        model = message.get("model")
        return (
            custom_id,
            model,
            f"{custom_id}|{message_id}",
            [message_choice(message, "result.message")],
        )
    except RecordError as err:
        return custom_id, None, f"{custom_id}|{message_id}", err


def message_parts(obj: dict, spec: Any) -> Parts:
    """A Message object (or one wrapped as ``response``/``message``): its prompt and answer."""
    message = obj
    if isinstance(obj.get("response"), dict):
        message = obj["response"]
    elif isinstance(obj.get("message"), dict):
        message = obj["message"]
    if not is_message(message):
        raise RecordError("invalid-field", "not an Anthropic Message (type != 'message')")
    ctx = embedded_context(obj, spec, "the message")
    if "system" in obj and ctx.get("system_prompt") is None:
        ctx["system_prompt"] = content_text(obj["system"], "system") or None
    model = as_text(message.get("model"), "model") or (spec.model if spec else None)
    choice = message_choice(message, "content" if message is obj else "response")
    return Parts(ctx, [choice], model, str(message.get("id")), as_text(message.get("id"), "id"))


def read_messages(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of Message objects (JSON or JSONL), with their prompt found beside them."""
    return read_objects(source, limits, message_parts)
