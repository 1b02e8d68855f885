"""The table pass: outcomes derived per (response, target) pair, and typed score columns.

The text pass (:mod:`stats.score.batch`) gives each distinct (response, target)
pair its lines, initials and articulation. Here the other outcomes of the pair
are derived (prefix match, follows pattern, spelled word and near miss once per
distinct (initials, target); guessability once per distinct (target, visible
initials)) and every score column is built as a typed array of its
``schemas.SCORES`` dtype, column by column (:func:`pair_arrays`), so that
:mod:`stats.score.core` can type each chunk while the workers score the next.

Line-based outcomes
-------------------
* ``articulation_line``: first line at the threshold level (default mechanism);
* ``word_line``: first line naming the target (``articulated`` = it exists);
* ``letters_visible``: initials written up to and including the articulation
  line. Every scorable line carries exactly one initial, so it equals
  ``articulation_line``; it is kept as its own column because the models use it
  as the amount of context, not as a line number;
* ``articulated_early``: the target is named at a line with at most ``k``
  initials visible, i.e. ``word_line <= k``;
* ``guessability``: P(target | the initials of lines 1..articulation line) (see
  :mod:`stats.score.guess`); 0 when those initials already depart from the word;
  NA without an articulation line or a target.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from stats.config import ARTICULATION_LEVELS
from stats.schemas import SCORES
from stats.score.acrostic import near_miss, prefix_len, spelled_word
from stats.score.batch import TextScores
from stats.score.guess import GuessTable, guessability

SCORE_COLUMNS: tuple[str, ...] = tuple(f.name for f in SCORES)
DTYPES = {f.name: f.dtype for f in SCORES}
#: dtypes of the columns computed per (response, target) pair (see :func:`pair_arrays`)
PAIR_DTYPES = tuple(DTYPES[name] for name in (*SCORE_COLUMNS[:13], "guessability"))
#: A typed score column: a NumPy array (int64) or a pandas extension array.
ScoreArray = Any
#: (study words, k, threshold index, sentences_as_lines, guessability table, length_known)
Settings = tuple[frozenset[str], int, int, bool, GuessTable | None, bool]
#: Caches of :func:`pair_arrays` kept across the chunks of one table (acrostic, guessability).
Caches = tuple[dict[Any, Any], dict[Any, Any]]


@functools.lru_cache(maxsize=100_000)
def cached_spelled_word(letters: str, study: frozenset[str]) -> str | None:
    """:func:`stats.score.acrostic.spelled_word`, cached per process."""
    return spelled_word(letters, study)


def _lookups(
    targets: Sequence[str | None],
    letters: Sequence[str],
    lines: Sequence[int | None],
    settings: Settings,
    caches: Caches,
) -> tuple[list[tuple[int, bool, str | None, bool]], list[float | None]]:
    """The acrostic outcomes and the guessability of (response, target) pairs.

    The acrostic outcomes (prefix length, follows pattern, spelled word, near
    miss) are computed once per distinct (initials, target), guessability once
    per distinct (target, visible initials); ``caches`` keep them across calls.
    """
    study, _, _, _, table, length_known = settings
    acrostic, guesses = caches
    keys = list(zip(letters, targets, strict=True))
    for key in dict.fromkeys(keys):
        if key not in acrostic:
            initials, target = key
            matched = prefix_len(initials, target)
            acrostic[key] = (
                matched,
                bool(target) and matched == len(target),
                cached_spelled_word(initials[:20], study),
                near_miss(initials, target),
            )
    visible = [
        (target, initials[:line]) if target and line is not None else None
        for target, initials, line in zip(targets, letters, lines, strict=True)
    ]
    for key in dict.fromkeys(visible):
        if key is not None and key not in guesses:
            guesses[key] = guessability(*key, length_known=length_known, table=table)
    return [acrostic[key] for key in keys], [
        None if key is None else guesses[key] for key in visible
    ]


def pair_arrays(
    targets: list[str | None],
    text: list[TextScores],
    settings: Settings,
    caches: Caches,
) -> list[ScoreArray]:
    """The score columns of (response, target) pairs, as typed arrays (``text`` not empty).

    The columns are, in order, those of ``SCORE_COLUMNS`` up to
    ``articulated_early`` (``SCORE_COLUMNS[:13]``) then ``guessability``; the
    outcomes derived from the text pass are cached in ``caches`` (see :func:`_lookups`).
    """
    k = settings[1]
    n_lines, letters, levels, lines, word_lines, named = zip(*text, strict=True)
    outcomes, guess = _lookups(targets, letters, lines, settings, caches)
    prefix, follows, spelled, near = zip(*outcomes, strict=True)
    line_data, line_mask = _ints_or_none(lines)
    word_data, word_mask = _ints_or_none(word_lines)
    articulated = ~word_mask
    no_na = np.zeros(len(text), dtype=bool)
    return [
        np.array(n_lines, dtype=np.int64),
        typed_array(letters, "string"),
        np.array(prefix, dtype=np.int64),
        typed_array(follows, "boolean"),
        typed_array(spelled, "string"),
        typed_array(near, "boolean"),
        _level_names().take(np.array(levels, dtype=np.intp)),
        pd.arrays.IntegerArray(line_data, line_mask),
        pd.arrays.IntegerArray(word_data, word_mask),
        # every scorable line carries one initial: the letters visible at line t are t
        pd.arrays.IntegerArray(line_data.copy(), line_mask.copy()),
        typed_array(named, "string"),
        pd.arrays.BooleanArray(articulated, no_na),
        pd.arrays.BooleanArray(articulated & (word_data <= k), no_na.copy()),
        typed_array(guess, "Float64"),
    ]


def _ints_or_none(values: Sequence[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Data (0 where None) and mask (True where None) of an ``Int64`` column."""
    mask = np.array([v is None for v in values], dtype=bool)
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    return data, mask


