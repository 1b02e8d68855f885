"""Sampling, gates and the fit cache (real NUTS on tiny data)."""

from __future__ import annotations

import numpy as np
import pytest

from stats import config
from stats.model import cache, design, diagnostics, fit, refit, sample, spec, synthetic
from stats.model.study import parse_study
from stats.summarize import verdict_rows


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(11)
    groups = synthetic.design_grid(
        ["HELLO", "SHINE"], runs_per_cell=2, samples_per_prompt=6, base_runs=1
    )
    m1_cells, _ = synthetic.simulate_world(synthetic.World(b_intro=1.0), groups, rng)
    data = design.m1_data(m1_cells)
    return spec.m1_spec(data.layout), data


def test_a_deliberately_bad_fit_fails_the_gates_and_says_not_converged(tiny):
    s, data = tiny
    bad = sample.SamplerSettings(
        draws=30, tune=5, chains=2, target_accept=0.6, seed=1, backend="pymc"
    )
    result = fit.fit_model(s, data, bad)
    d = result.diagnostics
    assert not result.converged
    assert d["failed"], "a failed gate must be named"
    assert d["min_ess_bulk"] < 400 or d["max_rhat"] > 1.01
    # the retry (twice the draws, new seed) is recorded and also fails
    assert [a["draws"] for a in d["attempts"]] == [30, 60]
    assert [a["seed"] for a in d["attempts"]] == [1, 2]
    assert all(a["failed"] for a in d["attempts"]) and d["draws"] == 60
    from stats.model.contrasts import Predictor, deltas

    contrasts = deltas(Predictor(s, data, result.posterior), {"HELLO": 0.0, "SHINE": 0.0})
    verdicts = verdict_rows(contrasts, {}, result, None, outcome="x", rope=0.05, ci_prob=0.95)
    assert set(verdicts["verdict"]) == {"not-converged"}
    assert not verdicts["converged"].any()


def test_cache_second_call_does_not_resample(tiny, tmp_path, monkeypatch):
    s, data = tiny
    settings = sample.SamplerSettings(
        draws=100, tune=100, chains=2, seed=3, backend="pymc", retries=0
    )
    first = fit.fit_model(s, data, settings, name="M1-test", cache_dir=tmp_path)
    assert not first.cached and first.path.exists()

    def refuse(*args, **kwargs):
        raise AssertionError("resampled although inputs are unchanged")

    monkeypatch.setattr(fit, "_sampler_for", refuse)
    second = fit.fit_model(s, data, settings, name="M1-test", cache_dir=tmp_path)
    assert second.cached
    np.testing.assert_array_equal(second.posterior["a"], first.posterior["a"])
    assert second.diagnostics["max_rhat"] == pytest.approx(first.diagnostics["max_rhat"])
    # any change of cells, spec or sampler settings is a new key
    changed = sample.SamplerSettings(
        draws=100, tune=100, chains=2, seed=4, backend="pymc", retries=0
    )
    assert cache.cache_key(s, data, changed) != first.key
    assert cache.cache_key(s.scaled(2.0), data, settings) != first.key
    more = synthetic.with_counts(data, data.y + (data.y < data.n))
    assert cache.cache_key(s, more, settings) != first.key
    with pytest.raises(AssertionError, match="resampled"):
        fit.fit_model(s, data, changed, name="M1-test", cache_dir=tmp_path)
    # and so is any change of the model code or of the sampler libraries (a cached fit of
    # older code, or of "auto" resolved to another sampler, is never reused)
    assert cache.code_digest() == cache.source_digest(cache.CODE_PACKAGES, cache.LIBRARIES)
    monkeypatch.setattr(cache, "code_digest", lambda: "other code")
    assert cache.cache_key(s, data, settings) != first.key


