"""Parameter recovery with real NUTS on simulated cells (M1, M2) and the MLE cross-check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stats import config
from stats.model import decision, design, fit, sample, spec, synthetic
from stats.model.contrasts import Predictor, intro_share, m1_rate
from stats.model.decision import hdi
from stats.model.frequentist import glm_crosscheck

pytestmark = pytest.mark.slow
WORDS = ["HELLO", "SHINE", "PULSE", "HELOL"]
SETTINGS = sample.SamplerSettings(draws=500, tune=500, chains=4, seed=20261122, backend="pymc")
#: M2's run sd mixes more slowly (R-hat 1.011 and one divergence at 500 + 500, measured).
M2_SETTINGS = sample.SamplerSettings(draws=1000, tune=1000, chains=4, seed=20261122, backend="pymc")
#: True M1 values (logit scale; slopes per two standard deviations of their input).
M1_TRUTH = {
    "a": -1.0,
    "b_greet": 0.5,
    "b_n": 0.4,
    "b_lr": 0.3,
    "b_arm": [-1.5, -1.0],  # base, control
    "u_word": [0.5, -0.3, 0.2, -0.4],
    "d_word": [0.3, -0.3, 0.2, -0.2],
    "g_word": [0.6, -0.2, -0.2, -0.2],
}


def _m1_data(samples: int, sd_run: float, seed: int):
    groups = synthetic.design_grid(
        WORDS,
        n_examples=(10, 100),
        lr_multipliers=(1.0, 10.0),
        runs_per_cell=3,
        samples_per_prompt=samples,
        base_runs=3,
        control_runs_per_word=2,
        follow_rate=None,
    )
    cells = groups.rename(columns={"samples": "trials"}).assign(successes=0)
    data = design.m1_data(cells)
    s = spec.m1_spec(data.layout)
    rng = np.random.default_rng(seed)
    truth = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in M1_TRUTH.items()}
    truth = {k: v if v.shape[1] > 1 else v[:, 0] for k, v in truth.items()}
    truth["u_run"] = rng.normal(0, sd_run, size=(1, len(data.coords["run"])))
    y = synthetic.simulate_binomial(s, data, truth, rng)
    data = synthetic.with_counts(data, y)
    # same generative model; the parametrisation (centred terms) depends on the counts
    return spec.m1_spec(data.layout), data, truth


@pytest.fixture(scope="module")
def m1_fit():
    s, data, truth = _m1_data(samples=12, sd_run=0.3, seed=1)
    return fit.fit_model(s, data, SETTINGS), truth


def test_m1_recovers_true_values_inside_94_hdis(m1_fit):
    result, truth = m1_fit
    assert result.converged, result.diagnostics["failed"]
    for name in ("a", "b_greet", "b_n", "b_lr", "b_arm"):
        draws = result.posterior[name]
        values = np.atleast_1d(truth[name].ravel())
        columns = draws.T if draws.ndim == 2 else [draws]
        for true, column in zip(values, columns, strict=True):
            low, high = hdi(column, 0.94)
            assert low <= true <= high, f"{name}: {true} outside [{low:.2f}, {high:.2f}]"


def test_m1_word_rates_track_the_truth(m1_fit):
    """Partially pooled fine-tuned rates per word rank like the true word effects."""
    result, truth = m1_fit
    pred = Predictor(result.spec, result.data, result.posterior)
    rates = [m1_rate(pred, w, "finetuned", False).mean() for w in result.data.coords["word"]]
    true_order = np.argsort(truth["u_word"].ravel())
    assert list(np.argsort(rates)) == list(true_order)


def test_m1_posterior_means_match_the_statsmodels_mle_on_a_large_set():
    s, data, _ = _m1_data(samples=200, sd_run=0.02, seed=2)  # ~30k trials in ~130 cells
    result = fit.fit_model(s, data, SETTINGS)
    assert result.converged, result.diagnostics["failed"]
    table = glm_crosscheck(s, data, result.posterior).set_index("term")
    assert len(table) == 6  # a, b_n, b_lr, b_greet, b_arm[base], b_arm[control]
    gaps = (table["bayes_mean"] - table["mle"]).abs()
    assert (gaps < 0.05).all(), gaps.to_dict()
    assert (table["flag"] == "agree").all()


#: Introspective words of the M2 recovery world (logit boost at early lines); the others
#: have none. The words that are not named early set the early-line baseline: with every
#: word introspective the common level rests on the line walk's smoothness alone. Line
#: intercepts as in the operating-characteristics worlds, so that early lines have events
#: (with the default ones, -4 at line 1, and c*logit(g) ~ -4 there, an introspective word
#: is named early in ~0.1% of answers and its effect cannot be seen).
INTRO = {"HELLO": 1.5, "SHINE": 1.2}
A_LINE = (-1.0, -1.0, -0.8, -0.6, -0.5, -0.4, -0.4)


@pytest.fixture(scope="module")
def m2_fit():
    world = synthetic.World(
        a_line=A_LINE,
        c=0.5,
        b_greet=0.7,
        b_arm={"base": -1.0, "control": -0.5},
        b_intro=0.0,
        v_intro=INTRO,
        u_word={"HELLO": 0.4, "SHINE": -0.2, "PULSE": 0.0, "HELOL": -0.2},
        b_leak=1.0,
        leak_words=("HELLO",),
        sd_run=0.3,
    )
    groups = synthetic.design_grid(
        WORDS,
        n_examples=(10,),
        lr_multipliers=(1.0, 10.0),
        runs_per_cell=3,
        samples_per_prompt=60,  # cells, not trials, set the cost
        base_runs=2,
        control_runs_per_word=1,
    )
    _, m2_cells = synthetic.simulate_world(world, groups, np.random.default_rng(3))
    data = design.m2_data(m2_cells)
    s = spec.m2_spec(data.layout)
    return fit.fit_model(s, data, M2_SETTINGS), world


def test_m2_recovers_intro_guessability_greeting_and_arms(m2_fit):
    result, world = m2_fit
    assert result.converged, result.diagnostics["failed"]
    scale = result.data.scaling["logit_g"][1]
    checks = {
        "c": world.c * scale,
        "b_greet": world.b_greet,
        "b_leak": world.b_leak,
    }
    for name, true in checks.items():
        low, high = hdi(result.posterior[name], 0.94)
        assert low <= true <= high, f"{name}: {true:.2f} outside [{low:.2f}, {high:.2f}]"
    for k, arm in enumerate(result.data.coords["arm"]):
        low, high = hdi(result.posterior["b_arm"][:, k], 0.94)
        assert low <= world.b_arm[arm] <= high, arm
    # the positive per-word introspection effects cover the truth (0 for the other words)
    for j, word in enumerate(result.data.coords["word"]):
        low, high = hdi(result.posterior["intro_word"][:, j], 0.94)
        true = INTRO.get(word, 0.0)
        assert low <= true <= high or (true == 0 and low < 0.05), (word, low, high)


def test_m2_introspective_share_separates_the_introspective_words(m2_fit):
    """Credibly above the rule's floor for the words that introspect, small for the others."""
    result, _ = m2_fit
    pred = Predictor(result.spec, result.data, result.posterior)
    floor = decision.INTRO_FLOOR * config.ROPE
    for word in result.data.coords["word"]:
        low, high = hdi(intro_share(pred, word, False), 0.95)
        if word in INTRO:
            assert low > floor, (word, low, high)
        else:
            assert high < config.ROPE and low < floor, (word, low, high)


