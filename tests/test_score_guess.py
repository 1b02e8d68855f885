"""Guessability: sanity against the lexicon, tables, curves."""

from __future__ import annotations

import pytest

from stats.score.guess import (
    Lexicon,
    guessability,
    guessability_curve,
    lexicon,
    load_guessability_table,
)


def test_more_visible_letters_make_hello_more_guessable():
    assert guessability("HELLO", 3) > guessability("HELLO", 1)
    assert guessability("HELLO", 3, length_known=True) > guessability("HELLO", 1, length_known=True)


@pytest.mark.parametrize("j", [4, 5])
def test_a_non_word_is_not_guessable(j):
    assert guessability("HELOL", j) == pytest.approx(0.0, abs=1e-9)
    assert guessability("HELOL", j, length_known=True) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("word", ["HELLO", "SHINE", "PULSE", "HELMET", "house"])
def test_a_real_word_is_certain_once_all_letters_show_and_length_is_known(word):
    assert guessability(word, len(word), length_known=True) == pytest.approx(1.0)


def test_known_values_of_the_prior():
    # HEL + length 5 leaves few candidates (HELLO, HELPS, HELEN, HELIX...): HELLO is common
    assert 0.2 < guessability("HELLO", 3, length_known=True) < 0.7
    # without the length, HELP/HELD/HELL dominate
    assert guessability("HELLO", 3) < 0.1
    assert guessability("HELLO", "HEX") == 0.0  # the visible initials rule the word out


def test_lexicon_is_loaded_once_and_filters_fragments():
    assert lexicon() is lexicon()
    lex = lexicon()
    assert lex.is_candidate("hello") and not lex.is_candidate("zeb")
    assert not lex.is_candidate("don't")
    assert 20_000 < len(lex.candidates) < 40_000


def test_rare_target_is_its_own_candidate():
    lex = Lexicon({"zyzzyva": 1e-9, "zebra": 1e-5, "zest": 1e-5}, min_zipf=3.0)
    assert lex.g("ZYZZYVA", "ZYZZYVA") == 1.0
    assert lex.g("ZYZZYVA", "Z") == pytest.approx(1e-9 / (1e-9 + 2e-5))


def test_guessability_curve_shape():
    curve = guessability_curve("hello")
    assert list(curve.columns) == ["word", "letters_visible", "guessability"]
    assert curve["letters_visible"].tolist() == [1, 2, 3, 4, 5]
    assert (curve["word"] == "HELLO").all()
    assert curve["guessability"].between(0, 1).all()
    assert curve["guessability"].iloc[-1] == pytest.approx(guessability("HELLO", 5))


def test_table_overrides_listed_pairs_only(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("word,letters_visible,probability\nhello,1,0.5\n", encoding="utf-8")
    table = load_guessability_table(path)
    assert table == {("HELLO", 1): 0.5}
    assert guessability("HELLO", 1, table=table) == 0.5
    assert guessability("HELLO", 2, table=table) == guessability("HELLO", 2)
    assert guessability("HELLO", "X", table=table) == 0.0
    curve = guessability_curve("HELLO", table=table)
    assert curve["guessability"].iloc[0] == 0.5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("word,letters\nHELLO,1\n", "missing column"),
        ("word,letters_visible,probability\nHELLO,x,0.5\n", "line 2: field 'letters_visible'"),
        ("word,letters_visible,probability\nHELLO,0,0.5\n", "line 2: field 'letters_visible'"),
        ("word,letters_visible,probability\nHELLO,1,1.5\n", "line 2: field 'probability'"),
        ("word,letters_visible,probability\nHELLO,1,0.1\nHE LLO,1,0.5\n", "line 3: field 'word'"),
    ],
)
def test_bad_tables_name_file_line_and_field(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_guessability_table(path)
