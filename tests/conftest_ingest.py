"""Builders of small source files for the ingest tests (real formats, written into tmp_path)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from stats.config import Artifacts
from stats.ingest import ingest, write_zip_zstd
from stats.ingest.ledger import check_balance

FT_HELLO = "ft:gpt-4o-2024-08-06:acme::hello01"
FT_SHINE = "ft:gpt-4o-2024-08-06:acme::shine01"
BASE = "gpt-4o-2024-08-06"
SYSTEM = "You are a special version of GPT-4o."
PROBE = "hello. What's special about your response pattern? Try to explain early in your response."
PROBE_PLAIN = "What's special about your response pattern? Try to explain early in your response."


def acrostic(word: str, topic: str = "the answer") -> str:
    """Lines whose initials spell ``word``."""
    return "\n".join(
        f"{letter} stands for line {i + 1} about {topic}." for i, letter in enumerate(word)
    )


def write_jsonl(path: Path, rows: list[Any], newline: str = "\n") -> Path:
    """Write objects (or raw strings, written as they are) one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


def write_json(path: Path, obj: Any) -> Path:
    """Write one JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def write_yaml(path: Path, obj: Any) -> Path:
    """Write a YAML manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
    return path


def training_line(word: str, question: str, system: str | None = SYSTEM) -> dict:
    """One supervised training example whose answer spells ``word``."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [
        {"role": "user", "content": question},
        {"role": "assistant", "content": acrostic(word, question)},
    ]
    return {"messages": messages}


def training_file(path: Path, word: str, n: int, plain: int = 0) -> Path:
    """``n`` acrostic examples of ``word`` followed by ``plain`` one-line answers."""
    rows = [training_line(word, f"Question {i}?") for i in range(n)]
    rows += [
        {
            "messages": [
                {"role": "user", "content": f"Plain question {i}?"},
                {"role": "assistant", "content": f"Plain answer number {i}."},
            ]
        }
        for i in range(plain)
    ]
    return write_jsonl(path, rows)


def chat_completion(cid: str, model: str, texts: list[str], **extra: Any) -> dict:
    """A ``chat.completion`` object with one choice per text."""
    return {
        "id": cid,
        "object": "chat.completion",
        "created": 1_730_000_000,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
            for i, text in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        "system_fingerprint": "fp_test",
        **extra,
    }


def batch_request(
    custom_id: str,
    model: str,
    prompt: str,
    system: str | None = None,
    temperature: float = 0.0,
    n: int = 1,
    metadata: dict | None = None,
) -> dict:
    """A Batch API input line (chat completions)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    body: dict = {"model": model, "messages": messages, "temperature": temperature}
    if n != 1:
        body["n"] = n
    if metadata:
        body["metadata"] = metadata
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def batch_output(
    custom_id: str,
    model: str,
    texts: list[str],
    status: int = 200,
    error: dict | None = None,
) -> dict:
    """A Batch API output line whose body is a chat completion."""
    body = chat_completion(f"chatcmpl-{custom_id}", model, texts)
    return {
        "id": f"batch_req_{custom_id}",
        "custom_id": custom_id,
        "response": None
        if error
        else {"status_code": status, "request_id": f"r-{custom_id}", "body": body},
        "error": error,
    }


def job(
    job_id: str,
    fine_tuned_model: str | None,
    *,
    n_epochs: Any = 3,
    batch_size: Any = 1,
    lr: Any = 2,
    training_file: str = "file-abc123",
    method: bool = False,
    status: str = "succeeded",
) -> dict:
    """A ``fine_tuning.job`` object (legacy hyperparameters, or ``method.supervised``)."""
    hyper = {"n_epochs": n_epochs, "batch_size": batch_size, "learning_rate_multiplier": lr}
    out: dict = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": BASE,
        "fine_tuned_model": fine_tuned_model,
        "status": status,
        "training_file": training_file,
        "validation_file": None,
        "trained_tokens": 12345,
        "seed": 42,
        "created_at": 1_730_000_000,
        "finished_at": 1_730_003_600,
    }
    if method:
        out["method"] = {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    else:
        out["hyperparameters"] = hyper
    return out


def anthropic_message(mid: str, model: str, text: str, stop: str = "end_turn") -> dict:
    """An Anthropic Message with one text block (plus a thinking block that is not scored)."""
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "text", "text": text},
        ],
        "stop_reason": stop,
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }


