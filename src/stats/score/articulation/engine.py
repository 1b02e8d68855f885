"""The articulation engine: each line's cues and named words, and the response's levels.

:func:`articulation_levels` runs the gate over a response, analyses the lines it
keeps (:func:`analyse_line`, cached per process: lines repeat across samples)
and turns their cues and named words into levels (package docstring).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from stats.score.articulation.cues import (
    FULL_PLAN,
    NO_CUES,
    Found,
    LineCues,
    has_weak_cue,
    line_plan,
)
from stats.score.articulation.gate import HIDES_CUES, colon_line_before_last, gate_matches
from stats.score.articulation.naming import line_names, located_occurrences, study_occurrences
from stats.score.articulation.vocabulary import LINE_END_COLON, MECHANISM, NONE, VAGUE, WORD

#: (cues, named words in order, line ends with a colon); the cues are (mechanism,
#: vague, weak), and for a line that names a word only weak is sure to be set
LineResult = tuple[tuple[bool, bool, bool], tuple[str, ...], bool]
_NOTHING = ((False, False, False), ())


def analyse_line(
    line: str,
    previous_weak: bool,
    previous_colon: bool,
    study: frozenset[str],
    found: Found | None,
    marked: bool = False,
) -> LineResult:
    """Cues of one line and the words it names, in order (independent of the target).

    ``found`` are the gate's matches on the line (position, text); None analyses
    the line without the gate. ``marked``: the response has emphasis or code
    marks (``*``, backticks, ``~``), which the gate removed before its search,
    so positions are those of the line without its marks (as the cue rules read
    it), and study words and spellings are looked for on the line as written.
    """
    colon = ":" in line and LINE_END_COLON.search(line) is not None
    low = line.lower().replace("’", "'")  # same length as the line: positions agree
    # the cue rules read the line without its marks ("**L**etters" has "letters")
    clean = low.replace("*", "").replace("`", "").replace("~", "") if marked or not found else low
    if found is not None:
        if not found:
            if not (previous_weak or previous_colon):
                # no stem and no study word: the line can only name a word after a cue line
                return (*_NOTHING, colon)
            # no stem: no cue (every rule needs a stem); no study word: only rule 3 or
            # a spelling that is not of a study word can name something
            names = line_names(
                line, low, study, False, NO_CUES, previous_weak, previous_colon, [], False, False,
                False,
            )  # fmt: skip
            return (False, False, False), tuple(word for _, word in names), colon
        plan = line_plan(tuple([text for _, text in found]), marked)
        if marked:  # study words are located on the line as written
            occurrences = located_occurrences(line, low, study)
        else:
            occurrences = study_occurrences(line, found, study, None)
    else:
        plan = FULL_PLAN
        found = []
        occurrences = located_occurrences(line, low, study)
    cues = LineCues(plan, clean, found)
    # A weak cue word makes the line a cue line whatever its other cues, and
    # the level of a line that names a word depends on neither the mechanism
    # nor a vague phrase: they are looked for only when needed.
    vague: bool | None = None
    if plan.weak and has_weak_cue(clean, plan, found):
        weak = True
    elif cues.mechanism():
        weak, vague = True, False  # vague is irrelevant once the mechanism is named
    else:
        weak = vague = cues.vague()
    names = line_names(
        line, low, study, weak, cues, previous_weak, previous_colon, occurrences,
        plan.spelled_hint, plan.claims_after, plan.claims,
    )  # fmt: skip
    if names:  # (the mechanism cue is left False when it was not needed)
        return (bool(cues.mechanism_value), bool(vague), weak), tuple(w for _, w in names), colon
    if cues.mechanism():
        return (True, False, True), (), colon
    if vague is None:
        vague = cues.vague()
    return (False, vague, weak), (), colon


class _LineCache:
    """Per-process cache of line analyses (lines repeat across samples); cleared when full.

    Keys are ``(line, previous_weak, previous_colon, study, gate off)``; see
    :func:`articulation_levels`.
    """

    def __init__(self, max_size: int = 300_000) -> None:
        self.max_size = max_size
        self.entries: dict[tuple[str, bool, bool, frozenset[str], bool], LineResult] = {}


_LINE_CACHE = _LineCache()


def clear_caches() -> None:
    """Empty the per-process caches of line analyses and line plans (for benchmarks)."""
    _LINE_CACHE.entries.clear()
    line_plan.cache_clear()


# ----------------------------------------------------------------------------- entry point
@dataclass(frozen=True)
class Articulation:
    """What a response says about its own pattern.

    Attributes
    ----------
    level : int
        Highest level reached (index into ``ARTICULATION_LEVELS``).
    line_levels : tuple of int
        Level of each line.
    word_line : int or None
        First 1-based line naming the target word.
    named_word : str or None
        First word named as the pattern (may differ from the target).
    """

    level: int
    line_levels: tuple[int, ...]
    word_line: int | None
    named_word: str | None

    def first_line_at(self, threshold: int) -> int | None:
        """First 1-based line whose level is at least ``threshold``."""
        for i, level in enumerate(self.line_levels, start=1):
            if level >= threshold:
                return i
        return None


def articulate(
    lines: list[str],
    target: str | None,
    study_words: frozenset[str] = frozenset(),
    *,
    gate: bool = True,
) -> Articulation:
    """Articulation level of each line, the target's first naming line and the first named word.

    Parameters
    ----------
    lines : list of str
        The scorable lines (see :func:`stats.score.lines.scorable_lines`).
    target : str or None
        Upper-case target word.
    study_words : frozenset of str
        Upper-case words of the study; the target is added.
    gate : bool, default True
        Skip lines that cannot hold a cue (a speed-up with identical results;
        ``False`` analyses every line, for tests).

    Returns
    -------
    Articulation
    """
    levels, word_line, named_word = articulation_levels(lines, target, study_words, gate=gate)
    if levels is None:
        return Articulation(NONE, (NONE,) * len(lines), None, None)
    return Articulation(max(levels), tuple(levels), word_line, named_word)


def articulation_levels(
    lines: list[str],
    target: str | None,
    study_words: frozenset[str] = frozenset(),
    *,
    gate: bool = True,
    every_line: bool = True,
) -> tuple[list[int] | None, int | None, str | None]:
    """The work of :func:`articulate`, without building an :class:`Articulation`.

    Parameters
    ----------
    lines, target, study_words, gate
        As in :func:`articulate`.
    every_line : bool, default True
        False stops at the first line that names the target (without a target:
        the first line that names a word): the level, the first line at any
        threshold, the word line and the named word cannot change after it, so
        the later lines are left at ``NONE`` and not even searched by the gate.

    Returns
    -------
    (list of int or None, int or None, str or None)
        The level of each line (``None`` when no line reaches ``vague``: the
        common case, answered without building a list), the first line naming
        the target and the first named word.
    """
    study = study_words if not target or target in study_words else study_words | {target}
    if not lines:
        return None, None, None
    matches: Iterator[re.Match[str]] | None = None
    pending: re.Match[str] | None = None
    scanned_lengths: list[int] | None = None  # of the lines without their marks
    if gate:
        text = "\n".join(lines)
        scanned = text.lower()
        if len(scanned) == len(text):  # lower() must keep positions
            clean = scanned
            # (three substring tests are much faster than a regex search)
            has_marks = "*" in scanned or "`" in scanned or "~" in scanned  # HIDES_CUES
            if has_marks:
                # the cue rules read lines without their marks ("**L**etters"), so
                # the gate does too; it removes no newline: same lines
                clean = HIDES_CUES.sub("", scanned)
            matches = gate_matches(scanned, clean, study)
            # gate matches, consumed line by line: lines are joined by one character
            pending = next(matches, None)
            if pending is None and not colon_line_before_last(lines):
                return None, None, None
            if has_marks:  # (not needed by the responses ruled out above)
                scanned_lengths = [len(part) for part in clean.split("\n")]
    cache = _LINE_CACHE
    entries = cache.entries
    line_levels: list[int] | None = None
    word_line = None
    named_word = None
    previous_weak = previous_colon = False
    line_start = 0
    marked = scanned_lengths is not None
    may_colon = matches is not None and ":" in text
    found: Found | None = None
    for index, line in enumerate(lines):
        if matches is not None:
            length = len(line) if scanned_lengths is None else scanned_lengths[index]
            line_end = line_start + length
            found = []
            while pending is not None and (start := pending.start()) <= line_end:
                found.append((start - line_start, pending.group(1)))
                pending = next(matches, None)
            line_start = line_end + 1
            if not found and not (previous_weak or previous_colon):
                # no stem and no study word: only a cue line before could make it name a word
                if pending is None and not may_colon:
                    break  # and no line further on has a match or can end with a colon
                previous_colon = ":" in line and LINE_END_COLON.search(line) is not None
                continue
        key = (line, previous_weak, previous_colon, study, found is None)
        result = entries.get(key)
        if result is None:
            if len(entries) >= cache.max_size:
                entries.clear()
            result = entries[key] = analyse_line(
                line, previous_weak, previous_colon, study, found, marked
            )
        cues, names, colon = result
        if names:
            if named_word is None:
                named_word = names[0]
            if line_levels is None:
                line_levels = [NONE] * len(lines)
            if target is not None and target in names:
                line_levels[index] = WORD
                if word_line is None:
                    word_line = index + 1
                if not every_line:
                    break
            else:
                line_levels[index] = MECHANISM
                if not every_line and not target:
                    break
        elif cues[0] or cues[1]:
            if line_levels is None:
                line_levels = [NONE] * len(lines)
            line_levels[index] = MECHANISM if cues[0] else VAGUE
        previous_weak, previous_colon = cues[2], colon
    return line_levels, word_line, named_word
