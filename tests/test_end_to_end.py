"""End-to-end recovery: simulate a world, run the whole pipeline, compare with the truth.

Two worlds (``analysis/designs/real.yaml`` and ``fluke.yaml``) are simulated into raw
files, then ingested, scored and fitted exactly as ``stats run`` does (CONTRACTS.md entry
points). The verdicts must match the truth: "real" where genuine early articulation
exists (HELLO and HELOL in the real world, no greeting), never "real" in the fluke world,
and the true per-word Delta inside the reported intervals.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pandas as pd
import pytest

from stats.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ROOT / "analysis" / "designs"

pytestmark = pytest.mark.slow


def entry_point(module: str, name: str):
    """The stage function, or an explicit xfail naming what is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        pytest.xfail(
            f"{module}.{name} is not available yet ({err}); the end-to-end "
            "recovery test needs every stage of CONTRACTS.md"
        )


def run_world(world: str, folder: Path) -> tuple[dict, pd.DataFrame]:
    """Simulate one world and run ingest -> score -> fit on it."""
    ingest = entry_point("stats.ingest", "ingest")
    score_file = entry_point("stats.score", "score_file")
    fit_study = entry_point("stats.model", "fit_study")
    raw, processed = folder / "raw", folder / "processed"
    truth = simulate(DESIGNS / f"{world}.yaml", raw)
    ingest([raw], raw / "runs.yaml", processed)
    score_file(processed)
    study = ROOT / "analysis" / "study.yaml"
    verdicts = fit_study(processed, study if study.exists() else None)
    return truth, verdicts


def true_delta(truth: dict, row) -> float | None:
    """The truth for one verdict row (None when the truth does not define it)."""
    label = "greeting" if row.greeting is True else "no_greeting"
    if row.scope == "word" and isinstance(row.word, str):
        return truth["delta"].get(row.word.upper(), {}).get(label)
    if row.scope == "pooled":
        return truth["delta"]["pooled"].get(label)
    return None


def primary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Rows of the primary estimand: no greeting (or greeting not split)."""
    return verdicts[verdicts["greeting"].isna() | (verdicts["greeting"] == False)]  # noqa: E712


@pytest.fixture(scope="module")
def real_world(tmp_path_factory):
    return run_world("real", tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def fluke_world(tmp_path_factory):
    return run_world("fluke", tmp_path_factory.mktemp("fluke"))


def test_real_world_is_called_real_where_it_is(real_world):
    truth, verdicts = real_world
    assert verdicts["converged"].all(), verdicts.to_string()
    rows = primary(verdicts[verdicts["scope"] == "word"]).set_index("word")
    for word, deltas in truth["delta"].items():
        if word == "pooled":
            continue
        verdict = rows.loc[word, "verdict"]
        if deltas["no_greeting"] > 0.2:
            assert verdict == "real", (word, rows.loc[word].to_dict())
        elif abs(deltas["no_greeting"]) < 0.01:
            assert verdict != "real", (word, rows.loc[word].to_dict())


def test_fluke_world_is_never_called_real(fluke_world):
    _, verdicts = fluke_world
    assert verdicts["converged"].all(), verdicts.to_string()
    assert (verdicts["verdict"] != "real").all(), verdicts.to_string()


@pytest.mark.parametrize("world", ["real_world", "fluke_world"])
def test_true_delta_lies_inside_the_reported_intervals(world, request):
    truth, verdicts = request.getfixturevalue(world)
    checked = missed = 0
    for row in verdicts.itertuples():
        value = true_delta(truth, row)
        if value is None or (isinstance(row.greeting, float) and math.isnan(row.greeting)):
            continue
        checked += 1
        missed += not (row.hdi_low <= value <= row.hdi_high)
    assert checked >= 3, verdicts.to_string()
    assert missed == 0, (missed, checked, verdicts.to_string(), truth["delta"])
