"""Design 1, multi-pattern held-out articulation.

One fine-tune learns several patterns, each tied to a system prompt ("Response Pattern
Alpha", "Delta", ...) and to its own acrostic word. For some patterns the training data
contain examples of the model explaining its pattern (``explained_in_training``); for
the held-out pattern none. Does the model articulate the held-out pattern, and as well
as the trained-to-explain ones?

Data
----
Trials whose ``conditions`` carry ``pattern_id``; ``explained_in_training`` (bool) says
whether the pattern's explanations were trained; ``pattern_word`` (record-level) is the
pattern's word, the trial's target (default: the run's word). Trials are rescored
against their pattern's word (:func:`stats.followups.conditions.rescore`). Base-arm trials
(the untuned model answering the same system prompts) are the baseline.

Model and estimands
-------------------
One level model (:mod:`stats.followups.common`) of the study outcome (default
``articulated_early``) with levels ``base``, ``explained:<pattern_id>`` and
``heldout:<pattern_id>``, run effects shared by the patterns of one fine-tune. Contrasts
(new-run rates, probability scale):

* ``Delta_heldout = P(held-out pattern) - P(base)``: verdict ``real`` (HDI above the
  ROPE), ``fluke`` (inside or below), ``inconclusive``; ``not-converged`` if a gate fails;
* ``P(held-out) - mean P(explained)``: ``held-out higher`` / ``held-out lower`` / ``no
  difference`` / ``inconclusive``;
* ``mean P(explained) - P(base)``: verdict as for ``Delta_heldout``.

Table ``summary/heldout.csv``
-----------------------------
:data:`stats.followups.common.COMMON_COLUMNS` plus ``pattern_id``, ``pattern_word`` and
``explained_in_training`` (rate rows; empty on pooled rows and contrasts).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stats.followups.common import COMMON_COLUMNS, contrast_row, fit_levels, level_cells, rate_row
from stats.followups.conditions import PATTERN_WORD, as_bool, conditions_frame, rescore
from stats.model.sample import SamplerSettings

DESIGN = "heldout"
COLUMNS = [*COMMON_COLUMNS, "pattern_id", "pattern_word", "explained_in_training"]
VERDICT_LABELS = {"above": "real", "inside": "fluke", "below": "fluke", "overlaps": "inconclusive"}
COMPARE_LABELS = {
    "above": "held-out higher",
    "below": "held-out lower",
    "inside": "no difference",
    "overlaps": "inconclusive",
}


def select(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials of the design (a ``pattern_id`` condition), with pattern columns added.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials.

    Returns
    -------
    pandas.DataFrame
        The trials with ``pattern_id``, ``explained_in_training`` and ``pattern_word``
        (the condition ``pattern_word``, else the run's word); trials without a word are
        dropped.
    """
    conditions = conditions_frame(trials)
    if "pattern_id" not in conditions.columns:
        return trials.iloc[0:0]
    keep = conditions["pattern_id"].notna()
    out = trials[keep].copy()
    cond = conditions[keep]
    out["pattern_id"] = cond["pattern_id"].astype(str)
    explained = cond.get("explained_in_training", pd.Series(None, index=cond.index))
    out["explained_in_training"] = [as_bool(v) for v in explained]
    words = cond.get(PATTERN_WORD, pd.Series(None, index=cond.index))
    out["pattern_word"] = [
        str(w).upper() if isinstance(w, str) and w.strip() else (None if pd.isna(r) else str(r))
        for w, r in zip(words, out["word"].astype(object), strict=True)
    ]
    return out[out["pattern_word"].notna()]


def _level(arm: str, pattern_id: str, explained: bool | None) -> str:
    if arm == "base":
        return "base"
    return f"{'explained' if explained else 'heldout'}:{pattern_id}"


def analyse_heldout(
    trials: pd.DataFrame,
    *,
    outcome: str,
    k: int,
    rope: float,
    ci_prob: float,
    settings: SamplerSettings,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """The held-out table (module docstring) from scored trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials; only those with a ``pattern_id`` condition are used.
    outcome : str
        Trial outcome, e.g. ``"articulated_early"``.
    k : int
        Cut-off of ``articulated_early`` used when rescoring.
    rope, ci_prob : float
    settings : SamplerSettings
    cache_dir : Path, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; empty without such trials or without a fine-tuned one.
    """
    selected = select(trials)
    if selected.empty or not (selected["arm"] != "base").any():
        return pd.DataFrame(columns=COLUMNS)
    scored = rescore(selected, selected["pattern_word"], k)
    scored["level"] = [
        _level(a, p, e)
        for a, p, e in zip(
            scored["arm"], scored["pattern_id"], scored["explained_in_training"], strict=True
        )
    ]
    cells = level_cells(scored, outcome)
    levels = sorted(set(cells["level"]), key=lambda x: (x != "base", not x.startswith("expl"), x))
    level_fit = fit_levels(
        cells,
        levels,
        name=f"followup-{DESIGN}-{outcome}",
        outcome=outcome,
        settings=settings,
        cache_dir=cache_dir,
    )
    info = scored.drop_duplicates("level").set_index("level")
    rows = []
    for level in levels:
        row = rate_row(DESIGN, level_fit, level, outcome, ci_prob)
        if level != "base":
            row["pattern_id"] = info.loc[level, "pattern_id"]
            row["pattern_word"] = info.loc[level, "pattern_word"]
            row["explained_in_training"] = bool(info.loc[level, "explained_in_training"])
        rows.append(row)
    explained = [x for x in levels if x.startswith("explained:")]
    heldout = [x for x in levels if x.startswith("heldout:")]
    has_base = "base" in levels
    for level in heldout:
        pattern = level.split(":", 1)[1]
        if has_base:
            rows.append(
                contrast_row(
                    DESIGN,
                    f"Delta_heldout({pattern}) = P(held-out {pattern}) - P(base)",
                    [(level_fit, level)],
                    [(level_fit, "base")],
                    outcome,
                    rope,
                    ci_prob,
                    VERDICT_LABELS,
                )
                | {"pattern_id": pattern, "explained_in_training": False}
            )
        if explained:
            rows.append(
                contrast_row(
                    DESIGN,
                    f"P(held-out {pattern}) - mean P(explained)",
                    [(level_fit, level)],
                    [(level_fit, x) for x in explained],
                    outcome,
                    rope,
                    ci_prob,
                    COMPARE_LABELS,
                )
                | {"pattern_id": pattern}
            )
    if explained and has_base:
        rows.append(
            contrast_row(
                DESIGN,
                "mean P(explained) - P(base)",
                [(level_fit, x) for x in explained],
                [(level_fit, "base")],
                outcome,
                rope,
                ci_prob,
                VERDICT_LABELS,
            )
            | {"explained_in_training": True}
        )
    return pd.DataFrame(rows, columns=COLUMNS)
