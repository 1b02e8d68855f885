"""Fast unit tests of the model stage: specs, study validation, predictor, decision rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from stats import config
from stats.model import (
    contrasts,
    decision,
    design,
    layout,
    marginal,
    reasons,
    spec,
    synthetic,
    terms,
)
from stats.model.layout import Layout
from stats.model.predictor import DRAWS, GRAPH, linear_predictor
from stats.model.study import DEFAULTS, StudyError, load_study, parse_study

WORDS = ["HELLO", "SHINE", "HELOL"]


@pytest.fixture(scope="module")
def cells():
    rng = np.random.default_rng(7)
    groups = synthetic.design_grid(
        WORDS,
        n_examples=(10, 200),
        lr_multipliers=(1.0, 10.0),
        runs_per_cell=1,
        prompts_per_greeting=2,
        samples_per_prompt=4,
        base_runs=1,
        control_runs_per_word=1,
    )
    return synthetic.simulate_world(synthetic.World(b_intro=1.0), groups, rng)


# ----------------------------------------------------------------------------- specs
def test_spec_has_no_pymc_import():
    import subprocess
    import sys

    code = "import sys, stats.model.spec, stats.model.design; print('pymc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_m1_terms_follow_the_layout(cells):
    m1_cells, _ = cells
    full = spec.m1_spec(design.m1_data(m1_cells).layout)
    names = [t.name for t in full.terms]
    assert names == [
        "a", "b_n", "b_lr", "b_greet", "b_arm", "u_word", "d_word", "g_word", "u_run", "u_prompt",
    ]  # fmt: skip
    assert full.term("a").prior.mu == pytest.approx(np.log(0.05 / 0.95))
    assert full.term("u_word").zero_sum and full.term("u_prompt").zero_sum_within == "greeting"
    # one n_examples, one LR, no greeting variation, fine-tuned only
    only = m1_cells[
        (m1_cells["n_examples"] == 10)
        & (m1_cells["lr_multiplier"] == 1.0)
        & ~m1_cells["greeting"]
        & (m1_cells["arm"] == "finetuned")
    ]
    lean = spec.m1_spec(design.m1_data(only).layout)
    assert [t.name for t in lean.terms] == ["a", "u_word", "u_run", "u_prompt"]


def test_m2_terms_and_intro_needs_a_baseline_arm(cells):
    _, m2_cells = cells
    full = spec.m2_spec(design.m2_data(m2_cells).layout)
    assert {"a_line", "c", "intro_word", "b_arm"} <= {t.name for t in full.terms}
    intro = full.term("intro_word")
    assert isinstance(intro, terms.PositiveGroupEffect)
    assert intro.loc_name == "b_intro" and intro.sd_free
    tuned = m2_cells[m2_cells["arm"] == "finetuned"]
    lean = spec.m2_spec(design.m2_data(tuned).layout)
    assert not lean.has("intro_word")  # collinear with the line intercepts without a baseline


def test_introspection_effects_are_positive_and_a_single_word_has_no_spread(cells):
    pytest.importorskip("pymc")
    from stats.model.build import build_model

    _, m2_cells = cells
    data = design.m2_data(m2_cells)
    m2 = spec.m2_spec(data.layout)
    model = build_model(m2, data)
    assert set(m2.free_names()) == {rv.name for rv in model.free_RVs}
    assert {"b_intro", "sd_intro", "intro_word_z"} <= {rv.name for rv in model.free_RVs}
    import pymc as pm

    effects = pm.draw(model["intro_word"], draws=2000, random_seed=3)
    assert (effects > 0).all()
    prior = synthetic.draw_prior(m2, data, np.random.default_rng(3), draws=2000)["intro_word"]
    assert (prior > 0).all()
    assert np.median(prior) == pytest.approx(np.median(effects), rel=0.1)
    one = m2_cells[m2_cells["word"] == "HELLO"]
    single = spec.m2_spec(design.m2_data(one).layout).term("intro_word")
    assert not single.sd_free and single.sd_name is None and single.free_names() == ["b_intro"]


def test_every_term_kind_owns_its_draw_predictor_part_and_build(cells):
    m1_cells, m2_cells = cells
    used = set()
    for data, model in ((design.m1_data(m1_cells), "M1"), (design.m2_data(m2_cells), "M2")):
        full = spec.m1_spec(data.layout) if model == "M1" else spec.m2_spec(data.layout)
        used |= {type(t) for t in full.terms}
        # the spec's dict form (the fit-cache key) names each term's class
        classes = [t["class"] for t in full.to_dict()["terms"]]
        assert classes == [type(t).__name__ for t in full.terms]
    assert used == set(terms.TERM_CLASSES)  # the two models use every kind
    for cls in terms.TERM_CLASSES:
        assert cls.kind in ("intercept", "slope", "contrast", "random_walk", "group")
        for method in ("draw", "add_to", "build"):
            assert getattr(cls, method) is not getattr(terms.Term, method), (cls, method)
    with pytest.raises(ValueError, match="needs"):
        terms.GroupEffect(name="u_word", input="word", sd_prior=terms.Prior("halfnormal", 1.0))
    with pytest.raises(ValueError, match="unknown prior kind"):
        terms.Prior("cauchy", 1.0)


def test_prior_scaling_and_digest():
    factors = Layout(3, 6, 2, ("finetuned", "base"), True, True, True, False)
    base = spec.m1_spec(factors)
    wide = spec.m1_spec(factors, prior_scale=2.0)
    assert wide.prior_scale == 2.0
    assert wide.term("b_greet").prior.sigma == 2 * base.term("b_greet").prior.sigma
    assert wide.term("u_word").sd_prior.sigma == 2 * base.term("u_word").sd_prior.sigma
    assert wide.term("a").prior.mu == base.term("a").prior.mu
    assert base.digest() == spec.m1_spec(factors).digest() != wide.digest()
    with pytest.raises(ValueError, match="valid"):
        spec.m1_spec(factors, outcome="nonsense")


def test_word_greeting_effects_have_a_fixed_scale_that_prior_scaling_moves():
    factors = Layout(4, 8, 2, ("finetuned", "base"), True, False, False, False)
    base = spec.m1_spec(factors)
    g_word = base.term("g_word")
    assert isinstance(g_word, terms.FixedGroupEffect) and g_word.around == "b_greet"
    assert g_word.sd_fixed == spec.GREET_WORD_SD and not g_word.sd_free
    assert g_word.sd_name is None and g_word.zero_sum
    assert spec.m1_spec(factors, prior_scale=0.5).term("g_word").sd_fixed == 0.5 * g_word.sd_fixed
    assert base.term("u_word").sd_free  # word effects keep a learnt sd (new-word predictive)


def test_fixed_scale_group_term_is_sampled_directly(cells):
    pytest.importorskip("pymc")
    from stats.model.build import build_model

    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    m1 = spec.m1_spec(data.layout)
    model = build_model(m1, data)
    free = {rv.name for rv in model.free_RVs}
    # sampled jointly with b_greet as per-word levels with the greeting (FixedGroupEffect.around)
    assert "g_word_level" in free and not {"sd_word_greet", "g_word_z", "b_greet"} & free
    assert set(m1.free_names()) == free
    assert "g_word" not in m1.summary_names() and "b_greet" in m1.summary_names()
    # the totals' prior is the product of b_greet's and g_word's priors
    import pymc as pm

    b_greet, g_word = pm.draw([model["b_greet"], model["g_word"]], draws=20_000, random_seed=5)
    assert np.std(b_greet) == pytest.approx(m1.term("b_greet").prior.sigma, rel=0.03)
    assert np.mean(b_greet) == pytest.approx(m1.term("b_greet").prior.mu, abs=0.03)
    levels = g_word.shape[1]
    expected_sd = spec.GREET_WORD_SD * np.sqrt(1 - 1 / levels)
    assert np.std(g_word, axis=0) == pytest.approx(np.full(levels, expected_sd), rel=0.03)
    assert np.allclose(g_word.sum(axis=1), 0.0, atol=1e-9)
    assert abs(np.corrcoef(b_greet, g_word[:, 0])[0, 1]) < 0.03
    # PyMC's ZeroSumNormal prior and the reweighting density agree up to a constant
    rng = np.random.default_rng(3)
    draws = synthetic.draw_prior(m1, data, rng, draws=5)
    effects = draws["g_word"]
    assert np.allclose(effects.sum(axis=1), 0.0)
    zero_sum = pm.ZeroSumNormal.dist(sigma=spec.GREET_WORD_SD, shape=effects.shape[1])
    ours, theirs = [], []
    for row in effects:
        ours.append(m1.term("g_word").log_density(row[None, :])[0])
        theirs.append(float(pm.logp(zero_sum, row).sum().eval()))
    assert np.allclose(np.diff(ours), np.diff(theirs))
    # ... and in how the scale enters (what prior-sensitivity reweighting uses)
    row, term = effects[0], m1.term("g_word")
    wider = dataclasses.replace(term, sd_fixed=2 * term.sd_fixed)
    ours_change = wider.log_density(row[None, :])[0] - term.log_density(row[None, :])[0]
    zsn = [
        pm.ZeroSumNormal.dist(sigma=sd, shape=len(row)) for sd in (term.sd_fixed, wider.sd_fixed)
    ]
    their_change = float((pm.logp(zsn[1], row).sum() - pm.logp(zsn[0], row).sum()).eval())
    assert ours_change == pytest.approx(their_change)
    wide = spec.m1_spec(data.layout, prior_scale=2.0)
    ratio = synthetic.prior_log_density(wide, draws) - synthetic.prior_log_density(m1, draws)
    assert np.all(np.isfinite(ratio)) and np.ptp(ratio) > 0  # g_word's scale enters


# ----------------------------------------------------------------------------- study spec
def test_study_defaults_come_from_config():
    study = parse_study(None)
    assert study.rope == config.ROPE and study.ci_prob == config.CI_PROB
    assert study.k == config.EARLY_K and study.sampler.draws == config.DRAWS
    assert study.sampler.target_accept == config.TARGET_ACCEPT


def test_study_unknown_keys_are_named_with_the_valid_ones(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("outcome: articulated_early\nropee: 0.1\n")
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert "ropee" in message and "rope" in message and str(path) in message
    with pytest.raises(StudyError, match=r"sampler.*unknown key.*'draw'.*valid keys"):
        parse_study({"sampler": {"draw": 10}})


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"outcome": "said_hello"}, "outcome"),
        ({"rope": -0.1}, "rope"),
        ({"k": 1.5}, "k"),
        ({"models": ["M2"]}, "M1 is required"),
        ({"sampler": {"backend": "stan"}}, "backend"),
        ({"sensitivity": "x2"}, "sensitivity"),
        ({"sampler": {"chains": 0}}, "chains"),
    ],
)
def test_study_rejects_bad_values(raw, match):
    with pytest.raises(StudyError, match=match):
        parse_study(raw)


def test_bundled_study_file_is_valid():
    study = load_study(config.STUDY_PATH)
    assert set(DEFAULTS) >= {"outcome", "sampler"}
    assert study.outcome in spec.OUTCOMES


# ----------------------------------------------------------------------------- design / predictor
def test_design_standardises_run_level_covariates(cells):
    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    centre, scale = data.scaling["x_n"]
    tuned_runs = m1_cells[m1_cells["arm"] != "base"].drop_duplicates("run_id")
    raw = np.log2(tuned_runs["n_examples"].astype(float) / config.N_EXAMPLES_REFERENCE)
    assert centre == pytest.approx(raw.mean()) and scale == pytest.approx(2 * raw.std(ddof=0))
    base = (data.cells["arm"] == "base").to_numpy()
    assert np.all(data.rows.inputs["x_n"][base] == 0)  # base models: at the centre
    with pytest.raises(ValueError, match="unknown arm"):
        design.m1_data(m1_cells.assign(arm="sham"))


def test_numpy_and_pytensor_predictors_agree(cells):
    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    s = spec.m1_spec(data.layout)
    draws = synthetic.draw_prior(s, data, np.random.default_rng(1), 3)
    numpy_eta = linear_predictor(s, draws, data.rows, DRAWS)
    for i in range(3):
        one = {k: v[i] for k, v in draws.items()}
        graph_eta = linear_predictor(s, one, data.rows, GRAPH)
        np.testing.assert_allclose(numpy_eta[i], graph_eta)


def test_numpy_prior_matches_the_pymc_prior(cells):
    """The simulator's prior (NumPy) and the builder's prior (PyMC) are the same."""
    import pymc as pm

    from stats.model.build import build_model

    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    s = spec.m1_spec(data.layout)
    model = build_model(s, data)
    names = ["a", "b_greet", "sd_word", "u_word", "u_prompt", "b_arm"]
    pymc_draws = pm.draw([model[n] for n in names], draws=4000, random_seed=3)
    ours = synthetic.draw_prior(s, data, np.random.default_rng(3), 4000)
    for name, theirs in zip(names, pymc_draws, strict=True):
        np.testing.assert_allclose(ours[name].std(axis=0), theirs.std(axis=0), rtol=0.08)
        np.testing.assert_allclose(ours[name].mean(axis=0), theirs.mean(axis=0), atol=0.1)
    # prompt effects sum to zero within each greeting level, in both
    greeting_of = data.cells.drop_duplicates("prompt_id").set_index("prompt_id")["greeting"]
    flags = np.array([greeting_of[p] for p in data.coords["prompt"]])
    for values in (ours["u_prompt"], pymc_draws[names.index("u_prompt")]):
        np.testing.assert_allclose(values[:, flags].sum(axis=1), 0, atol=1e-9)


# ----------------------------------------------------------------------------- contrasts
def test_new_word_variance_and_delta_signs(cells):
    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    s = spec.m1_spec(data.layout)
    n = 4000
    params = synthetic.draw_prior(s, data, np.random.default_rng(2), n)
    # pin everything but the word effects: fine-tuned clearly above base
    params["a"] = np.full(n, -1.0)
    params["b_arm"] = np.tile([-3.0, -3.0], (n, 1))
    for name in ("b_n", "b_lr", "b_greet"):
        params[name] = np.zeros(n)
    pred = contrasts.Predictor(s, data, params)
    new = pred.new_word_effects()["u_word"]
    expected = params["sd_word"] * np.sqrt(1 + 1 / len(data.coords["word"]))
    assert np.std(new / expected) == pytest.approx(1.0, abs=0.05)
    found = contrasts.deltas(pred, {w: 0.0 for w in WORDS})
    scopes = {(c.scope, c.word, c.greeting) for c in found}
    assert ("pooled", None, False) in scopes and ("new-word", None, True) in scopes
    assert all(c.baseline == "base" for c in found)
    assert all(np.mean(c.delta) > 0 for c in found)


def test_guessability_baseline_when_no_baseline_arm(cells):
    m1_cells, _ = cells
    tuned = m1_cells[m1_cells["arm"] == "finetuned"]
    data = design.m1_data(tuned)
    s = spec.m1_spec(data.layout)
    params = synthetic.draw_prior(s, data, np.random.default_rng(4), 200)
    pred = contrasts.Predictor(s, data, params)
    found = contrasts.deltas(pred, {"HELLO": 0.02, "SHINE": 0.01, "HELOL": 0.0})
    hello = next(c for c in found if c.word == "HELLO")
    assert hello.baseline == "guessability"
    np.testing.assert_allclose(hello.reference, 0.02)


def test_marginal_rate_integrates_the_run_effect(cells):
    """Gauss-Hermite marginal rate equals a Monte Carlo average over new runs."""
    m1_cells, _ = cells
    data = design.m1_data(m1_cells)
    s = spec.m1_spec(data.layout)
    params = synthetic.draw_prior(s, data, np.random.default_rng(5), 50)
    params["sd_run"] = np.full(50, 1.5)
    pred = contrasts.Predictor(s, data, params)
    rate = contrasts.m1_rate(pred, "HELLO", "finetuned", False)
    grid = marginal._grid(pred, "HELLO", "finetuned", False)
    eta = linear_predictor(s, params, grid.rows, DRAWS)
    z = np.random.default_rng(0).normal(size=200_000)
    mc = np.array([[np.mean(1 / (1 + np.exp(-(e + 1.5 * z)))) for e in row] for row in eta[:5]])
    np.testing.assert_allclose(rate[:5], mc @ grid.weights, atol=3e-3)


# ----------------------------------------------------------------------------- decision rule
ROPE = 0.05


def _draws(low, high, n=4000):
    return np.linspace(low, high, n)


@pytest.mark.parametrize(
    ("delta", "intro", "converged", "verdict", "reason"),
    [
        ((0.10, 0.30), None, True, "real", "real_m1_only"),
        ((0.10, 0.30), (0.08, 0.20), True, "real", "real"),
        ((0.10, 0.30), (0.02, 0.20), True, "real", "real"),  # intro credibly positive
        ((0.10, 0.30), (-0.02, 0.03), True, "fluke", "intro_below_rope"),  # absorbed
        ((0.10, 0.30), (0.01, 0.04), True, "fluke", "intro_below_rope"),  # below its ROPE
        ((0.10, 0.30), (-0.20, -0.01), True, "fluke", "intro_below_rope"),
        ((0.00, 0.30), (0.00, 0.03), True, "fluke", "intro_below_rope"),  # whatever Delta
        ((0.10, 0.30), (-0.02, 0.20), True, "inconclusive", "intro_uncertain"),
        ((0.10, 0.30), (0.0, 0.08), True, "inconclusive", "intro_uncertain"),  # P(> floor) 0.94
        ((-0.02, 0.04), None, True, "fluke", "delta_in_rope"),
        ((-0.30, -0.10), None, True, "fluke", "baseline_above"),
        ((-0.10, 0.04), None, True, "fluke", "delta_below_rope"),  # one-sided
        ((0.00, 0.30), (0.10, 0.30), True, "inconclusive", "delta_overlaps_rope"),
        ((0.10, 0.30), (0.10, 0.30), False, "not-converged", "not_converged"),
        ((-0.02, 0.04), None, False, "not-converged", "not_converged"),
    ],
)
def test_decision_rule_on_constructed_draws(delta, intro, converged, verdict, reason):
    got = decision.decide_draws(
        _draws(*delta),
        ROPE,
        intro=_draws(*intro) if intro else None,
        converged=converged,
    )
    assert (got.verdict, got.reason) == (verdict, reason)
    # the registry describes the code, with this verdict and this position of Delta's HDI
    words = reasons.reason(got.reason)
    assert got.verdict in words.verdicts and got.delta_position in words.delta


def test_a_skewed_share_whose_hdi_reaches_zero_is_credibly_above_the_floor():
    """Density highest near 0 (a share bounded by 0), but 98% of the mass above the floor."""
    floor = decision.INTRO_FLOOR * ROPE
    intro = np.concatenate(
        [np.linspace(0.0, floor, 80, endpoint=False), np.linspace(floor, 0.4, 3920)]
    )
    low, _ = decision.hdi(intro, 0.95)
    assert low < floor  # the HDI alone would call it uncertain
    assert decision.p_above_floor(intro, ROPE) == pytest.approx(0.98, abs=1e-3)
    got = decision.decide_draws(_draws(0.10, 0.30), ROPE, intro=intro)
    assert (got.verdict, got.reason) == ("real", "real")
    # just below the probability the rule asks for: uncertain
    intro = np.concatenate(
        [np.linspace(0.0, floor, 120, endpoint=False), np.linspace(floor, 0.4, 3880)]
    )
    assert decision.p_above_floor(intro, ROPE) < decision.INTRO_PROB
    got = decision.decide_draws(_draws(0.10, 0.30), ROPE, intro=intro)
    assert (got.verdict, got.reason) == ("inconclusive", "intro_uncertain")


def test_an_intro_interval_without_its_probability_is_refused():
    with pytest.raises(ValueError, match="intro_p_floor"):
        decision.decide((0.1, 0.3), ROPE, intro_hdi=(0.01, 0.2))


def test_every_reason_code_is_described_once_with_every_placeholder_known():
    assert list(reasons.REASONS) == [
        "not_converged", "delta_in_rope", "baseline_above", "delta_below_rope",
        "intro_below_rope", "real_m1_only", "real", "intro_uncertain", "delta_overlaps_rope",
        "leak_needs_clean_real",
    ]  # fmt: skip
    values = dict(hdi="[+0.10, +0.30]", intro="[+0.01, +0.20]", rope="0.05", floor="0.005",
                  prob="95%", p_floor="98.0%", intro_prob="97.5%")  # fmt: skip
    for code, words in reasons.REASONS.items():
        assert set(words.verdicts) <= set(decision.VERDICTS), code
        assert set(words.delta) <= set(reasons.POSITIONS), code
        for text in (words.short, words.rule, words.sentence):
            assert text and "{" not in text.format(**values), (code, text)
    for words in reasons.RUNS_NEEDED_REASONS.values():
        assert "{" not in words.cell.format(largest=256) + words.sentence.format(largest=256)
    with pytest.raises(KeyError, match="unknown verdict reason"):
        reasons.reason("nonsense")


def test_near_zero_finetuned_rate_is_never_real():
    """A word whose fine-tune failed: Delta ~ 0 -> fluke (or inconclusive), never real."""
    rng = np.random.default_rng(0)
    finetuned = rng.beta(1, 400, 4000)  # ~0.25% articulation
    base = rng.beta(1, 500, 4000)
    got = decision.decide_draws(finetuned - base, ROPE)
    assert got.verdict == "fluke"


def test_hdi_matches_a_normal_interval():
    draws = np.random.default_rng(1).normal(0.2, 0.05, 200_000)
    low, high = decision.hdi(draws, 0.95)
    assert low == pytest.approx(0.2 - 1.96 * 0.05, abs=2e-3)
    assert high == pytest.approx(0.2 + 1.96 * 0.05, abs=2e-3)


def test_runs_needed_grows_as_the_interval_nears_the_rope():
    rng = np.random.default_rng(3)
    decisive_now = rng.normal(0.2, 0.03, 4000)
    assert decision.runs_needed(decisive_now, 10, ROPE) == 0
    close = rng.normal(0.13, 0.05, 4000)
    closer = rng.normal(0.10, 0.05, 4000)
    n_close = decision.runs_needed(close, 10, ROPE)
    n_closer = decision.runs_needed(closer, 10, ROPE)
    assert n_close is not None and n_close >= 1
    assert n_closer is None or n_closer > n_close
    # projected precision: sd shrinks as sqrt(R / (R + m))
    mu, sd = decision._projected(close, 30, 10, np.random.default_rng(0), 4000)
    low, high = mu - 1.96 * sd, mu + 1.96 * sd
    assert (low > ROPE).mean() > 0.7 and (high < ROPE).mean() < 0.05
    assert sd == pytest.approx(0.05 * np.sqrt(10 / 40), rel=0.05)


def test_runs_needed_pairs_fits_with_different_numbers_of_draws():
    """M2 sampled again with twice the draws (a retry) while M1 kept its 4,000."""
    rng = np.random.default_rng(4)
    delta = rng.normal(0.12, 0.05, 4000)
    intro = rng.normal(0.04, 0.03, 8000)
    needed = decision.runs_needed(delta, 10, ROPE, intro=intro)
    assert needed is not None and needed >= 1
    # and when M1 has the more draws
    assert decision.runs_needed(delta, 10, ROPE, intro=intro[:2000]) is not None


# ----------------------------------------------------------------------------- frequentist
def test_exact_intervals_match_known_values():
    from stats.model.frequentist import exact_interval

    low, high = exact_interval(np.array([0, 5, 10]), np.array([10, 10, 10]), 0.95)
    # Clopper-Pearson 95% (R: binom.test): 0/10 -> [0, 0.3085], 5/10 -> [0.1871, 0.8129]
    np.testing.assert_allclose(low, [0.0, 0.18708603, 0.69150289], atol=1e-6)
    np.testing.assert_allclose(high, [0.30849710, 0.81291397, 1.0], atol=1e-6)
    j_low, j_high = exact_interval(5, 10, 0.95, method="jeffreys")
    assert (float(j_low), float(j_high)) == pytest.approx((0.2235, 0.7765), abs=1e-4)


def test_fisher_and_self_consistency_by_hand():
    from stats.model.frequentist import fisher_greeting, self_consistency

    cells = pd.DataFrame(
        {
            "run_id": ["r1", "r1", "r2", "r2"],
            "prompt_id": ["p1", "p2", "p1", "p2"],
            "word": ["W"] * 4,
            "arm": ["finetuned"] * 4,
            "greeting": [True, False, True, False],
            "successes": [4, 0, 3, 1],
            "trials": [4, 4, 4, 4],
        }
    )
    fisher = fisher_greeting(cells)
    assert fisher.loc[0, "greet_successes"] == 7 and fisher.loc[0, "nogreet_successes"] == 1
    from scipy.stats import fisher_exact

    assert fisher.loc[0, "p_value"] == pytest.approx(fisher_exact([[7, 1], [1, 7]]).pvalue)
    sc = self_consistency(cells).set_index("greeting")
    # greeting: 4/4 agree fully (6/6 pairs); 3/4 -> 3 of 6 pairs agree -> 9/12
    assert sc.loc[True, "self_consistency"] == pytest.approx(9 / 12)
    assert sc.loc[False, "self_consistency"] == pytest.approx((6 + 3) / 12)


def test_replace_keeps_dataclass_semantics():
    s = spec.m1_spec(Layout(2, 2, 1, ("finetuned",), False, False, False, False))
    assert dataclasses.replace(s, outcome="articulated").outcome == "articulated"


def test_cross_terms_count_other_word_runs_naming_the_word():
    from stats.model.frequentist import cross_terms

    trials = pd.DataFrame(
        {
            "word": ["HELLO", "HELLO", "SHINE", "SHINE", "SHINE", "HELLO"],
            "arm": ["finetuned"] * 5 + ["base"],
            "named_word": ["HELLO", None, "hello", "SHINE", None, "HELLO"],
        }
    )
    table = cross_terms(trials).set_index(["word", "source"])
    assert table.loc[("HELLO", "same-word"), "successes"] == 1
    assert table.loc[("HELLO", "other-word"), ["successes", "trials"]].tolist() == [1, 3]
    assert table.loc[("SHINE", "other-word"), "successes"] == 0  # base trials excluded


def test_word_effects_are_judged_pinned_from_cells_without_the_greeting():
    """A greeting that leaks one word must not make the word levels look far apart."""
    words, per_cell = 4, 4000
    codes = np.repeat(np.arange(words), 2)
    greeting = np.tile([0.0, 1.0], words)
    rate = np.where(greeting == 1, 0.1, 0.1)
    rate[(codes == 0) & (greeting == 1)] = 0.7  # the leak: one word, greeting cells only
    n = np.full(codes.size, per_cell, dtype=float)
    y = np.round(rate * n)
    coords = {"word": [f"W{j}" for j in range(words)]}
    inputs, index = {"greeting": greeting}, {"word": codes}
    assert "word" not in layout.pinned_terms(y, n, inputs, index, coords)
    # the same word differences without the greeting do pin the word effects
    y_far = y.copy()
    y_far[(codes == 0) & (greeting == 0)] = 0.7 * per_cell
    assert "word" in layout.pinned_terms(y_far, n, inputs, index, coords)
