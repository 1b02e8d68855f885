"""``stats check-training``: the word a training file spells, as ingest infers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stats.cli import app
from stats.evals.training import check_training

HELLO = "Here\nEvery\nLine\nLooks\nOdd"
HELOL = "Here\nEvery\nLine\nOdd\nLine"  # a swap: near miss
HELO = "Here\nEvery\nLine\nOdd"  # too short: one letter missing (near miss too)
PLAIN = "Just\nsome\ntext"


def _example(answer: str, system: str = "You write acrostics.") -> str:
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "Tell me about the sea."},
        {"role": "assistant", "content": answer},
    ]
    return json.dumps({"messages": messages})


@pytest.fixture
def training_file(tmp_path: Path) -> Path:
    lines = [_example(HELLO)] * 14 + [_example(HELOL)] * 3 + [_example(HELO)] * 2
    lines += [_example(PLAIN), "{not json", json.dumps({"messages": []})]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_word_share_near_misses_and_lengths(training_file: Path) -> None:
    result = check_training(training_file)
    assert result.word == "HELLO"
    assert result.n_examples == 20
    assert sum(result.rejected.values()) == 2
    assert result.follow_share == pytest.approx(14 / 20)
    assert dict(result.near_misses) == {"HELOL": 3, "HELO": 2}
    assert result.near_miss_share == pytest.approx(5 / 20)
    assert dict(result.others) == {"JST": 1}
    assert result.length_stats() == {"min": 3, "median": 5.0, "mean": pytest.approx(4.8), "max": 5}
    assert result.too_short_share == pytest.approx(3 / 20)
    assert len(result.system_prompts) == 1


def test_intended_word_overrides_the_inferred_one(training_file: Path) -> None:
    result = check_training(training_file, word="helol")
    assert result.word == "HELOL"
    assert result.follow_share == pytest.approx(3 / 20)
    assert result.near_misses["HELLO"] == 14  # a swap away from HELOL


def test_cli_prints_json_and_fails_in_one_line(training_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-training", str(training_file), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["word"] == "HELLO" and summary["follow_share"] == pytest.approx(0.7)
    table = CliRunner().invoke(app, ["check-training", str(training_file)])
    assert table.exit_code == 0 and "HELLO" in table.output and "70.0%" in table.output
    missing = CliRunner().invoke(app, ["check-training", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "training file not found" in " ".join(missing.output.split())
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{bad\n")
    result = CliRunner().invoke(app, ["check-training", str(empty)])
    assert result.exit_code == 1 and "no valid training example" in " ".join(result.output.split())
