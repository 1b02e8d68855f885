"""Counting a claim's trials: filter selection, per-trial outcomes, run-clustered counts.

:func:`select` applies a claim filter to the trials, :func:`outcome_values` is the claim's
boolean outcome per trial, and :func:`count` gives :class:`Counts` with the design effect
of the runs (:func:`design_effect`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def _condition_column(trials: pd.DataFrame, key: str) -> pd.Series:
    parsed = trials["conditions"].fillna("{}").map(json.loads)
    return parsed.map(lambda d: d.get(key) if isinstance(d, dict) else None)


def select(trials: pd.DataFrame, flt: dict[str, Any]) -> pd.DataFrame:
    """Trials matching a claim filter (scalar = equal, list = any of, {min, max} = range)."""
    mask = pd.Series(True, index=trials.index)
    for key, value in flt.items():
        column = (
            _condition_column(trials, key.split(".", 1)[1])
            if key.startswith("conditions.")
            else trials[key]
        )
        if isinstance(value, dict):
            numeric = pd.to_numeric(column, errors="coerce")
            if "min" in value:
                mask &= (numeric >= value["min"]).fillna(False)
            if "max" in value:
                mask &= (numeric <= value["max"]).fillna(False)
        elif isinstance(value, list):
            mask &= column.isin(value).fillna(False).astype(bool)
        elif value is None:
            mask &= column.isna()
        else:
            if isinstance(value, str) and key in ("word",):
                value = value.upper()
            mask &= (column == value).fillna(False).astype(bool)
    return trials[mask.astype(bool)]


def outcome_values(trials: pd.DataFrame, outcome: dict[str, Any]) -> pd.Series:
    """The claim's per-trial outcome (boolean)."""
    hit = trials[outcome["column"]].fillna(False).astype(bool)
    if "max_line" in outcome:
        line = pd.to_numeric(
            trials[outcome.get("line_column", "articulation_line")], errors="coerce"
        )
        hit &= (line <= outcome["max_line"]).fillna(False)
    return hit


@dataclass(frozen=True)
class Counts:
    """Successes and trials of a group, with per-run counts for clustering."""

    successes: int
    trials: int
    runs: int
    design_effect: float

    @property
    def rate(self) -> float:
        """Observed proportion (NaN without trials)."""
        return self.successes / self.trials if self.trials else float("nan")


def design_effect(successes: np.ndarray, trials: np.ndarray) -> float:
    """Design effect 1 + (m0 - 1) * ICC of clustered binary data (ANOVA estimator, Fleiss).

    Parameters
    ----------
    successes, trials : array
        Per-cluster (run) counts.

    Returns
    -------
    float
        1 for a single cluster or clusters of size 1; never below 1.
    """
    successes, trials = np.asarray(successes, float), np.asarray(trials, float)
    k, n = len(trials), trials.sum()
    if k < 2 or n <= k:
        return 1.0
    p_i = successes / trials
    p = successes.sum() / n
    msb = np.sum(trials * (p_i - p) ** 2) / (k - 1)
    msw = np.sum(trials * p_i * (1 - p_i)) / (n - k)
    m0 = (n - np.sum(trials**2) / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    icc = 0.0 if denom <= 0 else float(np.clip((msb - msw) / denom, 0.0, 1.0))
    return 1.0 + (m0 - 1) * icc


def count(trials: pd.DataFrame, outcome: dict[str, Any]) -> Counts:
    """Counts of a claim's outcome, with the run design effect."""
    if trials.empty:
        return Counts(0, 0, 0, 1.0)
    hits = outcome_values(trials, outcome)
    per_run = hits.groupby(trials["run_id"]).agg(["sum", "size"])
    deff = design_effect(per_run["sum"].to_numpy(), per_run["size"].to_numpy())
    return Counts(int(hits.sum()), len(hits), len(per_run), deff)
