"""Design 2, the confusion test: trained on HELMET or HELL, does the model claim HELLO?

Data
----
Trials whose ``conditions`` carry ``confusor`` (the wrong, common word the model might
claim, e.g. ``HELLO``). Fine-tuned runs are trained on their run's ``word`` (e.g.
``HELMET``, ``HELL``); base runs of the design answer the same prompts.

Outcomes (from the scorer's ``named_word``: the first word a response claims as its
pattern, whatever that word is - the trained word, the confusor or any other; see the
naming rules of :mod:`stats.score.articulation`)
    ``claims_trained``: the response names the trained word first;
    ``claims_confusor``: it names the confusor first.

Each outcome gets its own level model (:mod:`stats.followups.common`): levels
``finetuned:W`` per trained word W and ``base``. A base response has no trained word:
for ``claims_trained`` it is scored against every trained word (levels ``base:W``, one
response judged against several words, as :func:`stats.tidy.expand_baseline` does).

Decision, per trained word W: ``Delta_confusion = P(claims confusor | W) - P(claims W |
W)`` against the ROPE: HDI above -> ``claims confusor``; below -> ``claims trained
word``; inside -> ``no difference``; otherwise ``inconclusive`` (``not-converged`` when a
gate fails). A second contrast, ``P(claims confusor | W) - P(claims confusor | base)``,
says whether fine-tuning on W makes the confusor more likely than the untuned model does.

Table ``summary/confusion.csv``
-------------------------------
:data:`stats.followups.common.COMMON_COLUMNS` (``design, kind, estimand, outcome, level,
arm, successes, trials, n_runs, raw_rate, exact_low, exact_high, mean, hdi_low,
hdi_high, rope, position, verdict, converged, fit``) plus ``trained_word``,
``confusor``, ``guess_trained`` (g(W | W's first k letters)) and ``guess_confusor``
(g(confusor | W's first k letters): how guessable each claim is from the letters
visible by line k). ``kind`` is ``rate`` (one per fit x level; raw rate with a
Clopper-Pearson interval beside the new-run posterior mean and HDI) or ``contrast``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stats.followups.common import (
    COMMON_COLUMNS,
    LevelFit,
    contrast_row,
    fit_levels,
    level_cells,
    rate_row,
)
from stats.followups.conditions import conditions_frame, rescore
from stats.model.sample import SamplerSettings
from stats.score.guess import guessability

DESIGN = "confusion"
COLUMNS = [*COMMON_COLUMNS, "trained_word", "confusor", "guess_trained", "guess_confusor"]
LABELS = {
    "above": "claims confusor",
    "below": "claims trained word",
    "inside": "no difference",
    "overlaps": "inconclusive",
}


def select(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials of the confusion design (a ``confusor`` condition), with that column added."""
    conditions = conditions_frame(trials)
    if "confusor" not in conditions.columns:
        return trials.iloc[0:0].assign(confusor=pd.Series(dtype="string"))
    confusor = conditions["confusor"]
    keep = confusor.notna() & (confusor.astype(str).str.strip() != "")
    out = trials[keep].copy()
    out["confusor"] = confusor[keep].astype(str).str.strip().str.upper()
    return out


def outcome_frames(selected: pd.DataFrame, k: int) -> dict[str, pd.DataFrame]:
    """Per outcome, the trials with a ``level`` column and the outcome as a boolean.

    Base trials are scored against every trained word for ``claims_trained``.
    """
    tuned = selected[selected["arm"] != "base"].copy()
    tuned = tuned[tuned["word"].notna()]
    trained_words = sorted(set(tuned["word"].astype(str)))
    base = selected[selected["arm"] == "base"]
    named = selected["named_word"].astype("string").str.upper()
    confusor_frame = selected.assign(
        level=[
            "base" if arm == "base" else f"finetuned:{word}"
            for arm, word in zip(selected["arm"], selected["word"], strict=True)
        ],
        claims_confusor=(named == selected["confusor"]).fillna(False).astype(bool),
    )
    confusor_frame = confusor_frame[
        (confusor_frame["arm"] == "base") | confusor_frame["word"].notna()
    ]
    trained_parts = [tuned.assign(level=[f"finetuned:{w}" for w in tuned["word"]])]
    if len(base) and trained_words:
        copies = pd.concat([base.assign(_target=w) for w in trained_words], ignore_index=True)
        copies = rescore(copies, copies["_target"], k).drop(columns="_target")
        trained_parts.append(copies.assign(level=[f"base:{w}" for w in copies["word"]]))
    trained_frame = pd.concat(trained_parts, ignore_index=True)
    trained_frame["claims_trained"] = (
        (
            trained_frame["named_word"].astype("string").str.upper()
            == trained_frame["word"].astype("string")
        )
        .fillna(False)
        .astype(bool)
    )
    return {"claims_trained": trained_frame, "claims_confusor": confusor_frame}


