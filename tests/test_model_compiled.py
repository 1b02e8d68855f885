"""One compiled model per structure (stats.model.compiled) and same seed -> same draws."""

from __future__ import annotations

import numpy as np
import pytest

from stats.model import compiled, design, fit, sample, spec, synthetic
from stats.model.build import build_model


@pytest.fixture(scope="module")
def cells():
    rng = np.random.default_rng(11)
    groups = synthetic.design_grid(
        ["HELLO", "SHINE"], runs_per_cell=2, samples_per_prompt=6, base_runs=1
    )
    return synthetic.simulate_world(synthetic.World(b_intro=1.0), groups, rng)


def _logp_and_gradient(model, point: dict, values: dict | None = None):
    fn = model.logp_dlogp_function(ravel_inputs=False)
    fn.set_extra_values({})
    return fn([point[v.name] for v in model.value_vars])


@pytest.mark.parametrize("model_name", ["M1", "M2"])
@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_a_compiled_structure_at_another_prior_factor_is_the_scaled_model(
    cells, model_name, factor
):
    """Log density and gradient of the reused model equal those of spec.scaled(factor) built anew."""
    if model_name == "M1":
        data = design.m1_data(cells[0])
        base = spec.m1_spec(data.layout)
    else:
        data = design.m2_data(cells[1])
        base = spec.m2_spec(data.layout)
    sampler = compiled.build_scalable(base, data, sample.SamplerSettings(backend="pymc"))
    sampler.shared[compiled.PRIOR_FACTOR].set_value(np.asarray(factor))
    fresh = build_model(base.scaled(factor), data)
    rng = np.random.default_rng(3)
    for _ in range(3):
        point = {
            v.name: np.asarray(value) + rng.normal(scale=0.3, size=np.shape(value))
            for v, value in zip(fresh.value_vars, fresh.initial_point().values(), strict=True)
        }
        logp, grad = _logp_and_gradient(sampler.model, point)
        want_logp, want_grad = _logp_and_gradient(fresh, point)
        # up to rounding: PyTensor keeps exact constants such as 2.5 as float32
        assert logp == pytest.approx(want_logp, rel=1e-7)
        for got, want in zip(grad, want_grad, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_fits_of_one_structure_share_one_compiled_model(cells):
    data = design.m1_data(cells[0])
    base = spec.m1_spec(data.layout)
    models = compiled.CompiledModels()
    settings = sample.SamplerSettings(backend="pymc")
    first, values = models.sampler(base, data, settings)
    again, scaled = models.sampler(base.scaled(2.0), data, settings)
    assert again is first and models.compiled == 1
    assert float(scaled[compiled.PRIOR_FACTOR]) == 2.0 and float(values[compiled.PRIOR_FACTOR]) == 1
    other = synthetic.with_counts(data, np.zeros_like(data.y))  # other counts, same cells
    assert models.sampler(base, other, settings)[0] is first
    np.testing.assert_array_equal(models.sampler(base, other, settings)[1]["y_cells"], 0)
    # another structure (the M2 model) or another sampler compiles anew
    data2 = design.m2_data(cells[1])
    assert models.sampler(spec.m2_spec(data2.layout), data2, settings)[0] is not first
    dense = sample.with_settings(settings, mass_matrix="dense")
    assert models.sampler(base, data, dense)[0] is not first
    assert models.compiled == 3


@pytest.mark.parametrize("backend", ["pymc", "nutpie"])
def test_same_inputs_and_seed_give_identical_draws_whatever_was_sampled_before(cells, backend):
    """Two fits with one seed: identical draws, also after the compiled model sampled other
    data at another prior scale (no state carried from fit to fit)."""
    if backend == "nutpie":
        pytest.importorskip("nutpie", reason="nutpie is the optional sampler extra")
    data = design.m1_data(cells[0])
    base = spec.m1_spec(data.layout)
    settings = sample.SamplerSettings(
        draws=60, tune=60, chains=2, seed=5, backend=backend, retries=0
    )
    alone = fit.fit_model(base, data, settings)
    models = compiled.CompiledModels()
    other = synthetic.with_counts(data, data.n // 2)
    fit.fit_model(base.scaled(2.0), other, sample.with_settings(settings, seed=9), compiled=models)
    reused = fit.fit_model(base, data, settings, compiled=models)
    again = fit.fit_model(base, data, settings, compiled=models)
    assert models.compiled == 1
    for name in alone.posterior:
        # bit for bit on one compiled model
        np.testing.assert_array_equal(again.posterior[name], reused.posterior[name])
        # and the same trajectories as a model compiled for this fit: the reused one scales
        # the x2 priors by 0.5, which rounds differently
        np.testing.assert_allclose(reused.posterior[name], alone.posterior[name], atol=1e-6)
