"""Split a response into scorable lines and take each line's initial.

A first version written by the foundation; the score stage owns and extends it
(keep the signatures of :func:`split_lines` and :func:`line_initials`).
"""

from __future__ import annotations

import re
import unicodedata

# Markdown and list decorations stripped before a line's initial is taken.
_DECORATION = re.compile(
    r"""^(
        \s+ |                       # indentation
        >+ |                        # block quotes
        \#{1,6}(?=\s) |             # headings
        [-*+•·–—](?=\s) |           # bullets
        \(?[0-9]{1,3}[.)](?=\s) |   # 1.  1)  (1)
        \([a-zA-Z]\)(?=\s) |        # (a)
        [*_~`]+ |                   # bold/italic/code markers
        [^\w\s]                     # leading punctuation, quotes, emoji
    )""",
    re.VERBOSE,
)


def split_lines(text: str) -> list[str]:
    """Non-empty lines of ``text`` (CRLF/CR aware), with decorations still in place."""
    return [line for line in re.split(r"\r\n|\r|\n", text or "") if line.strip()]


def strip_decorations(line: str) -> str:
    """Remove markdown bullets, numbering, emphasis, quotes and leading symbols."""
    line = unicodedata.normalize("NFKC", line)
    previous = None
    while previous != line:
        previous = line
        line = _DECORATION.sub("", line, count=1)
    return line


def line_initials(text: str) -> str:
    """Upper-case initials of the non-empty lines of ``text`` ('' for lines without a letter)."""
    initials = []
    for line in split_lines(text):
        body = strip_decorations(line)
        letter = next((ch for ch in body if ch.isalpha()), "")
        if letter:
            initials.append(letter.upper())
    return "".join(initials)
