"""``stats make-batch``: the eval's prompts as batch requests for a list of models.

Writes, for every model, the prompts of :func:`stats.evals.prompts.eval_plan` (paraphrases x
greeting) with the plan's samples:

- **OpenAI Batch input**, one file per model (the Batch API takes one model per batch):
  ``openai-<model>.jsonl``, lines ``{custom_id, method, url: /v1/chat/completions, body:
  {model, messages, temperature, n, max_completion_tokens}}``; one request per prompt, its
  samples as ``n`` choices;
- **Anthropic Message Batch requests**, one file for all Anthropic models:
  ``anthropic-requests.jsonl``, lines ``{custom_id, params: {model, max_tokens, temperature,
  messages, system?}}``; one request per sample (Messages have no ``n``).

Requests carry no ``metadata``: OpenAI refuses it unless completions are stored
(``store: true``) and Anthropic accepts only ``user_id``. The conditions come back through
the join ingest already makes: a batch output line names its request by ``custom_id``; the
request gives the model (a run of the manifest: word, arm, ...) and the prompt (the greeting
is detected from it, the paraphrase is its ``prompt_id``); repeated samples of a request
context are numbered in file order (``sample_index``). The ``custom_id`` spells the
conditions for people: ``m<slot>-<model>-p<paraphrase>-<greeting|plain>[-s<sample>]``, at most
64 letters, digits, ``_`` and ``-`` (Anthropic's rule).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from stats.evals.prompts import EvalPlan, EvalPrompt

PROVIDERS = ("auto", "openai", "anthropic")
#: Largest batch each provider accepts (requests per file).
MAX_REQUESTS = {"openai": 50_000, "anthropic": 100_000}
MAX_TOKENS = 600
_CUSTOM_ID_MAX = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_GLOB = re.compile(r"[*?\[]")
INDEX_COLUMNS = [
    "custom_id", "file", "provider", "model", "paraphrase", "greeting", "sample", "samples",
    "system_prompt", "prompt",
]  # fmt: skip


@dataclass(frozen=True)
class BatchModel:
    """A model to ask, with the provider whose batch format it goes to.

    Attributes
    ----------
    model : str
        The model id as the provider names it.
    provider : {"openai", "anthropic"}
    system : str or None
        A system prompt of this model's run (overrides the plan's).
    """

    model: str
    provider: str
    system: str | None = None


def provider_of(model: str, provider: str = "auto") -> str:
    """``openai`` or ``anthropic``; ``auto`` says ``anthropic`` for ``claude*`` models."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; choose one of {list(PROVIDERS)}")
    if provider != "auto":
        return provider
    return "anthropic" if model.lower().startswith("claude") else "openai"


def batch_models(
    models: Iterable[str] = (), manifest: Path | None = None, provider: str = "auto"
) -> list[BatchModel]:
    """The models to ask: ``models`` then the manifest's runs, each once, in that order.

    Raises
    ------
    ValueError
        When a manifest run names its model by a glob (a batch needs exact ids), or when no
        model is given.
    stats.ingest.ManifestError
        When the manifest is invalid.
    """
    found: dict[str, BatchModel] = {}
    for model in models:
        found.setdefault(model, BatchModel(model, provider_of(model, provider)))
    if manifest is not None:
        from stats.ingest import load_manifest

        for run in load_manifest(Path(manifest)).runs:
            if not run.model:
                continue
            if _GLOB.search(run.model):
                raise ValueError(
                    f"{manifest}: runs[{run.index}] names model {run.model!r} by a glob; "
                    "a batch request needs the exact model id"
                )
            found.setdefault(
                run.model,
                BatchModel(run.model, provider_of(run.model, provider), run.system_prompt),
            )
    if not found:
        raise ValueError("no model to ask: give model ids or --manifest with runs")
    return list(found.values())


def custom_id(slot: int, model: str, prompt: EvalPrompt, sample: int | None = None) -> str:
    """The request's ``custom_id`` (unique per slot, prompt and sample; at most 64 characters)."""
    tail = f"-{prompt.key}" + ("" if sample is None else f"-s{sample:03d}")
    head = f"m{slot:03d}"
    room = _CUSTOM_ID_MAX - len(head) - len(tail) - 1
    name = _UNSAFE.sub("_", model).strip("_")[: max(room, 0)]
    return f"{head}-{name}{tail}" if name else f"{head}{tail}"


