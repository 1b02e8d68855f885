"""Split a response into scorable lines and take each line's initial.

Rules (the gold set in ``tests/gold/`` covers each one):

* Text is NFKC-normalised first, so styled letters (``𝐇𝐞𝐥𝐥𝐨``, ``Ⓗ``) and
  full-width forms become plain letters; CRLF, CR and Unicode line separators
  all end a line.
* Blank lines are ignored, and so are lines without any letter (horizontal
  rules ``---``, emoji-only lines, bare numbers) and code-fence lines
  (```` ``` ````, ``~~~``): they are not lines of the acrostic, so line numbers
  count only lines that carry an initial.
* A line's initial is its first letter after skipping decorations: indentation,
  block quotes ``>``, headings ``#``, bullets ``- * + •``, emphasis ``** __ ~~ `
  ``, leading HTML tags ``<b>``, quotes, brackets, punctuation, emoji and other
  symbols, whole tokens that start with a digit (``1.``, ``2)``, ``(3)``,
  ``1990s``), and one list label made of a single letter or a roman numeral
  followed by ``.``, ``)`` or ``:`` (``(a)``, ``b)``, ``iv.``, ``H:``), and
  task-list boxes (``- [ ]``, ``- [x]``).
* The initial is upper-cased when that gives a single character (``ß`` stays).
* Optionally (``sentences_as_lines=True``) a response that is a single
  paragraph (exactly one non-blank line) is split into sentences, which are
  then scored as lines. A full stop after a single letter (``H. E. L.``) does
  not end a sentence.

Known limitation: a line that opens with a one-letter word followed by a full
stop or bracket (``A. Lincoln``) loses that word as a list label.
"""

from __future__ import annotations

import re
import unicodedata

# Everything that may precede a line's initial. Order matters: HTML tags before
# the generic "non-word character" so that "<b>" is skipped as a whole.
_JUNK = r"(?:<[/!]?[A-Za-z][^>\n]{0,40}>|\[[ xX]\]|[^\w\n]|_|\d\w*)*"
_LABEL = r"(?:\(?(?:[A-Za-z]|[ivxIVX]{2,5})[.):](?=[\s*_])(?!\s*[^\W\d_][.):-](?:\s|$)))"
_INITIAL = re.compile(rf"{_JUNK}(?:{_LABEL}{_JUNK})?([^\W\d_])")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
# Shortcut of _INITIAL: a line made of characters of _SIMPLE_JUNK (each one skipped
# on its own by _JUNK, none starting a longer _JUNK item such as "<b>", "[x]" or
# "1.") then an ASCII letter followed by a character not in _LABEL_NEXT (after a
# roman-numeral letter: not in _ROMAN_LABEL_NEXT) has no list label, so that
# letter is its initial.
_SIMPLE_JUNK = " \t-*+>#_\"'`~"
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ROMAN = frozenset("ivxIVX")
_LABEL_NEXT = ".):"
_ROMAN_LABEL_NEXT = ".):ivxIVX"
_DECORATION = re.compile(rf"{_JUNK}(?:{_LABEL}{_JUNK})?(?=[^\W\d_])")
# Candidate sentence boundaries inside one paragraph: terminal punctuation,
# optional closing quotes/brackets/emphasis, whitespace, then not a lower-case letter.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]*_]*(\s+)(?=[^a-z\s])")