def test_a_stored_fit_opens_as_an_arviz_datatree_with_named_dims(tiny, tmp_path):
    """The cache file is a standard ArviZ DataTree: xarray and ArviZ open it, LOO and
    power-scaling sensitivity run from the file alone."""
    import arviz as az
    import xarray as xr

    s, data = tiny
    settings = sample.SamplerSettings(
        draws=100, tune=100, chains=2, seed=3, backend="pymc", retries=0
    )
    result = fit.fit_model(s, data, settings, name="M1-test", cache_dir=tmp_path)
    tree = xr.open_datatree(result.path, engine="h5netcdf")
    groups = {"posterior", "sample_stats", "log_likelihood", "log_prior", "prior", "observed_data"}
    assert groups <= set(tree.children)
    posterior = tree["posterior"]
    assert posterior.sizes["chain"] == 2 and posterior.sizes["draw"] == 100
    assert posterior["u_word"].dims == ("chain", "draw", "word")
    assert set(posterior["word"].values) == {"HELLO", "SHINE"}
    np.testing.assert_array_equal(posterior["a"].values.reshape(-1), result.posterior["a"])
    observed = int((data.n > 0).sum())
    assert tree["log_likelihood"]["y"].dims == ("chain", "draw", "cell")
    assert tree["log_likelihood"]["y"].shape == (2, 100, observed)
    assert "word" in tree["observed_data"].coords  # the cells' columns label ``cell``
    assert tree["log_prior"]["prior"].dims == ("chain", "draw")
    assert tree["prior"].sizes["draw"] == cache.PRIOR_DRAWS
    assert "diverging" in tree["sample_stats"]
    assert tree.attrs["cache_key"] == result.key
    idata = az.from_netcdf(result.path)
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd) and loo.n_data_points == observed
    table = az.psense_summary(idata, var_names=["a"])
    assert np.isfinite(table[["prior", "likelihood"]].to_numpy(dtype=float)).all()


def test_sampler_settings_are_validated():
    with pytest.raises(ValueError, match="valid"):
        sample.SamplerSettings(backend="stan")
    with pytest.raises(ValueError, match="target_accept"):
        sample.SamplerSettings(target_accept=1.5)
    with pytest.raises(ValueError, match="mass_matrix"):
        sample.SamplerSettings(mass_matrix="full")
    assert parse_study({"sampler": {"backend": "pymc"}}).sampler.backend == "pymc"
    assert parse_study({"sampler": {"mass_matrix": "dense"}}).sampler.mass_matrix == "dense"
    from stats.model.study import StudyError

    with pytest.raises(StudyError, match=r"sampler\.mass_matrix"):
        parse_study({"sampler": {"mass_matrix": "full"}}, source="study.yaml")


def test_per_model_sampler_settings_change_only_their_model():
    from stats.model.study import StudyError

    study = parse_study(
        {"sampler": {"draws": 700, "per_model": {"M1": {"mass_matrix": "dense", "tune": 500}}}}
    )
    m1, m2 = study.sampler_for("M1"), study.sampler_for("M2")
    assert (m1.mass_matrix, m1.tune, m1.draws) == ("dense", 500, 700)  # the rest from sampler
    assert m2 == study.sampler and (m2.mass_matrix, m2.tune) == ("diag", config.TUNE)
    assert parse_study(None).sampler_for("M1") == parse_study(None).sampler
    with pytest.raises(ValueError, match="unknown model"):
        study.sampler_for("M3")
    bad = [
        ({"M3": {"tune": 5}}, r"sampler\.per_model\.M3: 'M3' is not one of"),
        ({"M1": {"tunes": 5}}, r"sampler\.per_model\.M1: unknown key.*'tunes'"),
        ({"M1": {"per_model": {}}}, r"sampler\.per_model\.M1: unknown key.*'per_model'"),
        ({"M1": {"mass_matrix": "full"}}, r"study\.yaml: sampler\.per_model\.M1\.mass_matrix"),
        ({"M1": {"tune": 0}}, r"sampler\.per_model\.M1\.tune: must be an integer"),
        ({"M1": 500}, r"sampler\.per_model\.M1: must be a mapping"),
        ([1], r"sampler\.per_model: must be a mapping"),
    ]
    for per_model, message in bad:
        with pytest.raises(StudyError, match=message):
            parse_study({"sampler": {"per_model": per_model}}, source="study.yaml")