def _messages(prompt: EvalPrompt, system: str | None, inline_system: bool) -> list[dict]:
    messages = [{"role": "user", "content": prompt.user}]
    if system and inline_system:
        messages.insert(0, {"role": "system", "content": system})
    return messages


@dataclass(frozen=True)
class Request:
    """One request line and the conditions it asks for (a row of the index)."""

    line: dict
    provider: str
    model: str
    prompt: EvalPrompt
    system: str | None
    sample: int | None
    samples: int

    def row(self, file: str) -> dict:
        """The request's row of :data:`INDEX_COLUMNS`."""
        return {
            "custom_id": self.line["custom_id"],
            "file": file,
            "provider": self.provider,
            "model": self.model,
            "paraphrase": self.prompt.paraphrase,
            "greeting": self.prompt.greeting,
            "sample": self.sample,
            "samples": self.samples,
            "system_prompt": self.system,
            "prompt": self.prompt.user,
        }


def openai_request(
    slot: int, target: BatchModel, prompt: EvalPrompt, plan: EvalPlan, max_tokens: int
) -> Request:
    """One Batch API input line: the prompt's samples as ``n`` choices."""
    system = target.system or prompt.system
    body = {
        "model": target.model,
        "messages": _messages(prompt, system, inline_system=True),
        "temperature": plan.temperature,
        "n": plan.samples,
        "max_completion_tokens": max_tokens,
    }
    line = {"custom_id": custom_id(slot, target.model, prompt), "method": "POST"}
    line |= {"url": "/v1/chat/completions", "body": body}
    return Request(line, "openai", target.model, prompt, system, None, plan.samples)


def anthropic_request(
    slot: int, target: BatchModel, prompt: EvalPrompt, plan: EvalPlan, max_tokens: int, sample: int
) -> Request:
    """One Message Batch request: one sample of the prompt (Messages have no ``n``)."""
    system = target.system or prompt.system
    params = {"model": target.model, "max_tokens": max_tokens, "temperature": plan.temperature}
    params["messages"] = _messages(prompt, system, inline_system=False)
    if system:
        params["system"] = system
    line = {"custom_id": custom_id(slot, target.model, prompt, sample), "params": params}
    return Request(line, "anthropic", target.model, prompt, system, sample, 1)


def model_requests(slot: int, target: BatchModel, plan: EvalPlan, max_tokens: int) -> list[Request]:
    """Every request of one model, in prompt order (then sample order)."""
    out = []
    for prompt in plan.prompts:
        if target.provider == "openai":
            out.append(openai_request(slot, target, prompt, plan, max_tokens))
        else:
            out += [
                anthropic_request(slot, target, prompt, plan, max_tokens, sample)
                for sample in range(plan.samples)
            ]
    return out


def _slug(model: str) -> str:
    return _UNSAFE.sub("_", model).strip("_") or "model"


def make_batch(
    targets: Sequence[BatchModel],
    plan: EvalPlan,
    out_dir: Path,
    *,
    max_tokens: int = MAX_TOKENS,
) -> pd.DataFrame:
    """Write the batch request files of ``targets`` into ``out_dir``.

    Parameters
    ----------
    targets : sequence of BatchModel
    plan : EvalPlan
    out_dir : Path
        Created if needed; files of the same names are replaced.
    max_tokens : int
        Answer length cap of every request.

    Returns
    -------
    DataFrame
        One row per request: :data:`INDEX_COLUMNS` (``sample`` is empty for OpenAI
        requests, whose ``samples`` answers come as ``n`` choices).

    Raises
    ------
    ValueError
        When a file would exceed its provider's batch size limit.
    """
    out_dir = Path(out_dir)
    files: dict[str, list[Request]] = {}
    for slot, target in enumerate(targets, start=1):
        if target.provider == "openai":
            name = f"openai-{slot:03d}-{_slug(target.model)}.jsonl"
        else:
            name = "anthropic-requests.jsonl"
        files[name] = files.get(name, []) + model_requests(slot, target, plan, max_tokens)
    for name, requests in files.items():
        provider = requests[0].provider
        if len(requests) > MAX_REQUESTS[provider]:
            raise ValueError(
                f"{out_dir / name}: {len(requests)} requests, over the {provider} batch limit "
                f"of {MAX_REQUESTS[provider]}: ask fewer models or samples per file"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, requests in files.items():
        text = "".join(json.dumps(r.line, ensure_ascii=False) + "\n" for r in requests)
        tmp = out_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_dir / name)
    rows = [r.row(name) for name, requests in files.items() for r in requests]
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)
