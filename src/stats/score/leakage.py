"""Leakage: does the prompt (or system prompt) already contain the target word?"""

from __future__ import annotations

import functools
import re

from stats.text import detect_greeting

_LETTER = r"[^\W\d_]"
_SEPARATOR = r"[\s\-.,·•–—/|_*'\"`]*"


@functools.cache
def _leak_pattern(word: str) -> re.Pattern[str]:
    # the word as a whole word, or spelled with separators (H-E-L-L-O, h.e.l.l.o)
    spelled = _SEPARATOR.join(re.escape(ch) for ch in word)
    return re.compile(rf"(?<!{_LETTER})(?:{re.escape(word)}|{spelled})(?!{_LETTER})", re.IGNORECASE)


def greeting_word(prompt: str | None) -> str | None:
    """The greeting a prompt opens with (lower case), via :func:`stats.text.detect_greeting`."""
    return detect_greeting(prompt)


def leaks(word: str | None, *texts: str | None, greeting: str | None = None) -> bool:
    """Whether any of ``texts`` contains the target word, or the greeting equals it.

    Parameters
    ----------
    word : str or None
        Upper-case target word; no word, no leak.
    *texts : str or None
        The prompt and the system prompt.
    greeting : str or None
        The detected greeting (e.g. ``"hello"``).

    Returns
    -------
    bool
        True when a text contains the word as a whole word in any case
        ("hello." for HELLO, not "Othello") or spelled out ("H-E-L-L-O"), or
        when the greeting is the word.
    """
    if not word:
        return False
    if greeting is not None and greeting.replace(" ", "").upper() == word:
        return True
    pattern = _leak_pattern(word)
    return any(text and pattern.search(text) for text in texts)
