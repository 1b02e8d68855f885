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
