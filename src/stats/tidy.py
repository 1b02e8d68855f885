"""Trials -> the tables the models sample from.

* :func:`binomial_cells` - Bernoulli trials aggregated into binomial cells (M1);
* :func:`person_period` and :func:`hazard_cells` - discrete-time hazard data of
  the first articulation (M2, Singer & Willett 2003);
* :func:`expand_baseline` - base-model trials scored against every fine-tuned
  word, so that each word has a base-arm rate.

Base-model trials and target words
----------------------------------
An untuned model was trained on no word, so "did it articulate the word?" only
has a meaning relative to a chosen word. :func:`stats.score.score_transcripts`
scores a base trial against the single fine-tuned word that shares its prompt
(``word_source = "prompt"``) and leaves it without a target when several words
share the prompt (``"ambiguous"``). :func:`expand_baseline` resolves this the
way the models need: every base trial is scored once against each fine-tuned
word of the study (``word_source = "expanded"``), giving a base-arm rate per
word. The expanded copies share a ``trial_id``: they are one response judged
against several words, not independent trials, so keep ``word`` in any
grouping that follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from stats.config import ARTICULATION_THRESHOLD, EARLY_K, GUESS_CLIP
from stats.score import score_transcripts
from stats.score.acrostic import normalise_word
from stats.score.guess import LENGTH_KNOWN, guessability, load_guessability_table
from stats.score.targets import FINETUNED

PERSON_PERIOD_IDS = ("trial_id", "run_id", "word", "arm", "greeting", "prompt_id")


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what}: missing column(s) {missing}; available: {list(df.columns)}")


def binomial_cells(trials: pd.DataFrame, outcome: str, by: list[str]) -> pd.DataFrame:
    """Aggregate Bernoulli trials into binomial cells.

    Parameters
    ----------
    trials : pandas.DataFrame
        One row per trial.
    outcome : str
        A boolean (or 0/1) column, e.g. ``"articulated_early"``. Rows where it is
        missing are dropped.
    by : list of str
        Grouping columns; missing values form their own group.

    Returns
    -------
    pandas.DataFrame
        ``by + ["successes", "trials"]`` (int64), one row per observed
        combination, sorted by ``by`` (missing last), index 0..n-1.

    Examples
    --------
    >>> df = pd.DataFrame({"word": ["A", "A", "B"], "articulated": [True, False, True]})
    >>> binomial_cells(df, "articulated", ["word"]).to_dict("records")
    [{'word': 'A', 'successes': 1, 'trials': 2}, {'word': 'B', 'successes': 1, 'trials': 1}]
    """
    _require(trials, [*by, outcome], "binomial_cells")
    if outcome in by:
        raise ValueError(f"binomial_cells: outcome {outcome!r} is also a grouping column")
    data = trials.loc[trials[outcome].notna(), [*by, outcome]]
    values = data[outcome].astype("float64")
    if not values.isin([0.0, 1.0]).all():
        raise ValueError(f"binomial_cells: outcome {outcome!r} must be boolean or 0/1")
    data = data.assign(**{outcome: values.astype("int64")})
    if not by:
        return pd.DataFrame(
            {"successes": [int(data[outcome].sum())], "trials": [len(data)]}, dtype="int64"
        )
    cells = (
        data.groupby(by, dropna=False, sort=False, observed=True)[outcome]
        .agg(successes="sum", trials="count")
        .reset_index()
    )
    cells = cells.sort_values(by, na_position="last", kind="stable", ignore_index=True)
    return cells.astype({"successes": "int64", "trials": "int64"})


def person_period(
    trials: pd.DataFrame,
    *,
    k: int = EARLY_K,
    event: str = "word_line",
    max_line: int | None = None,
    length_known: bool = LENGTH_KNOWN,
    guessability_table: Path | None = None,
) -> pd.DataFrame:
    """Discrete-time hazard data: one row per trial and line at risk.

    A trial contributes lines ``1..T`` where ``T`` is its event line (the first
    line naming the target, by default) or, when the event never happens, its
    number of lines (censored). With ``max_line``, ``T`` is capped and events
    after it are censored. Trials without a target word or without lines
    contribute nothing (score base trials with :func:`expand_baseline` first).

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials (``acrostic_letters``, ``n_lines``, the ``event`` column and
        the id columns ``trial_id, run_id, word, arm, greeting, prompt_id``).
    k : int, default EARLY_K
        ``early`` marks lines with ``letters_visible <= k``.
    event : str, default "word_line"
        Column holding the 1-based event line (``"word_line"`` or ``"articulation_line"``).
    max_line : int, optional
        Last line followed.
    length_known : bool, default LENGTH_KNOWN
        Guessability variant (see :mod:`stats.score.guess`).
    guessability_table : Path, optional
        CSV overriding the lexicon prior.

    Returns
    -------
    pandas.DataFrame
        ``trial_id, run_id, word, arm, greeting, prompt_id, line, letters_visible,
        guessability, early, event``. ``letters_visible`` is the number of initials
        written up to and including the line (every scorable line has one, so it
        equals ``line``); ``guessability`` is P(word | those initials), clipped to
        ``[GUESS_CLIP, 1 - GUESS_CLIP]`` (:data:`stats.config.GUESS_CLIP`); ``event`` is 1 only on the event line.
    """
    _require(trials, [*PERSON_PERIOD_IDS, "acrostic_letters", "n_lines", event], "person_period")
    if max_line is not None and max_line < 1:
        raise ValueError(f"person_period: max_line must be >= 1, got {max_line}")
    table = load_guessability_table(guessability_table) if guessability_table else None
    words = [normalise_word(w) for w in trials["word"].astype(object)]
    n_lines = trials["n_lines"].astype("int64").to_numpy()
    event_line = pd.to_numeric(trials[event], errors="coerce").to_numpy(dtype="float64")
    has_event = ~np.isnan(event_line)
    last = np.where(has_event, event_line, n_lines).astype("float64")
    if max_line is not None:
        censored_late = last > max_line
        has_event = has_event & ~censored_late
        last = np.minimum(last, max_line)
    keep = np.array([w is not None for w in words]) & (last >= 1)
    periods = np.where(keep, last, 0).astype("int64")
    rows = np.repeat(np.arange(len(trials)), periods)
    line = (
        np.concatenate([np.arange(1, p + 1) for p in periods])
        if len(rows)
        else np.array([], dtype="int64")
    )
    is_last = line == periods[rows]
    out = trials.iloc[rows][list(PERSON_PERIOD_IDS)].reset_index(drop=True)
    out["word"] = pd.Series([words[i] for i in rows], dtype="string")
    letters = trials["acrostic_letters"].astype(object).tolist()
    cache: dict[tuple[str, str], float] = {}
    values = np.empty(len(rows), dtype="float64")
    for j, (i, t) in enumerate(zip(rows.tolist(), line.tolist(), strict=True)):
        word = words[i]
        key = (word, letters[i][: min(t, len(word))])
        value = cache.get(key)
        if value is None:
            value = cache[key] = guessability(word, key[1], length_known=length_known, table=table)
        values[j] = value
    out["line"] = line.astype("int64")
    out["letters_visible"] = line.astype("int64")
    out["guessability"] = np.clip(values, GUESS_CLIP, 1 - GUESS_CLIP)
    out["early"] = out["letters_visible"] <= k
    out["event"] = (is_last & has_event[rows]).astype("int64")
    return out


def hazard_cells(person_period: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Aggregate person-period rows into (events, at_risk) cells.

    Parameters
    ----------
    person_period : pandas.DataFrame
        From :func:`person_period`.
    by : list of str
        Grouping columns, e.g. ``["arm", "line"]``.

    Returns
    -------
    pandas.DataFrame
        ``by + ["events", "at_risk"]`` (int64), sorted by ``by``.
    """
    cells = binomial_cells(person_period, "event", by)
    return cells.rename(columns={"successes": "events", "trials": "at_risk"})