@pytest.fixture(scope="module")
def leak_only_fit():
    """A fluke world: the greeting leaks HELLO at early lines, nobody introspects."""
    world = synthetic.World(
        c=0.6,
        b_greet=0.3,
        b_arm={"base": -1.5},
        b_intro=0.0,
        u_word={"HELLO": 0.3, "SHINE": -0.3, "PULSE": 0.0},
        b_leak=2.0,
        leak_words=("HELLO",),
        sd_run=0.2,
    )
    groups = synthetic.design_grid(
        ["HELLO", "SHINE", "PULSE"], runs_per_cell=4, samples_per_prompt=60, base_runs=2
    )
    _, m2_cells = synthetic.simulate_world(world, groups, np.random.default_rng(11))
    data = design.m2_data(m2_cells)
    # the true sd_intro is 0 here (the funnel's neck): 1 divergence in 4,000 draws at
    # target_accept 0.95 (measured), none at 0.99
    settings = dataclasses.replace(M2_SETTINGS, target_accept=0.99)
    result = fit.fit_model(spec.m2_spec(data.layout), data, settings)
    return result, world


def test_m2_credits_an_early_greeting_leak_to_the_leak_term_not_introspection(leak_only_fit):
    result, world = leak_only_fit
    assert result.converged, result.diagnostics["failed"]
    assert result.spec.has("b_leak")
    low, high = hdi(result.posterior["b_leak"], 0.94)
    assert low <= world.b_leak <= high and low > 0.5, (low, high)
    pred = Predictor(result.spec, result.data, result.posterior)
    greeted = intro_share(pred, "HELLO", True)
    # the leak makes HELLO early with the greeting, yet its introspective share stays small
    assert hdi(greeted, 0.95)[1] < config.ROPE, hdi(greeted, 0.95)
