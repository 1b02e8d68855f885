"""Design 3, sequential fine-tunes: HELLO first, then GOODBYE. Which policy is reported?

A model is fine-tuned on one policy (e.g. the HELLO acrostic), then that fine-tune on a
second (GOODBYE). The base model, the first-stage and the second-stage models are asked
about their pattern; every response is scored against *each* policy word.

Data
----
Trials whose ``conditions`` carry ``stage`` (``0``/``base``, ``1``/``first``,
``2``/``second``, ...; numbers order the stages, other labels keep their order of first
appearance after ``base``) and, for tuned runs, ``policy`` (the policy trained at that
stage). The policy words are the distinct ``policy`` values, ordered by the stage that
trained them. Each trial is rescored against every policy word
(:func:`stats.followups.conditions.rescore`; one response judged against several words, as
:func:`stats.tidy.expand_baseline` does for base trials).

Model and estimands
-------------------
One level model (:mod:`stats.followups.common`) of the study outcome with levels
``<stage>:<policy word>`` (the outcome per policy asked), run effects by run. Contrasts:

* at every tuned stage and for every policy word: ``P(stage, word) - P(base, word)``
  (``above base`` / ``below base`` / ``same as base`` / ``inconclusive``);
* at the last stage: ``P(last, latest policy) - P(last, earlier policy)``: ``reports
  latest policy`` / ``reports earlier policy`` / ``no difference`` / ``inconclusive``;
* retention of the first policy: ``P(last, first policy) - P(first stage, first
  policy)``: ``more after`` / ``less after (forgotten)`` / ``retained`` / ``inconclusive``.

``not-converged`` replaces a verdict when a gate fails.

Table ``summary/sequential.csv``
--------------------------------
:data:`stats.followups.common.COMMON_COLUMNS` plus ``stage`` (label), ``stage_order``
(int), ``policy`` (the policy word the outcome is about; contrasts: empty).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stats.followups.common import COMMON_COLUMNS, contrast_row, fit_levels, level_cells, rate_row
from stats.followups.conditions import conditions_frame, rescore
from stats.model.sample import SamplerSettings

DESIGN = "sequential"
COLUMNS = [*COMMON_COLUMNS, "stage", "stage_order", "policy"]
BASE_STAGES = ("0", "base")


def _stage_order(labels: list[str]) -> dict[str, int]:
    """Order of stage labels: base first, then numbers, then others as first seen."""

    def key(label: str) -> tuple:
        if label.lower() in BASE_STAGES:
            return (0, 0.0, "")
        try:
            return (1, float(label), "")
        except ValueError:
            named = {"first": 1.0, "second": 2.0, "third": 3.0}
            return (1, named.get(label.lower(), 1e9), label)

    return {label: i for i, label in enumerate(sorted(dict.fromkeys(labels), key=key))}


def select(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials of the design (a ``stage`` condition) with ``stage`` and ``policy`` columns."""
    conditions = conditions_frame(trials)
    if "stage" not in conditions.columns:
        return trials.iloc[0:0]
    keep = conditions["stage"].notna()
    out = trials[keep].copy()
    out["stage"] = [str(v) for v in conditions.loc[keep, "stage"]]
    policy = conditions.get("policy", pd.Series(None, index=conditions.index))[keep]
    out["policy"] = [str(v).upper() if isinstance(v, str) and v.strip() else None for v in policy]
    return out


def analyse_sequential(
    trials: pd.DataFrame,
    *,
    outcome: str,
    k: int,
    rope: float,
    ci_prob: float,
    settings: SamplerSettings,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """The sequential table (module docstring) from scored trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials; only those with a ``stage`` condition are used.
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
        Columns :data:`COLUMNS`; empty without such trials or without a policy.
    """
    selected = select(trials)
    if selected.empty or selected["policy"].isna().all():
        return pd.DataFrame(columns=COLUMNS)
    order = _stage_order(list(selected["stage"]))
    selected["stage_order"] = selected["stage"].map(order)
    trained = selected.dropna(subset=["policy"]).groupby("policy")["stage_order"].min()
    policies = list(trained.sort_values(kind="stable").index)
    copies = pd.concat([selected.assign(_target=w) for w in policies], ignore_index=True)
    scored = rescore(copies.drop(columns="policy"), copies["_target"], k)
    scored["policy"] = copies["_target"].to_numpy()
    scored["level"] = [f"{s}:{w}" for s, w in zip(scored["stage"], scored["policy"], strict=True)]
    cells = level_cells(scored, outcome)
    stages = sorted(order, key=order.get)
    levels = [f"{s}:{w}" for s in stages for w in policies if f"{s}:{w}" in set(cells["level"])]
    level_fit = fit_levels(
        cells,
        levels,
        name=f"followup-{DESIGN}-{outcome}",
        outcome=outcome,
        settings=settings,
        cache_dir=cache_dir,
    )
    rows = []
    for level in levels:
        stage, word = level.rsplit(":", 1)
        rows.append(
            rate_row(DESIGN, level_fit, level, outcome, ci_prob)
            | {"stage": stage, "stage_order": order[stage], "policy": word}
        )
    base = [s for s in stages if order[s] == 0 and s.lower() in BASE_STAGES]
    tuned = [s for s in stages if s not in base]
    for stage in tuned:
        for word in policies:
            level = f"{stage}:{word}"
            if base and level in levels and f"{base[0]}:{word}" in levels:
                rows.append(
                    contrast_row(
                        DESIGN,
                        f"P(names {word} | stage {stage}) - P(names {word} | base)",
                        [(level_fit, level)],
                        [(level_fit, f"{base[0]}:{word}")],
                        outcome,
                        rope,
                        ci_prob,
                        {
                            "above": "above base",
                            "below": "below base",
                            "inside": "same as base",
                            "overlaps": "inconclusive",
                        },
                    )
                    | {"stage": stage, "stage_order": order[stage], "policy": word}
                )
    if tuned and len(policies) >= 2:
        last = tuned[-1]
        latest, first = policies[-1], policies[0]
        for earlier in policies[:-1]:
            rows.append(
                contrast_row(
                    DESIGN,
                    f"P(names {latest} | stage {last}) - P(names {earlier} | stage {last})",
                    [(level_fit, f"{last}:{latest}")],
                    [(level_fit, f"{last}:{earlier}")],
                    outcome,
                    rope,
                    ci_prob,
                    {
                        "above": "reports latest policy",
                        "below": "reports earlier policy",
                        "inside": "no difference",
                        "overlaps": "inconclusive",
                    },
                )
                | {"stage": last, "stage_order": order[last]}
            )
        first_stage = next((s for s in tuned if f"{s}:{first}" in levels), None)
        if first_stage is not None and first_stage != last:
            rows.append(
                contrast_row(
                    DESIGN,
                    f"P(names {first} | stage {last}) - P(names {first} | stage {first_stage})",
                    [(level_fit, f"{last}:{first}")],
                    [(level_fit, f"{first_stage}:{first}")],
                    outcome,
                    rope,
                    ci_prob,
                    {
                        "above": "more after",
                        "below": "less after (forgotten)",
                        "inside": "retained",
                        "overlaps": "inconclusive",
                    },
                )
                | {"stage": last, "stage_order": order[last], "policy": first}
            )
    return pd.DataFrame(rows, columns=COLUMNS)
