"""Which factors vary in the data, and which group terms the data pin down.

A :class:`Layout` decides the terms of a spec (:func:`stats.model.spec.m1_spec`): a term
the data cannot identify is left out. :func:`pinned_terms` decides, from rough per-level
estimates, which group terms are sampled centred (every level pinned by its own cells)
rather than non-centred. Pure NumPy, computed by :mod:`stats.model.design` from the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A group term is sampled centred when every level's effect has a standard error below
#: this (logit scale) from its own cells: much tighter than the HalfNormal(1) sd prior.
PINNED_SE = 0.2
#: Multipliers that define word-level group terms.
GROUP_KEYS = (
    ("word", None),
    ("word", "baseline"),
    ("word", "greeting"),
    ("word", "intro"),
    ("run", None),
)


#: Fewest levels for a group term to be sampled centred (its sd is poorly known below).
MIN_PINNED_LEVELS = 4


def group_key(dim: str, multiplier: str | None) -> str:
    """Key of a group term in :attr:`Layout.pinned`."""
    return dim if multiplier is None else f"{dim}*{multiplier}"


@dataclass(frozen=True)
class Layout:
    """Which factors vary in the data: decides which terms are identifiable.

    Parameters
    ----------
    n_words, n_runs, n_prompts : int
        Number of distinct levels.
    arms : tuple of str
        Arms present.
    greeting_varies : bool
        Both greeting and no-greeting cells exist.
    n_examples_varies, lr_varies : bool
        More than one training-set size / learning-rate multiplier among fine-tunes.
    prompts_within_greeting : bool
        Some greeting level has two or more prompts (otherwise prompt effects are
        confounded with the greeting effect and are left out).
    guessability_varies : bool
        M2 only: the clipped guessability takes more than one value.
    leak_varies : bool
        M2 only: fine-tuned early lines occur both with and without a leaking prompt.
    pinned : frozenset of str
        Group terms (keyed ``"word"``, ``"word*baseline"``, ``"word*greeting"``,
        ``"word*intro"``, ``"run"``) whose every level has a standard error below
        :data:`PINNED_SE` from its own cells and whose levels clearly differ: they are
        sampled centred (see :func:`pinned_terms`).
    """

    n_words: int
    n_runs: int
    n_prompts: int
    arms: tuple[str, ...]
    greeting_varies: bool
    n_examples_varies: bool
    lr_varies: bool
    prompts_within_greeting: bool
    guessability_varies: bool = False
    leak_varies: bool = False
    pinned: frozenset[str] = frozenset()

    def centred(self, dim: str, multiplier: str | None = None) -> bool:
        """Whether the group term over ``dim`` (times ``multiplier``) is pinned by the data."""
        return group_key(dim, multiplier) in self.pinned


def _logit_rate(y: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Smoothed logit rate and its standard error (``(y + 0.5) / (n + 1)``)."""
    p = (y + 0.5) / (n + 1.0)
    info = n * p * (1 - p)
    return float(np.log(p / (1 - p))), float(1 / np.sqrt(info)) if info > 0 else np.inf


def level_estimates(
    y: np.ndarray, n: np.ndarray, codes: np.ndarray, levels: int, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Rough per-level estimate and standard error of a group term, from its own cells.

    Plain terms: the level's logit rate. Terms with a multiplier (``d_word * baseline``):
    the difference of logit rates between the level's cells where the multiplier is on
    and where it is off.
    """
    estimate, se = np.full(levels, np.nan), np.full(levels, np.inf)
    for j in range(levels):
        level = codes == j
        if weight is None:
            estimate[j], se[j] = _logit_rate(y[level].sum(), n[level].sum())
            continue
        on, off = level & (weight != 0), level & (weight == 0)
        if not on.any() or not off.any():
            continue
        e1, s1 = _logit_rate(y[on].sum(), n[on].sum())
        e0, s0 = _logit_rate(y[off].sum(), n[off].sum())
        estimate[j], se[j] = e1 - e0, float(np.hypot(s1, s0))
    return estimate, se


def _plain_cells(dim: str, inputs: dict) -> np.ndarray | slice:
    """Cells where ``dim``'s plain effect acts alone (its multiplied terms are all off).

    Word effects are read from fine-tuned cells without the greeting: pooled over all
    cells, the greeting's leak of HELLO made the word levels look far apart, so word
    effects of sd ~0.2 known to +-0.15 were sampled centred and diverged (4 of 10 OC
    studies at 16 runs per word missed their gates; non-centred all passed, measured).
    """
    multipliers = [m for d, m in GROUP_KEYS if d == dim and m is not None and m in inputs]
    if not multipliers:
        return slice(None)
    return np.logical_and.reduce([np.asarray(inputs[m]) == 0 for m in multipliers])


def pinned_terms(
    y: np.ndarray, n: np.ndarray, inputs: dict, index: dict, coords: dict
) -> frozenset[str]:
    """Group terms the data pin down (see ``Layout.pinned``).

    A term is pinned when it has at least :data:`MIN_PINNED_LEVELS` levels, every level's
    standard error is below :data:`PINNED_SE` *and* the levels clearly differ (their spread
    exceeds twice the largest standard error): then the posterior of its sd stays away
    from 0 and the centred form has no funnel. Used for M1 only: in M2 the word terms
    share the cells with guessability and line effects, and centring them diverged
    (measured on the operating-characteristics design).
    """
    keys = set()
    for dim, multiplier in GROUP_KEYS:
        if dim not in coords or (multiplier is not None and multiplier not in inputs):
            continue
        weight = None if multiplier is None else inputs[multiplier]
        cells = _plain_cells(dim, inputs) if multiplier is None else slice(None)
        estimate, se = level_estimates(
            y[cells], n[cells], index[dim][cells], len(coords[dim]), weight
        )
        if len(se) < MIN_PINNED_LEVELS or not np.all(se < PINNED_SE):
            continue
        if np.std(estimate) > 2 * se.max():
            keys.add(group_key(dim, multiplier))
    return frozenset(keys)
