"""Verdict reasons in plain words: the model stage's registry, filled in with a row's numbers.

The fit stage writes, per verdict row, the ``reason`` code its decision rule gave and,
for an undecided row without a ``runs_needed`` count, a ``runs_needed_reason`` code. Their
words live with the rule, in :mod:`stats.model.reasons`; this module only fills the
placeholders with the row's numbers, formatted for the page. A code the registry does not
describe raises :class:`UnknownReason` (a new rule must be described there before a page
can show it).
"""

from __future__ import annotations

import pandas as pd

from stats import config
from stats.model.decision import INTRO_FLOOR, INTRO_PROB, RUNS_GRID
from stats.model.reasons import REASONS, RUNS_NEEDED_REASONS, Reason
from stats.report.text import DASH, fmt, interval, probability


class UnknownReason(ValueError):
    """A verdict reason the registry has no words for."""


def reason_of(row: pd.Series) -> Reason:
    """The :class:`~stats.model.reasons.Reason` of a verdict row.

    Raises
    ------
    UnknownReason
        When the row's ``reason`` is not in :data:`stats.model.reasons.REASONS`, or comes
        with a verdict the reason cannot give.
    """
    code = str(row.get("reason", ""))
    if code not in REASONS:
        raise UnknownReason(
            f"verdict reason {code!r} has no plain-words description in "
            f"stats.model.reasons; known: {sorted(REASONS)}"
        )
    reason = REASONS[code]
    if row["verdict"] not in reason.verdicts:
        raise UnknownReason(f"reason {code!r} with verdict {row['verdict']!r}")
    return reason


def rule_values(rope: float, prob: float | None = None) -> dict[str, str]:
    """The rule's numbers as a page prints them: ``rope``, ``floor``, ``intro_prob``, ``prob``."""
    prob = config.CI_PROB if prob is None or pd.isna(prob) else float(prob)
    return {
        "rope": fmt(rope),
        "floor": f"{INTRO_FLOOR * float(rope):g}",
        "intro_prob": probability(INTRO_PROB),
        "prob": f"{prob:.0%}",
    }


def reason_text(row: pd.Series) -> tuple[str, str]:
    """(table phrase, sentence clause) of a verdict row's reason, filled with its numbers."""
    reason = reason_of(row)
    values = rule_values(row["rope"], row.get("ci_prob")) | {
        "hdi": interval(row["hdi_low"], row["hdi_high"], signed=True),
        "intro": interval(row.get("intro_low"), row.get("intro_high"), signed=True),
        "p_floor": probability(row.get("intro_p_floor")),
    }
    return reason.short.format(**values), reason.sentence.format(**values)


def rule_text(code: str, rope: float, prob: float | None = None) -> str:
    """The condition of one reason code in general words, with the rule's numbers."""
    return REASONS[code].rule.format(**rule_values(rope, prob))


def runs_needed_text(row: pd.Series) -> tuple[str, str]:
    """(table cell, sentence) on the runs per word that would likely decide an undecided row.

    ``runs_needed`` is written by the fit stage: extra fine-tuning runs per word, at the
    current samples per run, after which an 80%-assured decisive verdict is expected. When
    it is not a positive count, ``runs_needed_reason`` says why.
    """
    if row["verdict"] in ("real", "fluke"):
        return DASH, ""
    needed = row.get("runs_needed")
    if pd.notna(needed) and float(needed) > 0:
        n = int(needed)
        return str(
            n
        ), f"About {n} more runs per word (same samples per run) would likely decide it."
    code = row.get("runs_needed_reason")
    if not isinstance(code, str) or code not in RUNS_NEEDED_REASONS:
        raise UnknownReason(
            f"undecided verdict row without a runs_needed count has runs_needed_reason "
            f"{code!r}; known: {sorted(RUNS_NEEDED_REASONS)} (rerun `stats fit`)"
        )
    words = RUNS_NEEDED_REASONS[code]
    largest = int(RUNS_GRID[-1])
    return words.cell.format(largest=largest), words.sentence.format(largest=largest)
