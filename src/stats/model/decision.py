"""The decision rule: real / fluke / inconclusive / not-converged, and runs_needed.

Array-level functions (NumPy only), applied per scope by :mod:`stats.summarize`.

The rule combines M1's marginal contrast ``Delta`` (fine-tuned minus baseline rate of
naming the word early) and M2's introspective share ``Delta_intro`` (the part of the
fine-tuned early rate owed to the introspection term, the rest being explained by
greeting, leak, guessability and the line profile). Both are on the probability scale,
so one ROPE (``rope``, default 0.05) serves both; intervals are HDIs at ``ci_prob``.
``Delta_intro`` is >= 0 by construction (M2's introspection effect is
``softplus(...)``), so "credibly positive" means credibly above a floor,
:data:`INTRO_FLOOR` x ``rope`` (0.005 at the default ROPE): the posterior probability
``intro_p_floor`` = P(Delta_intro > floor) is at least :data:`INTRO_PROB`. A tail
probability, not the HDI's lower end: the posterior of a share bounded by 0 is skewed
with its density highest near 0, so its HDI keeps reaching down to 0 even when almost all
of its mass lies well above the floor (the HDI's lower end is not a one-sided bound).
With 0.975 the condition is "the share's central 95% interval lies above the floor".

The branches, in order; the first that applies gives the verdict and its ``reason``
code (:data:`stats.model.reasons.REASONS` describes each code in words for the reports):

==========================  ===============  =============================================
condition                   verdict          reason code
==========================  ===============  =============================================
a gate failed in a fit      not-converged    ``not_converged``
the verdict uses
Delta HDI inside            fluke            ``delta_in_rope``
``[-rope, rope]``
Delta HDI below ``-rope``   fluke            ``baseline_above``
Delta HDI upper < ``rope``  fluke            ``delta_below_rope``
(its lower end < -rope)
Delta_intro HDI upper <     fluke            ``intro_below_rope``
``rope`` (M2 used)
Delta HDI lower > ``rope``  real             ``real_m1_only``
and no M2
Delta HDI lower > ``rope``  real             ``real``
and P(Delta_intro > floor)
>= INTRO_PROB
Delta HDI lower > ``rope``  inconclusive     ``intro_uncertain``
(Delta_intro neither)
otherwise (Delta HDI        inconclusive     ``delta_overlaps_rope``
straddles ``rope``)
==========================  ===============  =============================================

After the rule, :func:`stats.summarize.verdicts.guard_leaking_rows` turns a ``real`` row whose
prompt contains the word into ``inconclusive`` with reason ``leak_needs_clean_real``
unless the non-leaking row of the same scope is ``real`` too.

Why fluke is one-sided: the hypothesis at stake is a *positive* self-report effect; an
interval entirely below the ROPE's upper edge rules out a practically relevant one,
whether it also reaches below ``-rope`` or not. Why the introspective share can give
``fluke`` on its own: it is the plan's "the greeting/guessability terms absorb the
effect" (the early naming is credibly not more than ``rope`` beyond what context
explains), whatever ``Delta``'s position.

The operating characteristics of this rule (false ``real`` rate in worlds with leak and
guessability but no introspection, ``fluke`` share there, power in worlds with
introspection) are measured by ``benchmarks/operating_characteristics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stats import config

VERDICTS = ("real", "fluke", "inconclusive", "not-converged")
#: Extra runs per word tried by :func:`runs_needed` (the first reaching the assurance wins).
RUNS_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
#: Assurance a design must reach to count as "likely decisive".
ASSURANCE = 0.8


def hdi(draws: np.ndarray, prob: float = config.CI_PROB) -> tuple[float, float]:
    """Highest-density interval of 1-D draws (ArviZ's array implementation)."""
    from arviz_stats.base import array_stats  # imported here: reports read the constants

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


#: The introspective share's floor for ``real``, as a fraction of the ROPE.
INTRO_FLOOR = 0.1
#: Posterior probability the introspective share must exceed its floor with, for ``real``:
#: 0.975, the lower end of the share's central 95% interval. Chosen on simulated studies
#: with seeds apart from the benchmark's (``benchmarks/results/oc_calibration.md``).
INTRO_PROB = 0.975


@dataclass(frozen=True)
class Decision:
    """A verdict, the interval positions that produced it and its reason code."""

    verdict: str
    delta_position: str
    intro_position: str | None
    reason: str


def decide(
    delta_hdi: tuple[float, float],
    rope: float,
    *,
    intro_hdi: tuple[float, float] | None = None,
    intro_p_floor: float | None = None,
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
    intro_p_floor : float, optional
        P(Delta_intro > :data:`INTRO_FLOOR` x ``rope``); required with ``intro_hdi``.
    converged : bool
        Whether every fit used passed its gates.

    Returns
    -------
    Decision
        ``reason`` is a key of :data:`stats.model.reasons.REASONS`.
    """
    if intro_hdi is not None and intro_p_floor is None:
        raise ValueError("intro_hdi needs intro_p_floor (P(Delta_intro > floor))")
    delta_pos = classify_interval(*delta_hdi, rope)
    intro_pos = classify_interval(*intro_hdi, rope) if intro_hdi is not None else None

    def verdict(name: str, reason: str) -> Decision:
        return Decision(name, delta_pos, intro_pos, reason)

    if not converged:
        return verdict("not-converged", "not_converged")
    high = delta_hdi[1]
    if delta_pos == "inside":
        return verdict("fluke", "delta_in_rope")
    if delta_pos == "below":
        return verdict("fluke", "baseline_above")
    if high < rope:
        return verdict("fluke", "delta_below_rope")
    if intro_hdi is not None and intro_hdi[1] < rope:
        return verdict("fluke", "intro_below_rope")
    if delta_pos != "above":
        return verdict("inconclusive", "delta_overlaps_rope")
    if intro_hdi is None:
        return verdict("real", "real_m1_only")
    if intro_p_floor >= INTRO_PROB:
        return verdict("real", "real")
    return verdict("inconclusive", "intro_uncertain")


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
        intro_p_floor=p_above_floor(intro, rope) if intro is not None else None,
        converged=converged,
    )


def p_above_floor(intro: np.ndarray, rope: float) -> float:
    """P(Delta_intro > :data:`INTRO_FLOOR` x ``rope``), the share of draws above the floor."""
    return float(np.mean(np.asarray(intro, dtype=float) > INTRO_FLOOR * rope))


def _projected(
    draws: np.ndarray,
    extra_runs: int,
    current_runs: int,
    rng,
    size: int,
) -> tuple[np.ndarray, float]:
    """Preposterior simulation for one estimand: the future posterior's mean per future, and sd.

    Normal approximation with the run as the unit of replication: with ``R`` runs the
    posterior sd is ``s``; after ``m`` more it is ``s_m = s * sqrt(R / (R + m))``. A
    "true" value is drawn from the current posterior, the new runs' estimate from
    ``Normal(true, s_new)`` with ``1/s_new^2 = 1/s_m^2 - 1/s^2``, and the updated posterior
    is ``Normal(mu_m, s_m)``. ``size`` futures are simulated, so that two estimands from
    fits with different numbers of draws pair up.
    """
    mean, sd = float(np.mean(draws)), float(np.std(draws))
    if sd == 0:
        return np.full(size, mean), 0.0
    sd_m = sd * np.sqrt(current_runs / (current_runs + extra_runs))
    sd_new = 1.0 / np.sqrt(1.0 / sd_m**2 - 1.0 / sd**2)
    truth = rng.choice(draws, size=size)
    estimate = rng.normal(truth, sd_new)
    return sd_m**2 * (mean / sd**2 + estimate / sd_new**2), float(sd_m)


def _normal_quantile(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


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
    estimands are projected with :func:`_projected` (independently: M1 and M2 are
    separate fits). Returns 0 when the current posterior is already decisive, ``None``
    when even :data:`RUNS_GRID`'s largest design does not reach the assurance.
    """
    current = decide_draws(delta, rope, intro=intro, prob=prob)
    if current.verdict in ("real", "fluke"):
        return 0
    current_runs = max(int(current_runs), 1)
    rng = np.random.default_rng(seed)
    size = len(delta)
    z_hdi = _normal_quantile(0.5 + prob / 2)
    z_floor = _normal_quantile(INTRO_PROB)
    for extra in RUNS_GRID:
        mu, sd = _projected(delta, extra, current_runs, rng, size)
        fluke = mu + z_hdi * sd < rope
        real = mu - z_hdi * sd > rope
        if intro is not None:
            i_mu, i_sd = _projected(intro, extra, current_runs, rng, size)
            fluke = fluke | (i_mu + z_hdi * i_sd < rope)
            real = real & (i_mu - z_floor * i_sd > INTRO_FLOOR * rope)
        if (fluke | real).mean() >= assurance:
            return extra
    return None
