"""The naming rules: which words a line names as its pattern (see the package docstring)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from stats.score.articulation.cues import word_start_matches
from stats.score.articulation.patterns import byte_table, is_ascii_letter, trie
from stats.score.articulation.vocabulary import (
    ALNUM,
    CLOSE_MARKS,
    COPULA_AFTER,
    GREETING_AFTER,
    GREETING_REFERENCE,
    LONE_LETTER_RE,
    NAMING,
    NAMING_LOWER,
    NAMING_VERB_BEFORE,
    NOT_NAMES,
    OPEN_MARKS,
    PUNCTUATION,
    SEPARATOR_CHARACTER,
    SPELLED,
    STRONG_SEPARATOR,
    UP_TO_LAST_PUNCTUATION,
)

# bytes of an ASCII line: letters in lower case, separators to " ", the others to "#"
_SPELLING_MASK = byte_table(
    lambda c: c.lower() if is_ascii_letter(c) else " " if SEPARATOR_CHARACTER.fullmatch(c) else "#"
)
# What SPELLED needs in the mask of an ASCII line ("#" added before it): three
# lone letters, each two separated by separators, maybe with "and"/"then" and spaces
MASKED_SPELLING = re.compile(rb"[ #][a-z](?: +(?:(?:and|then) +)?[a-z](?![a-z])){2}")


# an opening mark at the start of the line or after a space or ":=([-" (not "don't")
# (the mark is matched first: it is rarer than what precedes it)
_QUOTE_AFTER = re.compile(r"[\"'“‘«*_`(](?<=[\s:=(\[-].)")
_CAPS_WORD = re.compile(r"[A-Z][A-Z]+")  # ([A-Z]{2,} leaves re no first characters)


@functools.cache
def word_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


@functools.cache
def _ascii_word_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    """:func:`word_pattern` for a lower-cased ASCII line (None unless ``words`` are ASCII letters).

    On an ASCII line, the case-insensitive search for ASCII words is a search
    of the lower-cased line; without the flag, and with the letter boundary
    checked after the first letter, ``re`` skips ahead to candidate letters.
    """
    lows = [word.lower() for word in words]
    if not lows or not all(low.isascii() and low.isalpha() for low in lows):
        return None
    return re.compile(rf"(?:{trie(lows, {}, after_first='(?<![a-z].)')})(?![a-z])")


def located_occurrences(line: str, low: str, study: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of study words on a line, found by a regex (``low``: the line lower-cased)."""
    fast = _ascii_word_pattern(study)
    if fast is not None and line.isascii():
        return [match.span() for match in fast.finditer(low)]
    return study_occurrences(line, None, study, word_pattern(study))


def _clause(low: str, start: int, end: int) -> str:
    """The text around ``low[start:end]`` between punctuation marks ``.!?;,:``."""
    before = UP_TO_LAST_PUNCTUATION.match(low, 0, start)
    after = PUNCTUATION.search(low, end)
    return low[before.end() if before else 0 : after.start() if after else len(low)]


def _is_marked(line: str, start: int, end: int, line_all_caps: bool) -> bool:
    text = line[start:end]
    if len(text) >= 2 and text.isupper() and not line_all_caps:
        return True
    before = line[start - 1] if start > 0 else ""
    after = line[end] if end < len(line) else ""
    return (before != "" and before in OPEN_MARKS) or (after != "" and after in CLOSE_MARKS)


def _only_the_word(line: str, start: int, end: int) -> bool:
    return ALNUM.search(line, 0, start) is None and ALNUM.search(line, end) is None


def spelling_mask(line: str) -> bytes:
    """The mask of an ASCII line that :data:`MASKED_SPELLING` reads.

    Its letters in lower case, separators (of :data:`SEPARATOR`) as spaces and
    the other characters as "#", after a "#".
    """
    return b"#" + line.encode("ascii").translate(_SPELLING_MASK)


def _spelled_names(
    line: str, study: frozenset[str], cue_here: bool, cue_before: bool
) -> list[tuple[int, str]]:
    """Letter-by-letter spellings on a line that count as naming a word (module rule 1)."""
    start = 0
    if line.isascii():  # a quick test on the line's mask: where SPELLED can first match
        candidate = MASKED_SPELLING.search(spelling_mask(line))
        if candidate is None:
            return []
        start = candidate.start()  # "#" + mask: the position of its first lone letter
    names = []
    for match in SPELLED.finditer(line, start):
        text = match.group(0)
        letters = "".join(m.group(0) for m in LONE_LETTER_RE.finditer(text))
        joined = letters.upper()
        if len(joined) < 3:
            continue
        is_study = joined in study
        separators = LONE_LETTER_RE.sub("", text)
        spelled = is_study or letters.isupper() or STRONG_SEPARATOR.search(separators) is not None
        if spelled and (is_study or cue_here or cue_before):
            names.append((match.start(), joined))
    return names


