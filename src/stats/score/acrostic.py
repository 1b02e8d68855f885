"""Acrostic outcomes: prefix match, near misses and the word the initials spell."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from stats.score.guess import lexicon

#: A lexicon word must have at least this many letters to be reported as
#: ``spelled_word`` (shorter prefixes of random initials are words by chance:
#: "THE", "TIS"...). Study words (targets) of any length >= 2 are reported.
MIN_SPELLED_LEXICON_LENGTH = 4


@functools.lru_cache(maxsize=4096)
def _normalise_text(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in text)


def normalise_word(word: str | None) -> str | None:
    """Upper-case, NFKC-normalised target word (``None`` for missing or blank).

    Parameters
    ----------
    word : str or None
        A target word as written in a manifest (``"hello"``, ``" HELLO "``).

    Returns
    -------
    str or None
    """
    if isinstance(word, str):
        return _normalise_text(word)
    return None  # None, NaN, pandas.NA


def prefix_len(letters: str, word: str | None) -> int:
    """Number of leading initials that match the target word.

    Parameters
    ----------
    letters : str
        Upper-case initials (``acrostic_letters``).
    word : str or None
        Upper-case target word.

    Returns
    -------
    int
        0 when no word is given.
    """
    if not word:
        return 0
    n = 0
    for a, b in zip(letters, word, strict=False):
        if a != b:
            break
        n += 1
    return n


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are exactly one edit apart.

    An edit is a substitution, an adjacent transposition, an insertion or a deletion
    (optimal-string-alignment distance 1).
    """
    if a == b:
        return False
    la, lb = len(a), len(b)
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    if abs(la - lb) != 1:
        return False
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def near_miss(letters: str, word: str | None) -> bool:
    """Whether the initials spell the target with exactly one wrong letter.

    The first ``L`` initials (``L = len(word)``; also ``L - 1`` and ``L + 1`` to
    allow a skipped or an extra line) are compared with the word: a near miss
    is one substitution (HELPO), one swap of adjacent letters (HELOL), one
    missing letter (HELO...) or one extra letter (HELLLO) - and the initials do
    not spell the word itself. Targets shorter than three letters never
    near-miss.

    Parameters
    ----------
    letters : str
        Upper-case initials.
    word : str or None
        Upper-case target word.

    Returns
    -------
    bool
    """
    if not word or len(word) < 3 or letters.startswith(word):
        return False
    n = len(word)
    for size in (n, n - 1, n + 1):
        if size <= len(letters) and _one_edit(letters[:size], word):
            return True
    return False


def spelled_word(letters: str, study_words: Iterable[str] = ()) -> str | None:
    """The word the first initials spell, when it is a known word.

    Known words are, first, the study's target words (the longest one the
    initials start with wins), then lexicon words of at least
    :data:`MIN_SPELLED_LEXICON_LENGTH` letters (the longest such prefix of the
    initials). Heuristic: a long non-acrostic response can spell a common word
    by chance; compare against base-model rates.

    Parameters
    ----------
    letters : str
        Upper-case initials.
    study_words : iterable of str
        Upper-case target words of the study (including the trial's own).

    Returns
    -------
    str or None
    """
    best = None
    for word in study_words:
        if len(word) >= 2 and letters.startswith(word) and (best is None or len(word) > len(best)):
            best = word
    if best is not None:
        return best
    candidates = lexicon().candidates
    for size in range(min(len(letters), 20), MIN_SPELLED_LEXICON_LENGTH - 1, -1):
        if letters[:size] in candidates:
            return letters[:size]
    return None
