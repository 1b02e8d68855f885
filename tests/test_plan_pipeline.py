"""The planner through the real verdict pipeline: simulated studies fitted with M1 and M2.

Two tiny simulated studies (two word types, two runs per word, short chains): the point is
that every piece runs end to end (simulation, both fits, gates, the rule, the cache, the
outputs and the CLI), not the numbers, which need the full grid.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from stats.cli import app
from stats.plan import runner
from stats.plan.design import parse_plan
from stats.plan.runner import run_plan, simulated_study
from stats.plan.simulation import plan_study
from stats.plan.summary import summarise

TINY = {
    "name": "tiny-real",
    "word_types": {"common": {"word": "HELLO"}, "non-word": {"word": "HELOL", "follow_rate": 0.5}},
    "world": {
        "a_line": [-1.0, -1.0, -0.8, -0.6, -0.5, -0.4, -0.4],
        "b_arm": {"base": -2.5},
        "g_word": {"HELLO": 1.5},
        "b_leak": 1.5,
        "leak_words": ["HELLO"],
    },
    "worlds": {"genuine": {"b_intro": 1.0}},
    "runs_per_word": [2],
    "samples_per_run": [8],
    "sims": 2,
    # short chains: gates may be missed (then the verdict is not-converged, as in stats fit)
    "sampler": {"draws": 200, "tune": 200, "chains": 2, "retries": 0},
}


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    root = tmp_path_factory.mktemp("plan_real")
    design_path = root / "tiny.yaml"
    design_path.write_text(yaml.safe_dump(TINY))
    design = parse_plan(TINY, str(design_path))
    run = run_plan(design, root / "cache", workers=1)
    return design, design_path, run, root


def test_real_pipeline_gives_every_verdict_of_each_study(planned) -> None:
    run = planned[2]
    verdicts = run.verdicts
    assert run.computed == 2 and verdicts["seed"].nunique() == 2
    per_study = verdicts.groupby("seed").size()
    # per greeting level: two words, pooled and new word
    assert (per_study == 2 * (2 + 2)).all()
    assert set(verdicts["word_type"]) == {"common", "non-word", "pooled", "new-word"}
    assert set(verdicts["verdict"]) <= {"real", "fluke", "inconclusive", "not-converged"}
    # a verdict is not-converged exactly when a fit it used missed a gate
    fits_ok = verdicts["m1_converged"] & verdicts["m2_converged"]
    assert ((verdicts["verdict"] == "not-converged") == ~fits_ok).all()
    assert (verdicts["hdi_low"] <= verdicts["hdi_high"]).all()
    table = summarise(verdicts)
    shares = table[["p_real", "p_fluke", "p_inconclusive", "p_not_converged"]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(1.0)


def test_same_seed_same_verdicts_with_the_models_built_once(planned) -> None:
    design, _, run, _ = planned
    setting = design.settings()[0]
    study = plan_study(design)
    seed = setting.study_seed(1)
    built = dict(runner._BUILT)  # run_plan (one worker: this process) built the setting
    again = simulated_study(design, setting, study, seed)
    assert len(built) == 1 and runner._BUILT == built  # reused, not rebuilt
    cached = run.verdicts[run.verdicts["seed"] == seed].reset_index(drop=True)
    columns = ["scope", "word", "greeting", "mean", "hdi_low", "hdi_high", "verdict"]
    pd.testing.assert_frame_equal(
        again[columns].reset_index(drop=True), cached[columns], check_dtype=False
    )


def test_cli_reads_the_cache_and_writes_the_outputs(planned) -> None:
    _, design_path, _, root = planned
    out = root / "out"
    result = CliRunner().invoke(
        app, ["plan", str(design_path), "--cache", str(root / "cache"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "plan_run.json").read_text())
    assert (facts["computed"], facts["cached"]) == (0, 2)  # resumed: nothing refitted
    table = pd.read_csv(out / "plan.csv", keep_default_na=False)
    assert set(table["word_type"]) == {"common", "non-word", "pooled", "new-word"}
    assert (out / "plan.png").stat().st_size > 10_000
    assert "# Planning: tiny-real" in (out / "plan.md").read_text()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "planning design not found" in " ".join(result.output.split())
