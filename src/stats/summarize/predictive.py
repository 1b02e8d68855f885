"""Posterior and prior predictive checks.

``ppc``: observed rate per group against replicated rates drawn from the posterior
(central intervals); ``prior_predictive``: do the implied cell probabilities under the
prior pile up at 0 or 1?
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from stats import config
from stats.model.fit import Fit
from stats.model.predictor import DRAWS, linear_predictor

#: Prior predictive check: the implied cell probabilities "pile up" at an extreme when
#: more than this share of them is below 1% (or above 99%).
PILE_UP_SHARE = 0.5
#: Draws used for posterior predictive replicates.
PPC_DRAWS = 1000


def ppc_table(
    fit: Fit, check: str, by: list[str], ci_prob: float = config.CI_PROB, seed: int = config.SEED
) -> pd.DataFrame:
    """Observed vs replicated rates per group (replicates drawn from the posterior).

    For M2 the replicated events are drawn given the observed numbers at risk.
    """
    rng = np.random.default_rng(seed)
    prob = fit.cell_probability()
    take = rng.choice(prob.shape[0], size=min(PPC_DRAWS, prob.shape[0]), replace=False)
    rep = rng.binomial(fit.data.n, prob[take])  # (D, cells)
    cells = fit.data.cells.assign(_y=fit.data.y, _n=fit.data.n)
    alpha = (1 - ci_prob) / 2
    rows = []
    for key, group in cells.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        idx = group.index.to_numpy()
        n = group["_n"].sum()
        rates = rep[:, idx].sum(axis=1) / n
        row = {"check": check, "word": None, "greeting": None, "arm": None, "line": None}
        row.update(dict(zip(by, key, strict=True)))
        row.update(
            {
                "trials": int(n),
                "observed_rate": float(group["_y"].sum() / n),
                "rep_mean": float(rates.mean()),
                "rep_low": float(np.quantile(rates, alpha)),
                "rep_high": float(np.quantile(rates, 1 - alpha)),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def prior_predictive_table(fit: Fit, prior: dict[str, np.ndarray]) -> pd.DataFrame:
    """Implied cell probabilities under the prior: do they pile up at 0 or 1?"""
    p = expit(linear_predictor(fit.spec, prior, fit.data.rows, DRAWS)).ravel()
    below, above = float((p < 0.01).mean()), float((p > 0.99).mean())
    q05, q50, q95 = np.quantile(p, [0.05, 0.5, 0.95])
    return pd.DataFrame(
        [
            {
                "fit": fit.name,
                "model": fit.spec.name,
                "share_below_1pct": below,
                "share_above_99pct": above,
                "q05": float(q05),
                "q50": float(q50),
                "q95": float(q95),
                "ok": below < PILE_UP_SHARE and above < PILE_UP_SHARE,
            }
        ]
    )