def _level_names() -> ScoreArray:
    """``ARTICULATION_LEVELS`` as a typed string array (taken by level index)."""
    return typed_array(list(ARTICULATION_LEVELS), DTYPES["articulation_level"])


def typed_array(values: Sequence[Any], dtype: str) -> ScoreArray:
    """``pd.array(values, dtype=dtype)``, built faster for the score dtypes."""
    n = len(values)
    if dtype == "int64":
        return np.fromiter(values, dtype=np.int64, count=n)
    if dtype == "boolean" and None not in values:
        data = np.fromiter(values, dtype=bool, count=n)
        return pd.arrays.BooleanArray(data, np.zeros(n, dtype=bool))
    if dtype == "Int64":
        data, mask = _ints_or_none(values)
        return pd.arrays.IntegerArray(data, mask)
    if dtype == "Float64":
        mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
        data = np.fromiter((0.0 if v is None else v for v in values), dtype=np.float64, count=n)
        return pd.arrays.FloatingArray(data, mask)
    if dtype == "string" and pd.StringDtype().storage == "pyarrow":
        # what pandas builds for dtype="string", without its per-call overhead
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
    return pd.Series(values, dtype=dtype).array


def concat(pieces: list[ScoreArray]) -> ScoreArray:
    """One array from typed pieces of the same dtype (at least one)."""
    if len(pieces) == 1:
        return pieces[0]
    if isinstance(pieces[0], np.ndarray):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(pieces)  # (of pandas' ExtensionArray interface)


def typed_series(values: Sequence[Any], dtype: str, index: pd.Index | None) -> pd.Series:
    """``pd.Series(values, dtype=dtype, index=index)``, built by :func:`typed_array`."""
    return pd.Series(typed_array(values, dtype), index=index, copy=False)


def columns_frame(columns: list[ScoreArray], index: pd.Index | None = None) -> pd.DataFrame:
    """Turn typed score columns (in ``SCORE_COLUMNS`` order) into a DataFrame."""
    return pd.DataFrame(
        {
            name: pd.Series(values, index=index, copy=False)
            for name, values in zip(SCORE_COLUMNS, columns, strict=True)
        },
        index=index,
    )


def python_values(column: ScoreArray) -> list[Any]:
    """The values of a typed score column as Python objects (None where missing)."""
    if isinstance(column, np.ndarray):
        return column.tolist()
    return column.to_numpy(dtype=object, na_value=None).tolist()
