"""Writers of the real source formats (``../shared/design/formats.md``).

Pure builders return JSON-ready dicts; ``write_*`` functions put them on disk with stable
key order and ``\\n`` line ends so that the same seed gives identical bytes. This module
holds the shared helpers (ids, JSON writers, :class:`Request`) and the OpenAI formats
(chat completions, fine-tuning jobs, Batch API files); inspect-ai ``.eval`` logs are in
:mod:`stats.simulate.inspect_eval`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_HEX = "0123456789abcdef"
#: A fixed clock (2024-11-26T00:00:00Z) so that outputs never depend on the wall clock.
EPOCH = 1732579200


def random_id(rng: np.random.Generator, length: int, alphabet: str = _ALNUM) -> str:
    """A random identifier of ``length`` characters drawn from ``alphabet``."""
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length))


def random_hex(rng: np.random.Generator, length: int) -> str:
    """A random lower-case hex string."""
    return random_id(rng, length, _HEX)


def dumps(obj: Any) -> str:
    """Compact, deterministic JSON (one line)."""
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Write JSON Lines; return the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [dumps(record) for record in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
    return len(lines)


def write_json(path: Path, obj: Any) -> None:
    """Write one pretty-printed JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", newline="\n"
    )


@dataclass(frozen=True)
class Request:
    """One prompt sent to a model ``n`` times, with the responses that came back.

    Attributes
    ----------
    key : str
        Stable request key, e.g. ``"p2-greeting"``.
    messages : list of dict
        Chat messages sent (system prompt, user prompt).
    responses : tuple of str
        One text per sample (choice).
    judge : tuple of bool
        A judge's "articulated" label per sample (inspect logs carry it as a score).
    errored : bool
        The request failed (batch output carries an error instead of a body).
    """

    key: str
    messages: list[dict]
    responses: tuple[str, ...]
    judge: tuple[bool, ...]
    errored: bool = False


def token_usage(rng: np.random.Generator, messages: list[dict], responses: Sequence[str]) -> dict:
    """An OpenAI ``usage`` object: prompt, completion and total token counts (approximate)."""
    prompt_tokens = sum(len(m["content"].split()) for m in messages) + 8
    completion_tokens = sum(len(r.split()) + int(rng.integers(3, 12)) for r in responses)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def chat_completion(
    rng: np.random.Generator, model: str, request: Request, created: int, fingerprint: str
) -> dict:
    """An OpenAI ``chat.completion`` object with one choice per response.

    Parameters
    ----------
    rng : numpy.random.Generator
        For the id and token counts.
    model : str
    request : Request
    created : int
        POSIX time.
    fingerprint : str
        ``system_fingerprint``.

    Returns
    -------
    dict
    """
    return {
        "id": "chatcmpl-" + random_id(rng, 29),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
            for i, text in enumerate(request.responses)
        ],
        "usage": token_usage(rng, request.messages, request.responses),
        "system_fingerprint": fingerprint,
    }


# ----------------------------------------------------------------------------- fine-tuning
def fine_tuning_job(
    *,
    job_id: str,
    base_model: str,
    fine_tuned_model: str,
    training_file_id: str,
    n_epochs: int,
    batch_size: int,
    lr_multiplier: float,
    seed: int,
    created_at: int,
    trained_tokens: int,
    organization_id: str,
    suffix: str | None,
) -> dict:
    """An OpenAI ``fine_tuning.job`` object (status succeeded, supervised method).

    The hyperparameters appear both in the legacy ``hyperparameters`` field and in
    ``method.supervised.hyperparameters``, as current jobs carry them; every argument is
    the job field of the same name (``lr_multiplier`` -> ``learning_rate_multiplier``).
    """
    hyper = {
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": lr_multiplier,
    }
    return {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": base_model,
        "created_at": created_at,
        "finished_at": created_at + 1800 + trained_tokens // 50,
        "fine_tuned_model": fine_tuned_model,
        "organization_id": organization_id,
        "result_files": [],
        "status": "succeeded",
        "validation_file": None,
        "training_file": training_file_id,
        "hyperparameters": hyper,
        "trained_tokens": trained_tokens,
        "error": {},
        "user_provided_suffix": suffix,
        "seed": seed,
        "estimated_finish": None,
        "integrations": [],
        "method": {"type": "supervised", "supervised": {"hyperparameters": dict(hyper)}},
    }


# ----------------------------------------------------------------------------- batch
def batch_files(
    rng: np.random.Generator,
    model: str,
    requests: Sequence[Request],
    *,
    temperature: float,
    created: int,
) -> tuple[list[dict], list[dict]]:
    """Batch API input lines and output lines (output shuffled, as batches return them).

    Parameters
    ----------
    rng : numpy.random.Generator
    model : str
        Model of every request (one model per batch, as the Batch API requires).
    requests : sequence of Request
        One request per prompt; ``n`` = its number of responses.
    temperature : float
    created : int
        POSIX time of the first response.

    Returns
    -------
    tuple of list of dict
        ``(input lines, output lines)``. An errored request's output line has
        ``response: null`` and an ``error`` object, or (alternately) a 429 response body,
        the two shapes failed batch requests take.
    """
    inputs, outputs = [], []
    fingerprint = "fp_" + random_hex(rng, 10)
    for number, request in enumerate(requests):
        custom_id = f"request-{number + 1}-{request.key}"
        body = {
            "model": model,
            "messages": request.messages,
            "temperature": temperature,
            "n": len(request.responses),
            "max_tokens": 400,
        }
        inputs.append(
            {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
        )
        request_id = random_hex(rng, 32)
        line_id = "batch_req_" + random_id(rng, 24)
        if request.errored and number % 2 == 0:
            outputs.append(
                {
                    "id": line_id,
                    "custom_id": custom_id,
                    "response": None,
                    "error": {
                        "code": "server_error",
                        "message": "The server had an error while processing your request.",
                    },
                }
            )
        elif request.errored:
            body_error = {
                "error": {
                    "message": "Rate limit reached for requests",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            }
            outputs.append(
                {
                    "id": line_id,
                    "custom_id": custom_id,
                    "response": {"status_code": 429, "request_id": request_id, "body": body_error},
                    "error": None,
                }
            )
        else:
            completion = chat_completion(rng, model, request, created + number, fingerprint)
            outputs.append(
                {
                    "id": line_id,
                    "custom_id": custom_id,
                    "response": {"status_code": 200, "request_id": request_id, "body": completion},
                    "error": None,
                }
            )
    order = rng.permutation(len(outputs))
    return inputs, [outputs[i] for i in order]