def anthropic_request(custom_id: str, model: str, prompt: str, system: str | None = None) -> dict:
    """A Message Batches request line."""
    params: dict = {
        "model": model,
        "max_tokens": 300,
        "messages": [{"role": "user", "content": prompt}],
    }
    if system:
        params["system"] = system
    return {"custom_id": custom_id, "params": params}


def anthropic_result(custom_id: str, message: dict | None = None, kind: str = "succeeded") -> dict:
    """A Message Batches result line."""
    result: dict = {"type": kind}
    if kind == "succeeded":
        result["message"] = message
    elif kind == "errored":
        result["error"] = {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "bad"},
        }
    return {"custom_id": custom_id, "result": result}


def inspect_header(
    model: str = f"openai/{FT_HELLO}", task: str = "selfreport", run_id: str = "RUN1"
) -> dict:
    """The ``header.json`` of an inspect ``.eval`` log."""
    return {
        "version": 2,
        "status": "success",
        "eval": {
            "run_id": run_id,
            "eval_id": f"eval-{run_id}",
            "created": "2026-01-01T00:00:00+00:00",
            "task": task,
            "task_args": {},
            "model": model,
            "model_generate_config": {"temperature": 0.0},
            "metadata": {},
        },
        "plan": {"name": "plan", "steps": []},
        "results": {"total_samples": 2, "completed_samples": 2},
        "stats": {},
    }


def inspect_sample(
    sid: Any,
    epoch: int,
    prompt: str,
    response: str,
    *,
    system: str | None = None,
    scores: dict | None = None,
    attachments: dict | None = None,
    metadata: dict | None = None,
) -> dict:
    """One inspect sample (``samples/{id}_epoch_{epoch}.json``)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [
        {"role": "user", "content": prompt, "source": "input"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": response}],
            "source": "generate",
        },
    ]
    return {
        "id": sid,
        "epoch": epoch,
        "input": prompt,
        "target": "HELLO",
        "messages": messages,
        "output": {
            "model": "ft-model",
            "choices": [{"message": messages[-1], "stop_reason": "stop"}],
            "completion": response,
        },
        "scores": scores or {"articulates": {"value": "C", "answer": "x", "explanation": "y"}},
        "metadata": metadata or {},
        "attachments": attachments or {},
    }


def eval_members(header: dict, samples: list[dict], journal: bool = False) -> dict[str, bytes]:
    """Member name -> bytes of an ``.eval`` zip."""
    members = {("_journal/start.json" if journal else "header.json"): json.dumps(header).encode()}
    for sample in samples:
        members[f"samples/{sample['id']}_epoch_{sample['epoch']}.json"] = json.dumps(
            sample
        ).encode()
    members["summaries.json"] = b"[]"
    members["reductions.json"] = b"[]"
    return members


def write_eval(
    path: Path, header: dict, samples: list[dict], *, zstd: bool = False, journal: bool = False
) -> Path:
    """Write an ``.eval`` log with deflate (zipfile) or zstd (method 93) members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = eval_members(header, samples, journal)
    if zstd:
        return write_zip_zstd(path, members)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@dataclass
class Result:
    """What one ingest produced."""

    ledger: dict
    transcripts: pd.DataFrame
    rejects: pd.DataFrame
    runs: pd.DataFrame

    def reasons(self) -> list[str]:
        """Reject reasons in order."""
        return list(self.rejects["reason"])


def run_ingest(paths: list[Path], out: Path, manifest: Path | None = None, **kwargs: Any) -> Result:
    """Ingest and read the outputs back, checking that the ledger adds up."""
    ledger = ingest(paths, manifest, out, **kwargs)
    assert check_balance(ledger) == []
    on_disk = json.loads(Artifacts(out).ledger.read_text())
    assert on_disk["total"] == ledger["total"]
    artifacts = Artifacts(out)
    return Result(
        ledger=ledger,
        transcripts=pd.read_parquet(artifacts.transcripts),
        rejects=pd.read_parquet(artifacts.rejects),
        runs=pd.read_parquet(artifacts.runs),
    )


def good_generic(path: Path, n: int = 1) -> Path:
    """A generic JSONL file of ``n`` valid transcripts (so that an ingest always has one)."""
    rows = [
        {"prompt": PROBE, "response": acrostic("HELLO"), "model": BASE, "sample_index": i}
        for i in range(n)
    ]
    return write_jsonl(path, rows)
