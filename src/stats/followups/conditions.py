"""Conditions of the follow-up designs' trials, and rescoring against per-trial targets.

Conditions
----------
Ingest stores each trial's extra conditions as a JSON object in the ``conditions``
column (run-level manifest ``conditions:`` and the shorthands ``pattern_id``,
``explained_in_training``, ``stage``, ``policy``; record-level ``files:
condition_columns:``). :func:`conditions_frame` turns that column into one column per
key.

Per-trial target words
----------------------
A run has one ``word``; a multi-pattern fine-tune (design 1) has one word *per system
prompt*. Such trials carry their pattern's word in the condition ``pattern_word``
(record-level, e.g. a ``pattern_word`` column listed under ``condition_columns``; a
record column called ``word`` would instead be taken as the *run's* word).
:func:`rescore` scores trials again against any chosen target words with
:func:`stats.score.score_transcripts` (the scorer is reused, never re-implemented).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

#: Condition holding a trial's own target word (multi-pattern fine-tunes).
PATTERN_WORD = "pattern_word"


def parse_conditions(value: object) -> dict:
    """One ``conditions`` cell as a dict (missing or invalid JSON -> ``{}``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def conditions_frame(trials: pd.DataFrame) -> pd.DataFrame:
    """The ``conditions`` JSON of every trial as columns (same index as ``trials``).

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials; a missing ``conditions`` column gives an empty frame.

    Returns
    -------
    pandas.DataFrame
        One column per condition key (object dtype), NaN where a trial lacks the key.
    """
    if "conditions" not in trials.columns:
        return pd.DataFrame(index=trials.index)
    rows = [parse_conditions(v) for v in trials["conditions"].astype(object)]
    return pd.DataFrame(rows, index=trials.index)


def as_bool(value: object) -> bool | None:
    """A condition value read as a boolean (``true``/``"yes"``/1 ...); None when unknown."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float) and not (isinstance(value, float) and np.isnan(value)):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "1", "y"):
            return True
        if text in ("false", "no", "0", "n"):
            return False
    return None


def rescore(trials: pd.DataFrame, words: pd.Series, k: int) -> pd.DataFrame:
    """Trials scored again against the given target words (the scorer itself is reused).

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored (or raw) trials with at least ``response``, ``prompt``, ``system_prompt``.
    words : pandas.Series
        Target word of each row (aligned with ``trials``' index).
    k : int
        The "early" cut-off of ``articulated_early``.

    Returns
    -------
    pandas.DataFrame
        ``trials`` with ``word`` replaced by ``words`` and every score column recomputed
        (``word_source`` = ``"run"`` for every row with a word).
    """
    from stats.score import score_transcripts

    frame = trials.drop(columns=[c for c in ("word_source",) if c in trials.columns]).copy()
    frame["word"] = words.astype("string").str.upper().to_numpy()
    return score_transcripts(frame, k=k)
