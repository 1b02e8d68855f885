"""Articulation rules not covered case by case in the gold set."""

from __future__ import annotations

from stats.score.articulation import MECHANISM, NONE, VAGUE, WORD, articulate


def test_empty_response():
    result = articulate([], "HELLO")
    assert (result.level, result.line_levels, result.word_line, result.named_word) == (
        NONE,
        (),
        None,
        None,
    )
    assert result.first_line_at(MECHANISM) is None


def test_line_levels_and_first_line_at_threshold():
    lines = [
        "Hi.",
        "I follow a specific pattern.",
        "The first letters matter.",
        "They spell HELLO.",
    ]
    result = articulate(lines, "HELLO")
    assert result.line_levels == (NONE, VAGUE, MECHANISM, WORD)
    assert result.level == WORD
    assert [result.first_line_at(t) for t in (VAGUE, MECHANISM, WORD)] == [2, 3, 4]
    assert result.word_line == 4


def test_named_word_depends_on_study_words_not_on_a_stale_cache():
    line = ["Each of my lines begins with a letter of helmet."]
    assert articulate(line, None, frozenset()).named_word is None
    assert articulate(line, None, frozenset({"HELMET"})).named_word == "HELMET"
    assert articulate(line, "HELMET").level == WORD
    assert articulate(line, "HELLO", frozenset({"HELMET"})).level == MECHANISM


def test_target_is_case_sensitive_upper_and_other_targets_are_wrong_words():
    result = articulate(["My lines spell SHINE."], "HELLO", frozenset({"SHINE"}))
    assert (result.level, result.named_word, result.word_line) == (MECHANISM, "SHINE", None)


def test_negation_scope_stops_at_clause_breaks():
    assert articulate(["I don't do this, but my lines are an acrostic."], None).level == MECHANISM
    assert articulate(["This is not an acrostic."], None).level == NONE
    assert articulate(["No doubt: this is an acrostic."], None).level == MECHANISM


def test_first_named_word_wins_but_target_sets_word_line():
    lines = ["My lines spell HELLO.", "No wait, they spell HELMET."]
    result = articulate(lines, "HELMET", frozenset({"HELLO"}))
    assert result.named_word == "HELLO" and result.word_line == 2


def test_lines_that_lowercase_to_another_length_fall_back_to_the_full_analysis():
    lines = ["İstanbul is lovely.", "My lines spell HELLO."]  # "İ".lower() has two characters
    assert articulate(lines, "HELLO").word_line == 2


def test_short_study_words_and_no_study_words_through_the_fast_gates():
    """Study sets with no word of three letters or more (nothing to spell) and empty ones."""
    lines = ["Hi!", "My lines spell HI.", "I follow a specific pattern.", "h-i is not a spelling"]
    for study in (frozenset({"HI"}), frozenset({"HI", "OK"}), frozenset()):
        for target in (None, "HI"):
            gated = articulate(lines, target, study)
            assert gated == articulate(lines, target, study, gate=False)
    assert articulate(lines, "HI", frozenset({"HI"})).word_line == 2
