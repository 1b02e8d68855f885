"""End-to-end recovery: simulate a world, run the whole pipeline, compare with the truth.

Two worlds (``analysis/designs/real.yaml`` and ``fluke.yaml``) are simulated into raw
files, then ingested, scored and fitted through the CONTRACTS.md entry points, as
``stats run`` does. The verdicts must match the truth: "real" where genuine early
articulation exists (HELLO and HELOL in the real world), never "real" for the primary
estimand (no greeting) in the fluke world, and the true Delta inside the reported HDIs.

The fits use M1 + M2 with the default priors and 4 chains; prior-sensitivity refits and
extra outcomes are switched off (``STUDY``) to keep the test under four minutes.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stats.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ROOT / "analysis" / "designs"
STUDY = {
    "models": ["M1", "M2"],
    "extra_outcomes": [],
    "sensitivity": [],
    "sampler": {"draws": 800, "tune": 800, "chains": 4},
}

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
    study = folder / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY), encoding="utf-8")
    return truth, fit_study(processed, study)


def true_delta(truth: dict, scope: str, word: object, greeting: object) -> float | None:
    """The truth of one verdict row (None where the simulator defines none: new-word)."""
    label = "greeting" if not pd.isna(greeting) and bool(greeting) else "no_greeting"
    if scope == "word" and isinstance(word, str):
        return truth["delta"].get(word.upper(), {}).get(label)
    if scope == "pooled":
        return truth["delta"]["pooled"].get(label)
    return None


def no_greeting(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Rows of the primary estimand: no greeting (or greeting not split)."""
    return verdicts[verdicts["greeting"].isna() | ~verdicts["greeting"].astype("boolean")]


@pytest.fixture(scope="module")
def real_world(tmp_path_factory):
    return run_world("real", tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def fluke_world(tmp_path_factory):
    return run_world("fluke", tmp_path_factory.mktemp("fluke"))


def test_real_world_is_called_real_where_it_is(real_world):
    truth, verdicts = real_world
    assert verdicts["converged"].all(), verdicts.to_string()
    rows = no_greeting(verdicts[verdicts["scope"] == "word"]).set_index("word")
    checked = 0
    for word, deltas in truth["delta"].items():
        if word == "pooled":
            continue
        verdict = rows.loc[word, "verdict"]
        if deltas["no_greeting"] > 0.2:
            assert verdict == "real", (word, rows.loc[word].to_dict())
            checked += 1
        elif abs(deltas["no_greeting"]) < 0.01:
            assert verdict != "real", (word, rows.loc[word].to_dict())
            checked += 1
    assert checked == 3


def test_fluke_world_is_never_called_real_without_the_greeting(fluke_world):
    _, verdicts = fluke_world
    assert verdicts["converged"].all(), verdicts.to_string()
    primary = no_greeting(verdicts)
    assert len(primary) >= 4
    assert (primary["verdict"] != "real").all(), primary.to_string()
    assert (primary.loc[primary["scope"] == "word", "verdict"] == "fluke").all(), (
        primary.to_string()
    )


def test_fluke_world_is_never_called_real_with_the_greeting(fluke_world):
    _, verdicts = fluke_world
    greeted = verdicts[verdicts["greeting"].astype("boolean").fillna(False)]
    assert len(greeted) >= 4
    assert (greeted["verdict"] != "real").all(), greeted.to_string()


@pytest.mark.parametrize("world", ["real_world", "fluke_world"])
def test_true_delta_lies_inside_the_reported_intervals(world, request):
    truth, verdicts = request.getfixturevalue(world)
    rows = []
    for row in verdicts.itertuples():
        value = true_delta(truth, row.scope, row.word, row.greeting)
        if value is not None:
            rows.append((row.scope, row.word, row.greeting, value, row.hdi_low, row.hdi_high))
    assert len(rows) >= 8, verdicts.to_string()
    missed = [r for r in rows if not r[4] <= r[3] <= r[5]]
    assert not missed, (missed, truth["delta"])