def expand_baseline(
    trials: pd.DataFrame,
    words: Sequence[str] | None = None,
    *,
    arms: Sequence[str] = ("base",),
    k: int = EARLY_K,
    threshold: str = ARTICULATION_THRESHOLD,
    sentences_as_lines: bool = False,
    guessability_table: Path | None = None,
    length_known: bool = LENGTH_KNOWN,
) -> pd.DataFrame:
    """Score base-arm trials against each fine-tuned word (see the module docstring).

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials (with ``response``, ``prompt``, ``system_prompt``, ``arm``).
    words : sequence of str, optional
        Target words; default: the words of the fine-tuned trials.
    arms : sequence of str, default ("base",)
        Arms whose trials are expanded.
    k, threshold, sentences_as_lines, guessability_table, length_known
        As in :func:`stats.score.score_transcripts`.

    Returns
    -------
    pandas.DataFrame
        The other trials unchanged, then one copy of each ``arms`` trial per
        word with ``word`` set, scores recomputed and ``word_source = "expanded"``.
    """
    _require(trials, ["response", "arm", "word"], "expand_baseline")
    if words is None:
        words = sorted(
            {w for w in trials.loc[trials["arm"] == FINETUNED, "word"].dropna().astype(str)}
        )
    targets = [w for w in (normalise_word(x) for x in words) if w]
    selected = trials["arm"].isin(list(arms))
    base, others = trials[selected], trials[~selected]
    if base.empty or not targets:
        return others.reset_index(drop=True)
    # one copy of the base trials per word, scored in one call
    copies = pd.concat([base.assign(word=word) for word in targets], ignore_index=True)
    scored = score_transcripts(
        copies,
        k=k,
        threshold=threshold,
        sentences_as_lines=sentences_as_lines,
        guessability_table=guessability_table,
        length_known=length_known,
        study_words=[*targets, *trials["word"].dropna().astype(str).unique()],
    )
    scored["word_source"] = pd.Series("expanded", index=scored.index, dtype="string")
    order = [c for c in trials.columns if c in scored.columns]
    scored = scored[order + [c for c in scored.columns if c not in order]]
    return pd.concat([others, scored], ignore_index=True)
