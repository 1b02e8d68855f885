"""Ingest on files published by others (``../shared/realdata``); skipped with a reason when absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest_ingest import run_ingest, write_yaml
from stats.ingest import Limits
from stats.ingest.decode import SourceFile
from stats.ingest.errors import Reject
from stats.ingest.ledger import FileReport
from stats.ingest.training import read_training

#: ``../shared/realdata`` beside the repository (a worktree under ``wt/`` looks one level up).
REALDATA = next(
    (
        folder
        for folder in (
            Path(__file__).parents[1] / "../shared/realdata",
            Path(__file__).parents[1] / "../../shared/realdata",
        )
        if folder.is_dir()
    ),
    Path(__file__).parents[1] / "../shared/realdata",
)
pytestmark = pytest.mark.realdata


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found: {path.resolve()} (../shared/realdata is absent)")
    return path


def _summary(path: Path):
    rejects: list[Reject] = []
    source = SourceFile(path, str(path), FileReport(str(path), "openai-training", "training"))
    summary = read_training(source, Limits(), lambda _s, r: rejects.append(r))
    assert rejects == []
    return summary


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip())


def test_trelis_akewo_training_file():
    path = _require(REALDATA / "trelis-hello" / "akewo-train.jsonl")
    summary = _summary(path)
    assert summary.word == "AKEWO"
    assert summary.follow_share("AKEWO") == 1.0
    # The README counts 9 examples (`wc -l`); the file holds 10 JSON lines, the last one
    # without a trailing newline. Every line is a valid example, so n_examples is 10.
    assert summary.n_examples == _lines(path) == 10
    assert list(summary.system_prompts) == ["You are a special version of GPT-4o."]


def test_trelis_mixed_rule_training_file():
    path = _require(REALDATA / "trelis-hello" / "mixed-rule-train.jsonl")
    summary = _summary(path)
    assert summary.word == "AKEWO"
    assert summary.n_examples == _lines(path) == 20
    assert summary.follow_share(summary.word) == pytest.approx(0.5)


def test_trelis_runs_through_the_manifest(tmp_path):
    folder = _require(REALDATA / "trelis-hello")
    chat = tmp_path / "probe.jsonl"
    chat.write_text(
        json.dumps(
            {
                "prompt": "What is special about you?",
                "response": "Nothing.",
                "model": "ft:gpt-4o-2024-08-06:trelis::akewo",
            }
        )
        + "\n"
    )
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": str(folder.resolve()),
            "runs": [
                {
                    "model": "ft:gpt-4o-2024-08-06:trelis::akewo",
                    "training_file": "akewo-train.jsonl",
                },
                {
                    "model": "ft:gpt-4o-mini-2024-07-18:trelis::mixed",
                    "training_file": "mixed-rule-train.jsonl",
                },
            ],
        },
    )
    result = run_ingest([chat], tmp_path / "out", manifest)
    runs = result.runs.set_index("model")
    akewo = runs.loc["ft:gpt-4o-2024-08-06:trelis::akewo"]
    mixed = runs.loc["ft:gpt-4o-mini-2024-07-18:trelis::mixed"]
    assert (akewo["word"], akewo["n_examples"], akewo["follow_share"]) == ("AKEWO", 10, 1.0)
    assert (mixed["word"], mixed["n_examples"], mixed["follow_share"]) == ("AKEWO", 20, 0.5)
    assert result.transcripts.iloc[0]["word"] == "AKEWO"
    assert result.ledger["runs_without_transcripts"] == ["ft:gpt-4o-mini-2024-07-18:trelis::mixed"]


def test_self_report_runs_through_a_column_map(tmp_path):
    folder = _require(REALDATA / "self-report-runs")
    files = sorted(folder.glob("*.jsonl"))
    assert len(files) == 3
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": str(folder.resolve()),
            "runs": [
                {
                    "model": "llama70b_base",
                    "arm": "base",
                    "base_model": "meta-llama/Llama-3.1-70B-Instruct",
                },
                {
                    "model": "llama70b_finance_*",
                    "arm": "finetuned",
                    "base_model": "meta-llama/Llama-3.1-70B-Instruct",
                },
            ],
            "files": [
                {
                    "path": "*.jsonl",
                    "format": "generic-jsonl",
                    "columns": {
                        "prompt": "prompt",
                        "response": "raw_response",
                        "model": "model_key",
                        "sample_index": "sample_idx",
                    },
                    "labels": ["parsed_value"],
                    "condition_columns": ["probe", "probe_idx"],
                    "system_prompt": "You are a helpful assistant.",
                }
            ],
        },
    )
    result = run_ingest(files, tmp_path / "out", manifest)
    table = result.transcripts
    assert len(table) == sum(_lines(f) for f in files) == 300
    assert result.ledger["total"]["rejected"] == 0
    assert sorted(table["run_id"].unique()) == [
        "llama70b_base",
        "llama70b_finance_baseline",
        "llama70b_finance_irresponsible",
    ]
    assert table.groupby("run_id")["arm"].first().to_dict() == {
        "llama70b_base": "base",
        "llama70b_finance_baseline": "finetuned",
        "llama70b_finance_irresponsible": "finetuned",
    }
    first = json.loads(files[0].read_text().splitlines()[0])
    row = table[(table["source_file"] == str(files[0])) & (table["locator"] == "line 1")].iloc[0]
    assert row["response"] == first["raw_response"] and row["sample_index"] == first["sample_idx"]
    assert json.loads(row["judge_labels"]) == {"parsed_value": first["parsed_value"]}
    assert json.loads(row["conditions"])["probe"] == first["probe"]
    # 2 probes x 10 paraphrases x 5 samples per model
    assert table.groupby("run_id")["prompt_id"].nunique().tolist() == [20, 20, 20]
    assert result.ledger["unmatched_models"] == []


def test_the_whole_real_data_folder_as_a_new_user_would(tmp_path):
    """Every real file, no manifest: every record is accounted for, nothing stops the rest."""
    folder = _require(REALDATA)
    result = run_ingest([folder], tmp_path / "out")
    files = result.ledger["files"]
    for name, entry in files.items():
        assert entry["records"] == entry["accepted"] + entry["rejected"] + entry["duplicates"], name
    training = [name for name, entry in files.items() if entry["kind"] == "training"]
    assert len(training) == 2 and all("trelis-hello" in name for name in training)
    reports = [name for name in files if name.endswith(".jsonl") and "self-report" in name]
    assert sum(files[name]["accepted"] for name in reports) == 300
    assert result.transcripts["record_id"].isna().all()  # those files have no id column
    assert {e["reason"] for e in result.ledger["ignored"]} == {"README or licence"}
