"""Per-fit tables: convergence diagnostics and the coefficients (ArviZ's summary).

``diagnostics``: one row per fit (gates, LOO, timing, sampler settings of the reported
attempt, a plain ``loo_warning``); ``coefficients``: :func:`arviz.summary` of the fit's
interpretable parameters (:meth:`stats.model.spec.ModelSpec.summary_names`), labelled by
ArviZ (``b_arm[base]``, ``a_line[1]``) from the posterior's named dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from stats import config
from stats.model.fit import Fit

#: Columns of the coefficient table (CONTRACTS.md) and the ArviZ summary column of each.
COEFFICIENT_COLUMNS = {"mean": "mean", "sd": "sd", "r_hat": "r_hat", "ess_bulk": "ess_bulk"}


def diagnostics_table(fits: Sequence[Fit]) -> pd.DataFrame:
    """One row per fit: gates, LOO and timing."""
    rows = []
    for f in fits:
        d = f.diagnostics
        rows.append(
            {
                "fit": f.name,
                "model": f.spec.name,
                "outcome": f.spec.outcome,
                "prior_scale": f.spec.prior_scale,
                "sampler": d.get("sampler", f.sampler),
                "seconds": d.get("seconds", np.nan),
                "max_rhat": d["max_rhat"],
                "min_ess_bulk": d["min_ess_bulk"],
                "min_ess_tail": d["min_ess_tail"],
                "divergences": d["divergences"],
                "min_bfmi": d["min_bfmi"],
                "pareto_k_max": d.get("pareto_k_max", np.nan),
                "n_pareto_k_bad": d.get("n_pareto_k_bad", np.nan),
                "converged": bool(d["converged"]),
                "elpd_loo": d.get("elpd_loo", np.nan),
                "failed": "; ".join(d.get("failed", [])),
                "cached": f.cached,
                "n_cells": len(f.data.y),
                "draws": d.get("draws", np.nan),
                "target_accept": d.get("target_accept", np.nan),
                "attempts": len(d.get("attempts", [])) or np.nan,
                "loo_warning": loo_warning(d, len(f.data.y)),
            }
        )
    return pd.DataFrame(rows)


def loo_warning(diagnostics: dict, n_cells: int) -> str:
    """A plain sentence when PSIS-LOO is unreliable for a fit (Pareto k above the warning level).

    LOO is reported, not used by any verdict or gate: a binomial cell of many trials is
    influential by construction, so its leave-one-out density is poorly estimated by
    importance sampling. The sentence says so, with the count.
    """
    bad = diagnostics.get("n_pareto_k_bad", 0)
    if not bad or not np.isfinite(bad):
        return ""
    return (
        f"LOO unreliable: Pareto k > {config.PARETO_K_WARN} for {int(bad)} of {n_cells} cells "
        f"(max {diagnostics.get('pareto_k_max', float('nan')):.2f}); elpd_loo is not used "
        "by any verdict"
    )


def posterior_dataset(fit: Fit, names: list[str]) -> object:
    """The fit's draws of ``names`` as an xarray Dataset with ``chain``, ``draw`` and named dims.

    :class:`~stats.model.fit.Fit` holds its draws stacked over chains (chain-major, as the
    sampler wrote them); this is the one place that gives them their chain and labels back.
    """
    import xarray as xr

    dims = fit.spec.variable_dims()
    variables = {}
    for name in names:
        values = np.asarray(fit.posterior[name])
        extra = dims.get(name, ())[: values.ndim - 1]
        variables[name] = (
            ("chain", "draw", *extra),
            values.reshape(fit.chains, -1, *values.shape[1:]),
        )
    coords = {
        dim: fit.data.coords[dim]
        for name in names
        for dim in dims.get(name, ())
        if dim in fit.data.coords
    }
    return xr.Dataset(variables, coords=coords)


def coefficient_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Posterior summary of the population terms, standard deviations and line intercepts.

    Returns
    -------
    DataFrame
        ``fit, model, term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk, input_center,
        input_scale`` (ArviZ's :func:`~arviz.summary`: HDI at ``ci_prob``, rank-normalised
        R-hat, bulk ESS; slopes are per ``input_scale`` raw units of their input).
    """
    import arviz as az

    names = fit.spec.summary_names()
    summary = az.summary(
        posterior_dataset(fit, names),
        var_names=names,
        ci_prob=ci_prob,
        ci_kind="hdi",
        round_to="none",
    )
    low, high = (c for c in summary.columns if c.startswith("hdi") and c.endswith(("_lb", "_ub")))
    scaling = {
        t.name: fit.data.scaling[t.input] for t in fit.spec.terms if t.input in fit.data.scaling
    }
    variable = [label.split("[", 1)[0] for label in summary.index]
    centre, scale = zip(*[scaling.get(v, (np.nan, np.nan)) for v in variable], strict=True)
    return pd.DataFrame(
        {
            "fit": fit.name,
            "model": fit.spec.name,
            "term": summary.index.to_numpy(),
            **{
                ours: summary[theirs].to_numpy(float)
                for ours, theirs in COEFFICIENT_COLUMNS.items()
            },
            "hdi_low": summary[low].to_numpy(float),
            "hdi_high": summary[high].to_numpy(float),
            "input_center": centre,
            "input_scale": scale,
        }
    )[
        [
            "fit",
            "model",
            "term",
            "mean",
            "sd",
            "hdi_low",
            "hdi_high",
            "r_hat",
            "ess_bulk",
            "input_center",
            "input_scale",
        ]
    ]