def _normalise(text: str | None) -> str:
    if not text:
        return ""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def split_lines(text: str | None) -> list[str]:
    """Non-blank lines of ``text``, with decorations still in place.

    Parameters
    ----------
    text : str or None
        A response; CRLF, CR and Unicode line separators are all line breaks.

    Returns
    -------
    list of str
        The lines that contain a non-space character, in order.
    """
    return [line for line in _normalise(text).splitlines() if line.strip()]


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (terminal punctuation followed by a non-lower-case start).

    Parameters
    ----------
    paragraph : str
        One line of text.

    Returns
    -------
    list of str
        The sentences, stripped, blank ones dropped. A full stop that follows a
        single letter (``H. E. L. L. O.``, ``J. Smith``) is not a boundary.
    """
    sentences = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        stop = match.start()
        lone_letter = (
            paragraph[stop] == "."
            and stop >= 1
            and paragraph[stop - 1].isalpha()
            and (stop == 1 or not paragraph[stop - 2].isalnum())
        )
        if lone_letter:  # "H. E. L." or "J. Smith": an initial, not a sentence end
            continue
        sentences.append(paragraph[start : match.start(1)])
        start = match.end(1)
    sentences.append(paragraph[start:])
    return [s.strip() for s in sentences if s.strip()]


def strip_decorations(line: str) -> str:
    """Remove markdown bullets, numbering, emphasis, quotes and leading symbols.

    Parameters
    ----------
    line : str
        One line of a response.

    Returns
    -------
    str
        The line from its initial onwards (``""`` when it has no letter).
    """
    line = _normalise(line)
    match = _DECORATION.match(line)
    if match is None:
        return ""
    return line[match.end() :]


def scorable_lines(text: str | None, *, sentences_as_lines: bool = False) -> list[tuple[str, str]]:
    """The lines that count, each with its upper-case initial.

    Parameters
    ----------
    text : str or None
        A response.
    sentences_as_lines : bool, default False
        Split a single-paragraph response into sentences.

    Returns
    -------
    list of (str, str)
        ``(initial, line)`` for every line that has a letter, in order; the
        line text is NFKC-normalised but otherwise as written.
    """
    initials, lines = initials_and_lines(text, sentences_as_lines=sentences_as_lines)
    return list(zip(initials, lines, strict=True))


def initials_and_lines(
    text: str | None, *, sentences_as_lines: bool = False
) -> tuple[str, list[str]]:
    """The initials and the lines of :func:`scorable_lines`, as a string and a list.

    Takes the arguments of :func:`scorable_lines`; returns one initial per
    scorable line (``acrostic_letters``) and those lines.
    """
    text = _normalise(text)
    if sentences_as_lines:
        raw = [line for line in text.splitlines() if line and not line.isspace()]
        if len(raw) == 1:
            raw = split_sentences(raw[0])
    else:
        raw = text.splitlines()  # blank lines have no initial: _INITIAL skips them
    may_fence = "```" in text or "~~~" in text
    match_initial = _INITIAL.match
    initials = []
    lines = []
    for line in raw:
        rest = line.lstrip(_SIMPLE_JUNK)
        first = rest[:1]
        if first in _ASCII_LETTERS:
            # simple decorations then a letter: that letter is the initial unless
            # it may start a list label ("a)", "b.", "iv:"), which _INITIAL judges
            second = rest[1:2]
            if second and second not in (_ROMAN_LABEL_NEXT if first in _ROMAN else _LABEL_NEXT):
                if may_fence and _FENCE.match(line):
                    continue
                initials.append(first)
                lines.append(line)
                continue
        match = match_initial(line)
        if match is None or (may_fence and _FENCE.match(line)):
            continue
        initials.append(match[1])
        lines.append(line)
    joined = "".join(initials)
    upper = joined.upper()
    if len(upper) == len(joined):  # (no letter upper-cased to several characters, as "ß")
        return upper, lines
    return "".join([_upper(letter) for letter in initials]), lines


def _upper(letter: str) -> str:
    upper = letter.upper()
    return upper if len(upper) == 1 else letter


def line_initials(text: str | None, *, sentences_as_lines: bool = False) -> str:
    """Upper-case initials of the lines of ``text`` that contain a letter.

    Parameters
    ----------
    text : str or None
        A response or a training example.
    sentences_as_lines : bool, default False
        Split a single-paragraph response into sentences.

    Returns
    -------
    str
        One character per scorable line, e.g. ``"HELLO"``.
    """
    return "".join(i for i, _ in scorable_lines(text, sentences_as_lines=sentences_as_lines))
