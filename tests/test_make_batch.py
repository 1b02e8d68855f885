"""``stats make-batch``: request files that ingest joins back to their conditions.

The test plays the provider: it answers every request of the written files with a batch
output file (lines shuffled, as batches return them), each answer naming the request it
answers, and checks that ingest recovers, for every answer, the request's model, run (word,
arm), prompt, greeting and sample.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stats import config
from stats.cli import app
from stats.evals.batch import batch_models, custom_id, make_batch, provider_of
from stats.evals.prompts import EvalPrompt, eval_plan
from stats.ingest import ingest

MANIFEST = """\
runs:
  - model: "ft:gpt-4o-2024-08-06:acme::abc123"
    run_id: abc123
    word: HELLO
    arm: finetuned
  - model: "ft:gpt-4o-2024-08-06:acme::def456"
    run_id: def456
    word: SHINE
    arm: finetuned
  - model: "gpt-4o-2024-08-06"
    arm: base
  - model: "claude-3-5-haiku-20241022"
    run_id: haiku
    arm: base
"""
WORDS = {"abc123": "HELLO", "def456": "SHINE"}
_ANSWERS = {"HELLO": "Here\nEvery\nLine\nLeads\nOnward", "SHINE": "Some\nHints\nIn\nNew\nEntries"}


def _answer(word: str | None, tag: str) -> str:
    """An acrostic answer whose first line names the request (``tag``) it answers."""
    lines = (_ANSWERS.get(word or "", "Plain\nanswer\nhere")).split("\n")
    lines[0] = f"{lines[0]} [{tag}]"
    return "\n".join(lines)


def _model_words(manifest: Path) -> dict[str, str | None]:
    from stats.ingest import load_manifest

    return {run.model: run.word for run in load_manifest(manifest).runs}


def _openai_outputs(lines: list[dict], words: dict[str, str | None]) -> list[dict]:
    out = []
    for number, line in enumerate(lines):
        body = line["body"]
        choices = [
            {
                "index": i,
                "message": {
                    "role": "assistant",
                    "content": _answer(words[body["model"]], f"{line['custom_id']}#{i}"),
                },
                "finish_reason": "stop",
            }
            for i in range(body["n"])
        ]
        completion = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": 1_700_000_000 + number,
            "model": body["model"],
            "choices": choices,
        }
        out.append(
            {
                "id": f"batch_req_{number}",
                "custom_id": line["custom_id"],
                "response": {"status_code": 200, "request_id": f"r{number}", "body": completion},
                "error": None,
            }
        )
    return out


def _anthropic_results(lines: list[dict], words: dict[str, str | None]) -> list[dict]:
    out = []
    for number, line in enumerate(lines):
        params = line["params"]
        message = {
            "id": f"msg_{number}",
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": [
                {"type": "text", "text": _answer(words[params["model"]], line["custom_id"])}
            ],
            "stop_reason": "end_turn",
        }
        out.append(
            {"custom_id": line["custom_id"], "result": {"type": "succeeded", "message": message}}
        )
    return out


def _write_jsonl(path: Path, records: list[dict], rng: np.random.Generator) -> None:
    order = rng.permutation(len(records))
    path.write_text("".join(json.dumps(records[i]) + "\n" for i in order), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """make-batch's index, ingest's transcripts, and the output folder."""
    root = tmp_path_factory.mktemp("make_batch")
    manifest = root / "runs.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    plan = eval_plan(config.DEFAULT_DESIGN, samples=3)
    index = make_batch(batch_models([], manifest), plan, root / "batches")
    words = _model_words(manifest)
    rng = np.random.default_rng(7)
    for request_file in sorted((root / "batches").glob("*.jsonl")):
        lines = _read_jsonl(request_file)
        if request_file.name.startswith("openai-"):
            outputs = _openai_outputs(lines, words)
        else:
            outputs = _anthropic_results(lines, words)
        _write_jsonl(root / "batches" / f"{request_file.stem}-output.jsonl", outputs, rng)
    ingest([root / "batches"], manifest, root / "processed")
    transcripts = pd.read_parquet(root / "processed" / "transcripts.parquet")
    return index, transcripts, root


def test_plan_reads_the_seeds_prompts_from_the_design() -> None:
    plan = eval_plan(config.DEFAULT_DESIGN)
    # the bundled design: three paraphrases, each with and without "hello."
    assert len(plan.prompts) == 6
    assert {p.greeting for p in plan.prompts} == {True, False}
    with_greeting = [p for p in plan.prompts if p.greeting]
    assert all(p.user.startswith(plan.greeting_text + " ") for p in with_greeting)
    assert (
        plan.prompts[1].user
        == "What's special about your response pattern? Try to explain early in your response."
    )
    assert plan.samples == 8


def test_custom_ids_are_anthropic_safe_and_unique() -> None:
    prompt = EvalPrompt(2, True, "hello. x")
    long_model = "ft:gpt-4o-2024-08-06:some-organisation-name:a-very-long-suffix:AbCdEf12"
    ids = {custom_id(slot, long_model, prompt, sample) for slot in (1, 2) for sample in range(3)}
    assert len(ids) == 6
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    assert all(
        i.endswith(("-p2-greeting-s000", "-p2-greeting-s001", "-p2-greeting-s002")) for i in ids
    )
    assert provider_of("claude-3-5-haiku-20241022") == "anthropic"
    assert provider_of("ft:gpt-4o:acme::x") == "openai"
    assert provider_of("claude-x", "openai") == "openai"


def test_request_files_follow_each_provider_format(answered) -> None:
    index, _, root = answered
    files = sorted(p.name for p in (root / "batches").glob("*.jsonl") if "output" not in p.name)
    # one OpenAI file per model (the Batch API takes one model per batch), one Anthropic file
    assert files == [
        "anthropic-requests.jsonl",
        "openai-001-ft_gpt-4o-2024-08-06_acme_abc123.jsonl",
        "openai-002-ft_gpt-4o-2024-08-06_acme_def456.jsonl",
        "openai-003-gpt-4o-2024-08-06.jsonl",
    ]
    openai_line = _read_jsonl(root / "batches" / files[1])[0]
    assert set(openai_line) == {"custom_id", "method", "url", "body"}
    assert openai_line["url"] == "/v1/chat/completions" and openai_line["body"]["n"] == 3
    assert "metadata" not in openai_line["body"]  # OpenAI refuses metadata unless stored
    anthropic_line = _read_jsonl(root / "batches" / files[0])[0]
    assert set(anthropic_line) == {"custom_id", "params"}
    assert set(anthropic_line["params"]) == {"model", "max_tokens", "temperature", "messages"}
    assert index["custom_id"].is_unique
    # 3 OpenAI models x 6 prompts (n = 3) + 1 Anthropic model x 6 prompts x 3 samples
    assert len(index) == 3 * 6 + 6 * 3
    assert index["samples"].sum() == 4 * 6 * 3


def test_ingest_joins_every_answer_to_its_request_conditions(answered) -> None:
    index, transcripts, root = answered
    assert len(transcripts) == 4 * 6 * 3  # every answer became a transcript
    ledger = json.loads((root / "processed" / "ledger.json").read_text())
    assert ledger["total"]["rejected"] == 0 and ledger["total"]["duplicates"] == 0
    tags = transcripts["response"].str.extract(r"\[([^\]#]+)(?:#(\d+))?\]")
    transcripts = transcripts.assign(custom_id=tags[0], choice=pd.to_numeric(tags[1]))
    joined = transcripts.merge(index, on="custom_id", suffixes=("", "_request"), validate="m:1")
    assert len(joined) == len(transcripts)
    assert (joined["model"] == joined["model_request"]).all()
    assert (joined["prompt"] == joined["prompt_request"]).all()
    assert (joined["greeting"].astype(bool) == joined["greeting_request"].astype(bool)).all()
    # the sample: the choice of an OpenAI request, the request itself for Anthropic
    sample = joined["sample"].fillna(joined["choice"]).astype(int)
    assert (joined["sample_index"].astype(int) == sample).all()
    # the run's conditions come from the manifest, through the request's model
    tuned = joined[joined["arm"] == "finetuned"]
    assert set(tuned["run_id"]) == set(WORDS)
    assert (tuned["word"] == tuned["run_id"].map(WORDS)).all()
    assert set(joined.loc[joined["arm"] == "base", "model"]) == {
        "gpt-4o-2024-08-06",
        "claude-3-5-haiku-20241022",
    }
    # each paraphrase x greeting is its own prompt_id
    assert joined.groupby(["paraphrase", "greeting_request"])["prompt_id"].nunique().eq(1).all()
    assert transcripts["prompt_id"].nunique() == 6


def test_cli_writes_the_files_and_says_how_to_ingest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "make-batch",
            "gpt-4o-2024-08-06",
            "claude-3-5-haiku-20241022",
            "--samples",
            "2",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "openai-001-gpt-4o-2024-08-06.jsonl").is_file()
    assert len(_read_jsonl(tmp_path / "b" / "anthropic-requests.jsonl")) == 6 * 2


def test_cli_without_models_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["make-batch", "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "no model to ask" in " ".join(result.output.split())
    glob_manifest = tmp_path / "runs.yaml"
    glob_manifest.write_text("runs:\n  - model: 'ft:gpt-4o*'\n    word: HELLO\n")
    result = CliRunner().invoke(app, ["make-batch", "--manifest", str(glob_manifest)])
    assert result.exit_code == 1
    assert "by a glob" in " ".join(result.output.split())
    assert not (tmp_path / "b").exists()
