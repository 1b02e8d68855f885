"""Matching the cue phrases of a line: which rules to try, where, and negation.

A line's cues are its mechanism phrases, vague phrases and weak cue words
(:mod:`~stats.score.articulation.vocabulary`). The gate's matches on a line say
which stems it holds, so only the rules needing those stems are tried
(:class:`Plan`), and rules whose every match starts with a stem
(:data:`ANCHORED`) are tried only at those positions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from stats.score.articulation.gate import stems_of
from stats.score.articulation.patterns import starts_with_stem
from stats.score.articulation.vocabulary import (
    CLAIM_STEMS,
    CLAUSE_BREAK,
    MECHANISM_RULES,
    NEGATION,
    VAGUE_RULES,
    WEAK_CUE,
    WEAK_STEMS,
    Rules,
)

#: Rules whose every match starts with one of their stems: where the gate's
#: positions are exact, they are only tried where the gate found those stems.
ANCHORED = frozenset(
    rule
    for stems, rule in (*MECHANISM_RULES, *VAGUE_RULES, (WEAK_STEMS, WEAK_CUE))
    if starts_with_stem(stems, rule)
)


Found = list[tuple[int, str]]


# ----------------------------------------------------------------------------- helpers
def word_start_matches(rule: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
    """Matches of ``rule`` that start at a word boundary."""
    pos = 0
    while (match := rule.search(low, pos)) is not None:
        start = match.start()
        if word_start(low, start):
            yield match
        pos = start + 1


def _negated(low: str, pos: int) -> bool:
    """Whether a negation precedes ``pos`` in its clause (at most 60 characters back)."""
    window = low[max(0, pos - 60) : pos]
    if NEGATION.search(window) is None:
        return False  # the clause is the end of the window: no negation in it either
    clause_start = 0
    for clause_break in CLAUSE_BREAK.finditer(window):
        clause_start = clause_break.end()
    return NEGATION.search(window[clause_start:]) is not None


def _rules_by_stem(rules: Rules) -> dict[str, tuple[int, ...]]:
    by_stem: dict[str, list[int]] = {}
    for index, (needed, _) in enumerate(rules):
        for stem in needed:
            by_stem.setdefault(stem, []).append(index)
    return {stem: tuple(indices) for stem, indices in by_stem.items()}


_MECHANISM_BY_STEM = _rules_by_stem(MECHANISM_RULES)
_VAGUE_BY_STEM = _rules_by_stem(VAGUE_RULES)


#: Rules with the gate's matches they may start at (indices into the line's matches).
RulesAt = tuple[tuple[re.Pattern[str], tuple[int, ...]], ...]


@dataclass(frozen=True)
class Plan:
    """What to look for on a line, from the gate's matches on it.

    Built by :meth:`of` from the stems the gate found on the line (None: the
    gate did not run, so everything is tried).
    """

    spelled_hint: bool  # a study word may be spelled out on the line
    mechanism: tuple[re.Pattern[str], ...]  # rules whose stems are on the line, searched for
    vague: tuple[re.Pattern[str], ...]
    weak: bool  # a weak cue word may be on the line
    mechanism_at: RulesAt = ()  # rules whose stems are on the line, tried where they are
    vague_at: RulesAt = ()
    weak_at: tuple[int, ...] | None = None  # matches a weak cue may start at (None: search)
    claims: bool = True  # a claim phrase of rule 4b may be on the line
    claims_after: bool = True  # one of rule 4a (its first word: spell..., word)

    @classmethod
    def of(
        cls,
        stems: frozenset[str] | None,
        spelled_hint: bool,
        stems_at: list[frozenset[str]] | None = None,
    ) -> Plan:
        """The plan for ``stems``; ``stems_at`` are those of each gate match on the line.

        ``stems_at`` is given only when the gate's positions are exact and
        every word start of the line was open to the gate (no match ran across
        one): the rules of :data:`ANCHORED` are then matched at those
        positions instead of searched for.
        """

        def rules(
            all_rules: Rules, by_stem: dict[str, tuple[int, ...]]
        ) -> tuple[tuple[re.Pattern[str], ...], RulesAt]:
            if stems is None:
                return tuple(rule for _, rule in all_rules), ()
            indices = sorted({i for stem in stems for i in by_stem.get(stem, ())})
            chosen = [all_rules[i] for i in indices]
            if stems_at is None:
                return tuple(rule for _, rule in chosen), ()
            return (
                tuple(rule for _, rule in chosen if rule not in ANCHORED),
                tuple(
                    (rule, _carrying(stems_at, needed))
                    for needed, rule in chosen
                    if rule in ANCHORED
                ),
            )

        mechanism, mechanism_at = rules(MECHANISM_RULES, _MECHANISM_BY_STEM)
        vague, vague_at = rules(VAGUE_RULES, _VAGUE_BY_STEM)
        weak = stems is None or not WEAK_STEMS.isdisjoint(stems)
        weak_at = (
            _carrying(stems_at, WEAK_STEMS)
            if stems_at is not None and WEAK_CUE in ANCHORED
            else None
        )
        claims = stems is None or not CLAIM_STEMS.isdisjoint(stems)
        after = stems is None or "spell" in stems or "word" in stems
        return cls(
            spelled_hint, mechanism, vague, weak, mechanism_at, vague_at, weak_at, claims, after
        )


def _carrying(stems_at: list[frozenset[str]], needed: frozenset[str]) -> tuple[int, ...]:
    """Indices of the gate matches that carry one of the ``needed`` stems."""
    return tuple(i for i, stems in enumerate(stems_at) if not needed.isdisjoint(stems))


@functools.lru_cache(maxsize=4096)
def line_plan(found_texts: tuple[str, ...], marked: bool = False) -> Plan:
    """The plan of a line on which the gate found ``found_texts``.

    ``marked``: they were found with emphasis marks removed, which can turn a
    spelling ("h*e*l*l*o") into a plain word, so spellings are always looked for.
    A match that is not a plain word (a spelling) may run across word starts
    and hide a stem there, so the positions of the matches are then not used.
    """
    stems_at = [stems_of(text) for text in found_texts]
    stems = frozenset().union(*stems_at)
    plain = all(text.isalpha() for text in found_texts)
    return Plan.of(stems, marked or not plain, stems_at if plain else None)


FULL_PLAN = Plan.of(None, True)


def word_start(low: str, start: int) -> bool:
    """Whether ``low[start]`` starts a word (as ``\\b`` before a word character)."""
    return start == 0 or not (low[start - 1].isalnum() or low[start - 1] == "_")


def any_match(rules: tuple[re.Pattern[str], ...], low: str) -> bool:
    """Whether one of ``rules`` matches at a word start that is not negated."""
    for rule in rules:
        match = rule.search(low)
        while match is not None:
            start = match.start()
            if word_start(low, start) and not _negated(low, start):
                return True
            match = rule.search(low, start + 1)
    return False


def any_match_at(rules: RulesAt, low: str, found: Found) -> bool:
    """:func:`any_match` for rules tried only at some of the gate's matches ``found``."""
    for rule, indices in rules:
        for i in indices:
            start = found[i][0]
            if rule.match(low, start) and word_start(low, start) and not _negated(low, start):
                return True
    return False


