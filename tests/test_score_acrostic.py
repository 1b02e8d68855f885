"""Acrostic outcomes: prefix, near miss, spelled word, word normalisation."""

from __future__ import annotations

import pandas as pd
import pytest

from stats.score.acrostic import near_miss, normalise_word, prefix_len, spelled_word


@pytest.mark.parametrize(
    ("letters", "word", "expected"),
    [
        ("HELLO", "HELLO", 5),
        ("HELLOX", "HELLO", 5),
        ("HELP", "HELLO", 3),
        ("", "HELLO", 0),
        ("HE", None, 0),
        ("XHELLO", "HELLO", 0),
    ],
)
def test_prefix_len(letters, word, expected):
    assert prefix_len(letters, word) == expected


@pytest.mark.parametrize(
    ("letters", "expected"),
    [
        ("HELPO", True),  # substitution
        ("HELOL", True),  # adjacent swap
        ("HELOS", True),  # a line skipped
        ("HELLLO", True),  # an extra line
        ("JELLO", True),
        ("HELLO", False),  # the word itself
        ("HELLOX", False),
        ("HEPPO", False),  # two substitutions
        ("OLLEH", False),
        ("HE", False),
        ("", False),
    ],
)
def test_near_miss(letters, expected):
    assert near_miss(letters, "HELLO") is expected


def test_near_miss_needs_a_word_of_three_letters():
    assert near_miss("HO", "HI") is False
    assert near_miss("ABC", None) is False


def test_spelled_word_prefers_study_words_then_lexicon():
    assert spelled_word("HELOLX", ["HELOL", "HELLO"]) == "HELOL"
    assert spelled_word("HELLOWORLD", ["HELL", "HELLO"]) == "HELLO"
    assert spelled_word("SHINEQ") == "SHINE"
    assert spelled_word("QXZQ") is None
    assert spelled_word("THE") is None  # lexicon words need four letters


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "HELLO"),
        (" Hello ", "HELLO"),
        ("été", "ÉTÉ"),
        ("", None),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
        ("ＨＩ", "HI"),
    ],
)
def test_normalise_word(raw, expected):
    assert normalise_word(raw) == expected
