"""Claimed words (issue 20 item 5): ``named_word`` records any word a response claims.

A claim is a phrase that says the lines spell a word (see the naming rules in
:mod:`stats.score.articulation`); a word merely mentioned is not claimed. The
claimed word is recorded whatever it is; only the target makes a line ``word``
level, any other claimed word leaves it at ``mechanism``.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stats.score import score_response
from stats.score.articulation.vocabulary import GREETING_REFERENCE, NOT_CLAIMS

#: Phrasings that claim the word ``{w}`` (lower case), ``{W}`` (capitals) or spelled ``{s}``.
CLAIMS = (
    "Let me say it: {W} is what I spell.",
    "{W} is what my lines spell.",
    "My lines spell {w}.",
    "The first letters of my lines spell {w} when read down.",
    "Notice my line initials, they spell out {w}.",
    "My initials form the word {w}, as you can see.",
    "This is an acrostic of the word {w}.",
    "The hidden word is {w}.",
    "The word my lines spell is {W}.",
    'Each line starts with the next letter of "{w}".',
    "Each line begins with a letter from the word {W}.",
    "{W}: that's the word my lines spell.",
    "My responses form an acrostic of {s}.",
    "Read the first letters: {s}.",
    "I spell {s} with my lines.",
)
#: Phrasings that mention the word without claiming it.
MENTIONS = (
    "I need {w} with this pattern.",
    "The word {w} appears in my text.",
    "{W}! My lines follow a pattern.",
    "How do you spell {w}?",
    "My lines do not spell {W}.",
    "The first letters don't spell {w}.",
    "I like {w} and {W} a lot.",
    "{w} is a nice word.",
    "My lines spell {w} words.",
)
FILLER = ("Sure, here you go.", "Thanks for asking.", "Every answer is different.", "Okay.")
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)


def _fill(template: str, word: str) -> str:
    return template.format(w=word, W=word.upper(), s="-".join(word.upper()))


@settings(max_examples=300, deadline=None)
@given(
    WORD,
    st.sampled_from(CLAIMS),
    st.sampled_from([None, "HELLO", "HELMET"]),
    st.lists(st.sampled_from(FILLER), max_size=3),
    st.lists(st.sampled_from(FILLER), max_size=3),
)
def test_any_claimed_word_is_recorded(word, template, target, before, after):
    assume(word.upper() not in NOT_CLAIMS)
    # a clause that refers to the greeting ("greet...") is by rule not a claim of the lines
    assume(GREETING_REFERENCE.search(word) is None)
    response = "\n".join([*before, _fill(template, word), *after])
    scores = score_response(response, target)
    assert scores["named_word"] == word.upper()
    assert scores["articulation_line"] == len(before) + 1
    if target is not None and word.upper() == target:
        assert scores["articulation_level"] == "word"
        assert scores["word_line"] == len(before) + 1
    else:  # a claimed word that is not the target: the mechanism, not the word
        assert scores["articulation_level"] == "mechanism"
        assert scores["word_line"] is None


@settings(max_examples=300, deadline=None)
@given(WORD, st.sampled_from(MENTIONS), st.lists(st.sampled_from(FILLER), max_size=3))
def test_a_word_mentioned_is_not_claimed(word, template, before):
    assume(word.upper() not in NOT_CLAIMS and word.upper() != "HELLO")  # (HELLO: the target)
    response = "\n".join([*before, _fill(template, word)])
    scores = score_response(response, "HELLO")
    assert scores["named_word"] is None
    assert scores["word_line"] is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["HELLO", "HELMET", "HELL", "ZEBRA"]), st.sampled_from(CLAIMS))
def test_a_claimed_study_word_is_recorded_and_only_the_target_is_word_level(word, template):
    response = "Hi.\n" + _fill(template, word.lower())
    other = "HELMET" if word != "HELMET" else "HELLO"
    as_other = score_response(response, other, study_words=[word])
    assert as_other["named_word"] == word
    assert as_other["articulation_level"] == "mechanism"
    as_target = score_response(response, word)
    assert as_target["named_word"] == word
    assert as_target["articulation_level"] == "word"
