"""Intervals and verdicts of claimed rates: exact, Jeffreys Beta, differences, decisions.

Exact Clopper-Pearson intervals, Jeffreys Beta posteriors shrunk by the run design effect,
the Monte Carlo interval of a difference of two rates, and :func:`decide` (the verdict of
an interval against a threshold and a ROPE).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as st

from stats.config import CI_PROB, SEED
from stats.review.counting import Counts

#: Monte Carlo draws for the difference of two Beta posteriors.
DIFF_DRAWS = 20_000
JEFFREYS = 0.5


def beta_posterior(counts: Counts) -> tuple[float, float]:
    """Jeffreys Beta posterior parameters, with counts shrunk by the run design effect."""
    s, n = counts.successes / counts.design_effect, counts.trials / counts.design_effect
    return JEFFREYS + s, JEFFREYS + n - s


def bayes_interval(counts: Counts, prob: float = CI_PROB) -> tuple[float, float, float]:
    """Posterior mean and equal-tailed interval of the rate."""
    if counts.trials == 0:
        return float("nan"), float("nan"), float("nan")
    a, b = beta_posterior(counts)
    low, high = st.beta.ppf([(1 - prob) / 2, (1 + prob) / 2], a, b)
    return a / (a + b), float(low), float(high)


def difference_interval(
    first: Counts, second: Counts, *, prob: float = CI_PROB, seed: int = SEED
) -> tuple[float, float, float]:
    """Posterior mean and equal-tailed interval of ``p_first - p_second`` (Monte Carlo, seeded)."""
    rng = np.random.default_rng(seed)
    a1, b1 = beta_posterior(first)
    a2, b2 = beta_posterior(second)
    diff = rng.beta(a1, b1, DIFF_DRAWS) - rng.beta(a2, b2, DIFF_DRAWS)
    low, high = np.quantile(diff, [(1 - prob) / 2, (1 + prob) / 2])
    return float(diff.mean()), float(low), float(high)


def decide(low: float, high: float, *, threshold: float, direction: str, rope: float) -> str:
    """Verdict of an interval against a threshold.

    ``greater``: supported if ``low > threshold``, contradicted if ``high < threshold``.
    ``less``: the mirror. ``similar``: supported if inside ``threshold ± rope``,
    contradicted if entirely outside it. Otherwise inconclusive.
    """
    if np.isnan(low) or np.isnan(high):
        return "no-data"
    if direction == "greater":
        return (
            "supported"
            if low > threshold
            else "contradicted"
            if high < threshold
            else "inconclusive"
        )
    if direction == "less":
        return (
            "supported"
            if high < threshold
            else "contradicted"
            if low > threshold
            else "inconclusive"
        )
    if threshold - rope < low and high < threshold + rope:
        return "supported"
    if high < threshold - rope or low > threshold + rope:
        return "contradicted"
    return "inconclusive"