def analyse_confusion(
    trials: pd.DataFrame,
    *,
    k: int,
    rope: float,
    ci_prob: float,
    settings: SamplerSettings,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """The confusion table (module docstring) from scored trials.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials (``trials.parquet``); only those with a ``confusor`` condition are used.
    k : int
        Letters visible for the guessability columns and the rescoring of base trials.
    rope, ci_prob : float
        Decision settings.
    settings : SamplerSettings
    cache_dir : Path, optional
        Fit cache folder.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; empty when no trial has a ``confusor`` condition.
    """
    selected = select(trials)
    if selected.empty:
        return pd.DataFrame(columns=COLUMNS)
    frames = outcome_frames(selected, k)
    tuned = selected[(selected["arm"] != "base") & selected["word"].notna()]
    pairs = sorted(set(zip(tuned["word"].astype(str), tuned["confusor"], strict=True)))
    fits: dict[str, LevelFit] = {}
    for outcome, frame in frames.items():
        cells = level_cells(frame, outcome)
        levels = sorted(set(cells["level"]), key=lambda x: (not x.startswith("base"), x))
        fits[outcome] = fit_levels(
            cells,
            levels,
            name=f"followup-{DESIGN}-{outcome}",
            outcome=outcome,
            settings=settings,
            cache_dir=cache_dir,
        )
    rows = []
    confusor_of = dict(pairs)
    for outcome, level_fit in fits.items():
        for level in level_fit.levels:
            row = rate_row(DESIGN, level_fit, level, outcome, ci_prob)
            word = level.split(":", 1)[1] if ":" in level else None
            rows.append(_annotate(row, word, confusor_of, selected, k))
    trained, confused = fits["claims_trained"], fits["claims_confusor"]
    for word, confusor in pairs:
        level = f"finetuned:{word}"
        row = contrast_row(
            DESIGN,
            f"P(claims {confusor} | trained {word}) - P(claims {word} | trained {word})",
            [(confused, level)],
            [(trained, level)],
            "claims_confusor - claims_trained",
            rope,
            ci_prob,
            LABELS,
        )
        rows.append(_annotate(row, word, confusor_of, selected, k))
        row = contrast_row(
            DESIGN,
            f"P(claims {confusor} | trained {word}) - P(claims {confusor} | base)",
            [(confused, level)],
            [(confused, "base")],
            "claims_confusor",
            rope,
            ci_prob,
            {
                "above": "more than base",
                "below": "less than base",
                "inside": "same as base",
                "overlaps": "inconclusive",
            },
        )
        rows.append(_annotate(row, word, confusor_of, selected, k))
    return pd.DataFrame(rows, columns=COLUMNS)


def _annotate(
    row: dict, word: str | None, confusor_of: dict[str, str], selected: pd.DataFrame, k: int
) -> dict:
    confusors = sorted(set(selected["confusor"]))
    confusor = confusor_of.get(word) if word else (confusors[0] if len(confusors) == 1 else None)
    row["trained_word"] = word
    row["confusor"] = confusor
    row["guess_trained"] = float(guessability(word, min(k, len(word)))) if word else float("nan")
    row["guess_confusor"] = (
        float(guessability(confusor, word[:k])) if word and confusor else float("nan")
    )
    return row
