"""Sampling, caching and convergence gates.

:func:`fit_model` samples a spec on coded cells with nutpie when it is installed
(and ``backend`` allows it), PyMC's NUTS otherwise; 4 chains, seeded. Fits are
cached as NetCDF files keyed by a hash of the cells, the spec, the sampler
settings and :data:`MODEL_CODE_VERSION`, so that a re-run with unchanged inputs
loads the file instead of resampling.

:func:`diagnose` computes the gates of the analysis plan (section 4): R-hat,
bulk and tail ESS, divergences, E-BFMI, and PSIS-LOO Pareto k (reported, not a
gate: binomial cells of many trials are influential by construction).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln
from threadpoolctl import threadpool_limits

from stats import config
from stats.model.design import ModelData
from stats.model.events import FitEvent, Progress
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.spec import ModelSpec

#: Bumped when the builder or likelihood changes, so cached fits are not reused.
MODEL_CODE_VERSION = "12"
BACKENDS = ("auto", "pymc", "nutpie")
MASS_MATRICES = ("diag", "dense")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample (all part of the cache key).

    Parameters
    ----------
    draws, tune, chains : int
        Per chain; defaults from :mod:`stats.config`.
    target_accept : float
    seed : int
    backend : {"auto", "pymc", "nutpie"}
        ``auto`` uses nutpie when importable, PyMC's NUTS otherwise.
    retries : int
        Further attempts after a missed gate (see :func:`next_attempt`); 0 reports the
        first attempt as it is.
    mass_matrix : {"diag", "dense"}
        Mass matrix that PyMC's NUTS adapts during tuning (nutpie adapts its own). Dense
        follows the correlations between the group SDs and their effects: M1 on the
        bundled study (78 parameters) takes 31 leapfrog steps per iteration against 63, and
        the bundled study asks for it for M1 (``sampler.per_model`` in
        ``analysis/study.yaml``). Its cost per step grows with the square of the number of
        parameters, and its larger steps diverged more often in M2 (first attempts with a
        divergence on the operating-characteristics designs, M2: 2 of 12 against 1 of 12),
        so the default stays diagonal (``benchmarks/results/fit_breakdown.md``).
    """

    draws: int = config.DRAWS
    tune: int = config.TUNE
    chains: int = config.CHAINS
    target_accept: float = config.TARGET_ACCEPT
    seed: int = config.SEED
    backend: str = "auto"
    retries: int = config.RETRIES
    mass_matrix: str = config.MASS_MATRIX

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown sampler backend {self.backend!r}; valid: {list(BACKENDS)}")
        if self.mass_matrix not in MASS_MATRICES:
            raise ValueError(
                f"unknown sampler mass_matrix {self.mass_matrix!r}; valid: {list(MASS_MATRICES)}"
            )
        for name in ("draws", "tune", "chains"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"sampler {name} must be >= 1, got {getattr(self, name)}")
        if int(self.retries) < 0:
            raise ValueError(f"sampler retries must be >= 0, got {self.retries}")
        if not 0 < self.target_accept < 1:
            raise ValueError(f"sampler target_accept must be in (0, 1), got {self.target_accept}")


@dataclass(frozen=True)
class Gates:
    """Thresholds a fit must meet before any verdict is reported (analysis plan, 4)."""

    max_rhat: float = config.MAX_RHAT
    min_ess: float = config.MIN_ESS
    max_divergences: int = config.MAX_DIVERGENCES
    min_bfmi: float = config.MIN_BFMI


@dataclass
class Fit:
    """A sampled (or cached) model.

    Attributes
    ----------
    name : str
        Fit label, e.g. ``"M1-articulated_early"``.
    spec : ModelSpec
    data : ModelData
    posterior : dict of str to ndarray
        Draws stacked over chains: ``(S,)`` or ``(S, levels)``.
    chains : int
    diagnostics : dict
        See :func:`diagnose`.
    key : str
        Cache key.
    cached : bool
        Loaded from the cache rather than sampled.
    path : Path or None
        The NetCDF file.
    """

    name: str
    spec: ModelSpec
    data: ModelData
    posterior: dict[str, np.ndarray]
    chains: int
    diagnostics: dict[str, Any]
    key: str
    cached: bool = False
    path: Path | None = None
    sampler: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        """Whether every gate passed."""
        return bool(self.diagnostics.get("converged", False))

    @property
    def n_draws(self) -> int:
        """Total number of posterior draws."""
        return len(next(iter(self.posterior.values())))

    def eta(self, rows=None, exclude: tuple[str, ...] = ()) -> np.ndarray:
        """Linear predictor draws ``(S, rows)`` (the observed cells by default)."""
        rows = self.data.rows if rows is None else rows
        return linear_predictor(self.spec, self.posterior, rows, DRAWS, exclude=exclude)

    def cell_probability(self) -> np.ndarray:
        """Posterior draws of each observed cell's success probability (hazard for M2)."""
        return expit(self.eta())


