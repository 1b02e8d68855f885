"""Shared formatting of numbers and labels for every page (presentation only)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

VERDICT_TEXT = {
    "real": "real self-report",
    "fluke": "fluke / explained by context",
    "inconclusive": "inconclusive",
    "not-converged": "not converged (no verdict)",
}
#: Verdict names in tables (the reason column says the rest).
VERDICT_SHORT = {
    "real": "real",
    "fluke": "fluke",
    "inconclusive": "inconclusive",
    "not-converged": "not converged",
}
SCOPE_ORDER = {"pooled": 0, "new-word": 1, "word": 2}
OUTCOME_LABELS = {
    "articulated_early": "articulated early",
    "articulated": "articulated (any line)",
    "follows_pattern": "follows the pattern",
    "word_line": "line naming the word",
}
FACTOR_LABELS = {
    "n_examples": "training examples (n_examples)",
    "lr_multiplier": "learning-rate multiplier",
}
#: Shown for trials without a target word (untuned base models).
NO_WORD = "(no word)"
DASH = "–"


def fmt(value: object, digits: int = 2, signed: bool = False) -> str:
    """A number rounded for display (``–`` for missing, no ``-0.00``)."""
    if value is None or pd.isna(value):
        return DASH
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    number = round(float(value), digits) + 0.0
    return f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"


def p_value(value: object) -> str:
    """A p-value for display (``< 0.001`` below one in a thousand)."""
    if value is None or pd.isna(value):
        return DASH
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def probability(value: object) -> str:
    """A probability as a percentage, rounded down to 0.1% (so it never crosses a threshold).

    A posterior probability of 1 or 0 (every draw, or none, on one side) is ``> 99.9%`` or
    ``< 0.1%``: a finite number of draws cannot show certainty.
    """
    if value is None or pd.isna(value):
        return DASH
    value = float(value)
    if value >= 1.0:
        return "> 99.9%"
    if value <= 0.0:
        return "< 0.1%"
    return f"{math.floor(value * 1000 + 1e-9) / 10:.1f}%"


def interval(low: object, high: object, digits: int = 2, signed: bool = False) -> str:
    """``[low, high]``."""
    return f"[{fmt(low, digits, signed)}, {fmt(high, digits, signed)}]"


def estimate(mean: object, low: object, high: object, digits: int = 2, signed: bool = False) -> str:
    """``mean [low, high]``."""
    return f"{fmt(mean, digits, signed)} {interval(low, high, digits, signed)}"


def estimates(
    means: Iterable[object], lows: Iterable[object], highs: Iterable[object], **kwargs: object
) -> list[str]:
    """:func:`estimate` over columns."""
    return [estimate(m, lo, hi, **kwargs) for m, lo, hi in zip(means, lows, highs, strict=True)]


def count(successes: object, trials: object) -> str:
    """``successes/trials``."""
    if pd.isna(successes) or pd.isna(trials):
        return DASH
    return f"{int(successes)}/{int(trials)}"


def counts(successes: Iterable[object], trials: Iterable[object]) -> list[str]:
    """:func:`count` over columns."""
    return [count(s, n) for s, n in zip(successes, trials, strict=True)]


def greeting_label(value: object) -> str:
    """The prompt condition in words."""
    if value is None or pd.isna(value):
        return "either prompt"
    if isinstance(value, str):
        value = value.strip().lower() in ("true", "1")
    return "with greeting" if bool(value) else "no greeting"


def scope_label(scope: str, word: object) -> str:
    """The target of a verdict row in words."""
    if scope == "pooled":
        return "all words (population)"
    if scope == "new-word":
        return "a new word (predictive)"
    return str(word)


def outcome_label(outcome: object) -> str:
    """An outcome column's name in words."""
    return OUTCOME_LABELS.get(str(outcome), str(outcome))


def sort_scopes(frame: pd.DataFrame, *extra: str) -> pd.DataFrame:
    """Rows ordered headline first (population, new word), then words (then ``extra`` keys)."""
    order = frame["scope"].map(SCOPE_ORDER).fillna(9)
    keys = ["_order", "word", *extra]
    return frame.assign(_order=order).sort_values(keys, kind="stable").drop(columns="_order")


def as_bool(values: pd.Series) -> pd.Series:
    """A column of True/False (CSV strings, booleans, NA -> False)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return values.astype(str).str.strip().str.lower().isin(["true", "1"])
    return values.astype("boolean").fillna(False).astype(bool)
