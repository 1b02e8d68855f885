"""fit_study end to end: files, columns, cache, absent factors.

Sampling is replaced by iid prior draws (bambi's trick) so these tests check the
wiring in seconds; the statistics are tested with real NUTS in test_model_recovery.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from stats import config, schemas
from stats.model import fit, synthetic
from stats.model.pipeline import fit_study

#: Summary tables and their columns, as listed in CONTRACTS.md.
CONTRACT = {
    "diagnostics.csv": "fit, model, outcome, prior_scale, sampler, seconds, max_rhat, min_ess_bulk, min_ess_tail, divergences, min_bfmi, pareto_k_max, n_pareto_k_bad, converged",
    "coefficients.csv": "fit, model, term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk",
    "word_rates.csv": "scope, word, arm, greeting, outcome, successes, trials, n_runs, raw_rate, exact_low, exact_high, pooled_mean, pooled_low, pooled_high",
    "delta_draws.parquet": "scope, word, greeting, source, prior_scale, draw, delta",
    "hazard.csv": "arm, line, letters_visible, at_risk, events, raw_hazard, hazard_mean, hazard_low, hazard_high, cumulative_raw, cumulative_mean, cumulative_low, cumulative_high, guessability",
    "curves.csv": "outcome, arm, factor, value, successes, trials, raw_rate, exact_low, exact_high, mean, low, high",
    "sensitivity.csv": "prior_scale, scope, word, greeting, mean, hdi_low, hdi_high, verdict",
    "ppc.csv": "check, word, greeting, arm, line, trials, observed_rate, rep_mean, rep_low, rep_high",
    "crosscheck.csv": "term, bayes_mean, bayes_sd, mle, robust_se, z_diff, flag",
    "fisher.csv": "word, arm, greet_successes, greet_trials, nogreet_successes, nogreet_trials, odds_ratio, p_value",
    "consistency.csv": "word, arm, greeting, n_prompts, samples_per_prompt, self_consistency",
}
WORDS = ["HELLO", "SHINE", "HELOL"]


class PriorSampler:
    """Stands in for NUTS (``fit._sampler_for``): iid prior draws, counting calls."""

    name = "prior"

    def __init__(self) -> None:
        self.calls = 0
        self.settings: list[tuple[str, object]] = []  # (model, settings) of each draw

    def __call__(self, spec, data, settings, compiled):
        self.spec, self.data = spec, data
        return self, {}

    def draw(self, settings, seed, values=None):
        self.calls += 1
        self.settings.append((self.spec.name, settings))
        return synthetic.prior_idata(self.spec, self.data, settings.chains, settings.draws, seed)


@pytest.fixture
def sampler(monkeypatch):
    fake = PriorSampler()
    monkeypatch.setattr(fit, "_sampler_for", fake)
    return fake


def _write_study(tmp_path, **changes) -> object:
    raw = {
        "sensitivity": [2.0],
        "extra_outcomes": ["follows_pattern"],
        "sampler": {"draws": 1000, "tune": 10, "chains": 4, "seed": 1},
    } | changes
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _write_trials(tmp_path, **grid) -> config.Artifacts:
    options = {
        "n_examples": (10, 200),
        "lr_multipliers": (1.0, 10.0),
        "runs_per_cell": 1,
        "prompts_per_greeting": 2,
        "samples_per_prompt": 3,
        "base_runs": 1,
        "control_runs_per_word": 0,
    } | grid
    groups = synthetic.design_grid(WORDS, **options)
    trials = synthetic.world_trials(synthetic.World(b_intro=1.0), groups, np.random.default_rng(5))
    artifacts = config.Artifacts(tmp_path / "processed")
    artifacts.root.mkdir(parents=True)
    trials.to_parquet(artifacts.trials)
    return artifacts


def test_fit_study_writes_every_contracted_table(tmp_path, sampler):
    artifacts = _write_trials(tmp_path)
    verdicts = fit_study(artifacts.root, _write_study(tmp_path, sensitivity_method="refit"))
    assert sampler.calls == 5  # M1, M2, follows_pattern, M1 x2, M2 x2
    assert list(artifacts.fits.glob("*.nc")), "fits are cached as NetCDF"
    schemas.validate(pd.read_csv(artifacts.verdicts), "verdicts")
    for name, columns in CONTRACT.items():
        path = artifacts.summary / name
        table = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
        missing = [c for c in columns.split(", ") if c not in table.columns]
        assert not missing, f"{name} lacks {missing}"
        assert len(table), f"{name} is empty"
    scopes = set(verdicts["scope"])
    assert scopes == {"word", "pooled", "new-word"}
    assert set(verdicts["verdict"]) <= set(schemas.VERDICT_VALUES)
    assert (verdicts["basis"] == "M1+M2").all()
    assert set(verdicts.loc[verdicts["scope"] == "word", "word"]) == set(WORDS)
    # primary estimand (no greeting) first: the review reads the first pooled row
    assert not verdicts["greeting"].iloc[0]
    draws = pd.read_parquet(artifacts.summary / "delta_draws.parquet")
    assert set(draws["source"]) == {"posterior", "prior"}
    assert set(draws["prior_scale"]) == {1.0, 2.0}
    sensitivity = pd.read_csv(artifacts.summary / "sensitivity.csv")
    assert set(sensitivity["prior_scale"]) == {1.0, 2.0}
    diagnostics = pd.read_csv(artifacts.summary / "diagnostics.csv")
    assert set(diagnostics["model"]) == {"M1", "M2"}
    assert set(diagnostics["outcome"]) >= {"articulated_early", "follows_pattern", "word_line"}


def test_per_model_sampler_settings_reach_every_fit_of_that_model(tmp_path, sampler):
    artifacts = _write_trials(tmp_path)
    study = _write_study(
        tmp_path,
        sensitivity_method="refit",
        sampler={
            "draws": 400,
            "tune": 10,
            "chains": 4,
            "seed": 1,
            "per_model": {"M1": {"draws": 300}},
        },
    )
    fit_study(artifacts.root, study)
    draws = {}
    for model, settings in sampler.settings:
        draws.setdefault(model, set()).add(settings.draws)
    # M1: main, follows_pattern and the x2 refit; M2: main and x2
    assert [m for m, _ in sampler.settings].count("M1") == 3
    assert draws == {"M1": {300}, "M2": {400}}
    diagnostics = pd.read_csv(artifacts.summary / "diagnostics.csv")
    assert len(diagnostics) == 5


def test_power_scaling_decides_which_models_are_refitted(tmp_path, sampler, monkeypatch):
    from stats.model import pipeline

    artifacts = _write_trials(tmp_path)
    study = _write_study(tmp_path, extra_outcomes=[], sensitivity=[0.5, 2.0])
    fit_study(artifacts.root, study)
    table = pd.read_csv(artifacts.summary / "prior_sensitivity.csv")
    assert set(table["estimand"]) == {"delta", "delta_intro"}
    assert {"prior", "likelihood", "diagnosis", "flagged"} <= set(table.columns)
    # iid prior draws are all prior: both models have flagged estimands and are refitted
    assert table.groupby("model")["flagged"].any().all() and sampler.calls == 2 + 2 * 2
    assert set(pd.read_csv(artifacts.summary / "sensitivity.csv")["prior_scale"]) == {0.5, 1.0, 2.0}

    # nothing flagged: no refit, and the sensitivity table holds the main scale only
    def calm(result):
        out = real_sensitivity(result)
        return out.assign(flagged=False, diagnosis="ok")

    real_sensitivity = pipeline.prior_sensitivity
    monkeypatch.setattr(pipeline, "prior_sensitivity", calm)
    calls = sampler.calls
    fit_study(artifacts.root, _write_study(tmp_path, extra_outcomes=[], sensitivity=[3.0]))
    assert sampler.calls == calls  # main fits from the cache, no refit
    assert set(pd.read_csv(artifacts.summary / "sensitivity.csv")["prior_scale"]) == {1.0}


def test_rerun_with_unchanged_inputs_uses_the_cache(tmp_path, sampler):
    artifacts = _write_trials(tmp_path)
    study = _write_study(tmp_path, sensitivity=[], extra_outcomes=[])
    first = fit_study(artifacts.root, study)
    calls = sampler.calls
    second = fit_study(artifacts.root, study)
    assert sampler.calls == calls, "a re-run with unchanged inputs must not resample"
    pd.testing.assert_frame_equal(first, second)
    assert pd.read_csv(artifacts.summary / "diagnostics.csv")["cached"].all()


def test_no_baseline_arm_uses_the_guessability_baseline(tmp_path, sampler):
    artifacts = _write_trials(tmp_path, base_runs=0, n_examples=(10,))
    verdicts = fit_study(artifacts.root, _write_study(tmp_path, sensitivity=[]))
    assert set(verdicts["baseline"]) == {"guessability"}
    assert (verdicts["basis"] == "M1").all()  # b_intro is not identified without a baseline
    coefficients = pd.read_csv(artifacts.summary / "coefficients.csv")
    assert "b_n" not in set(coefficients["term"])  # one n_examples value: no slope
    assert "b_intro" not in set(coefficients["term"])


def test_control_arm_is_the_baseline_when_there_is_no_base_model(tmp_path, sampler):
    artifacts = _write_trials(tmp_path, base_runs=0, control_runs_per_word=1)
    verdicts = fit_study(artifacts.root, _write_study(tmp_path, sensitivity=[]))
    assert set(verdicts["baseline"]) == {"control"}
    assert (verdicts["basis"] == "M1+M2").all()


def test_no_greeting_variation(tmp_path, sampler):
    artifacts = _write_trials(tmp_path, greetings=(False,), lr_multipliers=(1.0,))
    verdicts = fit_study(artifacts.root, _write_study(tmp_path, sensitivity=[]))
    assert not verdicts["greeting"].any()
    terms = set(pd.read_csv(artifacts.summary / "coefficients.csv")["term"])
    assert not {"b_greet", "sd_word_greet", "b_lr"} & terms
    assert pd.read_csv(artifacts.summary / "fisher.csv").empty


def test_missing_trials_file_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="stats score"):
        fit_study(tmp_path)


def test_a_single_word_gets_word_verdicts_only(tmp_path, sampler):
    artifacts = _write_trials(tmp_path)
    trials = pd.read_parquet(artifacts.trials)
    trials[trials["word"] == "HELLO"].to_parquet(artifacts.trials)
    verdicts = fit_study(artifacts.root, _write_study(tmp_path, sensitivity=[]))
    assert set(verdicts["scope"]) == {"word"} and set(verdicts["word"]) == {"HELLO"}
    terms = set(pd.read_csv(artifacts.summary / "coefficients.csv")["term"])
    assert "sd_word" not in terms  # one word: no word-level variance to estimate
