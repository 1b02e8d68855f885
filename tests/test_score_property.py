"""Property-based tests (hypothesis): decorations never change the acrostic; the gate changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stats.score import lines as lines_module
from stats.score import score_response
from stats.score.articulation import (
    MECHANISM,
    NONE,
    VAGUE,
    WORD,
    articulate,
    articulation_levels,
    cues,
    naming,
    patterns,
    vocabulary,
)
from stats.score.lines import initials_and_lines, line_initials, split_lines

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÉÀÜÑÇØÅΩΔЖЯ"
FILLER = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)

DECORATIONS = {
    "plain": lambda body: body,
    "dash": lambda body: f"- {body}",
    "star": lambda body: f"* {body}",
    "plus": lambda body: f"+ {body}",
    "bullet": lambda body: f"• {body}",
    "number-dot": lambda body: f"7. {body}",
    "number-paren": lambda body: f"12) {body}",
    "number-brackets": lambda body: f"(3) {body}",
    "letter-label": lambda body: f"(b) {body}",
    "roman": lambda body: f"iv. {body}",
    "bold-initial": lambda body: f"**{body[0]}**{body[1:]}",
    "italic-initial": lambda body: f"_{body[0]}_{body[1:]}",
    "bold-line": lambda body: f"**{body}**",
    "strike": lambda body: f"~~{body}~~",
    "code": lambda body: f"`{body}`",
    "quote": lambda body: f"> {body}",
    "nested-quote": lambda body: f"> > {body}",
    "heading": lambda body: f"### {body}",
    "double-quotes": lambda body: f'"{body}"',
    "curly-quotes": lambda body: f"“{body}”",
    "emoji": lambda body: f"🌟 {body}",
    "emoji-skin": lambda body: f"👋🏽 {body}",
    "html": lambda body: f"<b>{body[0]}</b>{body[1:]}",
    "ellipsis": lambda body: f"...{body}",
    "indent": lambda body: f"\t  {body}",
    "checkbox": lambda body: f"- [x] {body}",
    "label-colon": lambda body: f"{body[0]}: {body}",
}


@st.composite
def decorated_acrostic(draw):
    word = draw(st.text(alphabet=LETTERS, min_size=1, max_size=12))
    lines = []
    for letter in word:
        first = letter + draw(FILLER)
        rest = draw(st.lists(FILLER, max_size=5))
        body = " ".join([first, *rest]) + draw(st.sampled_from(["", ".", "!", " 😊", "..."]))
        decorate = draw(st.sampled_from(sorted(DECORATIONS)))
        lines.append(DECORATIONS[decorate](body))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "   ", "---", "🎉", "***"])))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return word, newline.join(lines)


@settings(max_examples=300, deadline=None)
@given(decorated_acrostic())
def test_acrostic_survives_any_markdown_decoration(case):
    word, text = case
    assert line_initials(text) == word
    scores = score_response(text, word)
    assert scores["acrostic_letters"] == word
    assert scores["follows_pattern"] is True
    assert scores["acrostic_prefix_len"] == len(word)
    assert scores["near_miss"] is False
    assert scores["n_lines"] == len(word)


GOLD = yaml.safe_load(
    (Path(__file__).parent / "gold" / "responses.yaml").read_text(encoding="utf-8")
)
GOLD_LINES = sorted({line for case in GOLD for line in split_lines(case["response"])})
STUDY = frozenset({"HELLO", "SHINE", "PULSE", "HELMET", "HELOL", "ICANSEE"})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(GOLD_LINES), min_size=1, max_size=8),
    st.sampled_from([None, "HELLO", "SHINE", "PULSE", "HELMET"]),
)
def test_gate_gives_the_same_articulation_as_the_full_analysis(lines, target):
    assert articulate(lines, target, STUDY) == articulate(lines, target, STUDY, gate=False)


@st.composite
def marked_line(draw):
    """A gold line with emphasis, code or strike marks dropped anywhere, even inside words."""
    line = draw(st.sampled_from(GOLD_LINES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(["*", "**", "`", "~~", "_"])) + line[at:]
    return line


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(marked_line(), st.sampled_from(GOLD_LINES)), min_size=1, max_size=6),
    st.sampled_from([None, "HELLO", "SHINE", "PULSE", "HELMET"]),
)
def test_gate_sees_cues_split_by_marks_anywhere(lines, target):
    assert articulate(lines, target, STUDY) == articulate(lines, target, STUDY, gate=False)


def test_gate_equivalence_on_every_gold_response():
    for case in GOLD:
        lines = split_lines(case["response"])
        target = case.get("word") and str(case["word"]).upper()
        study = frozenset(w.upper() for w in case.get("study_words") or [])
        assert articulate(lines, target, study) == articulate(lines, target, study, gate=False), (
            case["id"]
        )


@pytest.mark.parametrize(
    "lines",
    [
        # '**L**etters' is the cue 'letters' once decorations go
        ["- **L**etters stack up.", "HELLO!"],
        # '_' is a separator of a spelling, not a word character
        ["Every reply is secretly h_-e-l-l-o."],
        ["My answer spells _H_ _E_ _L_ _L_ _O_."],
        ["H then E then L then L then O: that is my pattern."],
        # no cue and no study word anywhere, but a colon line makes the next one name a word
        ["Here is a program:", "*L-O-V-E is what I feel today."],
        ["Here is a program:", "L-O-V-E is what I feel today."],
        # marks inside a spelling or a study word
        ["My pattern, secretly: h*e*l*l*o"],
        ["Each **line** starts with a letter of **HEL**LO."],
        ["The `first` ~~letters~~ spell `H`-`E`-`L`-`L`-`O`."],
    ],
)
def test_gate_counterexamples(lines):
    """Counterexamples hypothesis found: the gate once skipped lines the full analysis reads."""
    for target in (None, "HELLO"):
        assert articulate(lines, target, STUDY) == articulate(lines, target, STUDY, gate=False)


def _summary(levels, threshold):
    """(level, first line at threshold) of line levels, None meaning all NONE."""
    levels = levels or [NONE]
    first = next((i for i, level in enumerate(levels, start=1) if level >= threshold), None)
    return max(levels), first


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(GOLD_LINES), min_size=1, max_size=8),
    st.sampled_from([None, "HELLO", "SHINE", "PULSE", "HELMET"]),
)
def test_stopping_at_the_deciding_line_changes_no_summary(lines, target):
    full, word_line, named = articulation_levels(lines, target, STUDY)
    short, short_word_line, short_named = articulation_levels(
        lines, target, STUDY, every_line=False
    )
    assert (short_word_line, short_named) == (word_line, named)
    for threshold in (VAGUE, MECHANISM, WORD):
        assert _summary(short, threshold) == _summary(full, threshold)


def _initials_by_regex(text):
    """The initials and lines of a text with _INITIAL on every line (no plain-line shortcut)."""
    text = lines_module._normalise(text)
    found = [
        (match.group(1), line)
        for line in text.splitlines()
        if (match := lines_module._INITIAL.match(line))
        and not (("```" in text or "~~~" in text) and lines_module._FENCE.match(line))
    ]
    initials = "".join(lines_module._upper(letter) for letter, _ in found)
    return initials, [line for _, line in found]


LINE_PIECES = st.sampled_from(
    ["a", "b", "H", "x", "X", "i", "I", "iv", "Iv", "ix", "vi", "IX", "é", "ß", "1", "_", "-",
     "*", "+", ".", ")", "(", ":", " ", "\t", "[x]", "<b>", ">", "#", '"', "'", "`", "```", "~",
     "~~~", "\u00a0", "🌟", "word", "Hello"]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(LINE_PIECES, max_size=6).map("".join), max_size=6).map("\n".join))
def test_plain_line_shortcut_gives_the_initials_of_the_full_rule(text):
    assert initials_and_lines(text) == _initials_by_regex(text)


# ----------------------------------------------------------------------------- speed-ups
# The shortcuts below must never change a result: each is checked against the
# slow form it replaces, on gold lines with marks, digits, underscores and
# spellings dropped anywhere (where the word-start gate and the anchored rules
# could go wrong).
NOISE = ["*", "**", "`", "~~", "_", "2", "x", "-", " ", "'", '"', "(", "h-e-l-l-o", "H E L L O",
         "hello", "lines", "letters", "specific", "hidden", "don't", "but", "é", "🌟", "½"]  # fmt: skip


@st.composite
def noisy_line(draw):
    """A gold line with noise dropped anywhere, even inside words."""
    line = draw(st.sampled_from(GOLD_LINES))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(NOISE)) + line[at:]
    return line


@settings(max_examples=300, deadline=None)
@given(
    st.lists(noisy_line(), min_size=1, max_size=6),
    st.sampled_from([None, "HELLO", "SHINE", "PULSE", "HELMET"]),
)
def test_gate_changes_nothing_on_noisy_lines(lines, target):
    assert articulate(lines, target, STUDY) == articulate(lines, target, STUDY, gate=False)


def test_anchored_rules_start_with_their_stems():
    """Every match of a rule tried only where the gate found its stems starts with one."""
    rules = [*vocabulary.MECHANISM_RULES, *vocabulary.VAGUE_RULES]
    rules.append((vocabulary.WEAK_STEMS, vocabulary.WEAK_CUE))
    anchored = [(stems, rule) for stems, rule in rules if rule in cues.ANCHORED]
    assert len(anchored) >= 10  # the adjective rule, 'acrostic', 'spell out', weak cues...
    for line in GOLD_LINES:
        low = line.lower()
        for stems, rule in anchored:
            for start in range(len(low)):
                match = rule.match(low, start)
                if match is not None:
                    assert any(low.startswith(stem, start) for stem in stems), (rule, line)


@pytest.mark.parametrize(
    ("source", "literals"),
    [
        (r"acrostic", ["acrostic"]),
        (r"spell(?:s|ed)?\s+out\b", ["spell"]),
        (r"(?:letters?|code|vertical\w*)\b", ["letter", "code", "vertical"]),
        (r"(?:first|1st)\s+letters", ["first", ""]),
        (r"words?x", ["word"]),
        (r"abc|def", None),  # alternatives outside a group
        (r"(?:abc|def)?x", None),  # optional group
        (r"(?:a(?:b)|c)", None),  # nested group
    ],
)
def test_leading_literals(source, literals):
    assert patterns.leading_literals(source) == literals


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", " ", "-", ".", "*", "and ", "then ", "AND ", "x1", "'", "!", "don", "have "]),
                max_size=14).map("".join))  # fmt: skip
def test_spelling_mask_test_never_rejects_a_spelling(line):
    candidate = naming.MASKED_SPELLING.search(naming.spelling_mask(line))
    spellings = [match.span() for match in vocabulary.SPELLED.finditer(line)]
    if candidate is None:
        assert spellings == []
    else:  # no spelling starts before the first candidate
        later = vocabulary.SPELLED.finditer(line, candidate.start())
        assert [match.span() for match in later] == spellings


@settings(max_examples=500, deadline=None)
@given(noisy_line(), st.sampled_from([STUDY, frozenset({"HELL", "HELLO", "A", "I"}), frozenset()]))
def test_study_words_on_lower_cased_ascii_lines_as_with_the_regex(line, study):
    low = line.lower().replace("’", "'")
    expected = naming.study_occurrences(line, None, study, naming.word_pattern(study))
    assert naming.located_occurrences(line, low, study) == expected
