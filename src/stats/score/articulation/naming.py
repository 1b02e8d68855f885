"""The naming rules: which words a line names as its pattern (see the package docstring)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from stats.score.articulation.cues import LineCues, word_start, word_start_matches
from stats.score.articulation.patterns import byte_table, is_ascii_letter, trie
from stats.score.articulation.vocabulary import (
    ALNUM,
    CLAIM_AFTER,
    CLAIM_AFTER_ASCII,
    CLAIM_END,
    CLAIM_PREDICATE,
    CLAIM_PREDICATE_LOWER,
    CLAUSE_OPENING,
    CLOSE_MARKS,
    COPULA_AFTER,
    GREETING_AFTER,
    GREETING_REFERENCE,
    LONE_LETTER_RE,
    NAMING,
    NAMING_LOWER,
    NAMING_VERB_BEFORE,
    NEGATED_CLAIM,
    NOT_CLAIMS,
    NOT_NAMES,
    OPEN_MARKS,
    PREDICATE_OPENINGS,
    PUNCTUATION,
    SEPARATOR_CHARACTER,
    SPELLED,
    STRONG_SEPARATOR,
    UNFINISHED,
    UP_TO_LAST_PUNCTUATION,
    WORD_BEFORE,
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
) -> tuple[list[tuple[int, str]], tuple[int, ...]]:
    """Letter-by-letter spellings on a line that count as naming a word (package rule 1).

    Returns the ``(position, WORD)`` of each and the positions of those an
    ellipsis follows (unfinished).
    """
    start = 0
    names: list[tuple[int, str]] = []
    if line.isascii():  # a quick test on the line's mask: where SPELLED can first match
        candidate = MASKED_SPELLING.search(spelling_mask(line))
        if candidate is None:
            return names, ()
        start = candidate.start()  # "#" + mask: the position of its first lone letter
    unfinished: tuple[int, ...] = ()
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
            if UNFINISHED.match(line, match.end()) is not None:
                unfinished += (match.start(),)
    return names, unfinished


def _study_word_counts(
    line: str,
    low: str,
    start: int,
    end: int,
    weak: bool,
    cues: LineCues,
    previous_weak: bool,
    previous_colon: bool,
) -> bool:
    """Whether one occurrence of a study word names it as the pattern (package rule 2).

    ``weak``: the line has a cue; ``cues.mechanism()``: it names the mechanism.
    """
    if _only_the_word(line, start, end):
        text = line[start:end]
        before = line[start - 1] if start > 0 else ""
        marked = (len(text) >= 2 and text.isupper()) or (before != "" and before in OPEN_MARKS)
        counts = previous_colon or (marked and previous_weak)
    else:
        marked = _is_marked(line, start, end, line == line.upper())
        if ALNUM.search(line, 0, start) is None:  # the line's first word
            after = line[end:]
            counts = (
                (marked or COPULA_AFTER.match(after) is not None)
                and GREETING_AFTER.match(after) is None
                and weak
            )
        elif marked:
            counts = weak or previous_weak
        else:
            counts = cues.mechanism() or (
                weak and NAMING_VERB_BEFORE.search(line[:start]) is not None
            )
    # (a reference to the user's greeting is looked for last: most occurrences stop above)
    return counts and GREETING_REFERENCE.search(_clause(low, start, end)) is None


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
    if line[1:].islower() or line == line.upper():
        return False  # two capitals in a row are needed, and mark nothing in an all-capitals line
    return any(w not in study and w not in NOT_NAMES for w in _CAPS_WORD.findall(line))


def line_names(
    line: str,
    low: str,
    study: frozenset[str],
    weak: bool,
    cues: LineCues,
    previous_weak: bool,
    previous_colon: bool,
    occurrences: list[tuple[int, int]],
    spelled_hint: bool = True,
    claims_after: bool = True,
    claims_before: bool = True,
) -> list[tuple[int, str]]:
    """Words named as the pattern on one line: (position, WORD), in order of position.

    ``weak``: the line has a cue; ``cues``: its mechanism and vague phrases
    (only looked for when needed). ``occurrences`` are the spans of study words on
    the line; ``spelled_hint`` False promises that no study word is spelled out.
    ``claims_after`` / ``claims_before`` False promise that no claim phrase of
    rule 4a / 4b is on the line.
    """
    cue_before = previous_weak or previous_colon
    names, unfinished = (
        _spelled_names(line, study, weak, cue_before)
        if spelled_hint or weak or cue_before
        else ([], ())
    )
    if weak or cue_before:
        # (first: a study word a claim phrase points at needs no other check of rule 2)
        before = claims_before and _may_have_predicate(low)
        if claims_after or before:
            claimed, unmarked = _claimed_words(line, low, names, study, weak, claims_after, before)
            names += claimed
            if unmarked and (cues.mechanism() or cues.vague()):
                names += unmarked
    for start, end in occurrences:
        if not _covered(start, names) and _study_word_counts(
            line, low, start, end, weak, cues, previous_weak, previous_colon
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
            if marked and not _covered(start, names):
                names.append((start, upper))
    if len(names) > 1:
        names.sort()
        if unfinished:  # the letters listed so far give way to a word named after them
            last = names[-1][0]
            names = [name for name in names if name[0] not in unfinished or name[0] == last]
    if names and ("n't" in low or "not " in low or "never" in low):
        names = [(pos, word) for pos, word in names if not _denied(line, pos)]
    return names


def _claimed_words(
    line: str,
    low: str,
    named: list[tuple[int, str]],
    study: frozenset[str],
    weak: bool,
    after: bool = True,
    before: bool = True,
) -> tuple[Sequence[tuple[int, str]], Sequence[tuple[int, str]]]:
    """Words a claim phrase points at (package rule 4) and not ``named`` yet.

    Returns the ``(position, WORD)`` claimed on the cue the caller checked (a
    marked word - quoted, emphasised, in capitals on a line that is not - or a
    study word after its phrase, which a cue on the line (``weak``) names as
    rule 2 would), and those claimed only if the line also has a mechanism or
    vague phrase (unmarked words). ``after`` / ``before`` False: no phrase of
    rule 4a / 4b is on the line. Each phrase is tried where ``str.find`` finds
    its first word (much faster than a regex search of the line).
    """
    if line.isascii():
        text, frame, predicate, openings = low, CLAIM_AFTER_ASCII, CLAIM_PREDICATE_LOWER, 4
    else:
        text, frame, predicate, openings = line, CLAIM_AFTER, CLAIM_PREDICATE, 6
    found: list[tuple[int, int, bool, bool]] = []  # (start, end, marked, may be unmarked)
    for stem in ("spel", "word") if after else ():  # rule 4a: the word after its phrase
        at = low.find(stem)
        while at >= 0:
            match = frame.match(text, at)
            if match is not None and word_start(low, at) and not _covered(match.start(2), named):
                start, end = match.start(2), match.end()
                if weak and text[start:end].upper() in study:  # as rule 2 would count it
                    found.append((start, end, True, True))
                elif CLAIM_END.match(text, end) is not None:
                    found.append((start, end, bool(match.group(1)), True))
            at = low.find(stem, at + 1)
    for opening, offset in PREDICATE_OPENINGS[:openings] if before else ():
        at = low.find(opening)  # rule 4b: the word before its phrase
        while at >= 0:
            if predicate.match(text, at + offset) is not None:
                word = WORD_BEFORE.search(line, 0, at + offset)
                if word is not None:
                    start = word.start(1)
                    marks = (start > 0 and line[start - 1] in OPEN_MARKS) or bool(word.group(2))
                    first = CLAUSE_OPENING.search(line, 0, start) is not None
                    found.append((start, word.end(1), marks, first))
            at = low.find(opening, at + 1)
    if not found:
        return (), ()
    claimed: list[tuple[int, str]] = []
    unmarked: list[tuple[int, str]] = []
    for start, end, has_mark, may_be_unmarked in found:
        if _covered(start, named) or _covered(start, claimed) or _covered(start, unmarked):
            continue
        word = line[start:end]
        upper = word.upper()
        if upper in NOT_CLAIMS or GREETING_REFERENCE.search(_clause(low, start, end)):
            continue
        if has_mark or (word.isupper() and line != line.upper()):
            claimed.append((start, upper))
        elif may_be_unmarked:
            unmarked.append((start, upper))
    return claimed, unmarked


def _may_have_predicate(low: str) -> bool:
    """Cheap test: can :data:`CLAIM_PREDICATE` match on the lower-cased line?

    Each predicate holds a copula or a colon, then *what/how*, *spelled/spelt/
    encoded* or *the/my/our* (before *word/acrostic*).
    """
    if not (" is " in low or " was " in low or "'s " in low or ":" in low):
        if low.isascii() or not ("—" in low or "–" in low):
            return False
    return (
        " the " in low
        or " my " in low
        or "what " in low
        or "how " in low
        or "spelled" in low
        or "spelt" in low
        or " our " in low
        or "encoded" in low
    )


def _covered(start: int, names: list[tuple[int, str]]) -> bool:
    """Whether position ``start`` is inside one of ``names`` (position, WORD)."""
    for position, word in names:
        if position <= start < position + len(word):
            return True
    return False


def _denied(line: str, start: int) -> bool:
    """Whether a negation right before ``line[start]`` denies the claim ("don't spell HELP")."""
    return NEGATED_CLAIM.search(line, max(0, start - 60), start) is not None
