"""Summary tables: raw numbers checked by hand, model numbers checked for consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stats import summarize
from stats.model import design, fit, spec, synthetic
from stats.model.contrasts import Predictor, deltas
from stats.model.diagnostics import diagnose
from stats.model.posterior import posterior_arrays, posterior_names


def _prior_fit(model: str, cells: pd.DataFrame, seed: int = 0) -> fit.Fit:
    data = design.m1_data(cells) if model == "M1" else design.m2_data(cells)
    s = spec.m1_spec(data.layout) if model == "M1" else spec.m2_spec(data.layout)
    idata = synthetic.prior_idata(s, data, chains=4, draws=1000, seed=seed)
    posterior, chains = posterior_arrays(idata, posterior_names(s))
    diagnostics = diagnose(idata, s, data)
    return fit.Fit(model, s, data, posterior, chains, diagnostics, "key", sampler="prior")


@pytest.fixture(scope="module")
def fits():
    groups = synthetic.design_grid(
        ["HELLO", "SHINE"],
        n_examples=(10, 250),
        runs_per_cell=2,
        samples_per_prompt=6,
        base_runs=1,
    )
    m1_cells, m2_cells = synthetic.simulate_world(
        synthetic.World(b_intro=1.0), groups, np.random.default_rng(3)
    )
    return _prior_fit("M1", m1_cells), _prior_fit("M2", m2_cells)


def test_hazard_table_raw_hazards_and_cumulative_by_hand(fits):
    _, m2 = fits
    table = summarize.hazard_table(m2).set_index(["arm", "line"])
    cells = m2.data.cells
    tuned = cells[cells["arm"] == "finetuned"].groupby("line")[["events", "at_risk"]].sum()
    raw = tuned["events"] / tuned["at_risk"]
    np.testing.assert_allclose(table.loc["finetuned", "raw_hazard"], raw.to_numpy())
    np.testing.assert_allclose(
        table.loc["finetuned", "cumulative_raw"], 1 - np.cumprod(1 - raw.to_numpy())
    )
    assert (table["hazard_low"] <= table["hazard_mean"]).all()
    assert (table["hazard_mean"] <= table["hazard_high"]).all()
    assert table["cumulative_mean"].groupby("arm").is_monotonic_increasing.all()


def test_curves_and_word_rates_raw_counts_by_hand(fits):
    m1, _ = fits
    cells = m1.data.cells
    curves = summarize.curves_table(m1)
    row = curves[(curves["arm"] == "finetuned") & (curves["factor"] == "n_examples")]
    by_n = cells[cells["arm"] == "finetuned"].groupby("n_examples")[["successes", "trials"]].sum()
    np.testing.assert_array_equal(row["successes"].to_numpy(), by_n["successes"].to_numpy())
    assert set(curves["arm"]) == {"finetuned"}  # base models have no n_examples
    rates = summarize.word_rates_table(m1, {"HELLO": 0.01, "SHINE": 0.0})
    hello = rates[(rates["scope"] == "word") & (rates["word"] == "HELLO")]
    hello = hello[(hello["arm"] == "base") & ~hello["greeting"]].iloc[0]
    sub = cells[(cells["word"] == "HELLO") & (cells["arm"] == "base") & ~cells["greeting"]]
    assert hello["successes"] == sub["successes"].sum()
    assert hello["exact_low"] <= hello["raw_rate"] <= hello["exact_high"]
    assert hello["guessability_at_k"] == 0.01
    assert {"word", "pooled", "new-word"} == set(rates["scope"])


def test_ppc_observed_rates_by_hand(fits):
    m1, _ = fits
    ppc = summarize.ppc_table(m1, "word_greeting", ["word", "greeting", "arm"])
    cells = m1.data.cells
    totals = cells.groupby(["word", "greeting", "arm"])[["successes", "trials"]].sum()
    merged = ppc.merge(
        totals.reset_index(), on=["word", "greeting", "arm"], suffixes=("", "_cells")
    )
    np.testing.assert_array_equal(merged["trials"], merged["trials_cells"])
    np.testing.assert_allclose(
        merged["observed_rate"], merged["successes"] / merged["trials_cells"]
    )
    assert (merged["rep_low"] <= merged["rep_high"]).all()


def test_delta_draws_and_sensitivity_tables(fits):
    m1, _ = fits
    contrasts = deltas(Predictor(m1.spec, m1.data, m1.posterior), {"HELLO": 0.0, "SHINE": 0.0})
    draws = summarize.delta_draws_table(contrasts, "posterior", 1.0)
    assert len(draws) == len(contrasts) * m1.n_draws
    verdicts = summarize.verdict_rows(
        contrasts, {}, m1, None, outcome="articulated_early", rope=0.05, ci_prob=0.95
    )
    table = summarize.sensitivity_table({1.0: verdicts, 2.0: verdicts})
    assert len(table) == 2 * len(verdicts)
    # an undecided row without a runs_needed count says why (a code of the registry)
    from stats.model.reasons import REASONS, RUNS_NEEDED_REASONS

    assert set(verdicts["reason"]) <= set(REASONS) and (verdicts["ci_prob"] == 0.95).all()
    new = verdicts[verdicts["scope"] == "new-word"]
    assert (new["runs_needed_reason"] == "new_word").all() and new["runs_needed"].isna().all()
    undecided = verdicts[verdicts["verdict"].isin(["inconclusive", "not-converged"])]
    for _, row in undecided.iterrows():
        assert (row["runs_needed"] or 0) > 0 or row["runs_needed_reason"] in RUNS_NEEDED_REASONS
    decided = verdicts[verdicts["verdict"].isin(["real", "fluke"])]
    assert decided["runs_needed_reason"].isna().all()
    pooled = verdicts[(verdicts["scope"] == "pooled") & ~verdicts["greeting"]].iloc[0]
    pooled_draws = draws[(draws["scope"] == "pooled") & ~draws["greeting"]]["delta"]
    assert pooled["mean"] == pytest.approx(pooled_draws.mean())
    assert pooled["p_above_rope"] == pytest.approx((pooled_draws > 0.05).mean())


def test_prior_predictive_does_not_pile_up_at_the_extremes(fits):
    m1, _ = fits
    prior = synthetic.draw_prior(m1.spec, m1.data, np.random.default_rng(0), 2000)
    table = summarize.prior_predictive_table(m1, prior).iloc[0]
    assert table["ok"], table.to_dict()
    assert table["share_above_99pct"] < 0.05  # centred on a 5% rate
    assert 0.01 < table["q50"] < 0.2


def test_coefficients_and_diagnostics_columns(fits):
    m1, m2 = fits
    coefficients = summarize.coefficient_table(m2)
    assert {"b_intro", "c", "sd_run", "b_arm[base]", "a_line[1]"} <= set(coefficients["term"])
    table = coefficients.set_index("term")
    slope = table.loc["c"]
    assert slope["input_scale"] == pytest.approx(m2.data.scaling["logit_g"][1])
    assert np.isnan(table.loc["sd_run", "input_scale"])
    # ArviZ's summary on the chains as sampled: the numbers of ArviZ's array functions
    from arviz_stats.base import array_stats

    from stats.model.decision import hdi

    line = m2.data.coords["line"].index(2)
    for term, draws in (("c", m2.posterior["c"]), ("a_line[2]", m2.posterior["a_line"][:, line])):
        row, chained = table.loc[term], draws.reshape(m2.chains, -1)
        assert row["mean"] == pytest.approx(draws.mean())
        assert row["sd"] == pytest.approx(draws.std(ddof=1))
        assert (row["hdi_low"], row["hdi_high"]) == pytest.approx(hdi(draws, 0.95))
        assert row["r_hat"] == pytest.approx(float(array_stats.rhat(chained)))
        assert row["ess_bulk"] == pytest.approx(float(array_stats.ess(chained)))
    diagnostics = summarize.diagnostics_table([m1, m2])
    assert list(diagnostics["model"]) == ["M1", "M2"]
    assert diagnostics["converged"].all()


# ----------------------------------------------------------------------------- leaking prompts
def _verdict_frame(rows):
    return pd.DataFrame(
        rows, columns=["scope", "word", "greeting", "verdict", "reason", "runs_needed"]
    )


def test_a_leaking_condition_is_real_only_when_the_clean_one_is():
    from stats.summarize import guard_leaking_rows

    frame = _verdict_frame(
        [
            ("word", "HELLO", False, "inconclusive", "x", 12),
            ("word", "HELLO", True, "real", "x", 0),
            ("word", "SHINE", False, "inconclusive", "x", 8),
            ("word", "SHINE", True, "real", "x", 0),  # "hello" does not leak SHINE
            ("pooled", None, False, "inconclusive", "x", 20),
            ("pooled", None, True, "real", "x", 0),
            ("new-word", None, True, "real", "x", 0),
        ]
    )
    out = guard_leaking_rows(frame, {("HELLO", True)})
    words = [None if pd.isna(w) else w for w in out["word"]]
    keys = zip(out["scope"], words, out["greeting"], strict=True)
    verdicts = dict(zip(keys, out["verdict"], strict=True))
    assert verdicts[("word", "HELLO", True)] == "inconclusive"
    assert verdicts[("pooled", None, True)] == "inconclusive"
    assert verdicts[("word", "SHINE", True)] == "real"
    assert verdicts[("new-word", None, True)] == "real"
    hello = out[(out["word"] == "HELLO") & out["greeting"]].iloc[0]
    assert hello["reason"] == "leak_needs_clean_real" and hello["runs_needed"] == 12
    assert pd.isna(hello["runs_needed_reason"])  # the clean row's count says it
    pooled = out[(out["scope"] == "pooled") & out["greeting"]].iloc[0]
    assert pooled["runs_needed"] == 20
    # a clean row that is decided (fluke): more runs here would not decide it
    fluke = frame.assign(verdict=frame["verdict"].where(frame["greeting"], "fluke"))
    fluke.loc[~fluke["greeting"], "runs_needed"] = 0
    hello = guard_leaking_rows(fluke, {("HELLO", True)}).iloc[1]
    assert hello["verdict"] == "inconclusive" and hello["runs_needed_reason"] == "follows_clean_row"
    # with the clean condition real, the leaking one keeps its verdict
    frame.loc[0, "verdict"] = "real"
    again = guard_leaking_rows(frame, {("HELLO", True)})
    assert again.loc[1, "verdict"] == "real"
    assert guard_leaking_rows(frame, set()).equals(frame)


def test_loo_warning_says_which_fits_have_unreliable_loo():
    from stats.summarize import loo_warning

    assert loo_warning({"n_pareto_k_bad": 0, "pareto_k_max": 0.4}, 50) == ""
    text = loo_warning({"n_pareto_k_bad": 11, "pareto_k_max": 1.19}, 120)
    assert "11 of 120 cells" in text and "1.19" in text and "not used" in text
