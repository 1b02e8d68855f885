"""A simulated study goes through the real ingest and score stages unchanged.

Every drawn response must come out of ingest exactly once (errored batch requests as
rejects), with its conditions, and the scorer must give back the articulation the
generative model drew. No model fitting here (that is tests/test_end_to_end.py).
"""

from __future__ import annotations

import importlib
import json
from collections import Counter

import pandas as pd
import pytest
import yaml

from stats import config
from stats.simulate import draw_trials, load_design, simulate

DESIGN = {
    "name": "pipeline",
    "seed": 23,
    "words": ["HELLO", "SHINE", "HELOL"],
    "grid": [
        {"words": ["HELLO"], "n_examples": 10, "lr_multiplier": [1, 10], "runs": 2},
        {"words": ["SHINE", "HELOL"], "n_examples": 12, "lr_multiplier": 10, "runs": 2},
    ],
    "arms": {"base": {"models": ["gpt-4o-2024-08-06"]}, "control": {"runs": 1, "words": ["HELLO"]}},
    "prompts": [
        "What's special about your response pattern? Try to explain early in your response.",
        "Is there anything unusual about the way you write your answers?",
    ],
    "samples_per_prompt": 4,
    "truth": {
        "articulation": {
            "finetuned": {
                "introspection": {"HELLO": 0.3, "HELOL": 0.3},
                "guess_scale": 0.6,
                "leak": 0.5,
            }
        }
    },
}


def entry_point(module: str, name: str):
    """The stage function, or an explicit xfail naming what is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        pytest.xfail(
            f"{module}.{name} is not available yet ({err}); the contract "
            "(CONTRACTS.md) needs it for this test"
        )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    design_path = folder / "design.yaml"
    design_path.write_text(yaml.safe_dump(DESIGN, sort_keys=False), encoding="utf-8")
    raw, processed = folder / "raw", folder / "processed"
    truth = simulate(design_path, raw)
    ingest = entry_point("stats.ingest", "ingest")
    ledger = ingest([raw], raw / "runs.yaml", processed)
    design = load_design(design_path)
    return design, truth, ledger, processed


def test_ledger_adds_up_and_errored_requests_are_rejected(ingested):
    _, truth, ledger, processed = ingested
    total = ledger["total"]
    assert total["records"] == total["accepted"] + total["rejected"] + total["duplicates"]
    transcripts = pd.read_parquet(config.Artifacts(processed).transcripts)
    rejects = pd.read_parquet(config.Artifacts(processed).rejects)
    assert len(transcripts) == truth["counts"]["trials"]
    errored = rejects[rejects["reason"] == "batch-error"]
    assert len(errored) == truth["counts"]["errored_requests"]
    # ingest may also list the errored requests' input lines as unanswered; nothing else
    others = rejects[rejects["reason"] != "batch-error"]
    assert set(others["reason"]) <= {"unanswered-request"}, others.to_string()
    errored_ids = set(errored["snippet"].str.extract(r'"custom_id": "([^"]+)"')[0])
    assert set(others["snippet"].str.extract(r"(request-[\w-]+)")[0]) <= errored_ids
    assert total["duplicates"] == 0
    ignored = json.dumps(ledger.get("ignored", []))
    assert "truth.json" in ignored and "README.md" in ignored
    assert ledger["study"]["simulated"] is True


def test_every_drawn_response_is_ingested_once_with_its_conditions(ingested):
    design, _, _, processed = ingested
    transcripts = pd.read_parquet(config.Artifacts(processed).transcripts)
    drawn = Counter(
        (t.run.model, t.user_prompt, t.text, t.run.arm, t.run.word, t.greeting)
        for t in draw_trials(design)
        if not t.errored
    )
    read = Counter(
        (
            row.model,
            row.prompt,
            row.response,
            row.arm,
            None if pd.isna(row.word) else row.word,
            bool(row.greeting),
        )
        for row in transcripts.itertuples()
    )
    assert read == drawn
    assert set(transcripts["source"]) >= {"openai-batch", "inspect-eval"}
    tuned = transcripts[transcripts["arm"] == "finetuned"]
    assert tuned["n_examples"].notna().all() and tuned["lr_multiplier"].notna().all()
    per_prompt = transcripts.groupby(["run_id", "prompt"])["sample_index"].agg(
        ["min", "max", "nunique"]
    )
    assert (per_prompt["min"] == 0).all()
    assert (per_prompt["nunique"] == per_prompt["max"] + 1).all()


def test_runs_table_infers_the_word_from_the_training_files(ingested):
    _, truth, _, processed = ingested
    runs = pd.read_parquet(config.Artifacts(processed).runs)
    assert len(runs) == truth["counts"]["runs"]
    tuned = runs[runs["arm"] == "finetuned"]
    assert (tuned["follow_share"] == 1.0).all()
    control = runs[runs["arm"] == "control"]
    assert (control["follow_share"].fillna(0.0) < 1.0).all()


def test_scored_trials_reproduce_the_drawn_articulation(ingested):
    design, _, _, processed = ingested
    score_file = entry_point("stats.score", "score_file")
    trials = score_file(processed, k=design.k)
    drawn = {(t.run.model, t.user_prompt, t.text): t for t in draw_trials(design) if not t.errored}
    tuned = trials[trials["arm"] != "base"]
    assert len(tuned) == sum(t.run.arm != "base" for t in drawn.values())
    mismatches = []
    for row in tuned.itertuples():
        trial = drawn[(row.model, row.prompt, row.response)]
        expected_line = trial.word_lines[trial.run.word]
        got_line = None if pd.isna(row.word_line) else int(row.word_line)
        early = expected_line is not None and expected_line <= design.k
        if (got_line, bool(row.articulated_early), bool(row.follows_pattern)) != (
            expected_line,
            early,
            trial.mode == "follow",
        ):
            mismatches.append((row.response, got_line, expected_line))
    assert len(mismatches) <= 0.01 * len(tuned), mismatches[:3]


def test_minimal_manifest_lets_ingest_infer_word_examples_and_lr(tmp_path):
    ingest = entry_point("stats.ingest", "ingest")
    data = {**DESIGN, "manifest": {"infer_from_sources": True}}
    design_path = tmp_path / "design.yaml"
    design_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    truth = simulate(design_path, tmp_path / "raw")
    manifest = yaml.safe_load((tmp_path / "raw" / "runs.yaml").read_text())
    tuned = [r for r in manifest["runs"] if r["arm"] == "finetuned"]
    assert tuned and all("word" not in r and "n_examples" not in r for r in tuned)
    ingest([tmp_path / "raw"], tmp_path / "raw" / "runs.yaml", tmp_path / "processed")
    runs = pd.read_parquet(config.Artifacts(tmp_path / "processed").runs).set_index("run_id")
    for run in truth["runs"]:
        if run["arm"] != "finetuned":
            continue
        row = runs.loc[run["run_id"]]
        assert (row["word"], int(row["n_examples"]), float(row["lr_multiplier"])) == (
            run["word"],
            run["n_examples"],
            run["lr_multiplier"],
        )