def has_vague(low: str, plan: Plan, found: Found) -> bool:
    """Whether a vague phrase is on the line (only the rules of ``plan``)."""
    return any_match_at(plan.vague_at, low, found) or any_match(plan.vague, low)


def has_weak_cue(low: str, plan: Plan, found: Found) -> bool:
    """Whether a weak cue word starts a word of the line (``plan.weak`` must be true)."""
    if plan.weak_at is None:
        return next(word_start_matches(WEAK_CUE, low), None) is not None
    for i in plan.weak_at:
        start = found[i][0]
        if WEAK_CUE.match(low, start) and word_start(low, start):
            return True
    return False


class LineCues:
    """The mechanism and vague cues of one line, each looked for on first use, if at all.

    (See :func:`stats.score.articulation.engine.analyse_line`: a line that names a
    word needs neither, so they are looked for only when needed.)
    """

    __slots__ = ("found", "low", "mechanism_value", "plan", "vague_value")

    def __init__(self, plan: Plan | None, low: str, found: Found) -> None:
        self.plan = plan
        self.low = low
        self.found = found
        # (None: not looked for yet; a line without a plan has no stems, so no cue)
        self.mechanism_value: bool | None = None if plan is not None else False
        self.vague_value: bool | None = None if plan is not None else False

    def mechanism(self) -> bool:
        """Whether a mechanism phrase is on the line."""
        if self.mechanism_value is None:
            plan = self.plan
            self.mechanism_value = any_match_at(
                plan.mechanism_at, self.low, self.found
            ) or any_match(plan.mechanism, self.low)
        return self.mechanism_value

    def vague(self) -> bool:
        """Whether a vague phrase is on the line."""
        if self.vague_value is None:
            self.vague_value = has_vague(self.low, self.plan, self.found)
        return self.vague_value


#: The cues of a line on which the gate found no stem (it has none).
NO_CUES = LineCues(None, "", [])
