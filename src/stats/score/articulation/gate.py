"""The gate: one scan of a response for the places where a cue or study word starts.

Lines without any such place are not analysed (a speed-up: tests check that the
gate changes no result, see ``tests/test_score_property.py``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from stats.score.articulation.patterns import byte_table, is_ascii_letter, trie
from stats.score.articulation.vocabulary import ALL_STEMS, LINE_END_COLON

# ----------------------------------------------------------------------------- the gate
#: A line whose lower-cased text contains none of these stems, no study word and
#: no spelled-out study word has no cue and names nothing (unless the line before
#: it has a cue): it is skipped. Tests check that the gate changes no result.
_GATE_STEMS = tuple(sorted(ALL_STEMS))


#: Characters the line rules remove inside words, so the gate could miss a cue.
HIDES_CUES = re.compile(r"[*`~]")


_GATE_SEPARATOR = r"(?:[^\w\n]|_)+(?:(?:and|then)[^\S\n]+)?"


@functools.cache
def _gate(words: frozenset[str]) -> re.Pattern[str]:
    """One regex over the lower-cased response finding every place a cue or study word starts.

    Alternatives are grouped by their first character, which lets the regex
    engine skip positions quickly (about 3x faster than a flat alternation).
    Group 1 of a match is the stem or word found (as in :class:`_AsciiGates`).
    """
    branches: dict[str, list[str]] = {}
    for stem in _GATE_STEMS:
        branches.setdefault(stem[0], []).append(re.escape(stem[1:]))
    for word in words:
        low = word.lower()
        branches.setdefault(low[0], []).append(re.escape(low[1:]))
        if len(low) >= 3:
            # at least as lenient as SEPARATOR, so the gate misses no spelling
            spelled = _GATE_SEPARATOR.join(re.escape(ch) for ch in low[1:])
            branches[low[0]].append(_GATE_SEPARATOR + spelled)
    parts = [
        re.escape(first) + "(?:" + "|".join(sorted(rest, key=len, reverse=True)) + ")"
        for first, rest in sorted(branches.items())
    ]
    return re.compile("(" + "|".join(parts) + ")")


#: A word character that is not ASCII (the word-start gate needs ASCII words).
_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")
#: _GATE_SEPARATOR in a lower-cased text whose word characters are all ASCII.
_ASCII_GATE_SEPARATOR = r"[^a-z0-9\n]+(?:(?:and|then)[^\S\n]+)?"


@dataclass(frozen=True)
class _AsciiGates:
    """Faster gates for responses whose word characters are all ASCII (see :func:`gate_matches`).

    The rules need their stems at word starts and study words count only
    between non-letters, so these gates look for stems and study words only
    after a non-letter, not inside words (:func:`_gate` tries nearly every
    letter). The character before is part of a match: texts are searched
    with one character put before them, so ``match.start()`` is the position
    of the stem or word in the text without it, and ``match.group(1)`` is what
    :func:`_gate` reports there.
    """

    letters: re.Pattern[str]  # over the response with every non-letter made a space
    word_start: re.Pattern[str]  # over the response: spellings too
    study: re.Pattern[str]  # a study word or a spelling of one, at a given position
    lone_letter: re.Pattern[str]  # a spelling of a study word has its second letter alone


@functools.cache
def _ascii_gates(words: frozenset[str]) -> _AsciiGates | None:
    """The gates of :class:`_AsciiGates` for study ``words`` (None unless all ASCII letters)."""
    lows = sorted(word.lower() for word in words)
    if not all(low.isascii() and low.isalpha() for low in lows):
        return None
    spelled: dict[str, list[str]] = {}
    for low in sorted(lows, key=len, reverse=True):  # longer spellings first, as in _gate
        if len(low) >= 3:
            separated = _ASCII_GATE_SEPARATOR.join(low[1:])
            spelled.setdefault(low[0], []).append(_ASCII_GATE_SEPARATOR + separated)
    anything = trie([*_GATE_STEMS, *lows], spelled)
    study = trie(lows, spelled) or "(?!)"  # (?!): no study word, nothing to match
    seconds = "".join(sorted({low[1] for low in lows if len(low) >= 3}))
    return _AsciiGates(
        # stems and study words after a space (no spelling, see gate_matches)
        re.compile(f" ({trie([*_GATE_STEMS, *lows], {})})"),
        # after a word character that is not a letter (a digit, "_"): study words only
        re.compile(rf"[^a-z]((?<![0-9_])(?:{anything})|{study})"),
        re.compile(study),
        re.compile(f" [{seconds}] " if seconds else "(?!)"),
    )


#: Every byte but a lower-case ASCII letter to a space.
_LETTERS_ONLY = byte_table(lambda c: c if "a" <= c <= "z" else " ")
#: ASCII letters to "a", marks ``*`~`` to "*", every other byte to a space.
_MARKS_MASK = byte_table(lambda c: "a" if is_ascii_letter(c) else "*" if c in "*`~" else " ")


def _study_after_marks(low_text: str, study: re.Pattern[str]) -> bool:
    """Whether a study word or spelling starts after marks right after a letter ("x**hello").

    Without its marks the response has a letter there, so the gates of
    :class:`_AsciiGates` would not look there, whereas the naming rules
    read the line as written.
    """
    mask = low_text.encode("ascii", "replace").translate(_MARKS_MASK)
    at = mask.find(b"a*")
    while at >= 0:
        end = at + 2
        while end < len(mask) and mask[end] == 42:
            end += 1
        if study.match(low_text, end):
            return True
        at = mask.find(b"a*", end)
    return False


def gate_matches(low_text: str, clean: str, study: frozenset[str]) -> Iterator[re.Match[str]]:
    """The gate's matches on a lower-cased response ``low_text`` (``clean``: without marks).

    Each match starts where a stem or study word starts in ``clean``, and its
    group 1 is the stem or word found. The fastest gate that finds everything
    the line rules need is used: the letters gate of :class:`_AsciiGates` when
    no study word can be spelled out (its second letter is nowhere alone) and
    none follows marks right after a letter; else, without marks, the
    word-start gate; else :func:`_gate`.
    """
    gates = _ascii_gates(study)
    if gates is None or not (clean.isascii() or _NON_ASCII_WORD.search(clean) is None):
        return _gate(study).finditer(clean)
    # every non-letter a space (one character per character: "?" for non-ASCII)
    letters = (" " + clean).encode("ascii", "replace").translate(_LETTERS_ONLY).decode("ascii")
    if gates.lone_letter.search(letters) is None and (
        clean is low_text or not _study_after_marks(low_text, gates.study)
    ):
        return gates.letters.finditer(letters)
    if clean is low_text:
        return gates.word_start.finditer("\n" + low_text)
    return _gate(study).finditer(clean)


def colon_line_before_last(lines: list[str]) -> bool:
    """Whether a line other than the last ends with a colon.

    A line after such a line can name a word with no cue or study word on it
    ("The word is:" / "L-O-V-E"), so the gate cannot rule the response out.
    """
    return any(":" in line and LINE_END_COLON.search(line) for line in lines[:-1])


@functools.cache
def stems_of(found: str) -> frozenset[str]:
    """Stems a gate match stands for (a study word such as LINES also carries 'line')."""
    return frozenset(s for s in ALL_STEMS if found.startswith(s))