def cache_key(spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> str:
    """Hash of everything that determines a fit."""
    digest = hashlib.sha256()
    digest.update(MODEL_CODE_VERSION.encode())
    digest.update(json.dumps(spec.to_dict(), sort_keys=True).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(data.digest_frame().to_csv(index=False).encode())
    return digest.hexdigest()


def nutpie_available() -> bool:
    """Whether nutpie can be imported."""
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return False
    return True


class _Sampler:
    """One built model, sampled with nutpie (compiled once) or PyMC's NUTS.

    PyMC's NUTS step is built once per ``target_accept`` and mass matrix, and reused:
    ``pm.sample`` otherwise rewrites and compiles the log density and its gradient at every call
    (about 6 s on M1, measured), and a step reads the counts from the model's data
    containers, so refits on new counts (``pm.set_data``) need no recompilation.
    """

    def __init__(self, model: Any, settings: SamplerSettings) -> None:
        self.model = model
        self.nutpie = settings.backend == "nutpie" or (
            settings.backend == "auto" and nutpie_available()
        )
        self.name = "nutpie" if self.nutpie else f"pymc-{settings.mass_matrix}"
        self.compiled = None
        self.steps: dict[tuple[float, str], Any] = {}
        self._jitter: Callable | None = None
        self.trace: Any = None
        if self.nutpie:
            import nutpie

            self.compiled = nutpie.compile_pymc_model(model)

    def draw(self, settings: SamplerSettings, seed: int, counts: dict | None = None) -> Any:
        """Posterior draws (a DataTree) with ``settings``; ``counts`` replace the data."""
        if self.nutpie:
            import nutpie

            compiled = self.compiled if counts is None else self.compiled.with_data(**counts)
            return nutpie.sample(
                compiled,
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                seed=seed,
                target_accept=settings.target_accept,
                progress_bar=False,
            )
        import pymc as pm

        with self.model:
            if counts is not None:
                pm.set_data(counts)
            step = self.nuts_step(settings)
            if self.trace is None:
                self.trace = _shared_function_trace(self.model)
            # One BLAS thread per chain: the chains already fill the cores, and OpenBLAS
            # threads contending for them made the dense mass matrix's products 4x slower
            # (a short M1 fit, 32 runs per word: 28.5 s -> 7.5 s). Forked chains inherit the limit.
            with threadpool_limits(limits=1, user_api="blas"):
                return pm.sample(
                    draws=settings.draws,
                    tune=settings.tune,
                    chains=settings.chains,
                    cores=min(settings.chains, os.cpu_count() or 1),
                    step=step,
                    trace=self.trace,
                    initvals=self._jittered_starts(settings.chains, seed),
                    random_seed=seed,
                    progressbar=False,
                    compute_convergence_checks=False,
                )

    def nuts_step(self, settings: SamplerSettings) -> Any:
        """PyMC's NUTS step for ``settings`` (built and compiled on first use)."""
        import pymc as pm

        key = (settings.target_accept, settings.mass_matrix)
        if key not in self.steps:
            # one initial point for the step and its mass matrix: each evaluation compiles
            # a function (three of them without this)
            point = self.model.initial_point()
            with self.model:
                self.steps[key] = pm.NUTS(
                    target_accept=settings.target_accept,
                    potential=_potential(self.model, settings.mass_matrix, point),
                    initial_point=point,
                )
        return self.steps[key]

    def _jittered_starts(self, chains: int, seed: int) -> list[dict[str, np.ndarray]]:
        """One start per chain, jittered as PyMC's default ``jitter+adapt_diag`` init does.

        ``pm.sample`` does not jitter when it is given a step; over-dispersed starts
        are what lets R-hat see chains that have not mixed.
        """
        from pymc.initial_point import make_initial_point_fn

        if self._jitter is None:
            self._jitter = make_initial_point_fn(
                model=self.model, jitter_rvs=set(self.model.free_RVs), return_transformed=False
            )
        seeds = np.random.default_rng(seed).integers(2**31, size=chains)
        return [self._jitter(int(chain_seed)) for chain_seed in seeds]


def _potential(model: Any, mass_matrix: str, point: dict) -> Any:
    """The adaptive mass matrix of a NUTS step, started as ``pm.sample``'s own inits start it.

    Both start at ``point`` (the model's initial point) with a unit covariance of weight 10
    (PyMC's ``jitter+adapt_diag`` and ``jitter+adapt_full``); the dense one is
    shrunk toward its diagonal (:class:`stats.model.potential.ShrunkFullAdapt`).
    """
    from pymc.blocking import DictToArrayBijection
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiagAdapt

    from stats.model.potential import ShrunkFullAdapt

    mean = DictToArrayBijection.map({v.name: point[v.name] for v in model.value_vars}).data
    size = mean.size
    if mass_matrix == "diag":
        return QuadPotentialDiagAdapt(size, mean, np.ones(size), 10)
    return ShrunkFullAdapt(size, mean, np.eye(size), 10)


def _shared_function_trace(model: Any) -> Any:
    """An empty PyMC NDArray trace whose copies share its compiled point function.

    ``pm.sample`` records each chain in ``copy(trace)`` when given a trace, and compiles
    a point function per chain when not (about 0.7 s each, measured). A plain shallow
    copy would share the sample arrays too, so copies are new traces built around the
    same function (tested: chains stay distinct).
    """
    from pymc.backends.ndarray import NDArray

    class SharedFunctionTrace(NDArray):
        def __copy__(self) -> SharedFunctionTrace:
            return SharedFunctionTrace(
                model=self.model,
                vars=self.vars,
                fn=self.fn,
                var_shapes=self.var_shapes,
                var_dtypes=self.var_dtypes,
            )

    return SharedFunctionTrace(model=model)


def _sampler_for(spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> _Sampler:
    """The sampler :func:`fit_model` uses (a seam for tests that stand in for NUTS)."""
    from stats.model.build import build_model

    return _Sampler(build_model(spec, data), settings)


def next_attempt(
    settings: SamplerSettings, diagnostics: dict[str, Any], gates: Gates = Gates()
) -> SamplerSettings | None:
    """Settings of the next attempt after a missed gate, or None when there is none.

    Only what longer sampling or smaller steps can mend is retried: R-hat or ESS short
    of the gates (twice the draws) and divergences (twice the draws, ``target_accept``
    raised to :data:`stats.config.RETRY_TARGET_ACCEPT`). A low E-BFMI alone (a geometry
    problem) is not retried. The seed moves on, so the attempt is not a replay.
    """
    if diagnostics["converged"] or settings.retries < 1:
        return None
    mixing = not (
        diagnostics["max_rhat"] <= gates.max_rhat
        and min(diagnostics["min_ess_bulk"], diagnostics["min_ess_tail"]) >= gates.min_ess
    )
    diverged = diagnostics["divergences"] > gates.max_divergences
    if not (mixing or diverged):
        return None
    target_accept = settings.target_accept
    if diverged:
        target_accept = max(target_accept, config.RETRY_TARGET_ACCEPT)
    return replace(
        settings,
        draws=2 * settings.draws,
        target_accept=target_accept,
        seed=settings.seed + 1,
        retries=settings.retries - 1,
    )


def sample_gated(
    draw: Callable[[SamplerSettings], Any],
    spec: ModelSpec,
    data: ModelData,
    settings: SamplerSettings,
    gates: Gates = Gates(),
    on_retry: Callable[[int], None] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Sample with ``draw`` until the gates pass or :func:`next_attempt` gives up.

    Returns the last attempt's draws and diagnostics; ``diagnostics["attempts"]`` lists
    every attempt (draws, target_accept, seed, seconds, gates missed), so a fit that
    needed a second attempt says so, and ``draws`` / ``target_accept`` are the last one's.
    ``on_retry(attempt)`` is called before each attempt after the first.
    """
    attempts = []
    current: SamplerSettings | None = settings
    while current is not None:
        if attempts and on_retry is not None:
            on_retry(len(attempts) + 1)
        start = time.perf_counter()
        idata = draw(current)
        seconds = time.perf_counter() - start
        diagnostics = diagnose(idata, spec, data, gates)
        attempts.append(
            {
                "draws": current.draws,
                "target_accept": current.target_accept,
                "seed": current.seed,
                "seconds": seconds,
                "failed": diagnostics["failed"],
            }
        )
        current = next_attempt(current, diagnostics, gates)
    diagnostics["attempts"] = attempts
    diagnostics["draws"] = attempts[-1]["draws"]
    diagnostics["target_accept"] = attempts[-1]["target_accept"]
    diagnostics["seconds"] = sum(a["seconds"] for a in attempts)
    return idata, diagnostics


def _posterior_arrays(idata: Any, names: list[str]) -> tuple[dict[str, np.ndarray], int]:
    """Draws stacked over chains from a sampler DataTree or a cached Dataset."""
    posterior = idata["posterior"] if "posterior" in getattr(idata, "children", {}) else idata
    out = {}
    chains = 0
    for name in names:
        values = np.asarray(posterior[name].values)
        chains = values.shape[0]
        out[name] = values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])
    return out, chains


def _stat_names(spec: ModelSpec) -> list[str]:
    """Every named quantity kept from a posterior: free parameters and effects."""
    return spec.posterior_names()


def gated_parameter_names(spec: ModelSpec) -> list[str]:
    """Quantities whose R-hat and ESS gate a fit (:meth:`ModelSpec.gated_names`)."""
    return spec.gated_names()


def pointwise_loglik(fit_or_eta: Fit | np.ndarray, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood of each cell under each draw, ``(S, cells)``."""
    eta = fit_or_eta.eta() if isinstance(fit_or_eta, Fit) else fit_or_eta
    const = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    return y * eta - n * np.logaddexp(0.0, eta) + const


def diagnose(
    idata: Any, spec: ModelSpec, data: ModelData, gates: Gates = Gates()
) -> dict[str, Any]:
    """Convergence diagnostics and gate decision of a sampled model.

    Parameters
    ----------
    idata : DataTree
        Output of the sampler (posterior and sample_stats groups).
    spec : ModelSpec
    data : ModelData
    gates : Gates

    Returns
    -------
    dict
        ``max_rhat, min_ess_bulk, min_ess_tail, divergences, min_bfmi, pareto_k_max,
        n_pareto_k_bad, elpd_loo, converged, failed`` (``failed`` lists the gates missed).
        R-hat and ESS are taken over :func:`gated_parameter_names`.
    """
    import arviz as az

    names = gated_parameter_names(spec)
    rhat = az.rhat(idata, var_names=names)
    ess_bulk = az.ess(idata, var_names=names, method="bulk")
    ess_tail = az.ess(idata, var_names=names, method="tail")

    def extreme(tree: Any, fn: Callable) -> float:
        values = [np.asarray(tree[name].values, dtype=float).ravel() for name in names]
        flat = np.concatenate([v for v in values if v.size])
        return float(fn(flat[np.isfinite(flat)])) if np.isfinite(flat).any() else float("nan")

    stats = idata["sample_stats"]
    divergences = int(np.asarray(stats["diverging"].values).sum())
    energy = np.asarray(stats["energy"].values, dtype=float)
    bfmi = np.square(np.diff(energy, axis=1)).mean(axis=1) / energy.var(axis=1)
    out: dict[str, Any] = {
        "max_rhat": extreme(rhat, np.max),
        "min_ess_bulk": extreme(ess_bulk, np.min),
        "min_ess_tail": extreme(ess_tail, np.min),
        "divergences": divergences,
        "min_bfmi": float(bfmi.min()),
    }
    out.update(loo_diagnostics(idata, spec, data))
    failed = []
    if not out["max_rhat"] <= gates.max_rhat:
        failed.append(f"max R-hat {out['max_rhat']:.3f} > {gates.max_rhat}")
    if not min(out["min_ess_bulk"], out["min_ess_tail"]) >= gates.min_ess:
        failed.append(
            f"min ESS {min(out['min_ess_bulk'], out['min_ess_tail']):.0f} < {gates.min_ess}"
        )
    if divergences > gates.max_divergences:
        failed.append(f"{divergences} divergences > {gates.max_divergences}")
    if not out["min_bfmi"] >= gates.min_bfmi:
        failed.append(f"E-BFMI {out['min_bfmi']:.2f} < {gates.min_bfmi}")
    out["failed"] = failed
    out["converged"] = not failed
    return out


def loo_diagnostics(idata: Any, spec: ModelSpec, data: ModelData) -> dict[str, Any]:
    """PSIS-LOO over cells: ``elpd_loo, pareto_k_max, n_pareto_k_bad`` (k > PARETO_K_WARN)."""
    import warnings

    import arviz as az
    import xarray as xr

    posterior, chains = _posterior_arrays(idata, _stat_names(spec))
    eta = linear_predictor(spec, posterior, data.rows, DRAWS)
    observed = data.n > 0
    ll = pointwise_loglik(eta[:, observed], data.y[observed], data.n[observed])
    ll = ll.reshape(chains, -1, ll.shape[-1])
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"dummy": (("chain", "draw"), np.zeros(ll.shape[:2]))}),
            "log_likelihood": xr.Dataset({"y": (("chain", "draw", "cell"), ll)}),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(tree, pointwise=True)
    k = np.asarray(loo.pareto_k.values if hasattr(loo.pareto_k, "values") else loo.pareto_k)
    return {
        "elpd_loo": float(loo.elpd),
        "pareto_k_max": float(np.nanmax(k)),
        "n_pareto_k_bad": int((k > config.PARETO_K_WARN).sum()),
    }


def fit_model(
    spec: ModelSpec,
    data: ModelData,
    settings: SamplerSettings = SamplerSettings(),
    *,
    name: str | None = None,
    cache_dir: Path | None = None,
    gates: Gates = Gates(),
    progress: Progress | None = None,
    index: int = 1,
    total: int = 1,
) -> Fit:
    """Sample ``spec`` on ``data`` (or load the cached fit).

    Parameters
    ----------
    spec : ModelSpec
    data : ModelData
    settings : SamplerSettings
    name : str, optional
        Label of the fit and prefix of its cache file (default ``spec.name``).
    cache_dir : Path, optional
        Folder of cached fits; ``None`` disables caching.
    gates : Gates
    progress : callable, optional
        Called with a :class:`~stats.model.events.FitEvent` before sampling (``start``),
        before each retry, and at the end (``done``, or ``cached`` for a cache hit).
    index, total : int
        This fit's position among the stage's fits ("fit k of n"), for the events.

    Returns
    -------
    Fit
    """
    name = name or spec.name
    clock = time.perf_counter()

    def emit(kind: str, attempt: int = 1, converged: bool | None = None) -> None:
        if progress is not None:
            elapsed = time.perf_counter() - clock
            progress(FitEvent(kind, index, total, name, attempt, elapsed, converged))

    key = cache_key(spec, data, settings)
    path = cache_dir / f"{name}-{key[:16]}.nc" if cache_dir is not None else None
    names = _stat_names(spec)
    if path is not None and path.exists():
        idata = _load(path)
        if idata is not None and idata.attrs.get("cache_key") == key:
            posterior, chains = _posterior_arrays(idata, names)
            diagnostics = json.loads(idata.attrs["diagnostics"])
            emit("cached", len(diagnostics.get("attempts", [])) or 1, diagnostics["converged"])
            return Fit(
                name,
                spec,
                data,
                posterior,
                chains,
                diagnostics,
                key,
                cached=True,
                path=path,
                sampler=str(idata.attrs.get("sampler", "")),
            )
    emit("start")
    start = time.perf_counter()
    sampler_ = _sampler_for(spec, data, settings)
    idata, diagnostics = sample_gated(
        lambda s: sampler_.draw(s, s.seed),
        spec,
        data,
        settings,
        gates,
        on_retry=lambda attempt: emit("retry", attempt),
    )
    diagnostics["seconds"] = time.perf_counter() - start  # build and compile included
    emit("done", len(diagnostics["attempts"]), diagnostics["converged"])
    sampler = diagnostics["sampler"] = sampler_.name
    posterior, chains = _posterior_arrays(idata, names)
    if path is not None:
        _save(idata, path, key, spec, diagnostics, sampler)
    return Fit(name, spec, data, posterior, chains, diagnostics, key, path=path, sampler=sampler)


#: Prefix of sample-statistics variables stored beside the posterior in one NetCDF file.
STATS_PREFIX = "sample_stats__"


def _load(path: Path) -> Any | None:
    """A cached fit as a Dataset (posterior variables + prefixed sample stats), or None."""
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="scipy") as ds:
            return ds.load()
    except (OSError, ValueError, TypeError) as err:  # a damaged cache file is resampled
        log.warning("ignoring unreadable cached fit %s: %s", path, err)
        return None


def _save(
    idata: Any, path: Path, key: str, spec: ModelSpec, diagnostics: dict, sampler: str
) -> None:
    """Write the posterior and sample stats as one NetCDF-3 file (SciPy's writer).

    NetCDF-4 groups would need netCDF4 or h5netcdf, which the locked environment does
    not include; a flat file with prefixed sample-stat names reads anywhere.
    """
    import xarray as xr

    path.parent.mkdir(parents=True, exist_ok=True)
    posterior = idata["posterior"].to_dataset()
    stats = idata["sample_stats"].to_dataset()
    keep = [v for v in ("diverging", "energy", "tree_depth", "step_size", "n_steps") if v in stats]
    stats = stats[keep].rename({v: f"{STATS_PREFIX}{v}" for v in keep})
    ds = xr.merge([posterior, stats], compat="override", join="outer")
    for name in list(ds.data_vars):
        values = ds[name]
        if values.dtype == bool:
            ds[name] = values.astype("int8")
        elif values.dtype.kind in "iu":
            ds[name] = values.astype("int32")
    for name in list(ds.coords):
        if ds[name].dtype.kind in "iu":
            ds = ds.assign_coords({name: ds[name].astype("int32")})
        elif ds[name].dtype.kind in "OU":
            ds = ds.assign_coords({name: ds[name].astype(str)})
    ds.attrs = {
        "cache_key": key,
        "spec": json.dumps(spec.to_dict()),
        "diagnostics": json.dumps(diagnostics),
        "sampler": sampler,
        "model_code_version": MODEL_CODE_VERSION,
    }
    tmp = path.with_name(path.name + ".tmp")
    ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    tmp.replace(path)
    prefix = path.name.rsplit("-", 1)[0]
    for stale in path.parent.glob(f"{prefix}-*.nc"):
        if stale != path and stale.name.rsplit("-", 1)[0] == prefix:
            stale.unlink()


class Refitter:
    """Sample one spec again and again on new counts of the same cells.

    For simulation studies (operating characteristics, SBC): the model is built once with
    mutable counts and, with nutpie, compiled once (``with_data`` swaps the counts); with
    PyMC's NUTS the counts are set with ``pm.set_data``. Every fit gets the same gates.

    Parameters
    ----------
    spec : ModelSpec
        Fixed for all refits (including its centred/non-centred choices).
    data : ModelData
        The cells' coding; counts are replaced per fit.
    settings : SamplerSettings
    """

    def __init__(self, spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> None:
        from stats.model.build import build_model

        self.spec, self.data, self.settings = spec, data, settings
        self.model = build_model(spec, data, mutable_counts=True)
        self.sampler = _Sampler(self.model, settings)

    def fit(
        self,
        y: np.ndarray,
        n: np.ndarray,
        seed: int,
        name: str | None = None,
        gates: Gates = Gates(),
    ) -> Fit:
        """Sample on counts ``y`` of ``n`` (first attempt seeded ``seed``) and gate the fit."""
        from stats.model.build import N_DATA, Y_DATA
        from stats.model.synthetic import with_counts

        data = with_counts(self.data, y, n)
        counts = {Y_DATA: np.asarray(y, dtype="float64"), N_DATA: np.asarray(n, dtype="float64")}
        idata, diagnostics = sample_gated(
            lambda s: self.sampler.draw(s, s.seed, counts),
            self.spec,
            data,
            replace(self.settings, seed=seed),
            gates,
        )
        diagnostics["sampler"] = self.sampler.name
        posterior, chains = _posterior_arrays(idata, _stat_names(self.spec))
        return Fit(
            name or self.spec.name,
            self.spec,
            data,
            posterior,
            chains,
            diagnostics,
            f"refit-{seed}",
            sampler=self.sampler.name,
        )


def with_settings(settings: SamplerSettings, **changes: Any) -> SamplerSettings:
    """A copy of ``settings`` with some fields changed."""
    return replace(settings, **changes)


def posterior_frame(fit: Fit, names: list[str]) -> pd.DataFrame:
    """Long table ``term, draw, value`` of scalar and labelled vector parameters."""
    rows = []
    for name in names:
        values = fit.posterior[name]
        if values.ndim == 1:
            rows.append(
                pd.DataFrame({"term": name, "draw": np.arange(len(values)), "value": values})
            )
        else:
            labels = _labels_for(fit, name, values.shape[1])
            for j, label in enumerate(labels):
                rows.append(
                    pd.DataFrame(
                        {
                            "term": f"{name}[{label}]",
                            "draw": np.arange(len(values)),
                            "value": values[:, j],
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def _labels_for(fit: Fit, name: str, size: int) -> list:
    for term in fit.spec.terms:
        if term.name == name and term.input in fit.data.coords:
            return list(fit.data.coords[term.input])
    return list(range(size))
