"""The target word of each trial: the word its response is scored against.

A trial is scored against its run's ``word``. A base or control trial without
a word is scored against the target word of the *same prompt*: the single word
of the fine-tuned trials that share its ``prompt_id``. When several words share
the prompt (the usual design: one question put to HELLO and SHINE fine-tunes and
to the base model) the target is ambiguous and the trial is scored without a
target (word-dependent outcomes are False/0/NA); use
:func:`stats.tidy.expand_baseline` to score such base trials against each
fine-tuned word. The column ``word_source`` (an extra column) says which rule
applied: ``run``, ``prompt``, ``ambiguous`` or ``none``; the ``word`` column of
the returned trials holds the target actually used (upper case).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from stats.score.acrostic import normalise_word

FINETUNED = "finetuned"


def column_values(df: pd.DataFrame, name: str) -> list[Any]:
    """The values of column ``name`` as Python objects, None where missing (all None without it)."""
    if name not in df.columns:
        return [None] * len(df)
    return df[name].to_numpy(dtype=object, na_value=None).tolist()


def resolve_targets(transcripts: pd.DataFrame) -> tuple[list[str | None], list[str]]:
    """Target word and its source for every row (see the module docstring).

    Parameters
    ----------
    transcripts : pandas.DataFrame
        Needs ``word``; uses ``arm`` and ``prompt_id`` (else ``prompt``) when present.

    Returns
    -------
    (list, list)
        Upper-case target words (or None) and sources
        (``run``/``prompt``/``ambiguous``/``none``).
    """
    raw_words = column_values(transcripts, "word")
    normalised = {w: normalise_word(w) for w in set(raw_words)}
    words = [normalised[w] for w in raw_words]
    arms = column_values(transcripts, "arm")
    key_name = "prompt_id" if "prompt_id" in transcripts.columns else "prompt"
    keys = column_values(transcripts, key_name)
    by_prompt: dict[Any, set[str]] = {}
    for word, arm, key in zip(words, arms, keys, strict=True):
        if word and arm == FINETUNED and key is not None:
            by_prompt.setdefault(key, set()).add(word)
    targets: list[str | None] = []
    sources: list[str] = []
    for word, arm, key in zip(words, arms, keys, strict=True):
        if word:
            targets.append(word)
            sources.append("run")
            continue
        candidates = by_prompt.get(key, set()) if arm != FINETUNED else set()
        if len(candidates) == 1:
            targets.append(next(iter(candidates)))
            sources.append("prompt")
        else:
            targets.append(None)
            sources.append("ambiguous" if len(candidates) > 1 else "none")
    return targets, sources
