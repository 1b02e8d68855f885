"""Model curves against the design: rates by n_examples and LR, the hazard by line.

``curves``: rate per arm against ``n_examples`` and against the LR multiplier, raw and
fitted (M1, trial-weighted cells); ``hazard``: the hazard and cumulative articulation per
arm and line, raw and fitted (M2, at-risk weighted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats import config
from stats.model.decision import hdi
from stats.model.fit import Fit
from stats.model.frequentist import exact_interval


def _weighted_draws(prob: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = weights[mask]
    return prob[:, mask] @ (w / w.sum())


def curves_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Rate per arm against n_examples and against LR: raw and fitted (trial-weighted cells)."""
    cells = fit.data.cells
    prob = fit.cell_probability()
    weights = fit.data.n.astype(float)
    rows = []
    for factor in ("n_examples", "lr_multiplier"):
        values = pd.to_numeric(cells[factor], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        for arm in [a for a in config.ARMS if a in set(cells["arm"])]:
            arm_mask = (cells["arm"] == arm).to_numpy()
            for value in np.unique(values[arm_mask & np.isfinite(values)]):
                mask = arm_mask & (values == value)
                s, n = int(fit.data.y[mask].sum()), int(fit.data.n[mask].sum())
                low, high = exact_interval(s, n, ci_prob)
                draws = _weighted_draws(prob, weights, mask)
                m_low, m_high = hdi(draws, ci_prob)
                rows.append(
                    {
                        "outcome": fit.spec.outcome,
                        "arm": arm,
                        "factor": factor,
                        "value": float(value),
                        "successes": s,
                        "trials": n,
                        "raw_rate": s / n if n else np.nan,
                        "exact_low": float(low),
                        "exact_high": float(high),
                        "mean": float(draws.mean()),
                        "low": m_low,
                        "high": m_high,
                    }
                )
    return pd.DataFrame(rows)


def hazard_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Hazard and cumulative articulation per arm x line: raw and fitted (at-risk weighted)."""
    cells = fit.data.cells
    prob = fit.cell_probability()
    at_risk = fit.data.n.astype(float)
    rows = []
    for arm in [a for a in config.ARMS if a in set(cells["arm"])]:
        arm_mask = (cells["arm"] == arm).to_numpy()
        survival_raw = 1.0
        survival_draws = np.ones(prob.shape[0])
        for line in sorted(cells.loc[arm_mask, "line"].unique()):
            mask = arm_mask & (cells["line"] == line).to_numpy()
            events, n = int(fit.data.y[mask].sum()), int(at_risk[mask].sum())
            raw = events / n if n else np.nan
            draws = _weighted_draws(prob, at_risk, mask)
            survival_raw *= 1 - raw
            survival_draws = survival_draws * (1 - draws)
            h_low, h_high = hdi(draws, ci_prob)
            c_low, c_high = hdi(1 - survival_draws, ci_prob)
            g = pd.to_numeric(cells.loc[mask, "guessability"], errors="coerce").to_numpy()
            rows.append(
                {
                    "arm": arm,
                    "line": int(line),
                    "letters_visible": float(
                        pd.to_numeric(cells.loc[mask, "letters_visible"], errors="coerce").median()
                    ),
                    "at_risk": n,
                    "events": events,
                    "raw_hazard": raw,
                    "hazard_mean": float(draws.mean()),
                    "hazard_low": h_low,
                    "hazard_high": h_high,
                    "cumulative_raw": 1 - survival_raw,
                    "cumulative_mean": float((1 - survival_draws).mean()),
                    "cumulative_low": c_low,
                    "cumulative_high": c_high,
                    "guessability": float(np.average(g, weights=at_risk[mask])),
                }
            )
    return pd.DataFrame(rows)
