"""Property-based tests (hypothesis): decorations never change the acrostic; the gate changes nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stats.score import score_response
from stats.score.articulation import articulate
from stats.score.lines import line_initials, split_lines

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


def test_gate_equivalence_on_every_gold_response():
    for case in GOLD:
        lines = split_lines(case["response"])
        target = case.get("word") and str(case["word"]).upper()
        study = frozenset(w.upper() for w in case.get("study_words") or [])
        assert articulate(lines, target, study) == articulate(lines, target, study, gate=False), (
            case["id"]
        )


def test_gate_sees_a_cue_split_by_bold_markers():
    """Hypothesis counterexample: '**L**etters' is the cue 'letters' once decorations go."""
    lines = ["- **L**etters stack up.", "HELLO!"]
    assert articulate(lines, None, STUDY) == articulate(lines, None, STUDY, gate=False)
