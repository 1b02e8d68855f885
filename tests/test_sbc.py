"""Simulation-based calibration of M1 on a tiny design, and the uniformity test it relies on.

The full SBC (400 simulations, nutpie) is ``benchmarks/sbc.py`` with its results in
``benchmarks/results/sbc.md``; here a small one runs PyMC's NUTS (the locked environment's
sampler) on the builder's model against prior draws made with NumPy, and must not be grossly
non-uniform. The same check must reject a deliberately mis-specified prior (truths drawn
from priors twice as wide as the fitted model's), so the test can fail.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stats.model import sample, spec

SBC_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "sbc.py"
#: Simulations of the calibrated check and of the mis-specified one.
SIMS, SIMS_WRONG = 20, 20
#: Thinned draws per fit (ranks 0..THIN) and chi-square bins.
THIN, BINS = 49, 5
#: "Grossly non-uniform": some quantity's Bonferroni-adjusted ECDF p-value below this.
GROSS = 0.01
SETTINGS = sample.SamplerSettings(draws=100, tune=150, chains=2, seed=20261122, backend="pymc")


def _load_sbc():
    module_spec = importlib.util.spec_from_file_location("sbc_benchmark", SBC_PATH)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # dataclasses resolve their module by name
    module_spec.loader.exec_module(module)
    return module


sbc = _load_sbc()


# ----------------------------------------------------------------------------- the test itself
def _ranks(values: np.ndarray, max_rank: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"quantity": "q", "sim": np.arange(len(values)), "rank": values, "max_rank": max_rank}
    )


def test_ecdf_test_holds_its_level_on_uniform_ranks():
    rng = np.random.default_rng(1)
    null = sbc.EcdfNull.simulate(40, THIN, sims=4000, seed=2)
    p = np.array([null.p_value(rng.integers(0, THIN + 1, 40)) for _ in range(400)])
    # 400 uniform samples: the rejection rate at 5% is 0.05 +- 0.011 (sd)
    assert 0.02 <= (p <= 0.05).mean() <= 0.09
    assert 0.4 <= np.median(p) <= 0.6


def test_ecdf_test_rejects_piled_up_ranks_and_its_band_agrees():
    rng = np.random.default_rng(3)
    null = sbc.EcdfNull.simulate(40, THIN, seed=4)
    top = rng.integers(THIN // 2, THIN + 1, 40)  # truths in the upper half: prior too narrow
    assert null.p_value(top) < 1e-3
    low, high = null.band(0.05)
    counts = sbc.ecdf_counts(top, THIN)[0]
    assert ((counts < low) | (counts > high)).any()
    uniform = rng.integers(0, THIN + 1, 40)
    counts = sbc.ecdf_counts(uniform, THIN)[0]
    inside = ((counts >= low) & (counts <= high)).all()
    assert inside == (null.p_value(uniform) > 0.05)


def test_uniformity_table_adjusts_for_the_number_of_quantities():
    rng = np.random.default_rng(5)
    ranks = pd.concat(
        [_ranks(rng.integers(0, THIN + 1, 30), THIN).assign(quantity=f"q{i}") for i in range(4)]
    )
    table = sbc.uniformity(ranks, bins=BINS)
    assert list(table["quantity"]) == ["q0", "q1", "q2", "q3"]
    assert np.allclose(table["ecdf_p_bonferroni"], np.minimum(1, 4 * table["ecdf_p"]))
    assert (table["df"] == BINS - 1).all()


# ----------------------------------------------------------------------------- real SBC
@pytest.fixture(scope="module")
def tiny():
    """The tiny design, M1's spec and a PyMC sampler compiled once."""
    data = sbc.TINY.data()
    model_spec = spec.m1_spec(data.layout)
    return data, model_spec, sbc.pymc_sampler(model_spec, data, SETTINGS)


def _worst(result) -> tuple[float, pd.DataFrame]:
    table = sbc.uniformity(result.ranks, bins=BINS)
    return float(table["ecdf_p_bonferroni"].min()), table


@pytest.mark.slow
def test_m1_sbc_ranks_are_not_grossly_non_uniform(tiny):
    data, model_spec, sampler = tiny
    result = sbc.run(
        data, model_spec, sampler, SIMS, seed=11, thin=THIN, retry=False, progress=None
    )
    assert len(result.fits) == SIMS and result.ranks["sim"].nunique() == SIMS
    assert set(result.ranks["quantity"]) == set(sbc.quantities(model_spec))
    assert result.ranks["rank"].between(0, THIN).all()
    # every quantity of M1 present in the tiny design is checked, the log-likelihood too
    assert {"a", "b_lr", "b_greet", "b_arm[0]", "sd_run", "loglik"} <= set(result.ranks.quantity)
    assert (result.fits["divergences"] > 0).sum() <= 2, result.fits
    worst, table = _worst(result)
    assert worst > GROSS, table.to_string()


@pytest.mark.slow
def test_the_same_check_rejects_a_prior_twice_too_narrow(tiny):
    """Truths from priors with every scale doubled, fitted with M1's priors: must fail."""
    data, model_spec, sampler = tiny
    result = sbc.run(
        data,
        model_spec,
        sampler,
        SIMS_WRONG,
        seed=11,
        truth_spec=model_spec.scaled(2.0),
        thin=THIN,
        retry=False,
        progress=None,
    )
    worst, table = _worst(result)
    assert worst < GROSS, table.to_string()
