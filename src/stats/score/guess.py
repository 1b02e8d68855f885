"""Guessability: how likely a word is given the acrostic letters already visible.

Definition (analysis plan, section 2). For a target word ``w`` of length ``L``
and the visible prefix ``p`` (the first ``j`` initials),

    g(w, p) = f(w) / sum of f(v) over candidate words v that start with p
              (and have length L when ``length_known=True``),

and ``g = 0`` when ``w`` does not start with ``p`` or is not in the lexicon.
``f`` is the ``wordfreq`` English frequency (the "large" list, Zipf scale
converted to a frequency: ``f = 10 ** (zipf - 9)``).

Candidate set (documented choices):

* alphabetic entries only (``str.isalpha``: no digits, apostrophes or hyphens),
  of at least two letters (plus ``a`` and ``i``), upper-cased;
* Zipf frequency ``>= MIN_ZIPF`` (3.0, about one use per million words: 28k
  words) to drop the fragments and typos of the large list ("zeb");
* the target itself is always a candidate when wordfreq knows it at all, so
  ``g(w, L) = 1`` for any real word under the length-known variant;
* a target unknown to wordfreq (``HELOL``, phrases such as ``ICANSEE``) gets
  ``g = 0``: a word-frequency prior cannot guess it. Use a table to override.

Length handling: by default the length is *not* known (``LENGTH_KNOWN = False``)
- a reader who sees ``H, E, L`` does not know how many lines will follow, so
every continuation (HELP, HELD, HELLO, HELICOPTER...) competes. The
length-known variant is available for sensitivity analyses and plots.

Once all ``L`` letters are visible further initials add nothing: the prefix
used is the first ``min(j, L)`` initials.

A user table (CSV with columns ``word, letters_visible, probability``, e.g.
measured by cross-prediction with an untuned model) overrides the lexicon for
the (word, letters_visible) pairs it lists; other pairs fall back to the lexicon
(when the visible initials match the word's prefix; otherwise g is 0).

The lexicon is loaded once per process and every (word, prefix) result is cached.
"""

from __future__ import annotations

import bisect
import csv
import functools
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

MIN_ZIPF = 3.0
LENGTH_KNOWN = False
LANGUAGE = "en"
WORDLIST = "large"


