"""The inspect-ai task, run offline with inspect's ``mockllm/model``, then ingested and scored.

inspect-ai is the optional extra ``stats[inspect]``; the dev dependency group installs it, so
CI runs these tests (a missing extra fails them loudly). The eval runs in a child process
(``tests/inspect_mock_eval.py``): importing inspect-ai changes the standard ``zipfile`` module
for the whole process (it imports ``zipfile_zstd``), which ingest must not rely on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from stats import schemas
from stats.evals.prompts import eval_plan
from stats.ingest import ingest
from stats.score import score_file

EPOCHS = 4  # the mock model's four answers: each prompt gets every one once
OUTCOMES = ("follows_pattern", "near_miss", "articulated", "articulated_early")
SCORE_COLUMNS = [f.name for f in schemas.SCORES]
HELPER = Path(__file__).with_name("inspect_mock_eval.py")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    """What inspect logged (as JSON), and ingest + score of its log (no manifest)."""
    root = tmp_path_factory.mktemp("inspect_task")
    dump = root / "log.json"
    run = subprocess.run(
        [sys.executable, str(HELPER), str(root / "logs"), str(dump), str(EPOCHS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    log = json.loads(dump.read_text())
    assert log["status"] == "success", log["error"]
    ingest([root / "logs"], None, root / "processed")
    trials = score_file(root / "processed")
    return log, trials, root


def _sample_rows(log: dict) -> pd.DataFrame:
    return pd.DataFrame(log["samples"])


def _same(a, b) -> bool:
    missing_a = a is None or (not isinstance(a, str) and pd.isna(a))
    missing_b = b is None or (not isinstance(b, str) and pd.isna(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    return a == b


def test_task_asks_every_prompt_with_and_without_greeting_epochs_times(evaluated) -> None:
    log, _, _ = evaluated
    assert log["task"].endswith("acrostic_self_report")
    assert len(log["samples"]) == 6 * EPOCHS == len(eval_plan().prompts) * EPOCHS
    samples = _sample_rows(log)
    assert (
        samples.groupby("prompt_id")["sample_index"]
        .apply(sorted)
        .map(list)
        .eq([list(range(EPOCHS))] * 6)
        .all()
    )
    meta = pd.DataFrame(list(samples["meta"]))
    assert set(meta["word"]) == {"HELLO"} and set(meta["arm"]) == {"finetuned"}
    assert (
        meta.groupby("paraphrase")["greeting"].apply(set).map(sorted).eq([[False, True]] * 3).all()
    )
    # inspect's metrics are the means of the 0/1 outcomes
    metrics = log["metrics"]
    assert set(metrics) == set(OUTCOMES)
    values = pd.DataFrame(list(samples["value"]))
    for name in OUTCOMES:
        assert metrics[name] == pytest.approx(values[name].mean())


def test_log_is_ingested_with_its_conditions_and_counted(evaluated) -> None:
    log, trials, root = evaluated
    ledger = json.loads((root / "processed" / "ledger.json").read_text())
    assert ledger["total"]["accepted"] == len(log["samples"]) == len(trials)
    assert ledger["total"]["rejected"] == 0
    samples = _sample_rows(log)
    joined = samples.merge(trials, on=["prompt_id", "sample_index"], validate="1:1")
    assert len(joined) == len(samples)
    assert (joined["response_x"] == joined["response_y"]).all()
    assert (joined["word"] == "HELLO").all()
    assert (joined["greeting"].astype(bool) == joined["meta"].map(lambda m: m["greeting"])).all()
    paraphrase = joined["conditions"].map(lambda c: json.loads(c)["paraphrase"])
    assert (paraphrase == joined["meta"].map(lambda m: m["paraphrase"])).all()


def test_log_keeps_the_arm_its_samples_carry(evaluated) -> None:
    _, trials, _ = evaluated
    assert set(trials["arm"]) == {"finetuned"}


def test_scores_in_the_log_equal_the_scores_in_trials(evaluated) -> None:
    log, trials, _ = evaluated
    samples = _sample_rows(log)
    joined = samples.merge(trials, on=["prompt_id", "sample_index"], validate="1:1")
    assert len(joined) == 6 * EPOCHS
    for row in joined.itertuples():
        for column in SCORE_COLUMNS:
            assert _same(row.scores[column], getattr(row, column)), (row.prompt_id, column)
        for name in OUTCOMES:
            assert row.value[name] == int(bool(getattr(row, name)))
        assert row.answer == row.acrostic_letters
        # inspect view shows the level, the line and early-or-not in the explanation
        assert (f"names HELLO at line {row.word_line} " in row.explanation) == bool(row.articulated)
        assert f"'{row.articulation_level}'" in row.explanation
    # the mock answers cover both sides of every outcome the scorer reports
    for name in OUTCOMES:
        assert set(joined[name].astype(bool)) == {True, False}, name
