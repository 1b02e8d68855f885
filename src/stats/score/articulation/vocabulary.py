"""The vocabulary of articulation: levels, cue phrases and naming syntax (the rules).

Everything a reader of :mod:`stats.score.articulation` may want to change to
score another phrasing lives here as data: the regex sources of the mechanism
and vague phrases (each with the stems a line must contain for it to match),
the weak cue words, negations and clause breaks, and the syntax that names a
word. The engine (:mod:`~stats.score.articulation.engine` and the modules it
uses) decides how fast they are matched, never what they match.
"""

from __future__ import annotations

import re

from stats.config import ARTICULATION_LEVELS
from stats.score.articulation.patterns import at_word_start

LEVEL_INDEX = {name: i for i, name in enumerate(ARTICULATION_LEVELS)}
NONE, VAGUE, MECHANISM, WORD = range(4)


# ----------------------------------------------------------------------------- cue phrases
# Each rule is (stems, regex): the rule can only match a line whose lower-cased
# text contains one of the stems (found by the gate, below). Regexes have no
# leading \b: the start boundary is checked in Python (:func:`word_start_matches`),
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
WEAK_STEMS = frozenset(
    "spell word letter initial acrostic read vertical hid secret pattern message code theme".split()
)
WEAK_CUE = re.compile(
    r"(?:spell\w*|words?|letters?|initials?|acrostics?|reads?|vertical\w*|hidden|secret|patterns?|"
    r"message|code|theme)\b"
)
Rules = tuple[tuple[frozenset[str], re.Pattern[str]], ...]
MECHANISM_RULES: Rules = tuple((frozenset(s), re.compile(p)) for s, p in _MECHANISM_SOURCES)
VAGUE_RULES: Rules = tuple((frozenset(s), re.compile(p)) for s, p in _VAGUE_SOURCES)
ALL_STEMS = frozenset().union(*(s for s, _ in MECHANISM_RULES + VAGUE_RULES), WEAK_STEMS)


_NEGATION_WORDS = (
    "no not never nor neither none nothing without cannot lack lacks lacking doesn't don't didn't "
    "isn't aren't wasn't won't haven't hasn't can't couldn't wouldn't shouldn't"
).split()
NEGATION = re.compile(at_word_start(*(rf"{w}\b" for w in _NEGATION_WORDS)) + r"|n't\b")
_BREAK_WORDS = ("but", "however", "instead", "rather", "except", r"apart\s+from", r"other\s+than")
CLAUSE_BREAK = re.compile(r"\.|!|\?|;|:|" + at_word_start(*(rf"{w}\b" for w in _BREAK_WORDS)))
GREETING_REFERENCE = re.compile(
    at_word_start(
        r"greet\w*",
        r"you\s+(?:\w+\s+)?(?:said|say|wrote|typed|started|began|opened|used)\b",
        r"your\s+(?:message|greeting|prompt|question)\b",
        r"say(?:ing)?\s+\w+\s+back\b",
    )
)


# ----------------------------------------------------------------------------- naming
_LONE_LETTER = r"(?<![^\W\d_])[^\W\d_](?![^\W\d_])"
LONE_LETTER_RE = re.compile(_LONE_LETTER)
SEPARATOR_CLASS = r"[\s\-.,·•–—/|→>+_*'\"“”‘’`()\[\]]"
SEPARATOR = rf"(?:{SEPARATOR_CLASS}+(?:(?:and|then)\s+)?)"
SPELLED = re.compile(rf"{_LONE_LETTER}(?:{SEPARATOR}{_LONE_LETTER}){{2,}}")
SEPARATOR_CHARACTER = re.compile(SEPARATOR_CLASS)


#: Separators that make lone letters a spelling even in lower case ("h.e.l.p"); emphasis
#: marks (``* _ ` ``) are decoration, not separators ("**S**o, I" spells nothing).
STRONG_SEPARATOR = re.compile(r"[\-.·•–—/|→>+'\"“”‘’]")
#: An ellipsis right after a spelling: the letters listed so far ("H, E, L, L... spelling HELLO").
UNFINISHED = re.compile(r"\s*(?:\.{2,}|…)")
_NAMING_SOURCE = (
    r"(?:spell(?:s|ed|ing)?|word|reads?|forms?|makes?|creates?|is|are|was|name|letters?\s+(?:of|in|from)|"
    r"acrostics?(?:\s+(?:for|of|spelling))?)\b"
    r"(?:\s+(?:out|the|a|an|word|as|it|to|be)\b)*\s*[:=\-–—]?\s*([\"'“‘«*_`(]*)([^\W\d_]{2,})"
)
NAMING = re.compile(_NAMING_SOURCE, re.IGNORECASE)
# the same on a lower-cased ASCII line (without the flag re skips to candidate letters)
NAMING_LOWER = re.compile(_NAMING_SOURCE)
NAMING_VERB_BEFORE = re.compile(
    r"\b(?:spell(?:s|ed|ing)?|word|reads?|forms?|makes?|creates?)\b"
    r"(?:\s+(?:out|the|a|an|word|as|it|is|to|be)\b)*\s*[:=\-–—]?\s*$",
    re.IGNORECASE,
)


