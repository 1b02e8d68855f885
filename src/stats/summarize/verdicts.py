"""Verdict rows: the decision rule applied to each contrast, and the leak guard.

One row per scope (word, pooled, new word) and greeting level, with the schemas.VERDICTS
columns plus :data:`VERDICT_EXTRA`. The rule and its reason codes are in
:mod:`stats.model.decision` and :mod:`stats.model.reasons`; ``runs_needed_reason`` says
(as a code of :data:`stats.model.reasons.RUNS_NEEDED_REASONS`) why an undecided row has no
``runs_needed`` count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stats.model.contrasts import Contrast
from stats.model.decision import decide, hdi, p_above_floor, runs_needed
from stats.model.fit import Fit
from stats.model.spec import REFERENCE_ARM

VERDICT_EXTRA = [
    "baseline",
    "basis",
    "intro_mean",
    "intro_low",
    "intro_high",
    "intro_p_floor",
    "reason",
    "runs_needed_reason",
    "ci_prob",
]


@dataclass(frozen=True)
class FitHealth:
    """Gate summary of the fits a verdict uses."""

    converged: bool
    max_rhat: float
    min_ess: float
    divergences: int

    @classmethod
    def of(cls, fits: Sequence[Fit]) -> FitHealth:
        """Worst values over ``fits``."""
        d = [f.diagnostics for f in fits]
        return cls(
            converged=all(f.converged for f in fits),
            max_rhat=max(x["max_rhat"] for x in d),
            min_ess=min(min(x["min_ess_bulk"], x["min_ess_tail"]) for x in d),
            divergences=sum(int(x["divergences"]) for x in d),
        )


def _counts(cells: pd.DataFrame, word: str | None, greeting: bool) -> tuple[int, int, int]:
    """Fine-tuned runs, trials and runs-per-word of a scope (word None = all words)."""
    mask = (cells["arm"] == REFERENCE_ARM) & (cells["greeting"] == greeting)
    if word is not None:
        mask &= cells["word"] == word
    sub = cells[mask]
    n_runs = sub["run_id"].nunique()
    n_words = max(sub["word"].nunique(), 1)
    return int(n_runs), int(sub["trials"].sum()), max(round(n_runs / n_words), 1)


def verdict_rows(
    contrasts: list[Contrast],
    intro: dict[tuple, np.ndarray],
    m1: Fit,
    m2: Fit | None,
    *,
    outcome: str,
    rope: float,
    ci_prob: float,
) -> pd.DataFrame:
    """One verdict per contrast (schemas.VERDICTS columns plus :data:`VERDICT_EXTRA`).

    M2 joins a verdict when it has the introspection term (a baseline arm exists); its
    gates then count too. See :mod:`stats.model.decision` for the rule.
    """
    uses_m2 = m2 is not None and bool(intro)
    health = FitHealth.of([m1, m2] if uses_m2 else [m1])
    cells = m1.data.cells
    rows = []
    for c in contrasts:
        delta = c.delta
        share = intro.get((c.scope, c.word, c.greeting)) if uses_m2 else None
        low, high = hdi(delta, ci_prob)
        i_low, i_high = hdi(share, ci_prob) if share is not None else (np.nan, np.nan)
        p_floor = p_above_floor(share, rope) if share is not None else np.nan
        decision = decide(
            (low, high),
            rope,
            intro_hdi=(i_low, i_high) if share is not None else None,
            intro_p_floor=p_floor if share is not None else None,
            converged=health.converged,
        )
        n_runs, n_trials, runs_per_word = _counts(cells, c.word, c.greeting)
        needed, why = None, None
        if decision.verdict == "not-converged":
            why = "not_converged"
        elif c.scope == "new-word":
            why = "new_word"
        elif not np.isfinite(delta).all():
            why = "no_baseline"
        elif decision.verdict in ("real", "fluke"):
            needed = 0  # decided already (runs_needed would say so after deciding again)
        else:
            needed = runs_needed(delta, runs_per_word, rope, intro=share, prob=ci_prob)
            why = "beyond_largest_design" if needed is None else None
        rows.append(
            {
                "scope": c.scope,
                "word": c.word,
                "greeting": c.greeting,
                "estimand": f"P({outcome} | finetuned) - P({outcome} | {c.baseline})",
                "mean": float(np.mean(delta)),
                "hdi_low": low,
                "hdi_high": high,
                "rope": rope,
                "p_above_rope": float(np.mean(delta > rope)),
                "verdict": decision.verdict,
                "n_runs": n_runs,
                "n_trials": n_trials,
                "runs_needed": needed,
                "converged": health.converged,
                "max_rhat": health.max_rhat,
                "min_ess": health.min_ess,
                "divergences": health.divergences,
                "baseline": c.baseline,
                "basis": "M1+M2" if share is not None else "M1",
                "intro_mean": float(np.mean(share)) if share is not None else np.nan,
                "intro_low": i_low,
                "intro_high": i_high,
                "intro_p_floor": p_floor,
                "reason": decision.reason,
                "runs_needed_reason": why,
                "ci_prob": ci_prob,
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = guard_leaking_rows(out, leaking_conditions(m2 if uses_m2 else m1))
    order = {"word": 0, "pooled": 1, "new-word": 2}
    out = out.assign(_g=out["greeting"].astype(bool), _s=out["scope"].map(order))
    return out.sort_values(["_g", "_s", "word"], kind="stable").drop(columns=["_g", "_s"])


def leaking_conditions(fit: Fit) -> set[tuple[str, bool]]:
    """``(word, greeting)`` pairs whose prompts contain the word (cells' ``leak`` column)."""
    cells = fit.data.cells
    if "leak" not in cells:
        return set()
    leaking = cells[cells["leak"].astype("boolean").fillna(False).astype(bool)]
    return {(str(w), bool(g)) for w, g in zip(leaking["word"], leaking["greeting"], strict=True)}


def guard_leaking_rows(verdicts: pd.DataFrame, leaking: set[tuple[str, bool]]) -> pd.DataFrame:
    """A prompt that contains the word cannot show self-report on its own.

    A ``real`` verdict of a word (or pooled) row whose condition leaks the word (for
    pooled rows: leaks any word) stands only when the row of the same scope and word at
    the other greeting level, which does not leak, is ``real`` too; otherwise it becomes
    ``inconclusive`` with reason ``leak_needs_clean_real`` and ``runs_needed`` of the clean
    row (``runs_needed_reason`` ``follows_clean_row`` when that is not a positive count).
    The model's ``b_leak`` term already keeps the leak out of the introspection
    term; this rule keeps the nonlinearity of the probability scale (the
    same introspective logit effect is a larger share when the leak raises the hazard)
    from making a leaking condition look stronger than the clean one.
    """
    if not leaking:
        return verdicts
    out = verdicts.copy()
    words_leaking = {w for w, _ in leaking}
    key = [
        (r.scope, None if pd.isna(r.word) else r.word, bool(r.greeting)) for r in out.itertuples()
    ]
    clean = dict(zip(key, out["verdict"], strict=True))
    needed = dict(zip(key, out["runs_needed"], strict=True))
    for i, r in out.iterrows():
        word = None if pd.isna(r["word"]) else str(r["word"])
        greeting = bool(r["greeting"])
        if r["verdict"] != "real" or r["scope"] not in ("word", "pooled"):
            continue
        if r["scope"] == "word":
            leaks = (word, greeting) in leaking
            other = (r["scope"], word, not greeting)
            other_clean = (word, not greeting) not in leaking
        else:
            leaks = any((w, greeting) in leaking for w in words_leaking)
            other = (r["scope"], None, not greeting)
            other_clean = not any((w, not greeting) in leaking for w in words_leaking)
        if leaks and not (other_clean and clean.get(other) == "real"):
            out.loc[i, "verdict"] = "inconclusive"
            out.loc[i, "runs_needed"] = runs = needed.get(other)  # what decides the clean row
            out.loc[i, "reason"] = "leak_needs_clean_real"
            positive = runs is not None and pd.notna(runs) and runs > 0
            out.loc[i, "runs_needed_reason"] = None if positive else "follows_clean_row"
    return out
