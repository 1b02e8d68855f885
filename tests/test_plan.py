"""The planner's machinery: designs, settings, cache and resume, pool, summary, figure, page.

A cheap stand-in analyser replaces the simulated fits here (the real pipeline is exercised
in ``tests/test_plan_pipeline.py``): it draws verdicts from the study's seed, so that runs can
be compared exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stats import report
from stats.plan.design import PlanError, load_plan, parse_plan, setting_key
from stats.plan.outputs import FILES, write_outputs
from stats.plan.plots import plan_frame, plan_plot
from stats.plan.runner import run_plan, study_path
from stats.plan.simulation import plan_study
from stats.plan.summary import VERDICTS, clustered_se, summarise
from stats.report import planning

WORDS = {"common": "HELLO", "non-word": "HELOL"}


def _design(**changes) -> dict:
    raw = {
        "name": "tiny",
        "word_types": {name: {"word": word} for name, word in WORDS.items()},
        "world": {"leak_words": ["HELLO"], "g_word": {"HELLO": 1.0}},
        "worlds": {"null": {"b_intro": 0.0}, "genuine": {"b_intro": 1.0, "sims": 3}},
        "runs_per_word": [2, 4],
        "samples_per_run": [4],
        "sims": 2,
        "quick": {"runs_per_word": [2], "sims": 1},
    }
    raw.update(changes)
    return raw


def stub_analyse(design, setting, study, seed: int) -> pd.DataFrame:
    """Verdicts drawn from the seed: 'real' is likelier in the genuine world."""
    rng = np.random.default_rng(seed)
    p_real = 0.7 if setting.world == "genuine" else 0.05
    rows = []
    for greeting in (False, True):
        for word_type in [*WORDS, "pooled"]:
            u = rng.random()
            verdict = "real" if u < p_real else ("fluke" if u < p_real + 0.2 else "inconclusive")
            rows.append(
                {
                    "scope": "pooled" if word_type == "pooled" else "word",
                    "word": WORDS.get(word_type),
                    "word_type": word_type,
                    "greeting": greeting,
                    "verdict": verdict,
                    "verdict_m1_only": "real",
                    "converged": True,
                }
            )
    frame = pd.DataFrame(rows)
    return frame.assign(seed=seed, seconds=0.5, m1_attempts=1, m2_attempts=1 + seed % 2)


class Interrupt(KeyboardInterrupt):
    """Raised by :func:`interrupting` after a number of studies."""


def interrupting(limit: int):
    """A stand-in that is 'stopped by Ctrl-C' after ``limit`` studies."""
    calls = []

    def analyse(design, setting, study, seed):
        if len(calls) >= limit:
            raise Interrupt
        calls.append(seed)
        return stub_analyse(design, setting, study, seed)

    return analyse, calls


def test_design_defaults_settings_and_quick_preset() -> None:
    design = parse_plan(_design())
    labels = [(s.label, s.sims) for s in design.settings()]
    assert labels == [
        ("null:2x4", 2),
        ("null:4x4", 2),
        ("genuine:2x4", 3),
        ("genuine:4x4", 3),
    ]
    seeds = [s.seed for s in design.settings()]
    assert len(set(seeds)) == 4  # distinct settings, distinct seeds
    assert [(s.label, s.sims) for s in design.settings(quick=True)] == [
        ("null:2x4", 1),
        ("genuine:2x4", 1),
    ]
    assert design.introspective("genuine") and not design.introspective("null")
    assert design.world_params("genuine")["leak_words"] == ("HELLO",)


def test_bundled_design_reads() -> None:
    design = load_plan(Path("analysis/plans/default.yaml"))
    assert [t.word for t in design.word_types] == ["HELLO", "PULSE", "HELOL"]
    assert list(design.worlds) == ["null", "genuine"]
    assert len(design.settings(quick=True)) < len(design.settings())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": 1}, "unknown key(s) ['colour']"),
        ({"samples_per_run": [5]}, "multiples of 2"),
        ({"worlds": {None: {"b_intro": 0}}}, "quote YAML words such as 'null'"),
        ({"world": {"g_word": {"WATER": 1.0}}}, "names words ['WATER'] outside word_types"),
        ({"world": {"b_magic": 1.0}}, "unknown key(s) ['b_magic']"),
        ({"word_types": {"odd": {"word": "HI THERE"}}}, "must be a word of letters"),
        ({"quick": {"draws": 10}}, "quick: unknown key(s) ['draws']"),
    ],
)
def test_design_errors_name_the_key(changes: dict, message: str) -> None:
    with pytest.raises(PlanError) as err:
        parse_plan(_design(**changes), "plans/x.yaml")
    assert str(err.value).startswith("plans/x.yaml: ")
    assert message in str(err.value)


def test_missing_design_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="planning design not found"):
        load_plan(tmp_path / "nope.yaml")


def test_cache_key_moves_with_world_sampler_setting_and_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    design = parse_plan(_design())
    study = plan_study(design)
    setting = design.settings()[0]
    key = setting_key(design, setting, study)
    assert key == setting_key(parse_plan(_design()), setting, plan_study(parse_plan(_design())))
    other_world = parse_plan(_design(world={"leak_words": ["HELLO"], "c": 0.9}))
    assert setting_key(other_world, setting, study) != key
    other_sampler = plan_study(parse_plan(_design(sampler={"draws": 500})))
    assert setting_key(design, setting, other_sampler) != key
    assert setting_key(design, design.settings()[1], study) != key
    monkeypatch.setattr("stats.plan.design.code_digest", lambda: "edited models")
    assert setting_key(design, setting, study) != key  # changed code: nothing reused


def test_interrupted_run_resumes_from_the_cache(tmp_path: Path) -> None:
    design = parse_plan(_design())
    total = sum(s.sims for s in design.settings())
    analyse, calls = interrupting(limit=3)
    with pytest.raises(KeyboardInterrupt):
        run_plan(design, tmp_path / "cache", workers=1, analyse=analyse)
    assert len(calls) == 3
    stored = list((tmp_path / "cache").rglob("study-*.parquet"))
    assert len(stored) == 3
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # no partial files
    stale = stored[0].with_name(".study-1.parquet.999.tmp")  # as a kill mid-write leaves
    stale.write_bytes(b"partial")
    events = []
    resumed = run_plan(
        design, tmp_path / "cache", workers=1, analyse=stub_analyse, progress=events.append
    )
    assert (resumed.cached, resumed.computed) == (3, total - 3)
    assert not stale.exists()
    assert len(events) == total and sum(e.cached for e in events) == 3
    fresh = run_plan(design, tmp_path / "fresh", workers=1, analyse=stub_analyse)
    pd.testing.assert_frame_equal(
        resumed.verdicts.drop(columns="setting_key"), fresh.verdicts.drop(columns="setting_key")
    )
    again = run_plan(design, tmp_path / "cache", workers=1, analyse=analyse)
    assert (again.cached, again.computed) == (total, 0)


def test_process_pool_gives_the_same_verdicts(tmp_path: Path) -> None:
    design = parse_plan(_design())
    pooled = run_plan(design, tmp_path / "pool", workers=2, analyse=stub_analyse)
    serial = run_plan(design, tmp_path / "serial", workers=1, analyse=stub_analyse)
    assert pooled.computed == serial.computed == 10
    pd.testing.assert_frame_equal(pooled.verdicts, serial.verdicts)
    key = setting_key(design, design.settings()[0], plan_study(design))
    seed = design.settings()[0].study_seed(0)
    assert study_path(tmp_path / "pool", key, seed).is_file()


def test_only_selects_settings_and_rejects_unknown_ones(tmp_path: Path) -> None:
    design = parse_plan(_design())
    run = run_plan(design, tmp_path, workers=1, only=["genuine:4"], analyse=stub_analyse)
    assert [s.label for s in run.settings] == ["genuine:4x4"]
    assert run.computed == 3
    with pytest.raises(ValueError, match="not settings of this design"):
        run_plan(design, tmp_path, workers=1, only=["genuine:64"], analyse=stub_analyse)


def test_summary_shares_and_clustered_errors() -> None:
    raw = pd.DataFrame(
        {
            "seed": [1, 2, 3, 4],
            "verdict": ["real", "real", "fluke", "not-converged"],
            "group": "a",
            "converged": [True, True, True, False],
            "verdict_m1_only": ["real", "real", "real", "real"],
            "m1_attempts": 1,
            "m2_attempts": [1, 2, 1, 1],
        }
    )
    row = summarise(raw, ["group"]).iloc[0]
    assert sum(row[f"p_{v.replace('-', '_')}"] for v in VERDICTS) == pytest.approx(1.0)
    assert row["p_real"] == 0.5 and row["n_sims"] == 4
    # one verdict per study: the binomial standard error with k / (k - 1)
    assert row["mc_se_real"] == pytest.approx(np.sqrt(0.5 * 0.5 / 4 * 4 / 3))
    assert row["p_real_if_converged"] == pytest.approx(2 / 3)
    assert row["p_m2_retried"] == 0.25
    one = raw.head(1)
    assert np.isnan(clustered_se(one, one["verdict"] == "real"))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Outputs of a stand-in run, as `stats plan` writes them (data dir / plan)."""
    root = tmp_path_factory.mktemp("plan_outputs")
    design = parse_plan(_design(), "plans/tiny.yaml")
    run = run_plan(design, root / "cache", workers=1, analyse=stub_analyse)
    write_outputs(
        run, design, root / "data" / "plan", quick=False, workers=1, study=plan_study(design)
    )
    return root / "data"


