"""A fit: :func:`fit_model` samples a spec on coded cells (or loads it from the cache).

Sampling is in :mod:`stats.model.sample`, the cache in :mod:`stats.model.cache`, the
convergence gates in :mod:`stats.model.diagnostics`, PSIS-LOO in :mod:`stats.model.loo`,
refits on new counts in :mod:`stats.model.refit`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from stats.model import cache
from stats.model.compiled import CompiledModels
from stats.model.design import ModelData
from stats.model.diagnostics import Gates
from stats.model.events import FitEvent, Progress
from stats.model.posterior import posterior_arrays, posterior_names
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.sample import Sampler, SamplerSettings, sample_gated
from stats.model.spec import ModelSpec


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
        The stored fit (:mod:`stats.model.cache`).
    tree : DataTree or None
        The fit as stored: posterior, sample_stats, log_likelihood, log_prior, prior and
        observed_data groups (:func:`stats.model.cache.fit_tree`); None for simulation
        refits (:class:`stats.model.refit.Refitter`), which are not stored.
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
    tree: Any = None

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


def _sampler_for(
    spec: ModelSpec, data: ModelData, settings: SamplerSettings, compiled: CompiledModels
) -> tuple[Sampler, dict[str, Any]]:
    """The sampler :func:`fit_model` uses and the values it sets (a seam for tests)."""
    return compiled.sampler(spec, data, settings)


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
    compiled: CompiledModels | None = None,
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
    compiled : CompiledModels, optional
        Compiled models of earlier fits, reused when this fit has the same structure
        (:mod:`stats.model.compiled`); None compiles for this fit alone.

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

    key = cache.cache_key(spec, data, settings)
    path = cache_dir / f"{name}-{key[:16]}.nc" if cache_dir is not None else None
    names = posterior_names(spec)
    if path is not None and path.exists():
        tree = cache.load(path)
        if tree is not None and tree.attrs.get("cache_key") == key:
            posterior, chains = posterior_arrays(tree, names)
            diagnostics = json.loads(tree.attrs["diagnostics"])
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
                sampler=str(tree.attrs.get("sampler", "")),
                tree=tree,
            )
    emit("start")
    start = time.perf_counter()
    sampler_, values = _sampler_for(spec, data, settings, compiled or CompiledModels())
    idata, diagnostics = sample_gated(
        lambda s: sampler_.draw(s, s.seed, values),
        spec,
        data,
        settings,
        gates,
        on_retry=lambda attempt: emit("retry", attempt),
    )
    diagnostics["seconds"] = time.perf_counter() - start  # build and compile included (if any)
    emit("done", len(diagnostics["attempts"]), diagnostics["converged"])
    sampler = diagnostics["sampler"] = sampler_.name
    posterior, chains = posterior_arrays(idata, names)
    attrs = {
        "cache_key": key,
        "spec": json.dumps(spec.to_dict()),
        "diagnostics": json.dumps(diagnostics),
        "sampler": sampler,
    }
    tree = cache.fit_tree(idata, spec, data, seed=settings.seed, attrs=attrs)
    if path is not None:
        cache.save(tree, path)
    return Fit(
        name, spec, data, posterior, chains, diagnostics, key, path=path, sampler=sampler, tree=tree
    )
