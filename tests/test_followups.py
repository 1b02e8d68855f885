"""Follow-up designs of issue 8: held-out patterns, confusion, sequential fine-tunes.

Each design is simulated from its preset (``analysis/designs/{heldout,confusion,
sequential}.yaml``), ingested, scored and analysed by :func:`stats.followups.run_followups`;
the estimates must contain the simulated truth and the decisions must be right.
Fits use the project sampler defaults (4 chains x 1000 draws, 1000 tuning); the
end-to-end tests are marked slow (about 90 s together on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stats.followups import DESIGNS as FOLLOW_UPS
from stats.followups import run_followups
from stats.followups.common import level_spec, new_run_rates
from stats.followups.conditions import as_bool, conditions_frame, parse_conditions
from stats.followups.sequential import _stage_order
from stats.ingest import ingest
from stats.score import score_file
from stats.simulate import simulate
from stats.simulate.followups import load_preset, simulate_followup, true_claims

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ROOT / "analysis" / "designs"
STUDY = {
    "extra_outcomes": [],
    "sensitivity": [],
    "sampler": {"draws": 1000, "tune": 1000, "chains": 4},
}


def run_design(name: str, folder: Path) -> tuple[dict, dict[str, pd.DataFrame], Path]:
    """Simulate a preset, ingest, score and run the follow-ups on it."""
    raw, processed = folder / "raw", folder / "processed"
    truth = simulate(DESIGNS / f"{name}.yaml", raw)  # dispatches on the `followup:` key
    ledger = ingest([raw], raw / "runs.yaml", processed)
    assert ledger["total"]["accepted"] == truth["counts"]["trials"]
    assert ledger["total"]["rejected"] == 0
    score_file(processed)
    study = folder / "study.yaml"
    study.write_text(yaml.safe_dump(STUDY), encoding="utf-8")
    return truth, run_followups(processed, study), processed


@pytest.fixture(scope="module")
def confusion(tmp_path_factory):
    return run_design("confusion", tmp_path_factory.mktemp("confusion"))


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    return run_design("heldout", tmp_path_factory.mktemp("heldout"))


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    return run_design("sequential", tmp_path_factory.mktemp("sequential"))


def inside(row: pd.Series, value: float) -> bool:
    return row["hdi_low"] <= value <= row["hdi_high"]


def only(table: pd.DataFrame, **match) -> pd.Series:
    mask = np.ones(len(table), dtype=bool)
    for key, value in match.items():
        mask &= (table[key] == value).to_numpy()
    assert mask.sum() == 1, f"expected one row for {match}, got {mask.sum()}"
    return table[mask].iloc[0]


# ----------------------------------------------------------------------------- pure pieces
def test_conditions_are_parsed_from_json_and_tolerate_junk():
    trials = pd.DataFrame(
        {"conditions": ['{"stage": 1, "policy": "HELLO"}', None, "not json", "[1, 2]"]}
    )
    frame = conditions_frame(trials)
    assert frame.loc[0, "stage"] == 1 and frame.loc[0, "policy"] == "HELLO"
    assert frame.loc[1:, "stage"].isna().all()
    assert parse_conditions(float("nan")) == {}
    assert conditions_frame(pd.DataFrame({"x": [1]})).empty


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("yes", True), ("False", False), (0, False), ("maybe", None), (None, None)],
)
def test_as_bool(value, expected):
    assert as_bool(value) is expected


def test_stages_are_ordered_base_first_then_numerically():
    order = _stage_order(["2", "base", "10", "1"])
    assert sorted(order, key=order.get) == ["base", "1", "2", "10"]
    order = _stage_order(["second", "first", "0"])
    assert sorted(order, key=order.get) == ["0", "first", "second"]


def test_level_spec_is_plain_data_with_run_effects_only_when_replicated():
    spec = level_spec(["base", "heldout:Delta"], "articulated_early", n_runs=5)
    assert [t.name for t in spec.terms] == ["m_0", "m_1", "u_run"]
    assert spec.term("m_1").input == "is_level_1"
    assert "heldout:Delta" in spec.term("m_1").doc  # level labels enter the cache key
    assert not level_spec(["a"], "articulated", n_runs=1).has("u_run")
    assert spec.digest() == level_spec(["base", "heldout:Delta"], "articulated_early", 5).digest()


def test_new_run_rates_integrate_the_run_effect():
    class FakeFit:
        def __init__(self, posterior):
            self.posterior = posterior

    fake = FakeFit({"m_0": np.zeros(3), "sd_run": np.array([0.0, 1.0, 3.0])})
    rates = new_run_rates(fake, ["x"])["x"]
    assert np.allclose(rates, 0.5)  # symmetric about logit 0 for any sd
    fake = FakeFit({"m_0": np.full(2, -2.0), "sd_run": np.array([0.0, 2.0])})
    rates = new_run_rates(fake, ["x"])["x"]
    assert rates[0] == pytest.approx(1 / (1 + np.exp(2.0)))
    assert rates[1] > rates[0]  # a wide run distribution raises a low mean rate


def test_true_claims_match_monte_carlo():
    claims = {"HELLO": 0.35, "HELL": 0.1}
    exact = true_claims(claims, 0.5)
    rng = np.random.default_rng(1)
    v = rng.normal(0, 0.5, 200_000)[:, None]
    p = np.array([0.35, 0.1])
    mc = (1 / (1 + np.exp(-(np.log(p / (1 - p)) + v)))).mean(axis=0)
    assert exact["HELLO"] == pytest.approx(mc[0], abs=2e-3)
    assert exact["HELL"] == pytest.approx(mc[1], abs=2e-3)


def test_presets_are_valid_and_name_their_design():
    for name in FOLLOW_UPS:
        preset = load_preset(DESIGNS / f"{name}.yaml")
        assert preset["followup"] == name and preset["name"] == name


def test_preset_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups: []\nwords: [HELLO]\n")
    with pytest.raises(ValueError, match="unknown key 'words'"):
        load_preset(bad)
    bad.write_text("groups: [{arm: tuned, claims: {HELLO: 0.1}}]\n")
    with pytest.raises(ValueError, match=r"groups\[0\]\.arm"):
        load_preset(bad)


# ----------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_confusion_recovers_truth_and_decides(confusion):
    truth, tables, processed = confusion
    assert set(tables) == {"confusion"}
    table = pd.read_csv(processed / "summary" / "confusion.csv")
    assert len(table) == len(tables["confusion"])
    assert table["converged"].all()
    for row in truth["claims"]:
        if row["arm"] == "base":
            level, outcome = "base", "claims_confusor"
        else:
            level = f"finetuned:{row['run_word']}"
            outcome = "claims_trained" if row["claimed"] == row["run_word"] else "claims_confusor"
        got = only(table, kind="rate", outcome=outcome, level=level)
        assert inside(got, row["p"]), (outcome, level, row["p"], got["hdi_low"], got["hdi_high"])
        assert got["exact_low"] <= got["raw_rate"] <= got["exact_high"]
    contrasts = table[
        (table["kind"] == "contrast") & table["estimand"].str.contains(r"P\(claims HEL")
    ]
    vs_trained = contrasts[contrasts["outcome"] == "claims_confusor - claims_trained"]
    verdict = dict(zip(vs_trained["trained_word"], vs_trained["verdict"], strict=True))
    assert verdict == {"HELL": "claims confusor", "HELMET": "claims trained word"}
    p = {(r["run_word"], r["claimed"]): r["p"] for r in truth["claims"] if r["arm"] != "base"}
    for _, row in vs_trained.iterrows():
        w = row["trained_word"]
        assert inside(row, p[(w, "HELLO")] - p[(w, w)])
    # guessability of each claim from the letters visible by line k = 2 ("HE")
    hell = only(table, kind="rate", outcome="claims_trained", level="finetuned:HELL")
    assert hell["confusor"] == "HELLO" and 0 < hell["guess_confusor"] < 1
    assert 0 < hell["guess_trained"] < 1


@pytest.mark.slow
def test_heldout_recovers_truth_and_decides(heldout):
    truth, tables, _ = heldout
    table = tables["heldout"]
    assert set(tables) == {"heldout"} and table["converged"].all()
    base_p = np.mean([r["p"] for r in truth["claims"] if r["arm"] == "base"])
    assert inside(only(table, kind="rate", level="base"), base_p)
    p = {}
    for r in truth["claims"]:
        if r["arm"] == "finetuned":
            kind = "explained" if r["explained_in_training"] else "heldout"
            level = f"{kind}:{r['pattern_id']}"
            p[level] = r["p"]
            got = only(table, kind="rate", level=level)
            assert inside(got, r["p"]), (level, r["p"], got["hdi_low"], got["hdi_high"])
            assert got["pattern_word"] == r["pattern_word"]
    delta = only(
        table, kind="contrast", estimand="Delta_heldout(Delta) = P(held-out Delta) - P(base)"
    )
    assert inside(delta, p["heldout:Delta"] - base_p)
    assert delta["verdict"] == "real"
    compare = only(table, kind="contrast", estimand="P(held-out Delta) - mean P(explained)")
    true_gap = p["heldout:Delta"] - np.mean([p["explained:Alpha"], p["explained:Beta"]])
    assert inside(compare, true_gap) and compare["verdict"] == "held-out lower"
    assert only(table, kind="contrast", estimand="mean P(explained) - P(base)")["verdict"] == "real"


@pytest.mark.slow
def test_sequential_recovers_truth_and_decides(sequential):
    truth, tables, _ = sequential
    table = tables["sequential"]
    assert set(tables) == {"sequential"} and table["converged"].all()
    p = {f"{r['stage']}:{r['claimed']}": r["p"] for r in truth["claims"]}
    for level, value in p.items():
        got = only(table, kind="rate", level=level)
        assert inside(got, value), (level, value, got["hdi_low"], got["hdi_high"])
    latest = only(
        table, kind="contrast", estimand="P(names GOODBYE | stage 2) - P(names HELLO | stage 2)"
    )
    assert inside(latest, p["2:GOODBYE"] - p["2:HELLO"])
    assert latest["verdict"] == "reports latest policy"
    kept = only(
        table, kind="contrast", estimand="P(names HELLO | stage 2) - P(names HELLO | stage 1)"
    )
    assert inside(kept, p["2:HELLO"] - p["1:HELLO"])
    assert kept["verdict"] == "less after (forgotten)"


@pytest.mark.slow
def test_no_followup_data_gives_nothing_and_removes_stale_tables(sequential, tmp_path):
    _, _, processed = sequential
    trials = pd.read_parquet(processed / "trials.parquet").assign(conditions=None)
    folder = tmp_path / "processed"
    (folder / "summary").mkdir(parents=True)
    trials.to_parquet(folder / "trials.parquet")
    stale = folder / "summary" / "sequential.csv"
    stale.write_text("design\nsequential\n")
    assert run_followups(folder) == {}
    assert not stale.exists()
    assert not any((folder / "summary").iterdir())


def test_missing_trials_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="stats score"):
        run_followups(tmp_path)


def test_simulated_trials_carry_pattern_conditions(tmp_path):
    truth = simulate_followup(DESIGNS / "heldout.yaml", tmp_path / "raw")
    again = simulate(DESIGNS / "heldout.yaml", tmp_path / "raw")  # replaces its own files
    assert again == truth  # deterministic: same seed, same truth
    first = json.loads((tmp_path / "raw" / "transcripts.jsonl").read_text().splitlines()[0])
    assert first["system_prompt"] == f"Response Pattern {first['pattern_id']}"
    assert first["pattern_word"] in {"HELLO", "SHINE", "PULSE"}
    manifest = yaml.safe_load((tmp_path / "raw" / "runs.yaml").read_text())
    assert manifest["files"][0]["condition_columns"] == [
        "pattern_id",
        "explained_in_training",
        "pattern_word",
    ]
    assert truth["counts"]["trials"] == len(
        (tmp_path / "raw" / "transcripts.jsonl").read_text().splitlines()
    )


# ----------------------------------------------------------------------------- report pages
PAGES = ("heldout", "confusion", "sequential")


def _site_project(folder: Path) -> Path:
    """A reports project with a static index and the three follow-up pages."""
    import shutil

    reports = folder / "reports"
    reports.mkdir()
    for page in PAGES:
        shutil.copy(ROOT / "reports" / f"{page}.qmd", reports / f"{page}.qmd")
    shutil.copy(ROOT / "reports" / "styles.css", reports / "styles.css")
    shutil.copy(ROOT / "reports" / "unavailable.lua", reports / "unavailable.lua")
    (reports / "index.qmd").write_text('---\ntitle: "Index"\n---\n\nStatic page.\n')
    config = yaml.safe_load((ROOT / "reports" / "_quarto.yml").read_text())
    config["project"]["render"] = ["index.qmd", *(f"{p}.qmd" for p in PAGES)]
    config["execute"]["freeze"] = False
    config["website"]["navbar"]["left"] = [
        e for e in config["website"]["navbar"]["left"] if e["href"] in config["project"]["render"]
    ]
    (reports / "_quarto.yml").write_text(yaml.safe_dump(config))
    return reports


def _absent_note(text: str) -> bool:
    """One plain "not available" note and no numbered figure or table (same in Quarto)."""
    flat = " ".join(text.split())
    return flat.count("Not available: this study has no trials of this design") == 1 and (
        "Figure\u00a0" not in flat and "Table\u00a0" not in flat
    )


@pytest.mark.slow
def test_followup_pages_always_render_and_say_when_their_data_are_absent(
    confusion, heldout, sequential, tmp_path
):
    import shutil

    from stats.render import render_site

    reports = _site_project(tmp_path)
    data = tmp_path / "data"
    (data / "summary").mkdir(parents=True)
    shutil.copy(heldout[2] / "ledger.json", data / "ledger.json")
    # without follow-up tables: every page, linked from every page, each saying why it is empty
    site = tmp_path / "site-empty"
    render_site(reports, site, {"data_dir": str(data)}, use_quarto=False, strict=True)
    assert sorted(p.stem for p in site.glob("*.html")) == sorted(["index", *PAGES])
    assert all(f'href="{p}.html"' in (site / "index.html").read_text() for p in PAGES)
    for page in PAGES:
        assert _absent_note((site / f"{page}.html").read_text()), page
    # with the tables of the three simulated studies: the figures and tables
    for design, (_, _, processed) in zip(PAGES, (heldout, confusion, sequential), strict=True):
        shutil.copy(processed / "summary" / f"{design}.csv", data / "summary")
    site = tmp_path / "site-full"
    render_site(reports, site, {"data_dir": str(data)}, use_quarto=False, strict=True)
    for page in ("index", *PAGES):
        text = (site / f"{page}.html").read_text()
        assert all(f'href="{p}.html"' in text for p in PAGES), page
    held = " ".join((site / "heldout.html").read_text().split())
    assert "Simulated data" in held and "<strong>real</strong>" in held
    assert "data:image/png;base64" in held  # the figure is embedded
    assert "All 1 fit(s) of this design pass every convergence gate" in held
    assert "Not available" not in held
    conf = " ".join((site / "confusion.html").read_text().split())
    assert "<strong>claims confusor</strong>" in conf
    assert "<strong>claims trained word</strong>" in conf
    seq = " ".join((site / "sequential.html").read_text().split())
    assert "<strong>reports latest policy</strong>" in seq
    # the data disappear again: no stale results, the pages say why they are empty
    for design in PAGES:
        (data / "summary" / f"{design}.csv").unlink()
    render_site(reports, site, {"data_dir": str(data)}, use_quarto=False, strict=True)
    for page in PAGES:
        assert _absent_note((site / f"{page}.html").read_text()), page


# ----------------------------------------------------------------------------- design 5: curves
def _curves_study(folder: Path):
    from stats import report

    summary = folder / "summary"
    summary.mkdir(parents=True)
    rows = []
    for outcome in ("articulated_early", "follows_pattern"):
        for arm, factor, value in [
            ("finetuned", "n_examples", 10.0),
            ("finetuned", "n_examples", 250.0),
            ("finetuned", "lr_multiplier", 1.0),
            ("finetuned", "lr_multiplier", 10.0),
            ("control", "n_examples", 10.0),  # a single grid value
            ("control", "lr_multiplier", 10.0),
        ]:
            rows.append(
                {"outcome": outcome, "arm": arm, "factor": factor, "value": value,
                 "successes": 3, "trials": 20, "raw_rate": 0.15, "exact_low": 0.03,
                 "exact_high": 0.38, "mean": 0.16, "low": 0.06, "high": 0.3}
            )  # fmt: skip
    pd.DataFrame(rows).to_csv(summary / "curves.csv", index=False)
    rates = pd.DataFrame(
        [
            {"scope": "pooled", "word": None, "arm": arm, "greeting": g, "outcome": o,
             "pooled_mean": 0.02, "pooled_low": 0.005, "pooled_high": 0.05}
            for arm in ("finetuned", "base") for g in (True, False)
            for o in ("articulated_early", "follows_pattern")
        ]
    )  # fmt: skip
    rates.to_csv(summary / "word_rates.csv", index=False)
    return report.open_data(folder)


def test_curves_figure_shows_every_arm_with_intervals(tmp_path):
    from stats import report

    study = _curves_study(tmp_path)
    plot = report.curves_figure.__wrapped__(study)  # the ggplot, before the block draws it
    names = [type(layer.geom).__name__ for layer in plot.layers]
    # model interval at every grid value (a ribbon over one value is invisible), observed
    # exact intervals, and the untrained base arm as reference bands
    assert names == [
        "geom_ribbon", "geom_line", "geom_errorbar", "geom_pointrange", "geom_rect",
        "geom_segment",
    ]  # fmt: skip
    errorbars = plot.layers[2]
    assert errorbars.mapping["ymin"] == "low" and errorbars.mapping["ymax"] == "high"
    assert set(plot.data["arm"]) == {"finetuned", "control"}
    reference = plot.layers[4]._data
    assert set(reference["arm"]) == {"base"}  # the arm without a grid, not the tuned ones
    assert len(reference) == 2 * 2 * 2  # outcomes x greeting conditions x factor panels
    assert (reference["xmin"] < reference["xmax"]).all()
    report.curves_figure(study).save(tmp_path / "curves.png")  # draws without error
    assert (tmp_path / "curves.png").stat().st_size > 10_000
