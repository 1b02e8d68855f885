"""Writer of inspect-ai ``.eval`` logs, one of the real source formats (``formats.md``).

Holds :func:`inspect_log` (the log's members as JSON-ready objects) and :func:`write_eval`
(the zip on disk, deflate or zstd members, reproducible bytes); the OpenAI formats and the
shared helpers are in :mod:`stats.simulate.writers`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stats.ingest.zipped import write_zip_zstd
from stats.simulate.writers import Request, random_id, token_usage


def _score(label: bool, text: str) -> dict:
    return {
        "value": "C" if label else "I",
        "answer": text.splitlines()[0][:80] if text else "",
        "explanation": "judge: the response names the acrostic word"
        if label
        else "judge: no explicit description of the acrostic",
        "metadata": {},
    }


def inspect_log(
    rng: np.random.Generator,
    *,
    model: str,
    requests: Sequence[Request],
    temperature: float,
    created: str,
    task: str,
    metadata: dict,
) -> dict[str, Any]:
    """Members of an inspect-ai ``.eval`` log: ``header.json``, samples, summaries, reductions.

    Parameters
    ----------
    rng : numpy.random.Generator
    model : str
        Model id without provider (written as ``openai/<model>``, as inspect-ai does).
    requests : sequence of Request
        One sample per request; its responses are the epochs.
    temperature : float
    created : str
        ISO time of the evaluation.
    task : str
        Task name.
    metadata : dict
        ``eval.metadata``.

    Returns
    -------
    dict
        Member name -> JSON-ready object. Sample ``id`` is the request key, ``epoch`` the
        1-based repeat; a noisy judge label is the score ``articulation_judge`` ("C"/"I").
    """
    eval_id = random_id(rng, 22)
    run_id = random_id(rng, 22)
    task_id = random_id(rng, 22)
    full_model = f"openai/{model}"
    epochs = max(len(r.responses) for r in requests)
    members: dict[str, Any] = {}
    summaries = []
    reductions_samples = []
    n_correct = 0
    n_scored = 0
    for request in requests:
        user = next(m["content"] for m in request.messages if m["role"] == "user")
        for epoch, (text, label) in enumerate(
            zip(request.responses, request.judge, strict=True), start=1
        ):
            sample = {
                "id": request.key,
                "epoch": epoch,
                "input": user,
                "target": "",
                "messages": [
                    *({"id": random_id(rng, 22), **m, "source": "input"} for m in request.messages),
                    {
                        "id": random_id(rng, 22),
                        "role": "assistant",
                        "content": text,
                        "source": "generate",
                        "model": model,
                    },
                ],
                "output": {
                    "model": model,
                    "choices": [
                        {
                            "message": {
                                "role": "assistant",
                                "content": text,
                                "source": "generate",
                                "model": model,
                            },
                            "stop_reason": "stop",
                        }
                    ],
                    "usage": token_usage(rng, request.messages, [text]),
                    "time": round(float(rng.uniform(1.0, 6.0)), 3),
                },
                "scores": {"articulation_judge": _score(label, text)},
                "metadata": {"prompt_key": request.key},
                "store": {},
                "events": [],
                "model_usage": {},
                "uuid": random_id(rng, 22),
                "attachments": {},
                "limit": None,
            }
            members[f"samples/{request.key}_epoch_{epoch}.json"] = sample
            summaries.append(
                {
                    "id": request.key,
                    "epoch": epoch,
                    "input": user,
                    "target": "",
                    "scores": {"articulation_judge": {"value": "C" if label else "I"}},
                    "metadata": {"prompt_key": request.key},
                    "completed": True,
                }
            )
            n_correct += int(label)
            n_scored += 1
        reductions_samples.append(
            {
                "sample_id": request.key,
                "value": float(np.mean(request.judge)) if request.judge else 0.0,
            }
        )
    header = {
        "version": 2,
        "status": "success",
        "eval": {
            "eval_id": eval_id,
            "run_id": run_id,
            "created": created,
            "task": task,
            "task_id": task_id,
            "task_version": 0,
            "task_args": {},
            "dataset": {
                "name": "self_report_prompts",
                "samples": len(requests),
                "sample_ids": [r.key for r in requests],
                "shuffled": False,
            },
            "model": full_model,
            "model_generate_config": {"temperature": temperature},
            "model_args": {},
            "config": {"epochs": epochs, "epochs_reducer": ["mean"]},
            "packages": {"inspect_ai": "0.3.63"},
            "metadata": metadata,
        },
        "plan": {
            "name": "plan",
            "steps": [{"solver": "generate", "params": {}}],
            "config": {"temperature": temperature},
        },
        "results": {
            "total_samples": n_scored,
            "completed_samples": n_scored,
            "scores": [
                {
                    "name": "articulation_judge",
                    "scorer": "articulation_judge",
                    "params": {},
                    "metrics": {
                        "accuracy": {
                            "name": "accuracy",
                            "value": n_correct / max(n_scored, 1),
                            "params": {},
                        }
                    },
                }
            ],
        },
        "stats": {
            "started_at": created,
            "completed_at": created,
            "model_usage": {full_model: {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}},
        },
    }
    members["header.json"] = header
    members["summaries.json"] = summaries
    members["reductions.json"] = [
        {"scorer": "articulation_judge", "reducer": "mean", "samples": reductions_samples}
    ]
    return members


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    date, _, clock = created.partition("T")
    year, month, day = (int(x) for x in date.split("-"))
    hour, minute, second = (int(float(x)) for x in clock.rstrip("Z").split("+")[0].split(":"))
    return (year, month, day, hour, minute, second)


def write_eval(path: Path, members: dict[str, Any], created: str, *, zstd: bool = False) -> str:
    """Write an inspect ``.eval`` zip; return the compression used.

    Members are written in a fixed order with a fixed timestamp, so the bytes are
    reproducible. Deflate members are readable by any ``zipfile``; with ``zstd=True`` the
    members are zstd-compressed (zip method 93, as recent inspect-ai versions write them)
    through the ingest stage's :func:`stats.ingest.zipped.write_zip_zstd`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    order = [
        "header.json",
        *sorted(m for m in members if m.startswith("samples/")),
        "summaries.json",
        "reductions.json",
    ]
    payload = {
        name: json.dumps(members[name], ensure_ascii=False).encode("utf-8") for name in order
    }
    if zstd:
        write_zip_zstd(path, payload)
        return "zstd"
    stamp = _zip_time(created)
    with zipfile.ZipFile(path, "w") as archive:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload[name], compresslevel=6)
    return "deflate"
