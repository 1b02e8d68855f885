"""Prior sensitivity by power-scaling (Kallioinen et al. 2024), on the verdicts' estimands.

:func:`power_scaling` asks, without refitting, how much an estimand's posterior moves when
the prior (or the likelihood) is raised to a power near 1: ArviZ's ``psense`` reweights the
draws by Pareto-smoothed importance sampling and reports the cumulative Jensen-Shannon
distance per unit of log power. A prior sensitivity of at least
:data:`PSENSE_THRESHOLD` (ArviZ's threshold) flags the estimand: with it a weak likelihood
(``likelihood`` below the threshold too) means the prior decides it, with a strong one the
prior and the data disagree. The model stage refits at the study's prior scales (x0.5, x2)
only the models that have a flagged estimand.

The power-scaled prior is the one the study's prior scales set (intercepts, slopes,
contrasts, group standard deviations, locations, random-walk start and steps:
:func:`stats.model.prior.prior_log_density`), not the hierarchical structure of the
group effects (the recommendation of the paper for hierarchical models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from stats.model.pipeline import ScaleResult

#: Prior (or likelihood) sensitivity at or above this flags an estimand (ArviZ's default).
PSENSE_THRESHOLD = 0.05
COLUMNS = ["fit", "model", "quantity", "prior", "likelihood", "diagnosis", "flagged"]


def _diagnosis(prior: float, likelihood: float) -> str:
    if prior >= PSENSE_THRESHOLD and likelihood >= PSENSE_THRESHOLD:
        return "prior-data conflict"
    if prior >= PSENSE_THRESHOLD:
        return "strong prior / weak likelihood"
    return "ok"


def power_scaling(
    quantities: dict[str, np.ndarray],
    log_prior: np.ndarray,
    log_likelihood: np.ndarray,
    chains: int,
) -> pd.DataFrame:
    """Power-scaling prior and likelihood sensitivity of each quantity.

    Parameters
    ----------
    quantities : dict of str to ndarray
        Draws ``(S,)`` of each estimand, chains stacked in order (``S = chains * draws``).
    log_prior : ndarray
        ``(S,)`` log density of the power-scaled prior at each draw.
    log_likelihood : ndarray
        ``(S, cells)`` pointwise log-likelihood.
    chains : int

    Returns
    -------
    DataFrame
        ``quantity, prior, likelihood, diagnosis, flagged`` (one row per quantity).
    """
    import xarray as xr
    from arviz_stats import psense

    def by_chain(values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float).reshape(chains, -1, *np.shape(values)[1:])

    names = {f"q{i}": name for i, name in enumerate(quantities)}
    posterior = xr.Dataset(
        {key: (("chain", "draw"), by_chain(quantities[name])) for key, name in names.items()}
    )
    tree = xr.DataTree.from_dict(
        {
            "posterior": posterior,
            "log_prior": xr.Dataset({"prior": (("chain", "draw"), by_chain(log_prior))}),
            "log_likelihood": xr.Dataset(
                {"y": (("chain", "draw", "cell"), by_chain(log_likelihood))}
            ),
        }
    )
    prior = psense(tree, group="prior")
    likelihood = psense(tree, group="likelihood")
    rows = []
    for key, name in names.items():
        p, lik = float(prior[key]), float(likelihood[key])
        rows.append(
            {
                "quantity": name,
                "prior": p,
                "likelihood": lik,
                "diagnosis": _diagnosis(p, lik),
                "flagged": bool(p >= PSENSE_THRESHOLD),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS[2:])


#: Columns of the ``prior_sensitivity`` table.
PRIOR_SENSITIVITY_COLUMNS = [
    "fit", "model", "estimand", "scope", "word", "greeting", "prior", "likelihood",
    "diagnosis", "flagged",
]  # fmt: skip


def prior_sensitivity(result: ScaleResult) -> pd.DataFrame:
    """Power-scaling sensitivity of every verdict estimand of the main fits.

    The log prior and pointwise log-likelihood are those stored with each fit
    (:func:`stats.model.cache.fit_tree`).

    Returns
    -------
    DataFrame
        :data:`PRIOR_SENSITIVITY_COLUMNS` (``estimand``: ``delta`` from M1,
        ``delta_intro`` from M2; see :mod:`stats.model.sensitivity`).
    """
    frames = []
    delta = {(c.scope, c.word, c.greeting): c.delta for c in result.contrasts}
    sources = [(result.m1, "delta", delta)]
    if result.m2 is not None and result.intro:
        sources.append((result.m2, "delta_intro", result.intro))
    for fit, estimand, draws in sources:
        keys = [k for k, v in draws.items() if np.isfinite(v).all() and np.ptp(v) > 0]
        if not keys:
            continue
        loglik = fit.tree["log_likelihood"]["y"].values
        table = power_scaling(
            {str(i): draws[k] for i, k in enumerate(keys)},
            fit.tree["log_prior"]["prior"].values.reshape(-1),
            loglik.reshape(-1, loglik.shape[-1]),
            fit.chains,
        )
        scope, word, greeting = zip(*[keys[int(q)] for q in table["quantity"]], strict=True)
        frames.append(
            table.drop(columns="quantity").assign(
                fit=fit.name,
                model=fit.spec.name,
                estimand=estimand,
                scope=scope,
                word=word,
                greeting=greeting,
            )
        )
    if not frames:
        return pd.DataFrame(columns=PRIOR_SENSITIVITY_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PRIOR_SENSITIVITY_COLUMNS]
