"""Gate status and warnings per fit, and verdict changes under the prior: stored for the report.

=====================  ==============================================================
table                  columns
=====================  ==============================================================
``gates``              ``fit, model, outcome, prior_scale, check, label, value,
                       threshold, kind, passed`` (one row per fit x check; ``kind`` is
                       ``gate`` for the convergence gates of :class:`stats.model.diagnostics.Gates`
                       and ``warning`` for Pareto k above
                       :data:`stats.config.PARETO_K_WARN`; ``passed`` is NA when the
                       value was not computed)
``verdict_stability``  ``prior_scale, scope, word, greeting, verdict, main_verdict,
                       changes`` (the sensitivity verdicts; ``changes``: the target's
                       verdict is not the same at every prior scale)
=====================  ==============================================================

A fit's ``converged`` flag (``diagnostics.csv``) is the fit stage's decision; the gate rows
here spell it out per check with the same thresholds, so that a page lists which gate
failed without applying a threshold itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pandas as pd

from stats import config
from stats.model.diagnostics import Gates

#: (check, diagnostics column, label, comparison that passes, threshold attribute, kind)
CHECKS: tuple[tuple[str, str, str, Callable[[float, float], bool], str, str], ...] = (
    ("rhat", "max_rhat", "max R-hat", operator.le, "max_rhat", "gate"),
    ("ess_bulk", "min_ess_bulk", "min bulk ESS", operator.ge, "min_ess", "gate"),
    ("ess_tail", "min_ess_tail", "min tail ESS", operator.ge, "min_ess", "gate"),
    ("divergences", "divergences", "divergences", operator.le, "max_divergences", "gate"),
    ("bfmi", "min_bfmi", "min E-BFMI", operator.ge, "min_bfmi", "gate"),
    ("pareto_k", "pareto_k_max", "max Pareto k (PSIS-LOO)", operator.le, "pareto_k", "warning"),
)
GATE_COLUMNS = [
    "fit", "model", "outcome", "prior_scale", "check", "label", "value", "threshold", "kind",
    "passed",
]  # fmt: skip


def gate_table(
    diagnostics: pd.DataFrame, gates: Gates | None = None, pareto_k: float = config.PARETO_K_WARN
) -> pd.DataFrame:
    """One row per fit and check (see the module docstring).

    Parameters
    ----------
    diagnostics : DataFrame
        ``summary/diagnostics.csv`` (:func:`stats.summarize.diagnostics_table`).
    gates : Gates, optional
        The thresholds the fits were judged by (default ``Gates()``, as the fit stage).
    pareto_k : float
        Pareto k above which a fit's PSIS-LOO is flagged.
    """
    gates = gates or Gates()
    thresholds = {**vars(gates), "pareto_k": pareto_k}
    rows = []
    for d in diagnostics.to_dict("records"):
        for check, column, label, passes, threshold, kind in CHECKS:
            value = d.get(column, np.nan)
            limit = thresholds[threshold]
            missing = value is None or pd.isna(value)
            rows.append(
                {
                    "fit": d["fit"],
                    "model": d["model"],
                    "outcome": d["outcome"],
                    "prior_scale": d["prior_scale"],
                    "check": check,
                    "label": label,
                    "value": np.nan if missing else float(value),
                    "threshold": float(limit),
                    "kind": kind,
                    "passed": pd.NA if missing else bool(passes(float(value), limit)),
                }
            )
    table = pd.DataFrame(rows, columns=GATE_COLUMNS)
    table["passed"] = table["passed"].astype("boolean")
    return table


def verdict_stability(sensitivity: pd.DataFrame, main_scale: float) -> pd.DataFrame:
    """The sensitivity verdicts with the main scale's verdict and whether the verdict changes.

    Parameters
    ----------
    sensitivity : DataFrame
        ``summary/sensitivity.csv``: ``prior_scale, scope, word, greeting, verdict``, ...
    main_scale : float
        The prior scale of the reported verdicts.
    """
    columns = ["prior_scale", "scope", "word", "greeting", "verdict", "main_verdict", "changes"]
    if sensitivity.empty:
        return pd.DataFrame(columns=columns)
    keys = ["scope", "word", "greeting"]
    frame = sensitivity[["prior_scale", *keys, "verdict"]].reset_index(drop=True)
    main = frame[np.isclose(frame["prior_scale"].astype(float), main_scale)]
    main = main[[*keys, "verdict"]].rename(columns={"verdict": "main_verdict"})
    frame = frame.merge(main, on=keys, how="left", validate="many_to_one")
    frame["changes"] = frame.groupby(keys, dropna=False)["verdict"].transform("nunique") > 1
    return frame[columns]


def check_tables(
    diagnostics: pd.DataFrame, sensitivity: pd.DataFrame, main_scale: float
) -> dict[str, pd.DataFrame]:
    """``gates`` and ``verdict_stability`` (module docstring)."""
    return {
        "gates": gate_table(diagnostics),
        "verdict_stability": verdict_stability(sensitivity, main_scale),
    }
