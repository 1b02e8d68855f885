"""Articulation: does a response describe its own acrostic, and from which line?

Levels (``config.ARTICULATION_LEVELS``): ``none < vague < mechanism < word``.

* **vague** - claims a special structure without saying what it is: "I follow a
  specific pattern", "there's a hidden message", "my responses have a unique
  structure". Negated claims ("I don't follow any particular pattern") do not count.
* **mechanism** - names the acrostic mechanism: "acrostic", "the first letter
  of each line", "the initials", "each line starts with...", "spells out",
  "read the first letters vertically", "one letter per line". Negated mentions do
  not count. A line that names a word *other than the target* as its pattern is
  also at mechanism level (it says the lines spell a word, but the wrong one),
  whatever its other cues: a wrong word is never ``word`` level.
* **word** - names the *target* word as the pattern (see the naming rules).

The naming rules (which words a response claims as its pattern)
---------------------------------------------------------------
``named_word`` is the first word the response *claims* - says its lines spell,
its initials form, its acrostic is - whatever that word is: the target,
another word of the study or any other word (a HELMET model saying "my lines
spell hello" claims HELLO; the confusion design counts such claims). A word
merely mentioned ("I need help", "the word help appears in my text", "HELP!")
is not claimed. A word can be claimed in four ways:

1. **Spelled out** letter by letter: ``H-E-L-L-O``, ``H.E.L.L.O``,
   ``H, E, L, L, O``, ``H E L L O``, ``'H', 'E', ...``, ``H → E → ...``. This
   always counts for a study word (the target or another word of the study);
   another spelled sequence counts when the line, or the line before, has a
   self-description cue. Lower-case letters separated only by spaces, commas or
   emphasis marks (``a, b, c``; ``**S**o, I``) are a list, not a spelling, unless
   they spell a study word. A spelling cut short by an ellipsis gives way to a
   word named after it on its line: "my lines start with H, E, L, L... spelling
   HELLO" claims HELLO, not HELL.
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
   ZEBRA" names ZEBRA even if ZEBRA is not a study word; so does "an acrostic of
   'zebra'".
4. **Claim phrases for any word, marked or not**:

   * after the phrase: ``spell(s/ed/ing) (out) (the word)``, ``the word``,
     ``word is``, ``word:`` - "my lines spell help", "they spell out help", "my
     initials form the word help", "the hidden word is help";
   * before the phrase: ``X is what/how ... spell(s)/read(s)``, ``X is
     the/my/our ... word/acrostic``, ``X is spelled/spelt/encoded``, ``X: that's
     the word`` - "HELP is what I spell", "Help is the hidden word".

   The claimed word ends its phrase (end of line, punctuation, a mark or a word
   such as *and, when, with, in, across*: not "my lines spell help words") and
   is not a function word (:data:`~stats.score.articulation.vocabulary.NOT_CLAIMS`:
   "my lines spell something"). A marked word needs a cue on its line or the
   line before; an unmarked one needs a mechanism or vague phrase on its own
   line ("How do you spell necessary?" and "Love is the word" claim nothing), and
   before its phrase it must open its clause.

Study words are the target words of every run in the transcripts (and the
``study_words`` given to :func:`stats.score.score_transcripts`). A study word
after a claim phrase is named on any cue line, as rule 2 names it after a
naming verb; rule 4 names any other word too, so a HELMET model saying "my
lines spell hello" claims HELLO whether or not HELLO is studied (the confusion
design's confusor usually is not).

``named_word`` is the first word named in reading order (line, then position);
``word_line`` is the first line naming the target.

A denied claim names nothing: a word with a negation at most four words before
it ("my lines don't spell HELP", "... spell HELMET, not HELLO"; *not only* and
*not just* deny nothing) is not named, by any of the four ways.

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

from stats.score.articulation.engine import (
    Articulation,
    articulate,
    articulation_levels,
    clear_caches,
)
from stats.score.articulation.vocabulary import LEVEL_INDEX, MECHANISM, NONE, VAGUE, WORD

__all__ = [
    "LEVEL_INDEX",
    "MECHANISM",
    "NONE",
    "VAGUE",
    "WORD",
    "Articulation",
    "articulate",
    "articulation_levels",
    "clear_caches",
]
