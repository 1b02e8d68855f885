"""Sampling: the sampler settings, one built model sampled with nutpie or PyMC's NUTS, retries.

:class:`Sampler` samples a built model with nutpie when it is installed (and the
settings' ``backend`` allows it), PyMC's NUTS otherwise; 4 chains, seeded.
:func:`sample_gated` samples until the convergence gates of
:mod:`stats.model.diagnostics` pass or :func:`next_attempt` gives up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from stats import config
from stats.model.design import ModelData
from stats.model.diagnostics import Gates, diagnose
from stats.model.spec import ModelSpec

BACKENDS = ("auto", "pymc", "nutpie")
MASS_MATRICES = ("diag", "dense")


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
        Mass matrix adapted during tuning. ``dense`` follows the correlations between the
        group SDs and their effects: PyMC's NUTS adapts a full matrix (shrunk toward its
        diagonal), nutpie its low-rank modified diagonal (``adaptation="low_rank"``). With
        PyMC's NUTS, dense M1 on the bundled study (78 parameters) takes 31 leapfrog steps
        per iteration against 63, but its cost per step grows with the square of the number
        of parameters and its larger steps diverged more often in M2
        (``benchmarks/results/fit_breakdown.md``). nutpie's low-rank adaptation took 10 times
        as long per M1 fit (32 runs per word) and, as a retry, passed the gates as often as
        the diagonal one (``benchmarks/results/retry_mass_matrix.md``). So the default, and
        a retry, stay diagonal.
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


def nutpie_available() -> bool:
    """Whether nutpie can be imported."""
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return False
    return True


class Sampler:
    """One built model, sampled with nutpie (compiled once) or PyMC's NUTS.

    PyMC's NUTS step is built once per ``target_accept`` and mass matrix, and reused:
    ``pm.sample`` otherwise rewrites and compiles the log density and its gradient at every call
    (about 6 s on M1, measured), and a step reads the counts from the model's data
    containers, so refits on new counts (``pm.set_data``) need no recompilation.
    """

    def __init__(
        self, model: Any, settings: SamplerSettings, shared: dict[str, Any] | None = None
    ) -> None:
        self.model = model
        #: Shared variables outside the model's data containers that ``draw`` may set
        #: (the prior factor of :mod:`stats.model.compiled`).
        self.shared = dict(shared or {})
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

    def draw(self, settings: SamplerSettings, seed: int, values: dict | None = None) -> Any:
        """Posterior draws (a DataTree) with ``settings``.

        ``values`` set data containers (the counts of a model built with mutable counts) and
        :attr:`shared` variables by name before sampling; the draws depend on ``settings``,
        ``seed`` and ``values`` only, not on earlier calls. The shared variables are set for
        nutpie too: its compiled model copies them (``with_data`` replaces the copies), but
        the initial points come from a PyTensor function that reads them.
        """
        values = dict(values or {})
        for name, value in values.items():
            variable = self.shared[name] if name in self.shared else self.model[name]
            variable.set_value(np.asarray(value, dtype=variable.dtype))
        if self.nutpie:
            import nutpie

            compiled = self.compiled if not values else self.compiled.with_data(**values)
            return nutpie.sample(
                compiled,
                adaptation="low_rank" if settings.mass_matrix == "dense" else "diag",
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                seed=seed,
                target_accept=settings.target_accept,
                progress_bar=False,
                save_warmup=False,  # neither stored nor diagnosed
            )
        import pymc as pm

        with self.model:
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


def with_settings(settings: SamplerSettings, **changes: Any) -> SamplerSettings:
    """A copy of ``settings`` with some fields changed."""
    return replace(settings, **changes)
