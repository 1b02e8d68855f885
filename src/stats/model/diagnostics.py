"""Convergence gates of the analysis plan (section 4) and the diagnostics of a sampled model.

:func:`diagnose` computes R-hat, bulk and tail ESS, divergences, E-BFMI, and PSIS-LOO
Pareto k (reported, not a gate: binomial cells of many trials are influential by
construction; :mod:`stats.model.loo`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from stats import config
from stats.model.design import ModelData
from stats.model.loo import loo_diagnostics
from stats.model.spec import ModelSpec


@dataclass(frozen=True)
class Gates:
    """Thresholds a fit must meet before any verdict is reported (analysis plan, 4)."""

    max_rhat: float = config.MAX_RHAT
    min_ess: float = config.MIN_ESS
    max_divergences: int = config.MAX_DIVERGENCES
    min_bfmi: float = config.MIN_BFMI


def gated_parameter_names(spec: ModelSpec) -> list[str]:
    """Quantities whose R-hat and ESS gate a fit (:meth:`ModelSpec.gated_names`)."""
    return spec.gated_names()


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