def test_outputs_are_written_together(written: Path) -> None:
    assert sorted(p.name for p in (written / "plan").iterdir()) == sorted(FILES)
    table = pd.read_csv(written / "plan" / "plan.csv", keep_default_na=False)
    assert list(dict.fromkeys(table["world"])) == ["null", "genuine"]
    assert list(dict.fromkeys(table["word_type"])) == ["common", "non-word", "pooled"]
    assert set(table.loc[table["world"] == "genuine", "introspection"]) == {True}
    facts = json.loads((written / "plan" / "plan_run.json").read_text())
    assert facts["computed"] == 10 and facts["fit_seconds"] == pytest.approx(5.0)
    text = (written / "plan" / "plan.md").read_text()
    assert "## Reading" in text and "genuine world, common" in text


def test_figure_builds_from_the_tidy_frame(written: Path, tmp_path: Path) -> None:
    table = pd.read_csv(written / "plan" / "plan.csv", keep_default_na=False)
    frame = plan_frame(table)
    assert set(frame["verdict"]) == set(VERDICTS)
    assert (frame["low"] <= frame["share"]).all() and (frame["share"] <= frame["high"]).all()
    plan_plot(frame).save(tmp_path / "plan.png", verbose=False)
    assert (tmp_path / "plan.png").stat().st_size > 10_000
    # a grid of two sample sizes: one line per verdict and sample size
    two = pd.concat([table, table.assign(samples_per_run=8)], ignore_index=True)
    frame = plan_frame(two)
    assert frame["series"].nunique() == 2 * len(VERDICTS)
    plan_plot(frame).save(tmp_path / "plan2.png", verbose=False)
    assert (tmp_path / "plan2.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="missing columns"):
        plan_plot(frame.drop(columns="share"))


def test_planning_page_helpers(written: Path, tmp_path: Path) -> None:
    study = report.open_data(written)
    for helper in (planning.plan_status, planning.plan_table, planning.plan_reading):
        text = str(helper(study))
        assert "Could not build" not in text and "Not available" not in text, helper.__name__
    assert "± " in str(planning.plan_table(study))
    assert isinstance(planning.plan_figure(study), report.Figure)
    empty = report.open_data(tmp_path)  # before stats plan: one note, the other blocks left out
    missing = str(planning.plan_status(empty))
    assert "Not available: " in missing and "stats plan" in missing
    assert report.UNAVAILABLE_CLASS in str(planning.plan_table(empty))
    assert "Not available" not in str(planning.plan_table(empty))