class Lexicon:
    """Candidate words with frequencies, indexed for prefix sums.

    Parameters
    ----------
    frequencies : Mapping[str, float]
        Word -> frequency (any case; upper-cased here).
    min_zipf : float, default MIN_ZIPF
        Words below this Zipf frequency are not candidates (but are remembered
        so that a rare *target* can still be scored).
    """

    def __init__(self, frequencies: Mapping[str, float], min_zipf: float = MIN_ZIPF) -> None:
        threshold = 10 ** (min_zipf - 9)
        self.all_frequencies: dict[str, float] = {}
        candidates: dict[str, float] = {}
        for raw, freq in frequencies.items():
            if not raw.isalpha():
                continue
            word = raw.upper()
            self.all_frequencies[word] = self.all_frequencies.get(word, 0.0) + freq
            if freq >= threshold and (len(word) > 1 or word in ("A", "I")):
                candidates[word] = candidates.get(word, 0.0) + freq
        self.min_zipf = min_zipf
        self.candidates = candidates
        self._words, self._cumulative = self._index(candidates)
        by_length: dict[int, dict[str, float]] = {}
        for word, freq in candidates.items():
            by_length.setdefault(len(word), {})[word] = freq
        self._by_length = {n: self._index(group) for n, group in by_length.items()}
        self._g = functools.lru_cache(maxsize=200_000)(self._g_uncached)

    @staticmethod
    def _index(group: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
        words = sorted(group)
        cumulative = np.concatenate([[0.0], np.cumsum([group[w] for w in words])])
        return words, cumulative

    def frequency(self, word: str) -> float:
        """Frequency of ``word`` (0 when wordfreq does not know it)."""
        return self.all_frequencies.get(word.upper(), 0.0)

    def is_candidate(self, word: str) -> bool:
        """Whether ``word`` is in the candidate set (alphabetic, frequent enough)."""
        return word.upper() in self.candidates

    def prefix_mass(self, prefix: str, length: int | None = None) -> float:
        """Total candidate frequency of words starting with ``prefix`` (of ``length`` if given)."""
        if length is None:
            words, cumulative = self._words, self._cumulative
        else:
            if length not in self._by_length:
                return 0.0
            words, cumulative = self._by_length[length]
        lo = bisect.bisect_left(words, prefix)
        hi = bisect.bisect_left(words, prefix + "\U0010ffff")
        return float(cumulative[hi] - cumulative[lo])

    def _g_uncached(self, word: str, prefix: str, length_known: bool) -> float:
        if not word.startswith(prefix):
            return 0.0
        freq = self.all_frequencies.get(word, 0.0)
        if freq == 0.0:
            return 0.0
        mass = self.prefix_mass(prefix, len(word) if length_known else None)
        if word not in self.candidates:  # a rare target is always its own candidate
            mass += freq
        return min(1.0, freq / mass)

    def g(self, word: str, prefix: str, *, length_known: bool = LENGTH_KNOWN) -> float:
        """P(word | visible initials ``prefix``); see the module docstring.

        Parameters
        ----------
        word : str
            Target word (any case).
        prefix : str
            The visible initials; only the first ``len(word)`` are used.
        length_known : bool, default LENGTH_KNOWN
            Restrict candidates to words of the target's length.

        Returns
        -------
        float
            In [0, 1].
        """
        word = word.upper()
        return self._g(word, prefix.upper()[: len(word)], length_known)


@functools.cache
def lexicon(min_zipf: float = MIN_ZIPF) -> Lexicon:
    """The English wordfreq lexicon, loaded once per process (no network).

    Parameters
    ----------
    min_zipf : float, default MIN_ZIPF
        Minimum Zipf frequency of a candidate word.

    Returns
    -------
    Lexicon
    """
    import wordfreq

    return Lexicon(wordfreq.get_frequency_dict(LANGUAGE, WORDLIST), min_zipf=min_zipf)


GuessTable = dict[tuple[str, int], float]


def load_guessability_table(path: Path) -> GuessTable:
    """Read a user guessability table.

    Parameters
    ----------
    path : Path
        CSV with a header ``word, letters_visible, probability`` (other columns
        are ignored; a word is matched in any case).

    Returns
    -------
    dict
        ``(WORD, letters_visible) -> probability``.

    Raises
    ------
    ValueError
        Naming the file, line and field of the first bad value.
    """
    path = Path(path)
    table: GuessTable = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"word", "letters_visible", "probability"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {sorted(missing)}")
        for line_no, row in enumerate(reader, start=2):
            word = (row["word"] or "").strip().upper()
            if not word.isalpha():
                raise ValueError(
                    f"{path}: line {line_no}: field 'word' is not a word: {row['word']!r}"
                )
            try:
                visible = int(row["letters_visible"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: line {line_no}: field 'letters_visible' is not an integer: "
                    f"{row['letters_visible']!r}"
                ) from None
            if visible < 1:
                raise ValueError(f"{path}: line {line_no}: field 'letters_visible' must be >= 1")
            try:
                probability = float(row["probability"])
            except (TypeError, ValueError):
                probability = math.nan
            if not 0.0 <= probability <= 1.0:
                raise ValueError(
                    f"{path}: line {line_no}: field 'probability' must be in [0, 1]: "
                    f"{row['probability']!r}"
                )
            table[(word, visible)] = probability
    return table


def guessability(
    word: str,
    visible: str | int,
    *,
    length_known: bool = LENGTH_KNOWN,
    table: GuessTable | None = None,
) -> float:
    """g(word, visible): P(word | the initials visible so far).

    Parameters
    ----------
    word : str
        Target word.
    visible : str or int
        The visible initials (a string, compared with the word's prefix), or a
        number ``j`` of letters, meaning the word's own first ``j`` letters.
    length_known : bool, default LENGTH_KNOWN
        Restrict candidates to words of the target's length.
    table : dict, optional
        A user table from :func:`load_guessability_table`; it wins for the
        pairs it lists when the visible initials match the word's prefix.

    Returns
    -------
    float
        In [0, 1].
    """
    word = word.upper()
    prefix = word[:visible] if isinstance(visible, int) else visible.upper()[: len(word)]
    if table is not None and word.startswith(prefix):
        value = table.get((word, len(prefix)))
        if value is not None:
            return value
    return lexicon().g(word, prefix, length_known=length_known)


def guessability_curve(
    word: str,
    *,
    length_known: bool = LENGTH_KNOWN,
    table: GuessTable | None = None,
) -> pd.DataFrame:
    """g(word, j) for j = 1..len(word), for plots.

    Parameters
    ----------
    word : str
        Target word.
    length_known : bool, default LENGTH_KNOWN
        Restrict candidates to words of the target's length.
    table : dict, optional
        A user table overriding the lexicon.

    Returns
    -------
    pandas.DataFrame
        Columns ``word`` (upper case), ``letters_visible`` (1..L), ``guessability``.
    """
    word = word.upper()
    visible = list(range(1, len(word) + 1))
    return pd.DataFrame(
        {
            "word": pd.Series([word] * len(visible), dtype="string"),
            "letters_visible": pd.Series(visible, dtype="int64"),
            "guessability": pd.Series(
                [guessability(word, j, length_known=length_known, table=table) for j in visible],
                dtype="float64",
            ),
        }
    )
