"""Line splitting, decorations and initials."""

from __future__ import annotations

import pytest

from stats.score.lines import (
    line_initials,
    scorable_lines,
    split_lines,
    split_sentences,
    strip_decorations,
)


@pytest.mark.parametrize(
    ("line", "initial"),
    [
        ("Hello", "H"),
        ("   indented", "I"),
        ("- bullet", "B"),
        ("* star", "S"),
        ("+ plus", "P"),
        ("• dot", "D"),
        ("1. one", "O"),
        ("12) twelve", "T"),
        ("(3) three", "T"),
        ("(a) apple", "A"),
        ("b) banana", "B"),
        ("c. cherry", "C"),
        ("iv. four", "F"),
        ("XII) twelve", "T"),
        ("**B**old", "B"),
        ("__U__nder", "U"),
        ("*I*talic", "I"),
        ("~~S~~trike", "S"),
        ("`Code` span", "C"),
        ("> quote", "Q"),
        (">> > nested", "N"),
        ("# Heading", "H"),
        ("###### Deep", "D"),
        ('"Quoted"', "Q"),
        ("“Curly”", "C"),
        ("«Guillemet»", "G"),
        ("🌟 Star", "S"),
        ("👋🏽 Wave", "W"),
        ("❤️ Heart", "H"),
        ("...Dots", "D"),
        ("— Dash", "D"),
        ("<b>T</b>ag", "T"),
        ("- [x] Done", "D"),
        ("- [ ] Todo", "T"),
        ("1990s: Years", "Y"),
        ("H: Happy", "H"),
        ("𝐁old math", "B"),
        ("Ｆullwidth", "F"),
        ("élan", "É"),
        ("ñandú", "Ñ"),
        ("straße", "S"),
        ("ßtart", "ß"),
        ("I. Roman one", "R"),
        ("H. E. L. L. O. spelled", "H"),
    ],
)
def test_initial_of_decorated_line(line, initial):
    assert line_initials(line) == initial


@pytest.mark.parametrize(
    "line", ["---", "***", "* * *", "___", "🎉🎉", "42", "   ", "```python", "~~~"]
)
def test_lines_without_an_initial_are_not_lines(line):
    assert scorable_lines(f"Alpha\n{line}\nBeta") == [("A", "Alpha"), ("B", "Beta")]


def test_line_breaks_crlf_cr_and_unicode_separators():
    assert line_initials("Ab\r\nCd\rEf\u2028Gh\u2029Ij\nKl") == "ACEGIK"
    assert split_lines("a\r\n\r\n  \nb") == ["a", "b"]
    assert split_lines(None) == []


def test_strip_decorations_returns_text_from_the_initial():
    assert strip_decorations("> 1. **H**ello") == "H**ello"
    assert strip_decorations("---") == ""


def test_split_sentences_keeps_initials_and_abbreviations_together():
    assert split_sentences("Hi there. Each one! Like this? e.g. no split. Ok.") == [
        "Hi there.",
        "Each one!",
        "Like this? e.g. no split.",
        "Ok.",
    ]
    assert split_sentences("Letters H. E. L. L. O. are here. Next.") == [
        "Letters H. E. L. L. O. are here.",
        "Next.",
    ]
    assert split_sentences('He said "stop." Then left.') == ['He said "stop."', "Then left."]


def test_sentences_as_lines_only_for_single_paragraphs():
    paragraph = "Hello there. Every day. Lovely."
    assert line_initials(paragraph) == "H"
    assert line_initials(paragraph, sentences_as_lines=True) == "HEL"
    assert line_initials("Hello there. Every day.\nLovely.", sentences_as_lines=True) == "HL"