def test_diagnostics_of_iid_draws_pass_the_gates(tiny):
    s, data = tiny
    idata = synthetic.prior_idata(s, data, chains=4, draws=1000, seed=0)
    d = diagnostics.diagnose(idata, s, data)
    assert d["converged"], d["failed"]
    assert d["max_rhat"] < 1.01 and d["min_ess_bulk"] > 400 and d["divergences"] == 0
    assert np.isfinite(d["pareto_k_max"])


@pytest.mark.parametrize(("n", "prior_flagged"), [(2000, False), (1, True)])
def test_power_scaling_flags_a_posterior_that_the_prior_decides(n, prior_flagged):
    """Normal mean, Normal(0, 1) prior, n observations of sd 1 at 0.5: exact posterior draws."""
    from stats.model.sensitivity import power_scaling

    rng = np.random.default_rng(2)
    y = rng.normal(0.5, 1.0, n)
    precision = 1.0 + n
    theta = rng.normal(y.sum() / precision, 1 / np.sqrt(precision), 4000)
    log_prior = -0.5 * theta**2
    loglik = -0.5 * (y[None, :] - theta[:, None]) ** 2
    table = power_scaling({"theta": theta}, log_prior, loglik, chains=4).iloc[0]
    assert bool(table["flagged"]) is prior_flagged, table.to_dict()
    assert table["likelihood"] > 0.05  # the data always move this posterior


def _diagnostics(**changes):
    base = dict(
        converged=False, max_rhat=1.0, min_ess_bulk=1000.0, min_ess_tail=1000.0,
        divergences=0, min_bfmi=1.0,
    )  # fmt: skip
    return base | changes


@pytest.mark.parametrize(
    ("diagnostics", "draws", "target_accept"),
    [
        (_diagnostics(max_rhat=1.02), 2000, 0.95),
        (_diagnostics(min_ess_tail=300.0), 2000, 0.95),
        (_diagnostics(divergences=3), 2000, 0.99),
        (_diagnostics(divergences=1, min_ess_bulk=100.0), 2000, 0.99),
    ],
)
def test_a_missed_gate_is_retried_with_more_draws(diagnostics, draws, target_accept):
    settings = sample.SamplerSettings(draws=1000, target_accept=0.95, seed=7, retries=2)
    retry = sample.next_attempt(settings, diagnostics)
    assert (retry.draws, retry.target_accept, retry.seed, retry.retries) == (
        draws, target_accept, 8, 1,
    )  # fmt: skip
    assert retry.tune == settings.tune and retry.chains == settings.chains


@pytest.mark.parametrize(
    ("diagnostics", "retries"),
    [
        (_diagnostics(converged=True), 1),  # nothing to mend
        (_diagnostics(max_rhat=1.5), 0),  # no retries left
        (_diagnostics(min_bfmi=0.1), 1),  # geometry: more draws do not help
    ],
)
def test_no_retry_when_it_cannot_help(diagnostics, retries):
    settings = sample.SamplerSettings(retries=retries)
    assert sample.next_attempt(settings, diagnostics) is None


def test_sample_gated_keeps_the_attempt_that_passes(tiny):
    s, data = tiny
    calls = []

    def draw(settings):
        calls.append(settings)
        idata = synthetic.prior_idata(s, data, settings.chains, settings.draws, settings.seed)
        if len(calls) == 1:  # the first attempt diverges once
            idata["sample_stats"]["diverging"].values[0, 0] = True
        return idata

    settings = sample.SamplerSettings(draws=500, chains=4, seed=3, retries=1)
    idata, d = sample.sample_gated(draw, s, data, settings)
    assert d["converged"] and d["divergences"] == 0
    assert [(a["draws"], a["target_accept"]) for a in d["attempts"]] == [(500, 0.95), (1000, 0.99)]
    assert d["attempts"][0]["failed"] == ["1 divergences > 0"]
    assert idata["posterior"].sizes["draw"] == 1000 and len(calls) == 2


