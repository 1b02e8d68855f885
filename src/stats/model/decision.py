"""The decision rule: real / fluke / inconclusive / not-converged, and runs_needed.

Array-level functions (NumPy only), applied per scope by :mod:`stats.summarize`.

The rule combines M1's marginal contrast ``Delta`` and M2's introspective share
``Delta_intro`` (both on the probability scale, so one ROPE serves both):

1. any gate failed in a fit the verdict uses -> ``not-converged`` (never a silent verdict);
2. ``Delta``'s HDI inside ``[-rope, rope]`` -> ``fluke`` (no practical difference), and
   ``Delta``'s HDI entirely below ``-rope`` -> ``fluke`` too (the baseline does better);
3. ``Delta``'s HDI entirely above ``rope``:

   * without M2 (no baseline arm to identify ``b_intro``): ``real``;
   * ``Delta_intro``'s HDI inside ``[-rope, rope]``, or entirely at or below 0 ->
     ``fluke``: the effect is absorbed by greeting, leak, guessability and line (the
     plan's "b_intro HDI inside its ROPE");
   * ``Delta_intro``'s HDI entirely above 0 (and not inside the ROPE) -> ``real``: the
     practically relevant effect is ``Delta``; M2 must show that a credible part of it
     is not explained by context;
   * otherwise ``inconclusive``;
4. otherwise ``inconclusive``.

The operating characteristics of this rule (false ``real`` rate in worlds with leak and
guessability but no introspection, power in worlds with it) are measured by
``benchmarks/operating_characteristics.py``. An earlier variant asked for
``Delta_intro``'s HDI to clear the ROPE as well: no false ``real`` either, but a power
of 0.03-0.25 where this rule has 0.33-1.0 (same simulated studies, converged fits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from arviz_stats.base import array_stats

from stats import config

VERDICTS = ("real", "fluke", "inconclusive", "not-converged")
#: Extra runs per word tried by :func:`runs_needed` (the first reaching the assurance wins).
RUNS_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
#: Assurance a design must reach to count as "likely decisive".
ASSURANCE = 0.8


def hdi(draws: np.ndarray, prob: float = config.CI_PROB) -> tuple[float, float]:
    """Highest-density interval of 1-D draws (ArviZ's array implementation)."""
    draws = np.asarray(draws, dtype=float)
    if draws.size == 0 or not np.isfinite(draws).all():
        return float("nan"), float("nan")
    if np.ptp(draws) == 0:
        return float(draws[0]), float(draws[0])
    low, high = array_stats.hdi(draws, prob)
    return float(low), float(high)


def classify_interval(low: float, high: float, rope: float) -> str:
    """Position of an interval relative to ``[-rope, rope]``: above / inside / below / overlaps."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "overlaps"
    if low > rope:
        return "above"
    if high < -rope:
        return "below"
    if low >= -rope and high <= rope:
        return "inside"
    return "overlaps"


@dataclass(frozen=True)
class Decision:
    """A verdict and the interval positions that produced it."""

    verdict: str
    delta_position: str
    intro_position: str | None
    reason: str


def decide(
    delta_hdi: tuple[float, float],
    rope: float,
    *,
    intro_hdi: tuple[float, float] | None = None,
    converged: bool = True,
) -> Decision:
    """Apply the decision rule (module docstring) to HDIs.

    Parameters
    ----------
    delta_hdi : (float, float)
        HDI of M1's Delta.
    rope : float
        Half-width of the region of practical equivalence.
    intro_hdi : (float, float), optional
        HDI of M2's Delta_intro; ``None`` when M2 is not part of the verdict.
    converged : bool
        Whether every fit used passed its gates.

    Returns
    -------
    Decision
    """
    delta_pos = classify_interval(*delta_hdi, rope)
    intro_pos = classify_interval(*intro_hdi, rope) if intro_hdi is not None else None
    if not converged:
        return Decision("not-converged", delta_pos, intro_pos, "a convergence gate failed")
    if delta_pos == "inside":
        return Decision("fluke", delta_pos, intro_pos, "Delta HDI inside the ROPE")
    if delta_pos == "below":
        return Decision("fluke", delta_pos, intro_pos, "baseline above fine-tuned")
    if delta_pos == "overlaps":
        return Decision("inconclusive", delta_pos, intro_pos, "Delta HDI overlaps the ROPE")
    if intro_pos is None:
        return Decision("real", delta_pos, intro_pos, "Delta HDI above the ROPE (M1 only)")
    low, high = intro_hdi
    if intro_pos == "inside" or high <= 0:
        return Decision(
            "fluke", delta_pos, intro_pos, "Delta_intro inside the ROPE: absorbed by context"
        )
    if low > 0:
        return Decision(
            "real", delta_pos, intro_pos, "Delta above the ROPE, Delta_intro credibly positive"
        )
    return Decision("inconclusive", delta_pos, intro_pos, "Delta_intro HDI includes 0")


def decide_draws(
    delta: np.ndarray,
    rope: float,
    *,
    intro: np.ndarray | None = None,
    converged: bool = True,
    prob: float = config.CI_PROB,
) -> Decision:
    """:func:`decide` on draws (HDIs computed at ``prob``)."""
    return decide(
        hdi(delta, prob),
        rope,
        intro_hdi=hdi(intro, prob) if intro is not None else None,
        converged=converged,
    )


def _decisive_after(
    draws: np.ndarray,
    extra_runs: int,
    current_runs: int,
    rope: float,
    prob: float,
    rng,
    edge: float | None = None,
    size: int | None = None,
) -> np.ndarray:
    """Preposterior simulation for one estimand: is the future HDI decisive, per draw?

    ``size`` futures are simulated (default: one per draw), so that two estimands from
    fits with different numbers of draws give flags that pair up.

    Normal approximation with the run as the unit of replication: with ``R`` runs the
    posterior sd is ``s``; after ``m`` more it is ``s_m = s * sqrt(R / (R + m))``. A
    "true" value is drawn from the current posterior, the new runs' estimate from
    ``Normal(true, s_new)`` with ``1/s_new^2 = 1/s_m^2 - 1/s^2``, and the updated posterior
    ``Normal(mu_m, s_m)`` is checked against the ROPE: ``above`` / ``below`` mean beyond
    ``+edge`` / ``-edge`` (``edge`` defaults to ``rope``; 0 for ``Delta_intro``, which only
    needs to be credibly positive or negative).
    """
    edge = rope if edge is None else edge
    size = len(draws) if size is None else size
    mean, sd = float(np.mean(draws)), float(np.std(draws))
    if sd == 0:
        flags = (mean > edge, -rope <= mean <= rope, mean < -edge)
        return np.stack([np.full(size, f) for f in flags])
    sd_m = sd * np.sqrt(current_runs / (current_runs + extra_runs))
    sd_new = 1.0 / np.sqrt(1.0 / sd_m**2 - 1.0 / sd**2)
    truth = rng.choice(draws, size=size)
    estimate = rng.normal(truth, sd_new)
    mu_m = sd_m**2 * (mean / sd**2 + estimate / sd_new**2)
    z = _normal_quantile(prob)
    low, high = mu_m - z * sd_m, mu_m + z * sd_m
    above = low > edge
    inside = (low >= -rope) & (high <= rope)
    below = high < -edge
    return np.stack([above, inside, below])


def _normal_quantile(prob: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + prob / 2))


def runs_needed(
    delta: np.ndarray,
    current_runs: int,
    rope: float,
    *,
    intro: np.ndarray | None = None,
    prob: float = config.CI_PROB,
    assurance: float = ASSURANCE,
    seed: int = config.SEED,
) -> int | None:
    """Extra runs per word (at the current samples per run) for an 80%-assured decisive verdict.

    Decisive = the future verdict is ``real`` or ``fluke`` under :func:`decide`. Both
    estimands are projected with :func:`_decisive_after` (independently: M1 and M2 are
    separate fits). Returns 0 when the current posterior is already decisive, ``None``
    when even :data:`RUNS_GRID`'s largest design does not reach the assurance.
    """
    current = decide_draws(delta, rope, intro=intro, prob=prob)
    if current.verdict in ("real", "fluke"):
        return 0
    current_runs = max(int(current_runs), 1)
    rng = np.random.default_rng(seed)
    for extra in RUNS_GRID:
        above, inside, below = _decisive_after(delta, extra, current_runs, rope, prob, rng)
        if intro is None:
            decisive = above | inside | below
        else:
            i_above, i_inside, i_below = _decisive_after(
                intro, extra, current_runs, rope, prob, rng, edge=0.0, size=len(delta)
            )
            decisive = inside | below | (above & (i_above | i_inside | i_below))
        if decisive.mean() >= assurance:
            return extra
    return None
