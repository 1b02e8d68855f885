"""OpenAI sources: fine-tuning jobs, chat completions, and Batch API input/output.

The Batch API output (and vLLM's ``run_batch``) is
``{id, custom_id, response: {status_code, request_id, body}, error}``; its prompt lives in
the batch *input* (``{custom_id, method, url, body: {model, messages, temperature, n}}``),
joined by ``custom_id`` through a lookup the pipeline provides. Bodies of
``/v1/chat/completions``, ``/v1/completions`` and ``/v1/responses`` are understood.

Chat completion objects do not carry their prompt. It is taken from, in order: a wrapper
``{"request": {...}, "response": {...}}``, extra fields on the object (``messages``,
``prompt``, ``system_prompt``, ``metadata.prompt``), or the manifest ``files:`` entry's
``prompt``. A completion with none of these is rejected as ``missing-prompt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stats.ingest.candidates import (
    INT64_MAX,
    MAX_CHOICES,
    as_float,
    as_int,
    as_text,
    response_text,
    shown,
    split_metadata,
)
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.messages import content_text, prompt_of
from stats.ingest.records import Record, SourceFile

HYPERPARAMETERS = {
    "n_epochs": "n_epochs",
    "batch_size": "batch_size",
    "learning_rate_multiplier": "lr_multiplier",
}


@dataclass
class JobInfo:
    """The parts of a ``fine_tuning.job`` that describe a run."""

    job_id: str
    base_model: str | None
    fine_tuned_model: str | None
    status: str | None
    training_file: str | None
    method: str | None
    values: dict = field(default_factory=dict)
    auto: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _hyperparameters(obj: dict) -> tuple[dict, str | None, list[str]]:
    method = obj.get("method") if isinstance(obj.get("method"), dict) else None
    method_type = method.get("type") if method else None
    notes: list[str] = []
    found: dict = {}
    if method and isinstance(method.get(method_type or ""), dict):
        nested = method[method_type].get("hyperparameters")
        if isinstance(nested, dict):
            found = dict(nested)
    legacy = obj.get("hyperparameters")
    if isinstance(legacy, dict):
        for key, value in legacy.items():
            if key not in found:
                found[key] = value
            elif value != found[key] and value != "auto" and found[key] != "auto":
                notes.append(
                    f"hyperparameters.{key} is {value!r} but method.{method_type}."
                    f"hyperparameters.{key} is {found[key]!r}; the method's value is used"
                )
    return found, method_type, notes


def parse_job(obj: dict) -> JobInfo:
    """Read a fine-tuning job object (legacy ``hyperparameters`` or ``method.*``).

    ``"auto"`` values are unknown (None) and listed in :attr:`JobInfo.auto`.
    """
    job_id = obj.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise RecordError("missing-field", "field 'id' of the fine-tuning job is missing")
    found, method_type, notes = _hyperparameters(obj)
    values: dict = {}
    auto: list[str] = []
    for key, target in HYPERPARAMETERS.items():
        value = found.get(key)
        if isinstance(value, str) and value.strip().lower() == "auto":
            auto.append(target)
            continue
        if value is None:
            continue
        where = f"hyperparameters.{key}"
        number = as_float(value, where) if target == "lr_multiplier" else as_int(value, where)
        values[target] = number
    return JobInfo(
        job_id=job_id,
        base_model=obj.get("model") if isinstance(obj.get("model"), str) else None,
        fine_tuned_model=obj.get("fine_tuned_model") or None,
        status=obj.get("status"),
        training_file=obj.get("training_file") or None,
        method=method_type,
        values=values,
        auto=auto,
        notes=notes,
    )


def is_job(obj: Any) -> bool:
    """Whether a JSON object is a fine-tuning job."""
    return isinstance(obj, dict) and obj.get("object") == "fine_tuning.job"


# ----------------------------------------------------------------------------- requests
def request_context(body: dict, where: str) -> dict:
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
    trial, hints, conditions = split_metadata(body.get("metadata"))
    n = as_int(body.get("n"), f"{where}.n", MAX_CHOICES) or 1
    return {
        "model": as_text(body.get("model"), f"{where}.model"),
        "system_prompt": system,
        "prompt": prompt,
        "temperature": as_float(body.get("temperature"), f"{where}.temperature"),
        "n": n,
        "trial": trial,
        "hints": hints,
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


def batch_request_parts(obj: dict) -> tuple[str, dict]:
    """``(custom_id, request context)`` of one batch input line."""
    custom_id = custom_id_of(obj)
    body = obj.get("body")
    if not isinstance(body, dict):
        raise RecordError("missing-field", "field 'body' (the request) is missing")
    return custom_id, request_context(body, "body")


def plain_chat_request(obj: dict) -> tuple[str, tuple, int] | None:
    """The common batch input line, read quickly: a chat request without metadata.

    Returns ``(custom_id, (model, system_prompt, prompt, temperature), n)``, exactly what
    :func:`batch_request_parts` reads from such a line, or None for any other line (which
    then goes through :func:`batch_request_parts`, with its errors). It reads no field that
    an integer beyond 64 bits could change, so ``obj`` may come unchecked from orjson
    (:func:`stats.ingest.fastjson.loads_line_unchecked`).
    """
    custom_id = obj.get("custom_id")
    body = obj.get("body")
    if type(custom_id) is not str or not custom_id or type(body) is not dict:
        return None
    if "messages" not in body or type(body.get("model")) is not str:
        return None
    metadata = body.get("metadata")
    if type(metadata) is dict and metadata:
        return None
    n = body.get("n")
    if n is None:
        n = 1
    elif type(n) is not int or not 0 < n <= MAX_CHOICES:
        return None
    temperature = body.get("temperature")
    if type(temperature) is int:
        if not -(2**63) < temperature < 2**63:
            return None  # as big as a float may not be: the general path says so
        temperature = float(temperature)
    elif temperature is not None and (type(temperature) is not float or abs(temperature) >= 2**63):
        return None  # a float this big may be orjson's reading of a huge integer
    try:
        system, prompt = prompt_of(body["messages"], "body.messages")
    except RecordError:
        return None
    return custom_id, (body["model"], system, prompt, temperature), n


# ----------------------------------------------------------------------------- responses
def _chat_choice_text(choice: dict, where: str) -> str:
    message = choice.get("message")
    if not isinstance(message, dict):
        if isinstance(choice.get("text"), str):
            return response_text(choice["text"], f"{where}.text")
        raise RecordError("missing-field", f"field '{where}.message' is missing")
    content = content_text(message.get("content"), f"{where}.message.content")
    if content is None or not content.strip():
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal.strip():
            raise RecordError("refusal", f"field '{where}.message.refusal' holds a refusal")
        if message.get("tool_calls") or message.get("function_call"):
            raise RecordError("no-text", f"field '{where}.message' has tool calls but no text")
    return response_text(content, f"{where}.message.content")


def body_choices(body: dict, where: str) -> list[tuple[int, str | RecordError, str | None]]:
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
    out = []
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            out.append(
                (position, RecordError("invalid-field", f"{prefix}choices[{position}]"), None)
            )
            continue
        index = choice.get("index")
        if index is None:
            index = position
        elif type(index) is not int or not 0 <= index < MAX_CHOICES:
            detail = (
                f"field '{prefix}choices[{position}].index' should be a whole number from 0 to "
                f"{MAX_CHOICES - 1}, found {shown(index)}"
            )
            out.append((position, RecordError("invalid-field", detail), None))
            continue
        message = choice.get("message")
        content = message.get("content") if type(message) is dict else None
        if type(content) is str and content and not content.isspace():
            text: str | RecordError = content  # the common case, without building messages
        else:
            try:
                text = _chat_choice_text(choice, f"{prefix}choices[{position}]")
            except RecordError as err:
                text = err
        out.append((index, text, choice.get("finish_reason")))
    return out


def _responses_output(body: dict, where: str) -> tuple[int, str | RecordError, str | None]:
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
    except RecordError as err:
        value = err
    return 0, value, status


def batch_output_parts(obj: dict) -> tuple[str, dict]:
    """``(custom_id, response body)`` of one batch output line, or a ``batch-error``."""
    custom_id = custom_id_of(obj)
    error = obj.get("error")
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        raise RecordError("batch-error", f"field 'error' is set: {code}: {message}")
    response = obj.get("response")
    if not isinstance(response, dict):
        raise RecordError("missing-field", "field 'response' is missing")
    body = response.get("body")
    status = response.get("status_code")
    if status is not None and status != 200:
        message = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message")
        raise RecordError(
            "batch-error", f"field 'response.status_code' is {status}: {message or 'no message'}"
        )
    if not isinstance(body, dict):
        raise RecordError("missing-field", "field 'response.body' is missing")
    return custom_id, body


def expand(
    ctx: dict,
    choices: list[tuple[int, str | RecordError, str | None]],
    *,
    locator: str,
    model: str | None,
    model_alt: str | None,
    record_key: str,
    base_sample: int | None,
    raw: Any,
    source: SourceFile,
) -> Iterator[dict | Reject]:
    """Candidates (or rejects) for each answer of one response."""
    if not model:
        yield Reject(
            locator,
            "missing-model",
            f"{source.where(locator)}: no model id in the response or its request",
            snippet_of(raw),
        )
        return
    trial = ctx.get("trial") or {}
    try:
        given_sample = as_int(trial.get("sample_index"), "metadata.sample_index")
    except RecordError as err:
        yield Reject(locator, err.reason, f"{source.where(locator)}: {err.detail}", snippet_of(raw))
        return
    several = len(choices) > 1
    for index, text, finish in choices:
        place = f"{locator} choice {index}" if several else locator
        if isinstance(text, RecordError):
            detail = f"{source.where(place)}: {text.detail}"
            yield Reject(place, text.reason, detail, snippet_of(raw))
            continue
        if given_sample is not None:
            sample = given_sample + index
            if sample > INT64_MAX:
                detail = (
                    f"{source.where(place)}: field 'metadata.sample_index' plus the choice index "
                    f"is {sample}, beyond {INT64_MAX}"
                )
                yield Reject(place, "invalid-field", detail, snippet_of(raw))
                continue
        elif base_sample is not None:
            sample = base_sample + index
        else:
            sample = None  # numbered by the pipeline: repeated samples of a prompt in file order
        yield {
            "locator": place,
            "model": model,
            "model_alt": model_alt,
            "prompt": ctx["prompt"],
            "system_prompt": ctx.get("system_prompt"),
            "response": text,
            "sample_index": sample,
            "choice_index": index,
            "temperature": ctx.get("temperature"),
            "finish_reason": finish,
            "prompt_id": trial.get("prompt_id"),
            "record_key": record_key,
            "run_id": trial.get("run_id"),
            "greeting": trial.get("greeting"),
            "hints": ctx.get("hints"),
            "conditions": ctx.get("conditions"),
        }


_KEY_TYPES = (str, int, bool, type(None))


def plain_batch_output(obj: dict) -> tuple[str, str | None, str, list] | None:
    """The common Batch API output line, read quickly: a chat completion with text answers.

    Returns exactly what :func:`output_record` returns for such a line, or None for any
    other line (errors, refusals, other endpoints, unusual types), which then goes through
    :func:`output_record`. It reads no field that an integer beyond 64 bits could change,
    so ``obj`` may come unchecked from orjson
    (:func:`stats.ingest.fastjson.loads_line_unchecked`).
    """
    custom_id = obj.get("custom_id")
    response = obj.get("response")
    if type(custom_id) is not str or not custom_id or obj.get("error") is not None:
        return None
    if type(response) is not dict:
        return None
    status = response.get("status_code")
    body = response.get("body")
    if status is not None and (type(status) is not int or status != 200):
        return None
    if type(body) is not dict or body.get("object") == "response":
        return None
    choices = body.get("choices")
    if type(choices) is not list or not choices:
        return None
    answers = []
    for position, choice in enumerate(choices):
        if type(choice) is not dict:
            return None
        index = choice.get("index", position)
        message = choice.get("message")
        content = message.get("content") if type(message) is dict else None
        finish = choice.get("finish_reason")
        if type(index) is not int or type(content) is not str or not content:
            return None
        if index < 0 or index >= MAX_CHOICES or content.isspace():
            return None
        if finish is not None and type(finish) is not str:
            return None
        answers.append((index, content, finish))
    model = body.get("model")
    line_id, body_id = obj.get("id"), body.get("id")
    if model is not None and type(model) is not str:
        return None
    if type(line_id) not in _KEY_TYPES or type(body_id) not in _KEY_TYPES:
        return None
    return custom_id, model, f"{custom_id}|{line_id}|{body_id}", answers


def output_record(obj: dict) -> tuple[str, str | None, str, list]:
    """``(custom_id, model, record_key, answers)`` of one Batch API output line."""
    custom_id, body = batch_output_parts(obj)
    choices = body_choices(body, "response.body")
    return custom_id, body.get("model"), f"{custom_id}|{obj.get('id')}|{body.get('id')}", choices


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
    trial, hints, conditions = split_metadata(
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
        "hints": hints,
        "conditions": conditions,
    }


def _prompt_text(value: Any, where: str) -> str:
    if type(value) is not str:
        raise RecordError(
            "invalid-field", f"field '{where}' should be text, found {type(value).__name__}"
        )
    return value


def read_chat_completions(
    source: SourceFile, records: Iterator[Record | Reject]
) -> Iterator[dict | Reject]:
    """Candidates of chat completion objects (JSON or JSONL; ``n`` choices are ``n`` trials)."""
    for item in records:
        if isinstance(item, Reject):
            yield item
            continue
        locator, obj, raw = item
        try:
            body = obj
            if isinstance(obj.get("response"), dict):
                response = obj["response"]
                body = response.get("body") if isinstance(response.get("body"), dict) else response
            if body.get("object") not in ("chat.completion", "text_completion", "response", None):
                raise RecordError(
                    "invalid-field",
                    f"field 'object' is {body.get('object')!r}, not a chat completion",
                )
            ctx = embedded_context(obj, source.spec, "the chat completion")
            choices = body_choices(body, "" if body is obj else "response")
        except RecordError as err:
            yield Reject(
                locator, err.reason, f"{source.where(locator)}: {err.detail}", snippet_of(raw)
            )
            continue
        model = (
            body.get("model") or ctx.get("model") or (source.spec.model if source.spec else None)
        )
        yield from expand(
            ctx,
            choices,
            locator=locator,
            model=model,
            model_alt=ctx.get("model"),
            record_key=f"{body.get('id')}|{body.get('created')}",
            base_sample=None,
            raw=raw,
            source=source,
        )