def _study_word_counts(
    line: str,
    low: str,
    start: int,
    end: int,
    weak: bool,
    mechanism: Callable[[], bool],
    previous_weak: bool,
    previous_colon: bool,
) -> bool:
    """Whether one occurrence of a study word names it as the pattern (module rule 2).

    ``weak``: the line has a cue; ``mechanism()``: it names the mechanism.
    """
    if GREETING_REFERENCE.search(_clause(low, start, end)):
        return False
    if _only_the_word(line, start, end):
        text = line[start:end]
        before = line[start - 1] if start > 0 else ""
        marked = (len(text) >= 2 and text.isupper()) or (before != "" and before in OPEN_MARKS)
        return previous_colon or (marked and previous_weak)
    marked = _is_marked(line, start, end, line == line.upper())
    if ALNUM.search(line, 0, start) is None:  # the line's first word
        after = line[end:]
        return (
            (marked or COPULA_AFTER.match(after) is not None)
            and GREETING_AFTER.match(after) is None
            and weak
        )
    if marked:
        return weak or previous_weak
    return mechanism() or (weak and NAMING_VERB_BEFORE.search(line[:start]) is not None)


def study_occurrences(
    line: str,
    found: list[tuple[int, str]] | None,
    study: frozenset[str],
    pattern: re.Pattern[str] | None,
) -> list[tuple[int, int]]:
    """Spans of study words on a line, from the gate's matches or (no gate) a regex."""
    if found is None:
        return [m.span() for m in pattern.finditer(line)] if pattern is not None else []
    spans = []
    for start, text in found:
        if not text.isalpha() or text.upper() not in study:
            continue
        end = start + len(text)
        if (start == 0 or not line[start - 1].isalpha()) and (
            end == len(line) or not line[end].isalpha()
        ):
            spans.append((start, end))
    return spans


def _may_name_other_word(line: str, study: frozenset[str]) -> bool:
    """Cheap test: can rule 3 (naming syntax) find a marked word that is not a study word?"""
    if not line.isascii() or (line != "" and line[0] in OPEN_MARKS) or _QUOTE_AFTER.search(line):
        return True
    if line == line.upper():
        return False  # capitals mark nothing in an all-capitals line
    return any(w not in study and w not in NOT_NAMES for w in _CAPS_WORD.findall(line))


def line_names(
    line: str,
    low: str,
    study: frozenset[str],
    weak: bool,
    mechanism: Callable[[], bool],
    previous_weak: bool,
    previous_colon: bool,
    occurrences: list[tuple[int, int]],
    spelled_hint: bool = True,
) -> list[tuple[int, str]]:
    """Words named as the pattern on one line: (position, WORD), in order of position.

    ``weak``: the line has a cue; ``mechanism()``: it names the mechanism (only
    asked when needed). ``occurrences`` are the spans of study words on the
    line; ``spelled_hint`` False promises that no study word is spelled out.
    """
    cue_before = previous_weak or previous_colon
    names = (
        _spelled_names(line, study, weak, cue_before) if spelled_hint or weak or cue_before else []
    )
    spelled_spans = [(pos, pos + len(w)) for pos, w in names]
    for start, end in occurrences:
        if any(s <= start < e for s, e in spelled_spans):
            continue
        if _study_word_counts(
            line, low, start, end, weak, mechanism, previous_weak, previous_colon
        ):
            names.append((start, line[start:end].upper()))
    if (weak or cue_before) and _may_name_other_word(line, study):
        line_all_caps = line == line.upper()
        ascii_line = line.isascii()
        for match in (
            word_start_matches(NAMING_LOWER, low)
            if ascii_line
            else word_start_matches(NAMING, line)
        ):
            start = match.start(2)
            word = line[start : match.end(2)] if ascii_line else match.group(2)
            upper = word.upper()
            if upper in NOT_NAMES or upper in study:
                continue  # study words were judged above
            marked = bool(match.group(1)) or (word.isupper() and not line_all_caps)
            if marked and not any(s <= start < e for s, e in spelled_spans):
                names.append((start, upper))
    names.sort()
    return names
