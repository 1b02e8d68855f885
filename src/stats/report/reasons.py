"""Verdict reasons in plain words: what ``verdicts.csv``'s ``reason`` column means.

The fit stage writes, per verdict row, the ``reason`` its decision rule
(:mod:`stats.model.decision`, and :func:`stats.summarize.guard_leaking_rows` for prompts
that contain the word) gave. :func:`reason_text` is the one place that turns a reason
into words: a short phrase for the verdict table and a clause for the verdict sentence.
An unknown reason raises :class:`UnknownReason` (a new rule must be described here before
a page can show it).

:func:`runs_needed_text` says, for an undecided row, how many more runs would likely
decide it, or why that cannot be computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from stats.report.text import fmt, interval


class UnknownReason(ValueError):
    """A verdict reason this module has no words for."""


@dataclass(frozen=True)
class Reason:
    """The words for one reason code.

    Parameters
    ----------
    verdicts : tuple of str
        Verdicts the code can come with.
    delta : str
        Where Delta's HDI lies relative to the ROPE for this code: ``above``, ``inside``,
        ``below``, ``overlaps`` or ``any``.
    short : str
        Phrase for the verdict table.
    rule : str
        The condition in general words (the page's statement of the rule).
    sentence : str
        Clause for the verdict sentence; placeholders ``{hdi}`` (Delta's HDI), ``{rope}``,
        ``{intro}`` (Delta_intro's HDI).
    """

    verdicts: tuple[str, ...]
    delta: str
    short: str
    rule: str
    sentence: str


#: Reason codes of the current decision rule -> words. Keys are the exact ``reason`` strings.
REASONS: dict[str, Reason] = {
    "a convergence gate failed": Reason(
        ("not-converged",),
        "any",
        "a fit failed a convergence gate",
        "a fit the verdict uses fails a convergence gate (no verdict is given)",
        "a fit it uses failed a convergence gate, so no verdict is given",
    ),
    "Delta HDI inside the ROPE": Reason(
        ("fluke",),
        "inside",
        "Delta inside the ROPE",
        "the 95% HDI of Delta lies inside the ROPE",
        "the 95% HDI of Delta {hdi} lies inside the ROPE ±{rope}: no practical difference "
        "from the baseline",
    ),
    "baseline above fine-tuned": Reason(
        ("fluke",),
        "below",
        "baseline above fine-tuned",
        "the 95% HDI of Delta lies entirely below the ROPE (the baseline does better)",
        "the 95% HDI of Delta {hdi} lies entirely below the ROPE ±{rope}: the baseline names "
        "the word more often than the fine-tuned model",
    ),
    "Delta HDI overlaps the ROPE": Reason(
        ("inconclusive",),
        "overlaps",
        "Delta overlaps the ROPE",
        "the 95% HDI of Delta overlaps the ROPE",
        "the 95% HDI of Delta {hdi} overlaps the ROPE ±{rope}: the data cannot yet tell a "
        "practical difference from none",
    ),
    "Delta HDI above the ROPE (M1 only)": Reason(
        ("real",),
        "above",
        "Delta above the ROPE (no baseline to check context)",
        "the 95% HDI of Delta lies above the ROPE and no baseline arm lets the model check the part explained by context",
        "the 95% HDI of Delta {hdi} lies entirely above the ROPE ±{rope}; without a baseline "
        "arm the share explained by context could not be checked",
    ),
    "Delta above the ROPE, Delta_intro credibly positive": Reason(
        ("real",),
        "above",
        "Delta above the ROPE; introspective part > 0",
        "the 95% HDI of Delta lies above the ROPE and the 95% HDI of Delta_intro, its part not explained by the greeting, the leak and guessability, lies above 0",
        "the 95% HDI of Delta {hdi} lies entirely above the ROPE ±{rope}, and the part not "
        "explained by the greeting, the leak and guessability (Delta_intro, 95% HDI {intro}) "
        "is credibly above 0",
    ),
    "Delta_intro inside the ROPE: absorbed by context": Reason(
        ("fluke",),
        "above",
        "context explains Delta (introspective part ≈ 0)",
        "the 95% HDI of Delta lies above the ROPE but the 95% HDI of Delta_intro lies inside the ROPE or at or below 0 (context explains the effect)",
        "the 95% HDI of Delta {hdi} lies above the ROPE ±{rope}, but its part not explained "
        "by the greeting, the leak and guessability (Delta_intro, 95% HDI {intro}) is "
        "practically zero or negative: context explains the effect",
    ),
    "Delta_intro HDI includes 0": Reason(
        ("inconclusive",),
        "above",
        "Delta above the ROPE; introspective part may be 0",
        "the 95% HDI of Delta lies above the ROPE but the 95% HDI of Delta_intro includes 0",
        "the 95% HDI of Delta {hdi} lies above the ROPE ±{rope}, but the 95% HDI of its part "
        "not explained by the greeting, the leak and guessability (Delta_intro {intro}) "
        "includes 0",
    ),
    "the prompt leaks the word: real only when the non-leaking condition is real": Reason(
        ("inconclusive",),
        "above",
        "prompt contains the word; no-leak condition not real",
        "the prompt contains the target word (a leak) and the same target without the leak is not real, whatever the model says for the leaking condition",
        "the model alone would call it real (Delta {hdi} above the ROPE ±{rope}), but this "
        "prompt contains the word itself, and a leaking condition counts as real only when "
        "the same target without the leak is real, which it is not",
    ),
}


def reason_of(row: pd.Series) -> Reason:
    """The :class:`Reason` of a verdict row.

    Raises
    ------
    UnknownReason
        When the row's ``reason`` is not in :data:`REASONS`, or comes with a verdict the
        reason cannot give.
    """
    code = str(row.get("reason", ""))
    if code not in REASONS:
        raise UnknownReason(
            f"verdict reason {code!r} has no plain-words description in stats.report.reasons; "
            f"known: {sorted(REASONS)}"
        )
    reason = REASONS[code]
    if row["verdict"] not in reason.verdicts:
        raise UnknownReason(f"reason {code!r} with verdict {row['verdict']!r}")
    return reason


def reason_text(row: pd.Series) -> tuple[str, str]:
    """(table phrase, sentence clause) of a verdict row's reason, filled with its numbers."""
    reason = reason_of(row)
    values = {
        "hdi": interval(row["hdi_low"], row["hdi_high"], signed=True),
        "rope": fmt(row["rope"]),
        "intro": interval(row.get("intro_low"), row.get("intro_high"), signed=True),
    }
    return reason.short, reason.sentence.format(**values)


def _largest_design() -> int:
    from stats.model.decision import RUNS_GRID

    return int(RUNS_GRID[-1])


def runs_needed_text(row: pd.Series) -> tuple[str, str]:
    """(table cell, sentence) on the runs per word that would likely decide an undecided row.

    ``runs_needed`` is written by the fit stage: extra fine-tuning runs per word, at the
    current samples per run, after which an 80%-assured decisive verdict is expected. When
    it is missing, the cell says why (a ``runs_needed_reason`` column of the fit stage
    wins when present).
    """
    if row["verdict"] in ("real", "fluke"):
        return "–", ""
    needed = row.get("runs_needed")
    if pd.notna(needed) and float(needed) > 0:
        n = int(needed)
        return str(
            n
        ), f"About {n} more runs per word (same samples per run) would likely decide it."
    why = row.get("runs_needed_reason")
    if isinstance(why, str) and why.strip():
        return "cannot be computed", f"Runs needed cannot be computed: {why.strip()}."
    if row["verdict"] == "not-converged":
        return "cannot be computed", "Runs needed cannot be computed: the fit did not converge."
    if row["scope"] == "new-word":
        return (
            "cannot be computed",
            "Runs needed cannot be computed: a new word's interval narrows with more words "
            "tried, not with more runs per word.",
        )
    if pd.notna(needed):  # 0: the row follows another one (the leak guard)
        return (
            "not by more runs here",
            "More runs of this condition alone would not decide it: it follows the same "
            "target without the leak, which is not real.",
        )
    largest = _largest_design()
    return (
        f"> {largest}",
        f"Even {largest} more runs per word (the largest design the fit stage tries) would "
        "likely not decide it.",
    )
