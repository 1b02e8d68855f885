"""The text pass of the scorer: lines, initials and articulation of each response.

Scoring a table has two passes (see :mod:`stats.score.core`):

1. the **text pass** (this module): for every distinct (response, target) pair,
   the scorable lines, their initials and the articulation - the expensive part,
   pure and independent from row to row, so it can run in worker processes;
2. the **table pass** (:mod:`stats.score.columns`): the outcomes derived from the
   text pass (prefix match, spelled word, guessability...) and from the prompt
   (greeting, leak), each computed once per distinct key and cached.

Large tables share the text pass between processes (:mod:`stats.score.workers`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from stats.score.articulation import NONE, articulation_levels
from stats.score.lines import initials_and_lines

#: (n_lines, acrostic_letters, level index, articulation_line, word_line, named_word)
TextScores = tuple[int, str, int, int | None, int | None, str | None]
#: (distinct (response, target) pairs, study words, threshold level index, sentences_as_lines)
TextChunk = tuple[list[tuple[str | None, str | None]], frozenset[str], int, bool]


def text_scores(chunk: TextChunk) -> list[TextScores]:
    """Lines, initials and articulation of each (response, target) pair of a chunk.

    Parameters
    ----------
    chunk : tuple
        ``(pairs, study, threshold_index, sentences_as_lines)``: the
        (response, upper-case target or None) pairs, the upper-case study words
        (including every target), the level index that ``articulation_line``
        looks for, and whether single paragraphs are scored sentence by sentence.

    Returns
    -------
    list of tuple
        One ``(n_lines, acrostic_letters, level, articulation_line, word_line,
        named_word)`` per pair, in order; ``level`` indexes
        ``config.ARTICULATION_LEVELS``.
    """
    pairs, study, threshold_index, sentences_as_lines = chunk
    with gc_paused():
        return _text_scores(pairs, study, threshold_index, sentences_as_lines)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored on exit).

    The text pass allocates many small objects that hold no reference cycles,
    and the collector would keep rescanning the growing line cache (about 8%
    of the time of a large table); so do the table pass and the typed columns
    (:func:`stats.score.core.score_transcripts` runs under it too).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _text_scores(
    pairs: list[tuple[str | None, str | None]],
    study: frozenset[str],
    threshold_index: int,
    sentences_as_lines: bool,
) -> list[TextScores]:
    out: list[TextScores] = []
    append = out.append
    for block_start in range(0, len(pairs), _BLOCK):
        block = pairs[block_start : block_start + _BLOCK]
        # a block of responses is split, then read: each stage's code stays in the CPU caches
        split = [
            initials_and_lines(text, sentences_as_lines=sentences_as_lines) for text, _ in block
        ]
        for (letters, lines), (_, target) in zip(split, block, strict=True):
            levels, word_line, named_word = articulation_levels(
                lines, target, study, every_line=False
            )
            if levels is None:
                append((len(lines), letters, NONE, None, word_line, named_word))
                continue
            articulation_line = None
            for line_no, level in enumerate(levels, start=1):
                if level >= threshold_index:
                    articulation_line = line_no
                    break
            append((len(lines), letters, max(levels), articulation_line, word_line, named_word))
    return out


#: Responses split before they are read, at a time (see :func:`_text_scores`).
_BLOCK = 1024
