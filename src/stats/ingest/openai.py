"""OpenAI sources: chat completions, and Batch API input/output lines.

The Batch API output (and vLLM's ``run_batch``) is
``{id, custom_id, response: {status_code, request_id, body}, error}``; its prompt lives in
the batch *input* (``{custom_id, method, url, body: {model, messages, temperature, n}}``),
joined by ``custom_id`` (:mod:`stats.ingest.batch`). Bodies of ``/v1/chat/completions``,
``/v1/completions`` and ``/v1/responses`` are understood.

Chat completion objects do not carry their prompt. It is taken from, in order: a wrapper
``{"request": {...}, "response": {...}}``, extra fields on the object (``messages``,
``prompt``, ``system_prompt``, ``metadata.prompt``), or the manifest ``files:`` entry's
``prompt``. A completion with none of these is rejected as ``missing-prompt``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from stats.ingest.decode import SourceFile, each_record
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import (
    MAX_CHOICES,
    Answer,
    Parts,
    answers,
    as_float,
    as_int,
    as_text,
    response_text,
    shown,
    split_metadata,
)
from stats.ingest.limits import Limits
from stats.ingest.messages import content_text, prompt_of
from stats.ingest.tables import iter_records

INF = float("inf")


# ----------------------------------------------------------------------------- requests
def request_context(body: Any, where: str) -> dict:
    """The trial fields a request fixes: model, system prompt, prompt, temperature, n, ...

    Parameters
    ----------
    body : dict
        A chat/completions/responses request body.
    where : str
        Field path of ``body`` for messages.
    """
    if not isinstance(body, dict):
        raise RecordError("missing-field", f"field '{where}' is missing")
    if "messages" in body:
        system, prompt = prompt_of(body["messages"], f"{where}.messages")
    elif "input" in body:
        value = body["input"]
        if isinstance(value, str):
            system, prompt = None, value
        else:
            system, prompt = prompt_of(value, f"{where}.input")
        instructions = body.get("instructions")
        if isinstance(instructions, str) and instructions:
            system = instructions if system is None else f"{instructions}\n\n{system}"
    elif "prompt" in body:
        value = body["prompt"]
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            raise RecordError("invalid-field", f"field '{where}.prompt' should be one text prompt")
        system, prompt = None, value
    else:
        raise RecordError("missing-prompt", f"field '{where}' has no messages, input or prompt")
    trial, values, conditions = split_metadata(body.get("metadata"))
    model, temperature, n = body.get("model"), body.get("temperature"), body.get("n")
    if model is not None and type(model) is not str:  # the field path only for an error
        model = as_text(model, f"{where}.model")
    if temperature is not None and not (type(temperature) is float and abs(temperature) < INF):
        temperature = as_float(temperature, f"{where}.temperature")
    if n is not None:
        n = as_int(n, f"{where}.n", MAX_CHOICES)
    return {
        "model": model,
        "system_prompt": system,
        "prompt": prompt,
        "temperature": temperature,
        "n": n or 1,
        "trial": trial,
        "values": values,
        "conditions": conditions,
    }


def custom_id_of(obj: dict) -> str:
    """A batch line's ``custom_id`` as text (an integer is written out).

    Raises
    ------
    RecordError
        ``missing-field`` when it is absent or empty, ``invalid-field`` when it is neither
        text nor an integer.
    """
    custom_id = obj.get("custom_id")
    if custom_id is None or custom_id == "":
        raise RecordError("missing-field", "field 'custom_id' is missing")
    if type(custom_id) is not str and type(custom_id) is not int:
        raise RecordError(
            "invalid-field", f"field 'custom_id' should be text, found {type(custom_id).__name__}"
        )
    return str(custom_id)


def batch_request(obj: dict) -> tuple[str, dict]:
    """``(custom_id, request context)`` of one Batch API input line."""
    custom_id = custom_id_of(obj)
    body = obj.get("body")
    if not isinstance(body, dict):
        raise RecordError("missing-field", "field 'body' (the request) is missing")
    return custom_id, request_context(body, "body")


# ----------------------------------------------------------------------------- responses
def _choice_text(choice: dict, where: str) -> str:
    message = choice.get("message")
    content = message.get("content") if type(message) is dict else None
    if type(content) is str and content.strip():
        return content
    if not isinstance(message, dict):
        if "text" in choice:
            return response_text(choice["text"], f"{where}.text")
        raise RecordError("missing-field", f"field '{where}.message' is missing")
    content = message.get("content")
    if type(content) is not str:
        content = content_text(content, f"{where}.message.content")
    if content is None or not content.strip():
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal.strip():
            raise RecordError("refusal", f"field '{where}.message.refusal' holds a refusal")
        if message.get("tool_calls") or message.get("function_call"):
            raise RecordError("no-text", f"field '{where}.message' has tool calls but no text")
    return response_text(content, f"{where}.message.content")


def body_choices(body: dict, where: str) -> list[Answer]:
    """Each answer of a response body as ``(index, text or error, finish_reason)``.

    Raises
    ------
    RecordError
        When the body holds no answers at all.
    """
    if body.get("object") == "response" or ("output" in body and "choices" not in body):
        return [_responses_output(body, where)]
    prefix = f"{where}." if where else ""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise RecordError("missing-field", f"field '{prefix}choices' is missing or empty")
    out: list[Answer] = []
    for position, choice in enumerate(choices):
        at = f"{prefix}choices[{position}]"  # a field path, used by an error only
        if not isinstance(choice, dict):
            out.append(
                (position, RecordError("invalid-field", f"field '{at}' is not an object"), None)
            )
            continue
        index = choice.get("index", position)
        if index is None:
            index = position
        elif type(index) is not int or not 0 <= index < MAX_CHOICES:
            detail = (
                f"field '{at}.index' should be a whole number from 0 to {MAX_CHOICES - 1}, "
                f"found {shown(index)}"
            )
            out.append((position, RecordError("invalid-field", detail), None))
            continue
        finish = choice.get("finish_reason")
        try:
            if finish is not None and type(finish) is not str:
                as_text(finish, f"{at}.finish_reason")
            text: str | RecordError = _choice_text(choice, at)
        except RecordError as err:
            text = err
        out.append((index, text, finish))
    return out


def _responses_output(body: dict, where: str) -> Answer:
    prefix = f"{where}." if where else ""
    output = body.get("output")
    if not isinstance(output, list):
        raise RecordError("missing-field", f"field '{prefix}output' is missing")
    texts: list[str] = []
    refused = False
    for item in output:
        if isinstance(item, dict) and item.get("type") == "message":
            for part in item.get("content") or []:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif part.get("type") == "refusal":
                    refused = True
    text = "".join(texts)
    status = body.get("status")
    try:
        if refused and not text.strip():
            raise RecordError("refusal", f"field '{prefix}output' holds a refusal")
        value: str | RecordError = response_text(text, f"{prefix}output[].content")
        status = as_text(status, f"{prefix}status")
    except RecordError as err:
        value = err
    return 0, value, status


def batch_output(obj: dict) -> tuple[str, Any, str, list[Answer] | RecordError]:
    """``(custom_id, model, record_key, answers)`` of one Batch API output line.

    ``answers`` is a :class:`RecordError` when the line reports a failure (``error``, a
    status code other than 200) or holds no answers: the line still names the request it
    answered. Raises :class:`RecordError` when it names no ``custom_id``.
    """
    custom_id = custom_id_of(obj)
    response = obj.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    record_key = f"{custom_id}|{obj.get('id')}|{body.get('id') if isinstance(body, dict) else None}"
    try:
        error = obj.get("error")
        if error:
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else error
            raise RecordError("batch-error", f"field 'error' is set: {code}: {message}")
        if not isinstance(response, dict):
            raise RecordError("missing-field", "field 'response' is missing")
        status = response.get("status_code")
        if status is not None and status != 200:
            message = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                message = body["error"].get("message")
            raise RecordError(
                "batch-error",
                f"field 'response.status_code' is {status}: {message or 'no message'}",
            )
        if not isinstance(body, dict):
            raise RecordError("missing-field", "field 'response.body' is missing")
        return custom_id, body.get("model"), record_key, body_choices(body, "response.body")
    except RecordError as err:
        return custom_id, None, record_key, err


# ----------------------------------------------------------------------------- chat objects
def embedded_context(obj: dict, spec: Any, where: str) -> dict:
    """The request context of a chat/message object that carries its own prompt fields."""
    request = obj.get("request")
    if isinstance(request, dict):
        inner = request.get("body") if isinstance(request.get("body"), dict) else request
        params = inner.get("params") if isinstance(inner.get("params"), dict) else inner
        ctx = request_context(params, "request")
        if "system" in params and ctx.get("system_prompt") is None:
            ctx["system_prompt"] = content_text(params["system"], "request.system") or None
        return ctx
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    trial, values, conditions = split_metadata(
        {k: v for k, v in metadata.items() if k not in ("prompt", "system_prompt")}
    )
    system = None
    if "messages" in obj:
        system, prompt = prompt_of(obj["messages"], "messages")
    elif obj.get("prompt") is not None:
        prompt = _prompt_text(obj["prompt"], "prompt")
    elif metadata.get("prompt") is not None:
        prompt = _prompt_text(metadata["prompt"], "metadata.prompt")
    elif spec is not None and spec.prompt is not None:
        prompt = spec.prompt
    else:
        raise RecordError(
            "missing-prompt",
            f"{where} carries no prompt: add 'messages' or 'prompt' to each object, wrap it "
            "as {request, response}, or set prompt: in the manifest files: entry",
        )
    for key in ("system_prompt", "system"):
        value = obj.get(key, metadata.get(key))
        if value is not None and system is None:
            system = content_text(value, key) or None
    if system is None and spec is not None:
        system = spec.system_prompt
    return {
        "model": None,
        "system_prompt": system,
        "prompt": prompt,
        "temperature": as_float(obj.get("temperature"), "temperature"),
        "trial": trial,
        "values": values,
        "conditions": conditions,
    }


def _prompt_text(value: Any, where: str) -> str:
    if type(value) is not str:
        raise RecordError(
            "invalid-field", f"field '{where}' should be text, found {type(value).__name__}"
        )
    return value


def read_objects(
    source: SourceFile, limits: Limits, parts_of: Callable[[dict, Any], Parts]
) -> Iterator[dict | Reject]:
    """Candidates of response objects that carry their prompt beside them (JSON or JSONL):
    ``parts_of(obj, files: entry)`` reads one object."""
    spec = source.spec
    return each_record(
        source,
        iter_records(source, limits),
        lambda locator, obj, raw: answers(source, locator, raw, parts_of(obj, spec)),
    )


def chat_parts(obj: dict, spec: Any) -> Parts:
    """A chat completion object (or ``{request, response}``): its prompt and answers."""
    body = obj
    if isinstance(obj.get("response"), dict):
        response = obj["response"]
        body = response.get("body") if isinstance(response.get("body"), dict) else response
    if body.get("object") not in ("chat.completion", "text_completion", "response", None):
        raise RecordError(
            "invalid-field", f"field 'object' is {body.get('object')!r}, not a chat completion"
        )
    ctx = embedded_context(obj, spec, "the chat completion")
    choices = body_choices(body, "" if body is obj else "response")
    model = as_text(body.get("model"), "model") or (spec.model if spec else None)
    key = f"{body.get('id')}|{body.get('created')}"
    return Parts(ctx, choices, model, key, as_text(body.get("id"), "id"))


def read_chat_completions(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of chat completion objects (``n`` choices are ``n`` trials)."""
    return read_objects(source, limits, chat_parts)
