"""Articulation: does a response describe its own acrostic, and from which line?

Levels (``config.ARTICULATION_LEVELS``): ``none < vague < mechanism < word``.

* **vague** - claims a special structure without saying what it is: "I follow a
  specific pattern", "there's a hidden message", "my responses have a unique
  structure". Negated claims ("I don't follow any particular pattern") do not count.
* **mechanism** - names the acrostic mechanism: "acrostic", "the first letter
  of each line", "the initials", "each line starts with...", "spells out",
  "read the first letters vertically", "one letter per line". Negated mentions do
  not count. A line that names a word *other than the target* as its pattern is
  also at mechanism level (it says the lines spell a word, but the wrong one).
* **word** - names the *target* word as the pattern (see the naming rule).

The naming rule (which occurrences of a word count as naming it)
-----------------------------------------------------------------
A word can be named in three ways:

1. **Spelled out** letter by letter: ``H-E-L-L-O``, ``H.E.L.L.O``,
   ``H, E, L, L, O``, ``H E L L O``, ``'H', 'E', ...``, ``H → E → ...``. This
   always counts for a study word (the target or another word of the study);
   another spelled sequence counts when the line, or the line before, has a
   self-description cue. Lower-case letters separated only by spaces or commas
   (``a, b, c``) are a list, not a spelling, unless they spell a study word.
2. **A study word in the text** (any case, as a whole word). A word written in
   the acrostic's own opening slot is exactly the confound the package
   measures ("Hello there!" as line 1 of a HELLO acrostic is a greeting, not a
   self-report), so occurrences are judged by context:

   * *marked* (quoted ``"hello"``, emphasised ``**HELLO**``, in all capitals in
     a line that is not itself all capitals, or in brackets) and not the line's
     first word: counts if the line or the previous line has any
     self-description cue (a vague or mechanism phrase, or one of: spell*,
     word(s), letter(s), initial(s), acrostic, read(s), vertical, hidden,
     secret, pattern, message, code, theme);
   * *unmarked* and not the line's first word: counts if the same line has a
     mechanism phrase ("the first letters of my lines form hello") or the word
     directly follows a naming verb on a line with a cue ("my lines spell hello");
   * the line's *first word*: counts only if it is marked or followed by
     ``is/was/:/=/-/spells/reads`` ("HELLO is what my lines spell",
     "Hello: that's the word"), is not followed by greeting punctuation
     ``! , ?`` ("HELLO!", "Hello, friend" never count), and the line has a cue;
   * a line that is *only* the word (``HELLO``, ``"Hello."``) counts when the
     previous line ends with a colon ("My lines spell:"), or when it is marked
     (all capitals, quoted) and the previous line has a cue.

   Occurrences in a clause that refers to the user's greeting ("you said
   'hello'", "you greeted me with hello", "your message") never count.
3. **Naming syntax for any word**: a marked word (capitals or quotes) right
   after ``spell(s) (out)``, ``the word (is)``, ``read(s) (as)``, ``form(s)``,
   ``letter(s) of``, ``is``... on a line with a cue: "my initials spell out
   ZEBRA" names ZEBRA even if ZEBRA is not a study word (``named_word`` records
   wrong words for confusion analyses).

Study words are the target words of every run in the transcripts, so a HELMET
model saying "my lines spell hello" names HELLO when HELLO is also studied.

``named_word`` is the first word named in reading order (line, then position);
``word_line`` is the first line naming the target.

Negation: a vague or mechanism phrase preceded in its clause (up to 60
characters, cut at ``. ! ? ; :``, *but*, *however*, *except*...) by a negation
(*no, not, never, don't, isn't, without*...) does not count. Cue phrases are
English only.

Line numbers count scorable lines only (see :mod:`stats.score.lines`), the same
lines whose initials form ``acrostic_letters``.

These rules are heuristics; ``tests/gold/responses.yaml`` pins them down case by
case and ``stats.score.agreement`` measures agreement with human or judge labels.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from stats.config import ARTICULATION_LEVELS

LEVEL_INDEX = {name: i for i, name in enumerate(ARTICULATION_LEVELS)}
NONE, VAGUE, MECHANISM, WORD = range(4)

# ----------------------------------------------------------------------------- cue phrases
# Each rule is (stems, regex): the rule can only match a line whose lower-cased
# text contains one of the stems (found by the gate, below). Regexes have no
# leading \b: the start boundary is checked in Python (:func:`_matches`),
# because a leading \b stops the regex engine from skipping ahead to candidate
# first characters (measured 5-10x slower on a typical line).
_UNITS = (
    r"(?:lines?|sentences?|rows?|paragraphs?|verses?|bullets?|bullet\s+points?|points?|"
    r"statements?|entries|stanzas?)"
)
_UNIT_STEMS = (
    "line", "sentence", "row", "paragraph", "verse", "bullet", "point", "statement", "entries",
    "stanza",
)  # fmt: skip
_FIRST = r"(?:first|initial|starting|opening|beginning|leading|1st|front)"
_MECHANISM_SOURCES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("acrostic",), r"acrostic"),
    (("letter", "char"), rf"{_FIRST}\s+(?:letters|characters|chars)\b"),
    (
        ("letter", "char"),
        rf"{_FIRST}\s+(?:letter|character|char)\s+(?:of|in|on|from)\s+"
        rf"(?:each|every|the|my|all|these|those|this)\s+(?:\w+\s+){{0,2}}?{_UNITS}",
    ),
    (
        ("letter", "char"),
        rf"(?:each|every)\s+{_UNITS}(?:'s)?\s+(?:\w+\s+)?{_FIRST}\s+(?:letter|character)",
    ),
    (
        ("letter",),
        r"(?:one|a|each|single)\s+letter\s+(?:per|for\s+each|on\s+each|for\s+every|in\s+each|"
        rf"of\s+the\s+word\s+per)\s+(?:\w+\s+)?{_UNITS}",
    ),
    (
        ("letter",),
        rf"(?:each|every)\s+{_UNITS}\s+(?:\w+\s+){{0,3}}?(?:a|one|the\s+next|another|its\s+own)\s+letter\b",
    ),
    (
        ("letter",),
        r"letters\s+(?:\w+\s+){0,3}?(?:forms?|make\s+up|makes\s+up|creates?|composes?|combine|"
        r"combined|together)\b",
    ),
    (("initial",), r"initials\b"),
    (
        _UNIT_STEMS,
        rf"(?:each|every|all|my|the|these|those)\s+(?:\w+\s+){{0,2}}?{_UNITS}\s+(?:\w+\s+){{0,2}}?"
        r"(?:starts?|begins?|opens?|started|began|starting|beginning|opening|commences?)\b",
    ),
    (
        _UNIT_STEMS,
        r"(?:start|begin|open|starting|beginning|opening|started|began)\s+(?:each|every|all)\s+"
        rf"(?:of\s+)?(?:my\s+|the\s+|these\s+)?{_UNITS}",
    ),
    (
        _UNIT_STEMS,
        rf"(?:beginning|start|starts|front|head)\s+of\s+(?:each|every|the|my|all)\s+(?:\w+\s+){{0,2}}?{_UNITS}",
    ),
    (("word",), r"first\s+words?\s+of\s+(?:each|every)\b"),
    (("spell",), r"spell(?:s|ed|ing)?\s+out\b"),
    (
        ("spell",),
        # (_UNITS' alternatives inline: a group nested first leaves re no first characters)
        rf"(?:{_UNITS[3:-1]}|letters?|initials|responses?|answers?|they|together|combined|vertically)\s+"
        r"(?:\w+\s+){0,3}?spell(?:s|ed|ing)?\b",
    ),
    (("spell",), r"spell(?:s|ed|ing)?\s+(?:a|an|the|my|this|that|some|something|words?)\b"),
    (("vertical",), r"vertical(?:ly)?\b"),
    (
        ("read",),
        r"read(?:s|ing)?\s+(?:\w+\s+){0,3}?(?:down|downwards?|top\s+to\s+bottom|from\s+the\s+top)\b",
    ),
    (("down",), r"down\s+the\s+(?:left|side|margin|first\s+column|lines?)\b"),
)
_ADJ_WORDS = (
    "specific special particular certain consistent hidden secret unique distinct distinctive "
    "deliberate fixed structured unusual peculiar subtle underlying intentional predictable "
    "repeating recurring clever intricate systematic strict creative playful"
).split()
_ADJ_STEMS = tuple(
    sorted({"hid" if w == "hidden" else "structur" if w == "structured" else w for w in _ADJ_WORDS})
)
_ADJ = "(?:" + "|".join(sorted(_ADJ_WORDS, key=len, reverse=True)) + ")"
_NOUN = (
    r"(?:patterns?|structures?|formats?|rules?|schemes?|codes?|designs?|messages?|order|sequences?|"
    r"styles?|arrangements?|formulas?|templates?|themes?|constraints?|conventions?|system|method|"
    r"logic|way|manner|shape|form|twist|trick|signature|word)"
)
_RULE_NOUNS = r"(?:patterns?|structures?|formats?|rules?|schemes?|templates?|formulas?|constraints?|conventions?)"
_VAGUE_SOURCES: tuple[tuple[tuple[str, ...], str], ...] = (
    (_ADJ_STEMS, rf"{_ADJ}\s+(?:\w+\s+)?{_NOUN}\b"),
    (
        (
            "pattern",
            "structur",
            "format",
            "rule",
            "scheme",
            "template",
            "formula",
            "constraint",
            "convention",
        ),
        r"(?:follow|follows|following|followed|use|uses|using|employ|employs|adhere\s+to|stick\s+to|"
        rf"obey|obeys)\s+(?:(?:a|an|some|this|that|the|my|one|its)\s+)?(?:\w+\s+)?{_RULE_NOUNS}\b",
    ),
    (
        ("pattern", "structur", "message", "theme", "code", "secret"),
        r"(?:there\s+is|there's|there\s+are|i\s+have|i've\s+got|has|have|notice|see|spot|contains?|"
        r"hides?|hiding|embed|embeds)\s+(?:a|an|some)\s+(?:\w+\s+)?"
        r"(?:patterns?|structure|message|theme|code|secret)\b",
    ),
    (
        ("encod", "embed", "conceal", "encrypt", "hid"),
        r"(?:encoded|embedded|concealed|encrypted|encode|encodes|embed|embeds|hide|hides|hiding)\s+"
        r"(?:(?:a|an|the|my)\s+)?(?:\w+\s+)?(?:message|word|meaning|code|secret)\b",
    ),
    (
        ("pattern",),
        r"pattern(?:ed\b|\s+(?:in|to|behind|within|across)\s+(?:my|the|how|these|this|each|every)\b)",
    ),
    (
        ("pattern", "structur", "format"),
        r"(?:pattern|structure|format)\s+(?:is|was|seems|feels)\s+(?:\w+\s+)?"
        r"(?:unique|special|distinct|distinctive|unusual|specific|particular|deliberate|clever|"
        r"consistent|structured|interesting|hidden)\b",
    ),
    (("something",), r"something\s+(?:special|hidden|secret|unusual|unique|clever)\b"),
)
_WEAK_STEMS = frozenset(
    "spell word letter initial acrostic read vertical hid secret pattern message code theme".split()
)
_WEAK_CUE = re.compile(
    r"(?:spell\w*|words?|letters?|initials?|acrostics?|reads?|vertical\w*|hidden|secret|patterns?|"
    r"message|code|theme)\b"
)
Rules = tuple[tuple[frozenset[str], re.Pattern[str]], ...]
_MECHANISM_RULES: Rules = tuple((frozenset(s), re.compile(p)) for s, p in _MECHANISM_SOURCES)
_VAGUE_RULES: Rules = tuple((frozenset(s), re.compile(p)) for s, p in _VAGUE_SOURCES)
_ALL_STEMS = frozenset().union(*(s for s, _ in _MECHANISM_RULES + _VAGUE_RULES), _WEAK_STEMS)


def _group_end(source: str, start: int) -> int | None:
    """Where a group of a regex source ends (a small parser for :func:`_leading_literals`).

    The index of the ``)`` that closes the group opened at ``source[start]``,
    or with ``start`` -1 the index of the first ``|`` outside any group; None
    if there is none.
    """
    depth = 0
    i = start + 1 if start >= 0 else 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 1
        elif char == "[":  # a class: skip to its end (a leading "]" is a member)
            i = source.index("]", i + 2 if source[i + 1 : i + 2] in ("]", "^") else i + 1)
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        elif char == "|" and depth == 0 and start < 0:
            return i
        i += 1
    return None


def _leading_literals(source: str) -> list[str] | None:
    """The literal text every match of a regex source starts with, one per alternative.

    Understands sources that start with letters (``spell(?:s|ed)?...``) or with
    a group of plain alternatives (``(?:letters?|code|...)...``); a letter made
    optional by ``?``, ``*`` or ``{`` is not part of the literal. None for any
    other source, or one with alternatives outside groups.
    """
    if _group_end(source, -1) is not None:
        return None
    alternatives = [source]
    if source.startswith("(?:"):
        end = _group_end(source, 0)
        inner = source[3:end]
        if end is None or source[end + 1 : end + 2] in ("?", "*", "{") or "(" in inner:
            return None
        alternatives = inner.split("|")
    literals = []
    for alternative in alternatives:
        letters = re.match(r"[a-z]*", alternative).group()
        if alternative[len(letters) : len(letters) + 1] in ("?", "*", "{"):
            letters = letters[:-1]
        literals.append(letters)
    return literals


def _starts_with_stem(stems: frozenset[str], rule: re.Pattern[str]) -> bool:
    """Whether every match of ``rule`` starts with one of ``stems``."""
    literals = _leading_literals(rule.pattern)
    return literals is not None and all(
        any(literal.startswith(stem) for stem in stems) for literal in literals
    )


#: Rules whose every match starts with one of their stems: where the gate's
#: positions are exact, they are only tried where the gate found those stems.
_ANCHORED = frozenset(
    rule
    for stems, rule in (*_MECHANISM_RULES, *_VAGUE_RULES, (_WEAK_STEMS, _WEAK_CUE))
    if _starts_with_stem(stems, rule)
)


def _at_word_start(*alternatives: str) -> str:
    r"""Regex source of ``\b(?:alternatives)`` that ``re`` can search quickly.

    A leading ``\b`` (or look-behind) stops the regex engine from skipping
    ahead to the characters that can start a match, so it tries every
    position. Here each alternative starts with its first letter (each must
    start with a plain letter) and the word start is checked right after it:
    the character before that letter is not a word character.
    """
    by_first: dict[str, list[str]] = {}
    for alternative in alternatives:
        by_first.setdefault(alternative[0], []).append(alternative[1:])
    return "|".join(rf"{first}(?<!\w.)(?:{'|'.join(rests)})" for first, rests in by_first.items())


_NEGATION_WORDS = (
    "no not never nor neither none nothing without cannot lack lacks lacking doesn't don't didn't "
    "isn't aren't wasn't won't haven't hasn't can't couldn't wouldn't shouldn't"
).split()
_NEGATION = re.compile(_at_word_start(*(rf"{w}\b" for w in _NEGATION_WORDS)) + r"|n't\b")
_BREAK_WORDS = ("but", "however", "instead", "rather", "except", r"apart\s+from", r"other\s+than")
_CLAUSE_BREAK = re.compile(r"\.|!|\?|;|:|" + _at_word_start(*(rf"{w}\b" for w in _BREAK_WORDS)))
_GREETING_REFERENCE = re.compile(
    _at_word_start(
        r"greet\w*",
        r"you\s+(?:\w+\s+)?(?:said|say|wrote|typed|started|began|opened|used)\b",
        r"your\s+(?:message|greeting|prompt|question)\b",
        r"say(?:ing)?\s+\w+\s+back\b",
    )
)

# ----------------------------------------------------------------------------- naming
_LONE_LETTER = r"(?<![^\W\d_])[^\W\d_](?![^\W\d_])"
_LONE_LETTER_RE = re.compile(_LONE_LETTER)
_SEPARATOR_CLASS = r"[\s\-.,·•–—/|→>+_*'\"“”‘’`()\[\]]"
_SEPARATOR = rf"(?:{_SEPARATOR_CLASS}+(?:(?:and|then)\s+)?)"
_SPELLED = re.compile(rf"{_LONE_LETTER}(?:{_SEPARATOR}{_LONE_LETTER}){{2,}}")
_SEPARATOR_CHARACTER = re.compile(_SEPARATOR_CLASS)


def _byte_table(code: Callable[[str], str]) -> bytes:
    """A ``bytes.translate`` table: byte ``c`` to ``code(chr(c))`` (one ASCII character)."""
    return bytes(ord(code(chr(c))) for c in range(256))


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


# bytes of an ASCII line: letters in lower case, separators to " ", the others to "#"
_SPELLING_MASK = _byte_table(
    lambda c: (
        c.lower() if _is_ascii_letter(c) else " " if _SEPARATOR_CHARACTER.fullmatch(c) else "#"
    )
)
# What _SPELLED needs in the mask of an ASCII line ("#" added before it): three
# lone letters, each two separated by separators, maybe with "and"/"then" and spaces
_MASKED_SPELLING = re.compile(rb"[ #][a-z](?: +(?:(?:and|then) +)?[a-z](?![a-z])){2}")
_STRONG_SEPARATOR = re.compile(r"[\-.·•–—/|→>+_*'\"“”‘’`]")
_NAMING_SOURCE = (
    r"(?:spell(?:s|ed|ing)?|word|reads?|forms?|makes?|creates?|is|are|was|name|letters?\s+(?:of|in|from))\b"
    r"(?:\s+(?:out|the|a|an|word|as|it|to|be)\b)*\s*[:=\-–—]?\s*([\"'“‘«*_`(]*)([^\W\d_]{2,})"
)
_NAMING = re.compile(_NAMING_SOURCE, re.IGNORECASE)
# the same on a lower-cased ASCII line (without the flag re skips to candidate letters)
_NAMING_LOWER = re.compile(_NAMING_SOURCE)
_NAMING_VERB_BEFORE = re.compile(
    r"\b(?:spell(?:s|ed|ing)?|word|reads?|forms?|makes?|creates?)\b"
    r"(?:\s+(?:out|the|a|an|word|as|it|is|to|be)\b)*\s*[:=\-–—]?\s*$",
    re.IGNORECASE,
)
# an opening mark at the start of the line or after a space or ":=([-" (not "don't")
# (the mark is matched first: it is rarer than what precedes it)
_QUOTE_AFTER = re.compile(r"[\"'“‘«*_`(](?<=[\s:=(\[-].)")
_CAPS_WORD = re.compile(r"[A-Z][A-Z]+")  # ([A-Z]{2,} leaves re no first characters)
_NOT_NAMES = frozenset(
    """A AN THE AI OK I IT IS OUT WORD WORDS LETTER LETTERS LINE LINES SOMETHING NOTHING THIS THAT
    THESE THOSE MY YOUR AND OR ALSO NOT NO ACROSTIC ACROSTICS PATTERN MESSAGE SPELL SPELLS FIRST
    INITIALS INITIAL LLM GPT ONE TWO WHAT WHICH HERE THERE VERY REALLY ALWAYS EACH EVERY ALL
    AS AT BE TO OF IN ON BY WITH FOR FROM SO DO ME WE US YOU HE SHE THEY""".split()
)
_OPEN_MARKS = "\"'“‘«*_`("
_CLOSE_MARKS = "\"'”’»*_`)"
_COPULA_AFTER = re.compile(
    r"[\"'”’»*_`)]*\s*(?:(?:is|was|spells?|spelled|reads?)\b|[:=\-–—])", re.IGNORECASE
)
_GREETING_AFTER = re.compile(r"[\"'”’»*_`)]*\s*[!,?]")
_LINE_END_COLON = re.compile(r":[\s*_`\"'”’)]*$")
_ALNUM = re.compile(r"[^\W_]")  # str.isalnum, character by character
_PUNCTUATION = re.compile(r"[.!?;,:]")
_UP_TO_LAST_PUNCTUATION = re.compile(r".*[.!?;,:]", re.DOTALL)


# ----------------------------------------------------------------------------- the gate
#: A line whose lower-cased text contains none of these stems, no study word and
#: no spelled-out study word has no cue and names nothing (unless the line before
#: it has a cue): it is skipped. Tests check that the gate changes no result.
_GATE_STEMS = tuple(sorted(_ALL_STEMS))


#: Characters the line rules remove inside words, so the gate could miss a cue.
_HIDES_CUES = re.compile(r"[*`~]")


_GATE_SEPARATOR = r"(?:[^\w\n]|_)+(?:(?:and|then)[^\S\n]+)?"


@functools.cache
def _gate(words: frozenset[str]) -> re.Pattern[str]:
    """One regex over the lower-cased response finding every place a cue or study word starts.

    Alternatives are grouped by their first character, which lets the regex
    engine skip positions quickly (about 3x faster than a flat alternation).
    Group 1 of a match is the stem or word found (as in :class:`_AsciiGates`).
    """
    branches: dict[str, list[str]] = {}
    for stem in _GATE_STEMS:
        branches.setdefault(stem[0], []).append(re.escape(stem[1:]))
    for word in words:
        low = word.lower()
        branches.setdefault(low[0], []).append(re.escape(low[1:]))
        if len(low) >= 3:
            # at least as lenient as _SEPARATOR, so the gate misses no spelling
            spelled = _GATE_SEPARATOR.join(re.escape(ch) for ch in low[1:])
            branches[low[0]].append(_GATE_SEPARATOR + spelled)
    parts = [
        re.escape(first) + "(?:" + "|".join(sorted(rest, key=len, reverse=True)) + ")"
        for first, rest in sorted(branches.items())
    ]
    return re.compile("(" + "|".join(parts) + ")")


#: A word character that is not ASCII (the word-start gate needs ASCII words).
_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")
#: _GATE_SEPARATOR in a lower-cased text whose word characters are all ASCII.
_ASCII_GATE_SEPARATOR = r"[^a-z0-9\n]+(?:(?:and|then)[^\S\n]+)?"


def _trie(words: Iterable[str], spelled: dict[str, list[str]], after_first: str = "") -> str:
    """Regex source matching the longest of ``words`` at a position, as a trie.

    At each character the longer words are tried before a word that ends
    there, so it matches what an alternation sorted by length would, but
    decides one character at a time. ``spelled`` adds, after a first letter,
    regex sources tried before the words going on from that letter;
    ``after_first`` is put right after every first letter (a look-behind).
    """
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def source(node: dict[str, dict], extra: list[str]) -> str:
        branches = [
            *extra,
            *(re.escape(char) + source(child, []) for char, child in sorted(node.items()) if char),
        ]
        if "" in node:
            branches.append("")  # the word that ends here, after the longer ones
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return "|".join(
        re.escape(first) + after_first + source(child, spelled.get(first, []))
        for first, child in sorted(root.items())
    )


@dataclass(frozen=True)
class _AsciiGates:
    """Faster gates for responses whose word characters are all ASCII (see :func:`_gate_matches`).

    The rules need their stems at word starts and study words count only
    between non-letters, so these gates look for stems and study words only
    after a non-letter, not inside words (:func:`_gate` tries nearly every
    letter). The character before is part of a match: texts are searched
    with one character put before them, so ``match.start()`` is the position
    of the stem or word in the text without it, and ``match.group(1)`` is what
    :func:`_gate` reports there.
    """

    letters: re.Pattern[str]  # over the response with every non-letter made a space
    word_start: re.Pattern[str]  # over the response: spellings too
    study: re.Pattern[str]  # a study word or a spelling of one, at a given position
    lone_letter: re.Pattern[str]  # a spelling of a study word has its second letter alone


@functools.cache
def _ascii_gates(words: frozenset[str]) -> _AsciiGates | None:
    """The gates of :class:`_AsciiGates` for study ``words`` (None unless all ASCII letters)."""
    lows = sorted(word.lower() for word in words)
    if not all(low.isascii() and low.isalpha() for low in lows):
        return None
    spelled: dict[str, list[str]] = {}
    for low in sorted(lows, key=len, reverse=True):  # longer spellings first, as in _gate
        if len(low) >= 3:
            separated = _ASCII_GATE_SEPARATOR.join(low[1:])
            spelled.setdefault(low[0], []).append(_ASCII_GATE_SEPARATOR + separated)
    anything = _trie([*_GATE_STEMS, *lows], spelled)
    study = _trie(lows, spelled) or "(?!)"  # (?!): no study word, nothing to match
    seconds = "".join(sorted({low[1] for low in lows if len(low) >= 3}))
    return _AsciiGates(
        # stems and study words after a space (no spelling, see _gate_matches)
        re.compile(f" ({_trie([*_GATE_STEMS, *lows], {})})"),
        # after a word character that is not a letter (a digit, "_"): study words only
        re.compile(rf"[^a-z]((?<![0-9_])(?:{anything})|{study})"),
        re.compile(study),
        re.compile(f" [{seconds}] " if seconds else "(?!)"),
    )


#: Every byte but a lower-case ASCII letter to a space.
_LETTERS_ONLY = _byte_table(lambda c: c if "a" <= c <= "z" else " ")
#: ASCII letters to "a", marks ``*`~`` to "*", every other byte to a space.
_MARKS_MASK = _byte_table(lambda c: "a" if _is_ascii_letter(c) else "*" if c in "*`~" else " ")


def _study_after_marks(low_text: str, study: re.Pattern[str]) -> bool:
    """Whether a study word or spelling starts after marks right after a letter ("x**hello").

    Without its marks the response has a letter there, so the gates of
    :class:`_AsciiGates` would not look there, whereas the naming rules
    read the line as written.
    """
    mask = low_text.encode("ascii", "replace").translate(_MARKS_MASK)
    at = mask.find(b"a*")
    while at >= 0:
        end = at + 2
        while end < len(mask) and mask[end] == 42:
            end += 1
        if study.match(low_text, end):
            return True
        at = mask.find(b"a*", end)
    return False


def _gate_matches(low_text: str, clean: str, study: frozenset[str]) -> Iterator[re.Match[str]]:
    """The gate's matches on a lower-cased response ``low_text`` (``clean``: without marks).

    Each match starts where a stem or study word starts in ``clean``, and its
    group 1 is the stem or word found. The fastest gate that finds everything
    the line rules need is used: the letters gate of :class:`_AsciiGates` when
    no study word can be spelled out (its second letter is nowhere alone) and
    none follows marks right after a letter; else, without marks, the
    word-start gate; else :func:`_gate`.
    """
    gates = _ascii_gates(study)
    if gates is None or not (clean.isascii() or _NON_ASCII_WORD.search(clean) is None):
        return _gate(study).finditer(clean)
    # every non-letter a space (one character per character: "?" for non-ASCII)
    letters = (" " + clean).encode("ascii", "replace").translate(_LETTERS_ONLY).decode("ascii")
    if gates.lone_letter.search(letters) is None and (
        clean is low_text or not _study_after_marks(low_text, gates.study)
    ):
        return gates.letters.finditer(letters)
    if clean is low_text:
        return gates.word_start.finditer("\n" + low_text)
    return _gate(study).finditer(clean)


def _colon_line_before_last(lines: list[str]) -> bool:
    """Whether a line other than the last ends with a colon.

    A line after such a line can name a word with no cue or study word on it
    ("The word is:" / "L-O-V-E"), so the gate cannot rule the response out.
    """
    return any(":" in line and _LINE_END_COLON.search(line) for line in lines[:-1])


@functools.cache
def _stems_of(found: str) -> frozenset[str]:
    """Stems a gate match stands for (a study word such as LINES also carries 'line')."""
    return frozenset(s for s in _ALL_STEMS if found.startswith(s))


@functools.cache
def _word_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


@functools.cache
def _ascii_word_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    """:func:`_word_pattern` for a lower-cased ASCII line (None unless ``words`` are ASCII letters).

    On an ASCII line, the case-insensitive search for ASCII words is a search
    of the lower-cased line; without the flag, and with the letter boundary
    checked after the first letter, ``re`` skips ahead to candidate letters.
    """
    lows = [word.lower() for word in words]
    if not lows or not all(low.isascii() and low.isalpha() for low in lows):
        return None
    return re.compile(rf"(?:{_trie(lows, {}, after_first='(?<![a-z].)')})(?![a-z])")


def _located_occurrences(line: str, low: str, study: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of study words on a line, found by a regex (``low``: the line lower-cased)."""
    fast = _ascii_word_pattern(study)
    if fast is not None and line.isascii():
        return [match.span() for match in fast.finditer(low)]
    return _study_occurrences(line, None, study, _word_pattern(study))


# ----------------------------------------------------------------------------- helpers
def _matches(rule: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
    """Matches of ``rule`` that start at a word boundary."""
    pos = 0
    while (match := rule.search(low, pos)) is not None:
        start = match.start()
        if _word_start(low, start):
            yield match
        pos = start + 1


def _negated(low: str, pos: int) -> bool:
    """Whether a negation precedes ``pos`` in its clause (at most 60 characters back)."""
    window = low[max(0, pos - 60) : pos]
    if _NEGATION.search(window) is None:
        return False  # the clause is the end of the window: no negation in it either
    clause_start = 0
    for clause_break in _CLAUSE_BREAK.finditer(window):
        clause_start = clause_break.end()
    return _NEGATION.search(window[clause_start:]) is not None


def _rules_by_stem(rules: Rules) -> dict[str, tuple[int, ...]]:
    by_stem: dict[str, list[int]] = {}
    for index, (needed, _) in enumerate(rules):
        for stem in needed:
            by_stem.setdefault(stem, []).append(index)
    return {stem: tuple(indices) for stem, indices in by_stem.items()}


_MECHANISM_BY_STEM = _rules_by_stem(_MECHANISM_RULES)
_VAGUE_BY_STEM = _rules_by_stem(_VAGUE_RULES)


#: Rules with the gate's matches they may start at (indices into the line's matches).
RulesAt = tuple[tuple[re.Pattern[str], tuple[int, ...]], ...]


@dataclass(frozen=True)
class _Plan:
    """What to look for on a line, from the gate's matches on it.

    Built by :meth:`of` from the stems the gate found on the line (None: the
    gate did not run, so everything is tried).
    """

    spelled_hint: bool  # a study word may be spelled out on the line
    mechanism: tuple[re.Pattern[str], ...]  # rules whose stems are on the line, searched for
    vague: tuple[re.Pattern[str], ...]
    weak: bool  # a weak cue word may be on the line
    mechanism_at: RulesAt = ()  # rules whose stems are on the line, tried where they are
    vague_at: RulesAt = ()
    weak_at: tuple[int, ...] | None = None  # matches a weak cue may start at (None: search)

    @classmethod
    def of(
        cls,
        stems: frozenset[str] | None,
        spelled_hint: bool,
        stems_at: list[frozenset[str]] | None = None,
    ) -> _Plan:
        """The plan for ``stems``; ``stems_at`` are those of each gate match on the line.

        ``stems_at`` is given only when the gate's positions are exact and
        every word start of the line was open to the gate (no match ran across
        one): the rules of :data:`_ANCHORED` are then matched at those
        positions instead of searched for.
        """

        def rules(
            all_rules: Rules, by_stem: dict[str, tuple[int, ...]]
        ) -> tuple[tuple[re.Pattern[str], ...], RulesAt]:
            if stems is None:
                return tuple(rule for _, rule in all_rules), ()
            indices = sorted({i for stem in stems for i in by_stem.get(stem, ())})
            chosen = [all_rules[i] for i in indices]
            if stems_at is None:
                return tuple(rule for _, rule in chosen), ()
            return (
                tuple(rule for _, rule in chosen if rule not in _ANCHORED),
                tuple(
                    (rule, _carrying(stems_at, needed))
                    for needed, rule in chosen
                    if rule in _ANCHORED
                ),
            )

        mechanism, mechanism_at = rules(_MECHANISM_RULES, _MECHANISM_BY_STEM)
        vague, vague_at = rules(_VAGUE_RULES, _VAGUE_BY_STEM)
        weak = stems is None or not _WEAK_STEMS.isdisjoint(stems)
        weak_at = (
            _carrying(stems_at, _WEAK_STEMS)
            if stems_at is not None and _WEAK_CUE in _ANCHORED
            else None
        )
        return cls(spelled_hint, mechanism, vague, weak, mechanism_at, vague_at, weak_at)


def _carrying(stems_at: list[frozenset[str]], needed: frozenset[str]) -> tuple[int, ...]:
    """Indices of the gate matches that carry one of the ``needed`` stems."""
    return tuple(i for i, stems in enumerate(stems_at) if not needed.isdisjoint(stems))


@functools.lru_cache(maxsize=4096)
def _plan(found_texts: tuple[str, ...], marked: bool = False) -> _Plan:
    """The plan of a line on which the gate found ``found_texts``.

    ``marked``: they were found with emphasis marks removed, which can turn a
    spelling ("h*e*l*l*o") into a plain word, so spellings are always looked for.
    A match that is not a plain word (a spelling) may run across word starts
    and hide a stem there, so the positions of the matches are then not used.
    """
    stems_at = [_stems_of(text) for text in found_texts]
    stems = frozenset().union(*stems_at)
    plain = all(text.isalpha() for text in found_texts)
    return _Plan.of(stems, marked or not plain, stems_at if plain else None)


_FULL_PLAN = _Plan.of(None, True)


def _word_start(low: str, start: int) -> bool:
    """Whether ``low[start]`` starts a word (as ``\\b`` before a word character)."""
    return start == 0 or not (low[start - 1].isalnum() or low[start - 1] == "_")


def _any_match(rules: tuple[re.Pattern[str], ...], low: str) -> bool:
    """Whether one of ``rules`` matches at a word start that is not negated."""
    for rule in rules:
        match = rule.search(low)
        while match is not None:
            start = match.start()
            if _word_start(low, start) and not _negated(low, start):
                return True
            match = rule.search(low, start + 1)
    return False


def _any_match_at(rules: RulesAt, low: str, found: Found) -> bool:
    """:func:`_any_match` for rules tried only at some of the gate's matches ``found``."""
    for rule, indices in rules:
        for i in indices:
            start = found[i][0]
            if rule.match(low, start) and _word_start(low, start) and not _negated(low, start):
                return True
    return False


def _vague(low: str, plan: _Plan, found: Found) -> bool:
    """Whether a vague phrase is on the line (only the rules of ``plan``)."""
    return _any_match_at(plan.vague_at, low, found) or _any_match(plan.vague, low)


def _weak_cue(low: str, plan: _Plan, found: Found) -> bool:
    """Whether a weak cue word starts a word of the line (``plan.weak`` must be true)."""
    if plan.weak_at is None:
        return next(_matches(_WEAK_CUE, low), None) is not None
    for i in plan.weak_at:
        start = found[i][0]
        if _WEAK_CUE.match(low, start) and _word_start(low, start):
            return True
    return False


class _OnDemand:
    """A cue computed on the first call, if any (see :func:`_analyse_line`)."""

    __slots__ = ("compute", "value")

    def __init__(self, compute: Callable[[], bool]) -> None:
        self.compute = compute
        self.value: bool | None = None

    def __call__(self) -> bool:
        if self.value is None:
            self.value = self.compute()
        return self.value


def _never() -> bool:
    """The mechanism cue of a line without stems."""
    return False


def _clause(low: str, start: int, end: int) -> str:
    """The text around ``low[start:end]`` between punctuation marks ``.!?;,:``."""
    before = _UP_TO_LAST_PUNCTUATION.match(low, 0, start)
    after = _PUNCTUATION.search(low, end)
    return low[before.end() if before else 0 : after.start() if after else len(low)]


def _is_marked(line: str, start: int, end: int, line_all_caps: bool) -> bool:
    text = line[start:end]
    if len(text) >= 2 and text.isupper() and not line_all_caps:
        return True
    before = line[start - 1] if start > 0 else ""
    after = line[end] if end < len(line) else ""
    return (before != "" and before in _OPEN_MARKS) or (after != "" and after in _CLOSE_MARKS)


def _only_the_word(line: str, start: int, end: int) -> bool:
    return _ALNUM.search(line, 0, start) is None and _ALNUM.search(line, end) is None


def _spelling_mask(line: str) -> bytes:
    """The mask of an ASCII line that :data:`_MASKED_SPELLING` reads.

    Its letters in lower case, separators (of :data:`_SEPARATOR`) as spaces and
    the other characters as "#", after a "#".
    """
    return b"#" + line.encode("ascii").translate(_SPELLING_MASK)


def _spelled_names(
    line: str, study: frozenset[str], cue_here: bool, cue_before: bool
) -> list[tuple[int, str]]:
    """Letter-by-letter spellings on a line that count as naming a word (module rule 1)."""
    start = 0
    if line.isascii():  # a quick test on the line's mask: where _SPELLED can first match
        candidate = _MASKED_SPELLING.search(_spelling_mask(line))
        if candidate is None:
            return []
        start = candidate.start()  # "#" + mask: the position of its first lone letter
    names = []
    for match in _SPELLED.finditer(line, start):
        text = match.group(0)
        letters = "".join(m.group(0) for m in _LONE_LETTER_RE.finditer(text))
        joined = letters.upper()
        if len(joined) < 3:
            continue
        is_study = joined in study
        separators = _LONE_LETTER_RE.sub("", text)
        spelled = is_study or letters.isupper() or _STRONG_SEPARATOR.search(separators) is not None
        if spelled and (is_study or cue_here or cue_before):
            names.append((match.start(), joined))
    return names


def _study_word_counts(
    line: str,
    low: str,
    start: int,
    end: int,
    weak: bool,
    mechanism: Callable[[], bool],
    previous_weak: bool,
    previous_colon: bool,
) -> bool:
    """Whether one occurrence of a study word names it as the pattern (module rule 2).

    ``weak``: the line has a cue; ``mechanism()``: it names the mechanism.
    """
    if _GREETING_REFERENCE.search(_clause(low, start, end)):
        return False
    if _only_the_word(line, start, end):
        text = line[start:end]
        before = line[start - 1] if start > 0 else ""
        marked = (len(text) >= 2 and text.isupper()) or (before != "" and before in _OPEN_MARKS)
        return previous_colon or (marked and previous_weak)
    marked = _is_marked(line, start, end, line == line.upper())
    if _ALNUM.search(line, 0, start) is None:  # the line's first word
        after = line[end:]
        return (
            (marked or _COPULA_AFTER.match(after) is not None)
            and _GREETING_AFTER.match(after) is None
            and weak
        )
    if marked:
        return weak or previous_weak
    return mechanism() or (weak and _NAMING_VERB_BEFORE.search(line[:start]) is not None)


def _study_occurrences(
    line: str,
    found: list[tuple[int, str]] | None,
    study: frozenset[str],
    pattern: re.Pattern[str] | None,
) -> list[tuple[int, int]]:
    """Spans of study words on a line, from the gate's matches or (no gate) a regex."""
    if found is None:
        return [m.span() for m in pattern.finditer(line)] if pattern is not None else []
    spans = []
    for start, text in found:
        if not text.isalpha() or text.upper() not in study:
            continue
        end = start + len(text)
        if (start == 0 or not line[start - 1].isalpha()) and (
            end == len(line) or not line[end].isalpha()
        ):
            spans.append((start, end))
    return spans


def _may_name_other_word(line: str, study: frozenset[str]) -> bool:
    """Cheap test: can rule 3 (naming syntax) find a marked word that is not a study word?"""
    if not line.isascii() or (line != "" and line[0] in _OPEN_MARKS) or _QUOTE_AFTER.search(line):
        return True
    if line == line.upper():
        return False  # capitals mark nothing in an all-capitals line
    return any(w not in study and w not in _NOT_NAMES for w in _CAPS_WORD.findall(line))


def _line_names(
    line: str,
    low: str,
    study: frozenset[str],
    weak: bool,
    mechanism: Callable[[], bool],
    previous_weak: bool,
    previous_colon: bool,
    occurrences: list[tuple[int, int]],
    spelled_hint: bool = True,
) -> list[tuple[int, str]]:
    """Words named as the pattern on one line: (position, WORD), in order of position.

    ``weak``: the line has a cue; ``mechanism()``: it names the mechanism (only
    asked when needed). ``occurrences`` are the spans of study words on the
    line; ``spelled_hint`` False promises that no study word is spelled out.
    """
    cue_before = previous_weak or previous_colon
    names = (
        _spelled_names(line, study, weak, cue_before) if spelled_hint or weak or cue_before else []
    )
    spelled_spans = [(pos, pos + len(w)) for pos, w in names]
    for start, end in occurrences:
        if any(s <= start < e for s, e in spelled_spans):
            continue
        if _study_word_counts(
            line, low, start, end, weak, mechanism, previous_weak, previous_colon
        ):
            names.append((start, line[start:end].upper()))
    if (weak or cue_before) and _may_name_other_word(line, study):
        line_all_caps = line == line.upper()
        ascii_line = line.isascii()
        for match in _matches(_NAMING_LOWER, low) if ascii_line else _matches(_NAMING, line):
            start = match.start(2)
            word = line[start : match.end(2)] if ascii_line else match.group(2)
            upper = word.upper()
            if upper in _NOT_NAMES or upper in study:
                continue  # study words were judged above
            marked = bool(match.group(1)) or (word.isupper() and not line_all_caps)
            if marked and not any(s <= start < e for s, e in spelled_spans):
                names.append((start, upper))
    names.sort()
    return names


#: (cues, named words in order, line ends with a colon); the cues are (mechanism,
#: vague, weak), and for a line that names a word only weak is sure to be set
LineResult = tuple[tuple[bool, bool, bool], tuple[str, ...], bool]
_NOTHING = ((False, False, False), ())


Found = list[tuple[int, str]]


def _analyse_line(
    line: str,
    previous_weak: bool,
    previous_colon: bool,
    study: frozenset[str],
    found: Found | None,
    marked: bool = False,
) -> LineResult:
    """Cues of one line and the words it names, in order (independent of the target).

    ``found`` are the gate's matches on the line (position, text); None analyses
    the line without the gate. ``marked``: the response has emphasis or code
    marks (``*``, backticks, ``~``), which the gate removed before its search,
    so positions are those of the line without its marks (as the cue rules read
    it), and study words and spellings are looked for on the line as written.
    """
    colon = ":" in line and _LINE_END_COLON.search(line) is not None
    low = line.lower().replace("’", "'")  # same length as the line: positions agree
    # the cue rules read the line without its marks ("**L**etters" has "letters")
    clean = low.replace("*", "").replace("`", "").replace("~", "") if marked or not found else low
    if found is not None:
        if not found:
            if not (previous_weak or previous_colon):
                # no stem and no study word: the line can only name a word after a cue line
                return (*_NOTHING, colon)
            # no stem: no cue (every rule needs a stem); no study word: only rule 3 or
            # a spelling that is not of a study word can name something
            names = _line_names(
                line, low, study, False, _never, previous_weak, previous_colon, [], False
            )
            return (False, False, False), tuple(word for _, word in names), colon
        plan = _plan(tuple([text for _, text in found]), marked)
        if marked:  # study words are located on the line as written
            occurrences = _located_occurrences(line, low, study)
        else:
            occurrences = _study_occurrences(line, found, study, None)
    else:
        plan = _FULL_PLAN
        found = []
        occurrences = _located_occurrences(line, low, study)
    mechanism = _OnDemand(
        lambda: _any_match_at(plan.mechanism_at, clean, found) or _any_match(plan.mechanism, clean)
    )
    # A weak cue word makes the line a cue line whatever its other cues, and
    # the level of a line that names a word depends on neither the mechanism
    # nor a vague phrase: they are looked for only when needed.
    vague: bool | None = None
    if plan.weak and _weak_cue(clean, plan, found):
        weak = True
    elif mechanism():
        weak, vague = True, False  # vague is irrelevant once the mechanism is named
    else:
        weak = vague = _vague(clean, plan, found)
    names = _line_names(
        line, low, study, weak, mechanism, previous_weak, previous_colon, occurrences,
        plan.spelled_hint,
    )  # fmt: skip
    if names:  # (the mechanism cue is left False when it was not needed)
        return (bool(mechanism.value), bool(vague), weak), tuple(w for _, w in names), colon
    if mechanism():
        return (True, False, True), (), colon
    if vague is None:
        vague = _vague(clean, plan, found)
    return (False, vague, weak), (), colon


class _LineCache:
    """Per-process cache of line analyses (lines repeat across samples); cleared when full.

    Keys are ``(line, previous_weak, previous_colon, study, gate off)``; see
    :func:`articulation_levels`.
    """

    def __init__(self, max_size: int = 300_000) -> None:
        self.max_size = max_size
        self.entries: dict[tuple[str, bool, bool, frozenset[str], bool], LineResult] = {}


_LINE_CACHE = _LineCache()


# ----------------------------------------------------------------------------- entry point
@dataclass(frozen=True)
class Articulation:
    """What a response says about its own pattern.

    Attributes
    ----------
    level : int
        Highest level reached (index into ``ARTICULATION_LEVELS``).
    line_levels : tuple of int
        Level of each line.
    word_line : int or None
        First 1-based line naming the target word.
    named_word : str or None
        First word named as the pattern (may differ from the target).
    """

    level: int
    line_levels: tuple[int, ...]
    word_line: int | None
    named_word: str | None

    def first_line_at(self, threshold: int) -> int | None:
        """First 1-based line whose level is at least ``threshold``."""
        for i, level in enumerate(self.line_levels, start=1):
            if level >= threshold:
                return i
        return None


def articulate(
    lines: list[str],
    target: str | None,
    study_words: frozenset[str] = frozenset(),
    *,
    gate: bool = True,
) -> Articulation:
    """Articulation level of each line, the target's first naming line and the first named word.

    Parameters
    ----------
    lines : list of str
        The scorable lines (see :func:`stats.score.lines.scorable_lines`).
    target : str or None
        Upper-case target word.
    study_words : frozenset of str
        Upper-case words of the study; the target is added.
    gate : bool, default True
        Skip lines that cannot hold a cue (a speed-up with identical results;
        ``False`` analyses every line, for tests).

    Returns
    -------
    Articulation
    """
    levels, word_line, named_word = articulation_levels(lines, target, study_words, gate=gate)
    if levels is None:
        return Articulation(NONE, (NONE,) * len(lines), None, None)
    return Articulation(max(levels), tuple(levels), word_line, named_word)


def articulation_levels(
    lines: list[str],
    target: str | None,
    study_words: frozenset[str] = frozenset(),
    *,
    gate: bool = True,
    every_line: bool = True,
) -> tuple[list[int] | None, int | None, str | None]:
    """The work of :func:`articulate`, without building an :class:`Articulation`.

    Parameters
    ----------
    lines, target, study_words, gate
        As in :func:`articulate`.
    every_line : bool, default True
        False stops at the first line that names the target (without a target:
        the first line that names a word): the level, the first line at any
        threshold, the word line and the named word cannot change after it, so
        the later lines are left at ``NONE`` and not even searched by the gate.

    Returns
    -------
    (list of int or None, int or None, str or None)
        The level of each line (``None`` when no line reaches ``vague``: the
        common case, answered without building a list), the first line naming
        the target and the first named word.
    """
    study = study_words if not target or target in study_words else study_words | {target}
    if not lines:
        return None, None, None
    matches: Iterator[re.Match[str]] | None = None
    pending: re.Match[str] | None = None
    scanned_lengths: list[int] | None = None  # of the lines without their marks
    if gate:
        text = "\n".join(lines)
        scanned = text.lower()
        if len(scanned) == len(text):  # lower() must keep positions
            clean = scanned
            # (three substring tests are much faster than a regex search)
            has_marks = "*" in scanned or "`" in scanned or "~" in scanned  # _HIDES_CUES
            if has_marks:
                # the cue rules read lines without their marks ("**L**etters"), so
                # the gate does too; it removes no newline: same lines
                clean = _HIDES_CUES.sub("", scanned)
            matches = _gate_matches(scanned, clean, study)
            # gate matches, consumed line by line: lines are joined by one character
            pending = next(matches, None)
            if pending is None and not _colon_line_before_last(lines):
                return None, None, None
            if has_marks:  # (not needed by the responses ruled out above)
                scanned_lengths = [len(part) for part in clean.split("\n")]
    cache = _LINE_CACHE
    entries = cache.entries
    line_levels: list[int] | None = None
    word_line = None
    named_word = None
    previous_weak = previous_colon = False
    line_start = 0
    marked = scanned_lengths is not None
    may_colon = matches is not None and ":" in text
    found: Found | None = None
    for index, line in enumerate(lines):
        if matches is not None:
            length = len(line) if scanned_lengths is None else scanned_lengths[index]
            line_end = line_start + length
            found = []
            while pending is not None and (start := pending.start()) <= line_end:
                found.append((start - line_start, pending.group(1)))
                pending = next(matches, None)
            line_start = line_end + 1
            if not found and not (previous_weak or previous_colon):
                # no stem and no study word: only a cue line before could make it name a word
                if pending is None and not may_colon:
                    break  # and no line further on has a match or can end with a colon
                previous_colon = ":" in line and _LINE_END_COLON.search(line) is not None
                continue
        key = (line, previous_weak, previous_colon, study, found is None)
        result = entries.get(key)
        if result is None:
            if len(entries) >= cache.max_size:
                entries.clear()
            result = entries[key] = _analyse_line(
                line, previous_weak, previous_colon, study, found, marked
            )
        cues, names, colon = result
        if names:
            if named_word is None:
                named_word = names[0]
            if line_levels is None:
                line_levels = [NONE] * len(lines)
            if target is not None and target in names:
                line_levels[index] = WORD
                if word_line is None:
                    word_line = index + 1
                if not every_line:
                    break
            else:
                line_levels[index] = MECHANISM
                if not every_line and not target:
                    break
        elif cues[0] or cues[1]:
            if line_levels is None:
                line_levels = [NONE] * len(lines)
            line_levels[index] = MECHANISM if cues[0] else VAGUE
        previous_weak, previous_colon = cues[2], colon
    return line_levels, word_line, named_word
