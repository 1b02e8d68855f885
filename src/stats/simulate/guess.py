"""The simulator's guessability prior: P(word | first j letters visible).

The analysis plan (section 2) defines g(w, j) = f(w) / sum of f(v) over lexicon words v
that start with w's first j letters (of w's length when ``length_known``), with f the
English word frequency from ``wordfreq`` (large list, ``f = 10 ** (zipf - 9)``), alphabetic
candidates with Zipf >= ``min_zipf``, the target always its own candidate, and g = 0 for
targets wordfreq does not know (HELOL, ICANSEE). The defaults match the scorer's
(length unknown, Zipf >= 3). The simulator keeps its own copy so that a study's truth
does not move when the scorer is tuned; the values used are written into ``truth.json``.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

import numpy as np
import wordfreq


@lru_cache(maxsize=8)
def _index(min_zipf: float, length: int | None) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted upper-case candidates (of one length, or all) and cumulative frequencies."""
    threshold = 10.0 ** (min_zipf - 9.0)
    totals: dict[str, float] = {}
    for raw, freq in wordfreq.get_frequency_dict("en", "large").items():
        if freq < threshold or not raw.isalpha():
            continue
        word = raw.upper()
        if len(word) == 1 and word not in ("A", "I"):
            continue
        if length is not None and len(word) != length:
            continue
        totals[word] = totals.get(word, 0.0) + freq
    words = tuple(sorted(totals))
    cumulative = np.concatenate([[0.0], np.cumsum([totals[w] for w in words])])
    return words, cumulative


def word_zipf(word: str) -> float:
    """Zipf frequency of ``word`` (0 for non-words such as HELOL or ICANSEE)."""
    return float(wordfreq.zipf_frequency(word.lower(), "en", wordlist="large"))


@lru_cache(maxsize=256)
def guessability(word: str, min_zipf: float = 3.0, length_known: bool = False) -> tuple[float, ...]:
    """g(word, j) for j = 1..len(word).

    Parameters
    ----------
    word : str
        Target word (any case).
    min_zipf : float
        Candidates rarer than this Zipf frequency are left out (wordfreq's large list
        contains fragments such as "zeb").
    length_known : bool
        Restrict candidates to words of the target's length.

    Returns
    -------
    tuple of float
        One probability per number of visible letters (rounded to 6 decimals); all zeros
        when wordfreq does not know ``word``.

    Examples
    --------
    >>> g = guessability("HELLO", length_known=True)
    >>> g[0] < g[2] <= g[4] == 1.0
    True
    """
    target = word.upper()
    f_target = float(wordfreq.word_frequency(target.lower(), "en", wordlist="large"))
    if f_target <= 0.0:
        return tuple(0.0 for _ in target)
    words, cumulative = _index(float(min_zipf), len(target) if length_known else None)
    is_candidate = words[bisect.bisect_left(words, target) % max(len(words), 1)] == target
    values = []
    for j in range(1, len(target) + 1):
        prefix = target[:j]
        lo = bisect.bisect_left(words, prefix)
        hi = bisect.bisect_left(words, prefix + "\U0010ffff")
        mass = float(cumulative[hi] - cumulative[lo]) + (0.0 if is_candidate else f_target)
        values.append(round(min(1.0, f_target / mass), 6))
    return tuple(values)