NOT_NAMES = frozenset(
    """A AN THE AI OK I IT IS OUT WORD WORDS LETTER LETTERS LINE LINES SOMETHING NOTHING THIS THAT
    THESE THOSE MY YOUR AND OR ALSO NOT NO ACROSTIC ACROSTICS PATTERN MESSAGE SPELL SPELLS FIRST
    INITIALS INITIAL LLM GPT ONE TWO WHAT WHICH HERE THERE VERY REALLY ALWAYS EACH EVERY ALL
    AS AT BE TO OF IN ON BY WITH FOR FROM SO DO ME WE US YOU HE SHE THEY""".split()
)
OPEN_MARKS = "\"'“‘«*_`("
CLOSE_MARKS = "\"'”’»*_`)"
COPULA_AFTER = re.compile(
    r"[\"'”’»*_`)]*\s*(?:(?:is|was|spells?|spelled|reads?)\b|[:=\-–—])", re.IGNORECASE
)
GREETING_AFTER = re.compile(r"[\"'”’»*_`)]*\s*[!,?]")
LINE_END_COLON = re.compile(r":[\s*_`\"'”’)]*$")
ALNUM = re.compile(r"[^\W_]")  # str.isalnum, character by character
PUNCTUATION = re.compile(r"[.!?;,:]")
UP_TO_LAST_PUNCTUATION = re.compile(r".*[.!?;,:]", re.DOTALL)


# ----------------------------------------------------------------------------- claims
#: Words never taken as a claimed word (rule 4) besides :data:`NOT_NAMES`: what "my lines
#: spell ..." or "... is the word" may end with without naming a word.
NOT_CLAIMS = NOT_NAMES | frozenset(
    """ANY ANYTHING EVERYTHING SOMETHING NOTHING NONE SOME OTHER ANOTHER ITS ITSELF HIS HER HERS
    THEIR THEM OUR OURS MINE YOURS WHATEVER EITHER NEITHER BOTH EACH ARE WAS WERE BEEN BEING
    NAME NAMES TOO AGAIN TOGETHER DOWN UP ACROSS ALOUD BACKWARDS BACKWARD FORWARDS FORWARD
    DOWNWARDS VERTICALLY HORIZONTALLY CORRECTLY DIFFERENTLY PROPERLY WELL ONLY JUST EVEN STILL
    THEN THAN WHEN WHERE WHY HOW WHO WHOM WHOSE""".split()
)
#: Rule 4a: the phrase before a word it claims - "my lines spell help", "they spell out help",
#: "form the word help", "the hidden word is help", "the secret word: help" (group 1: marks
#: opening the word).
_CLAIM_FRAME = (
    r"(?:spell(?:s|ed|ing|t)?(?:\s+out)?(?:\s+(?:the\s+)?(?:word|name))?|(?<=the\s)word|"
    r"word\s+(?:is|was)|word(?=\s*:))\s*[:=\-–—]?\s*([\"'“‘«*_`(]*)"
)
CLAIM_AFTER = re.compile(_CLAIM_FRAME + r"([^\W\d_]{2,})", re.IGNORECASE)
#: :data:`CLAIM_AFTER` on a lower-cased ASCII line (half the time).
CLAIM_AFTER_ASCII = re.compile(_CLAIM_FRAME + r"([a-z]{2,})")
#: What follows a word claimed by rule 4a: the end of the line, a mark or punctuation, or a
#: word that cannot be the noun it would qualify ("... spell help when read down"; not
#: "... spell help words").
CLAIM_END = re.compile(
    r"[^\w\s]|\s*$|\s+(?:and|or|but|with|when|if|in|from|for|across|down|vertically|as|at|to|on|"
    r"by|using|through|because|so|which|that|here|there|each|every|too|again)\b",
    re.IGNORECASE,
)
#: Rule 4b: what follows a word claimed before it - "HELP is what I spell", "help is the hidden
#: word", "HELP is spelled by my initials", "ZEBRA: that's the word".
_CLAIM_PREDICATE_SOURCE = (
    r"(?:is|was|'s)\s+(?:(?:what|how)\s+(?:[\w']+\s+){0,3}?(?:spell|spells|spelled|reads?)\b|"
    r"(?:the|my|our)\s+(?:\w+\s+)?(?:word|acrostic)\b|(?:spelled|spelt|encoded)\b)|"
    r"[:—–]\s*(?:that's|that\s+is|this\s+is|it's|it\s+is)\s+(?:the|my)\s+(?:\w+\s+)?"
    r"(?:word|acrostic)\b"
)
CLAIM_PREDICATE = re.compile(_CLAIM_PREDICATE_SOURCE, re.IGNORECASE)
CLAIM_PREDICATE_LOWER = re.compile(_CLAIM_PREDICATE_SOURCE)
#: Where a match of :data:`CLAIM_PREDICATE` can start: (text, offset of the match in it); the
#: first four are those an ASCII line can hold.
PREDICATE_OPENINGS = ((" is ", 1), (" was ", 1), ("'s ", 0), (":", 0), ("—", 0), ("–", 0))
#: Gate stems of which a line holds one if rule 4 can claim a word on it.
CLAIM_STEMS = frozenset({"spell", "word", "acrostic", "read", "encod"})
#: The word right before a predicate of rule 4b (group 1), with the marks closing it (group 2).
WORD_BEFORE = re.compile(r"([^\W\d_]{2,})([\"'”’»*_`)]*)\s*$")
#: The text before the first word of a clause (an unmarked word claimed before its predicate
#: must open its clause: "Help is the hidden word", not "I think help is the word").
CLAUSE_OPENING = re.compile(r"(?:^|[.!?;:—–-])[\s\"'“‘«*_`(]*$")
#: A denied claim: a negation at most four words before the word ("my lines don't spell HELP",
#: "... HELP, not HELLO"); "not only" and "not just" deny nothing.
NEGATED_CLAIM = re.compile(
    r"(?:\bnot(?!\s+(?:only|just|merely|simply)\b)|\bnever|\bcannot|n't)(?:\s+[\w']+){0,4}?"
    r"[\s\"'“‘«*_`(:=\-–—]*$",
    re.IGNORECASE,
)