def test_pymc_refits_start_chains_at_jittered_points(tiny):
    s, data = tiny
    from stats.model.build import build_model

    sampler = sample.Sampler(build_model(s, data), sample.SamplerSettings(backend="pymc"))
    starts = sampler._jittered_starts(4, seed=5)
    assert len({float(start["a"]) for start in starts}) == 4  # over-dispersed, not one point
    again = sampler._jittered_starts(4, seed=5)
    assert all(float(x["a"]) == float(y["a"]) for x, y in zip(starts, again, strict=True))
    assert float(sampler._jittered_starts(4, seed=6)[0]["a"]) != float(starts[0]["a"])


def test_pymc_chains_are_recorded_separately_with_a_shared_trace(tiny):
    """pm.sample copies the one compiled NDArray trace per chain: the chains stay distinct."""
    s, data = tiny
    settings = sample.SamplerSettings(
        draws=40, tune=40, chains=2, seed=2, backend="pymc", retries=0
    )
    refitter = refit.Refitter(s, data, settings)
    first = refitter.fit(data.y, data.n, seed=2)
    a = first.posterior["a"].reshape(2, -1)
    assert a.shape == (2, 40) and not np.allclose(a[0], a[1])
    second = refitter.fit(data.y, data.n, seed=3)  # the trace template is reused, still empty
    assert second.posterior["a"].shape == (80,)
    assert not np.allclose(second.posterior["a"], first.posterior["a"])


def test_the_shrunk_dense_estimate_is_positive_definite_with_fewer_draws_than_parameters():
    from stats.model.potential import shrunk

    rng = np.random.default_rng(4)
    p, n = 40, 12
    scales = np.exp(rng.normal(size=p))
    draws = rng.normal(size=(n, p)) * scales
    raw = np.cov(draws, rowvar=False)
    assert np.linalg.matrix_rank(raw) < p  # the raw window estimate is singular
    out = shrunk(raw, n)
    assert np.linalg.eigvalsh(out).min() > 0
    np.testing.assert_allclose(np.diag(out), np.diag(raw))  # every variance is kept
    off = ~np.eye(p, dtype=bool)
    np.testing.assert_allclose(out[off], raw[off] * n / (n + p))
    # with many draws the correlations are nearly those estimated
    assert shrunk(raw, 100 * p)[0, 1] == pytest.approx(raw[0, 1] * 100 / 101)


@pytest.mark.parametrize("backend", ["pymc", "nutpie"])
def test_dense_mass_matrix_takes_fewer_steps_on_a_ridge(backend):
    """A strongly correlated Gaussian: the dense matrix adapts to the ridge, the diagonal cannot.

    nutpie's ``dense`` is its low-rank modified diagonal (``adaptation="low_rank"``).
    """
    import pymc as pm

    cov = np.array([[1.0, 0.98], [0.98, 1.0]])
    with pm.Model() as model:
        pm.MvNormal("x", mu=np.zeros(2), cov=cov)
    settings = sample.SamplerSettings(draws=300, tune=400, chains=2, seed=7, backend=backend)
    steps = {}
    for mass in ("dense", "diag"):
        idata = sample.Sampler(model, sample.with_settings(settings, mass_matrix=mass)).draw(
            sample.with_settings(settings, mass_matrix=mass), seed=7
        )
        steps[mass] = float(idata["sample_stats"]["n_steps"].mean())
        x = idata["posterior"]["x"].values.reshape(-1, 2)
        assert np.corrcoef(x.T)[0, 1] == pytest.approx(0.98, abs=0.02)
    assert steps["dense"] < steps["diag"] / 2, steps
