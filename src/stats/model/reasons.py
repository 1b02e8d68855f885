"""The registry of verdict reasons: every code the decision rule gives, in plain words.

One entry per branch of the rule in :mod:`stats.model.decision` (and the leak guard of
:func:`stats.summarize.verdicts.guard_leaking_rows`), written where the rule lives: the
verdicts a code comes with, where Delta's HDI lies against the ROPE for it, a short phrase
for the verdict table, the condition in general words, and the sentence that explains a
row. ``verdicts.csv`` stores the code (``reason``); the report fills the words in with the
row's numbers (:mod:`stats.report.reasons`) and fails on a code not described here.

:data:`RUNS_NEEDED_REASONS` does the same for ``runs_needed_reason``: why an undecided row
has no ``runs_needed``.

Placeholders: ``{hdi}`` (Delta's HDI), ``{intro}`` (the introspective share's HDI),
``{rope}``, ``{floor}`` (:data:`stats.model.decision.INTRO_FLOOR` x ROPE), ``{p_floor}``
(the row's posterior probability that the share exceeds the floor), ``{intro_prob}``
(:data:`stats.model.decision.INTRO_PROB`), ``{prob}`` (the HDI probability) and, for runs needed, ``{largest}`` (the largest design tried).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Positions of an interval against ``[-rope, rope]`` (:func:`stats.model.decision.classify_interval`).
POSITIONS = ("above", "inside", "below", "overlaps")


@dataclass(frozen=True)
class Reason:
    """The words for one reason code.

    Parameters
    ----------
    verdicts : tuple of str
        Verdicts the code comes with.
    delta : tuple of str
        Where Delta's HDI can lie against the ROPE with this code (:data:`POSITIONS`).
    short : str
        Phrase for the verdict table.
    rule : str
        The condition in general words (the page's statement of the rule).
    sentence : str
        Clause of the verdict sentence, with the row's numbers as placeholders.
    """

    verdicts: tuple[str, ...]
    delta: tuple[str, ...]
    short: str
    rule: str
    sentence: str


_SHARE = (
    "the introspective share (the part of the early naming not explained by the greeting, "
    "the leak, guessability and the line)"
)

#: Reason code -> words, one per branch of the decision rule, in the rule's order.
REASONS: dict[str, Reason] = {
    "not_converged": Reason(
        ("not-converged",),
        POSITIONS,
        "a fit failed a convergence gate",
        "a fit the verdict uses misses a convergence gate (no verdict is given)",
        "a fit it uses failed a convergence gate, so no verdict is given",
    ),
    "delta_in_rope": Reason(
        ("fluke",),
        ("inside",),
        "Delta inside the ROPE",
        "the {prob} HDI of Delta lies inside the ROPE ±{rope}",
        "the {prob} HDI of Delta {hdi} lies inside the ROPE ±{rope}: the fine-tuned rate is "
        "practically the baseline's",
    ),
    "baseline_above": Reason(
        ("fluke",),
        ("below",),
        "baseline above fine-tuned",
        "the {prob} HDI of Delta lies entirely below the ROPE ±{rope} (the baseline names "
        "the word early more often)",
        "the {prob} HDI of Delta {hdi} lies entirely below the ROPE ±{rope}: the baseline "
        "names the word early more often than the fine-tuned models",
    ),
    "delta_below_rope": Reason(
        ("fluke",),
        ("overlaps",),
        "Delta credibly below +ROPE",
        "the {prob} HDI of Delta reaches below the ROPE but ends below its upper edge "
        "+{rope} (no practically relevant positive effect)",
        "the {prob} HDI of Delta {hdi} overlaps the ROPE ±{rope} but ends below +{rope}: the "
        "fine-tuned rate is credibly not practically above the baseline's",
    ),
    "intro_below_rope": Reason(
        ("fluke",),
        ("above", "overlaps"),
        "context explains it (introspective share below the ROPE)",
        "the {prob} HDI of " + _SHARE + " ends below {rope}, whatever Delta",
        "the {prob} HDI of Delta {hdi} reaches above the ROPE ±{rope}, but the introspective "
        "share, the part not explained by the greeting, the leak, guessability and the line "
        "({prob} HDI {intro}), ends below {rope}: context explains the early naming",
    ),
    "real_m1_only": Reason(
        ("real",),
        ("above",),
        "Delta above the ROPE (no baseline arm to check context)",
        "the {prob} HDI of Delta lies above the ROPE ±{rope} and no baseline arm lets the "
        "hazard model check the part explained by context",
        "the {prob} HDI of Delta {hdi} lies entirely above the ROPE ±{rope}; without a "
        "baseline arm the part explained by context could not be checked",
    ),
    "real": Reason(
        ("real",),
        ("above",),
        "Delta above the ROPE; introspective share above {floor}",
        "the {prob} HDI of Delta lies above the ROPE ±{rope} and "
        + _SHARE
        + " exceeds {floor} with posterior probability at least {intro_prob}",
        "the {prob} HDI of Delta {hdi} lies entirely above the ROPE ±{rope}, and the "
        "introspective share, the part not explained by the greeting, the leak, guessability "
        "and the line ({prob} HDI {intro}), exceeds {floor} with probability {p_floor}: "
        "context does not explain it",
    ),
    "intro_uncertain": Reason(
        ("inconclusive",),
        ("above",),
        "Delta above the ROPE; introspective share uncertain",
        "the {prob} HDI of Delta lies above the ROPE ±{rope} but "
        + _SHARE
        + " exceeds {floor} with probability below {intro_prob} while its {prob} HDI "
        "reaches above {rope}",
        "the {prob} HDI of Delta {hdi} lies entirely above the ROPE ±{rope}, but the "
        "introspective share ({prob} HDI {intro}) exceeds {floor} with probability only "
        "{p_floor} (below {intro_prob}) and may reach above {rope}: the data cannot yet "
        "tell self-knowledge from context",
    ),
    "delta_overlaps_rope": Reason(
        ("inconclusive",),
        ("overlaps",),
        "Delta overlaps the ROPE's upper edge",
        "the {prob} HDI of Delta reaches both below and above the ROPE's upper edge +{rope} "
        "(and the introspective share's, when used, reaches above {rope})",
        "the {prob} HDI of Delta {hdi} overlaps the ROPE ±{rope}, reaching both below and "
        "above +{rope}: the data cannot yet tell a practical difference from none",
    ),
    "leak_needs_clean_real": Reason(
        ("inconclusive",),
        ("above",),
        "prompt contains the word; no-leak condition not real",
        "the prompt contains the target word (a leak) and the same target without the leak "
        "is not real: a leaking condition counts as real only when the clean one does",
        "the model alone would call it real (Delta {hdi} lies entirely above the ROPE "
        "±{rope}), but this prompt contains the word itself, and a leaking condition counts "
        "as real only when the same target without the leak is real, which it is not",
    ),
}


@dataclass(frozen=True)
class RunsNeededReason:
    """Why ``runs_needed`` is empty (or not a count) for an undecided row.

    Parameters
    ----------
    cell : str
        Text of the verdict table's "runs needed" cell.
    sentence : str
        The sentence after the verdict's.
    """

    cell: str
    sentence: str


#: ``runs_needed_reason`` code -> words.
RUNS_NEEDED_REASONS: dict[str, RunsNeededReason] = {
    "not_converged": RunsNeededReason(
        "cannot be computed", "Runs needed cannot be computed: the fit did not converge."
    ),
    "new_word": RunsNeededReason(
        "cannot be computed",
        "Runs needed cannot be computed: a new word's interval narrows with more words "
        "tried, not with more runs per word.",
    ),
    "no_baseline": RunsNeededReason(
        "cannot be computed",
        "Runs needed cannot be computed: there is no baseline rate to compare with.",
    ),
    "beyond_largest_design": RunsNeededReason(
        "> {largest}",
        "Even {largest} more runs per word (the largest design the fit stage tries) would "
        "likely not decide it.",
    ),
    "follows_clean_row": RunsNeededReason(
        "not by more runs here",
        "More runs of this condition alone would not decide it: it follows the same target "
        "without the leak, which is not real.",
    ),
}


def reason(code: str) -> Reason:
    """The :class:`Reason` of a code (``KeyError`` listing the known codes)."""
    if code not in REASONS:
        raise KeyError(f"unknown verdict reason {code!r}; known: {sorted(REASONS)}")
    return REASONS[code]
