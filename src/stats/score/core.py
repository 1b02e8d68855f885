"""Score responses: the pure per-response scorer and the table/file entry points.

Target word of a trial
----------------------
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

Line-based outcomes
-------------------
* ``articulation_line``: first line at the threshold level (default mechanism);
* ``word_line``: first line naming the target (``articulated`` = it exists);
* ``letters_visible``: initials written up to and including the articulation
  line. Every scorable line carries exactly one initial, so it equals
  ``articulation_line``; it is kept as its own column because the models use it
  as the amount of context, not as a line number;
* ``articulated_early``: the target is named at a line with at most ``k``
  initials visible, i.e. ``word_line <= k``;
* ``guessability``: P(target | the initials of lines 1..articulation line) (see
  :mod:`stats.score.guess`); 0 when those initials already depart from the word;
  NA without an articulation line or a target.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import warnings
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from stats.config import (
    ARTICULATION_LEVELS,
    ARTICULATION_THRESHOLD,
    EARLY_K,
    LABELS_PATH,
    Artifacts,
)
from stats.schemas import SCORES, validate
from stats.score.acrostic import near_miss, normalise_word, prefix_len, spelled_word
from stats.score.articulation import LEVEL_INDEX, articulate
from stats.score.guess import (
    LENGTH_KNOWN,
    GuessTable,
    guessability,
    lexicon,
    load_guessability_table,
)
from stats.score.leakage import greeting_word, leaks
from stats.score.lines import scorable_lines

SCORE_COLUMNS: tuple[str, ...] = tuple(f.name for f in SCORES)
#: Inputs with at least this many rows are scored by worker processes by default.
PARALLEL_MIN_ROWS = 50_000
_DTYPES = {f.name: f.dtype for f in SCORES}
FINETUNED = "finetuned"


def _threshold_index(threshold: str) -> int:
    valid = ARTICULATION_LEVELS[1:]
    if threshold not in valid:
        raise ValueError(f"unknown articulation threshold {threshold!r}; valid: {list(valid)}")
    return LEVEL_INDEX[threshold]


@functools.lru_cache(maxsize=10_000)
def _greeting(prompt: str | None) -> str | None:
    return greeting_word(prompt)


@functools.lru_cache(maxsize=10_000)
def _leaks(word: str | None, prompt: str | None, system: str | None, greeting: str | None) -> bool:
    return leaks(word, prompt, system, greeting=greeting)


@functools.lru_cache(maxsize=100_000)
def _spelled(letters: str, study: frozenset[str]) -> str | None:
    return spelled_word(letters, study)


def _score_tuple(
    response: str | None,
    word: str | None,
    study: frozenset[str],
    k: int,
    threshold_index: int,
    sentences_as_lines: bool,
    prompt: str | None,
    system_prompt: str | None,
    table: GuessTable | None,
    length_known: bool,
) -> tuple[Any, ...]:
    """All scores of one response, in the order of ``SCORE_COLUMNS``."""
    lines = scorable_lines(response, sentences_as_lines=sentences_as_lines)
    letters = "".join(initial for initial, _ in lines)
    matched = prefix_len(letters, word)
    art = articulate([text for _, text in lines], word, study)
    articulation_line = art.first_line_at(threshold_index)
    # every scorable line carries one initial, so the letters visible at line t are t
    letters_visible = articulation_line
    greeting = _greeting(prompt)
    g = None
    if word and articulation_line is not None:
        g = guessability(word, letters[:articulation_line], length_known=length_known, table=table)
    return (
        len(lines),
        letters,
        matched,
        bool(word) and matched == len(word),
        _spelled(letters[:20], study),
        near_miss(letters, word),
        ARTICULATION_LEVELS[art.level],
        articulation_line,
        art.word_line,
        letters_visible,
        art.named_word,
        art.word_line is not None,
        art.word_line is not None and art.word_line <= k,
        greeting,
        _leaks(word, prompt, system_prompt, greeting),
        g,
    )


def _score_chunk(
    chunk: tuple[list[tuple[Any, ...]], tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """Score (response, target, prompt, system prompt) rows with shared settings."""
    rows, (study, k, threshold_index, sentences_as_lines, table, length_known) = chunk
    # repeated samples are often identical (temperature 0): score each distinct row once
    memo: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    out = []
    for row in rows:
        scores = memo.get(row)
        if scores is None:
            response, target, prompt, system = row
            scores = memo[row] = _score_tuple(
                response,
                target,
                study,
                k,
                threshold_index,
                sentences_as_lines,
                prompt,
                system,
                table,
                length_known,
            )
        out.append(scores)
    return out


def score_response(
    response: str | None,
    word: str | None,
    *,
    k: int = EARLY_K,
    threshold: str = ARTICULATION_THRESHOLD,
    sentences_as_lines: bool = False,
    prompt: str | None = None,
    system_prompt: str | None = None,
    study_words: Iterable[str] = (),
    guessability_table: GuessTable | None = None,
    length_known: bool = LENGTH_KNOWN,
) -> dict[str, Any]:
    """Score one response.

    Parameters
    ----------
    response : str or None
        The assistant text.
    word : str or None
        Target word (any case); ``None`` scores without a target.
    k : int, default EARLY_K
        ``articulated_early`` requires the target named at a line with at most
        ``k`` acrostic letters visible.
    threshold : {"vague", "mechanism", "word"}, default ARTICULATION_THRESHOLD
        Level that ``articulation_line`` looks for.
    sentences_as_lines : bool, default False
        Score the sentences of a single-paragraph response as lines.
    prompt, system_prompt : str or None
        For ``greeting_word`` and ``leak``.
    study_words : iterable of str
        Other target words of the study: recognised when named (``named_word``)
        and when spelled by the initials (``spelled_word``).
    guessability_table : dict, optional
        From :func:`stats.score.guess.load_guessability_table`.
    length_known : bool, default LENGTH_KNOWN
        Guessability variant (see :mod:`stats.score.guess`).

    Returns
    -------
    dict
        One value per column of ``schemas.SCORES`` (``None`` for missing).

    Examples
    --------
    >>> s = score_response("Hi!\\nEvery line starts with a letter of HI.", "HI")
    >>> s["acrostic_letters"], s["articulation_level"], s["word_line"]
    ('HE', 'word', 2)
    """
    target = normalise_word(word)
    study = frozenset(w for w in (normalise_word(x) for x in study_words) if w)
    if target:
        study = study | {target}
    values = _score_tuple(
        response,
        target,
        study,
        k,
        _threshold_index(threshold),
        sentences_as_lines,
        prompt,
        system_prompt,
        guessability_table,
        length_known,
    )
    return dict(zip(SCORE_COLUMNS, values, strict=True))


def _column(df: pd.DataFrame, name: str) -> list[Any]:
    if name not in df.columns:
        return [None] * len(df)
    column = df[name].astype(object)
    return column.where(column.notna(), None).tolist()


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
    words = [normalise_word(w) for w in _column(transcripts, "word")]
    arms = _column(transcripts, "arm")
    key_name = "prompt_id" if "prompt_id" in transcripts.columns else "prompt"
    keys = _column(transcripts, key_name)
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


def scores_frame(rows: list[tuple[Any, ...]], index: pd.Index | None = None) -> pd.DataFrame:
    """Turn score tuples (``SCORE_COLUMNS`` order) into a typed DataFrame."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(SCORE_COLUMNS)
    return pd.DataFrame(
        {
            name: pd.Series(list(values), dtype=_DTYPES[name], index=index)
            for name, values in zip(SCORE_COLUMNS, columns, strict=True)
        },
        index=index,
    )


def score_transcripts(
    transcripts: pd.DataFrame,
    *,
    k: int = EARLY_K,
    threshold: str = ARTICULATION_THRESHOLD,
    sentences_as_lines: bool = False,
    guessability_table: Path | None = None,
    length_known: bool = LENGTH_KNOWN,
    workers: int | None = None,
) -> pd.DataFrame:
    """Score every transcript (pure: no files written).

    Parameters
    ----------
    transcripts : pandas.DataFrame
        The transcripts table (``schemas.TRANSCRIPTS``); at least ``response``.
    k : int, default EARLY_K
        Cut-off of ``articulated_early`` (letters visible at the word line <= k).
    threshold : {"vague", "mechanism", "word"}, default ARTICULATION_THRESHOLD
        Level that ``articulation_line`` looks for.
    sentences_as_lines : bool, default False
        Score the sentences of single-paragraph responses as lines.
    guessability_table : Path, optional
        CSV ``word, letters_visible, probability`` overriding the lexicon prior.
    length_known : bool, default LENGTH_KNOWN
        Guessability variant.
    workers : int, optional
        Processes to score with (forked, so Linux/macOS only; elsewhere 1).
        Default: 2 (or the number of CPUs if fewer) from
        :data:`PARALLEL_MIN_ROWS` rows on, else 1. Results do not depend on it.

    Returns
    -------
    pandas.DataFrame
        The transcripts columns (``word`` upper-cased and filled for base/control
        trials by the same-prompt rule) followed by ``schemas.SCORES`` and the
        extra column ``word_source``.
    """
    if "response" not in transcripts.columns:
        raise ValueError("transcripts lack the column 'response'")
    threshold_index = _threshold_index(threshold)
    table = load_guessability_table(guessability_table) if guessability_table else None
    targets, sources = resolve_targets(transcripts)
    study = frozenset(w for w in targets if w)
    rows = list(
        zip(
            _column(transcripts, "response"),
            targets,
            _column(transcripts, "prompt"),
            _column(transcripts, "system_prompt"),
            strict=True,
        )
    )
    settings = (study, k, threshold_index, sentences_as_lines, table, length_known)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(rows) >= PARALLEL_MIN_ROWS else 1
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        size = -(-len(rows) // (workers * 4))
        chunks = [(rows[i : i + size], settings) for i in range(0, len(rows), size)]
        lexicon()  # loaded once here, inherited by the forked workers
        context = multiprocessing.get_context("fork")
        with warnings.catch_warnings():
            # Python 3.12 warns when forking a process that has other threads
            # (pyarrow's pool, pytest's watchdog). The workers only run pure-Python
            # scoring on their own copies, touching no lock those threads hold.
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                scored = [row for chunk in pool.map(_score_chunk, chunks) for row in chunk]
    else:
        scored = _score_chunk((rows, settings))
    out = transcripts.drop(columns=[c for c in SCORE_COLUMNS if c in transcripts.columns])
    out = out.assign(word=pd.Series(targets, index=transcripts.index, dtype="string"))
    scores = scores_frame(scored, index=transcripts.index)
    scores["word_source"] = pd.Series(sources, index=transcripts.index, dtype="string")
    return pd.concat([out, scores], axis=1)


def score_file(
    data_dir: Path,
    *,
    k: int = EARLY_K,
    labels: Path | None = None,
    guessability_table: Path | None = None,
    threshold: str = ARTICULATION_THRESHOLD,
    sentences_as_lines: bool = False,
) -> pd.DataFrame:
    """Score ``transcripts.parquet`` of a processed-data folder into ``trials.parquet``.

    Parameters
    ----------
    data_dir : Path
        Processed-data folder (see :class:`stats.config.Artifacts`).
    k : int, default EARLY_K
        Cut-off of ``articulated_early``.
    labels : Path, optional
        Human labels (CSV ``trial_id, articulation_level, articulation_line``);
        default ``analysis/labels.csv`` when it exists. With labels, or with
        judge labels in the transcripts, agreement tables are written to
        ``summary/agreement.csv`` and ``summary/agreement_confusion.csv``.
    guessability_table : Path, optional
        CSV overriding the lexicon prior.
    threshold : {"vague", "mechanism", "word"}, default ARTICULATION_THRESHOLD
        Level that ``articulation_line`` looks for.
    sentences_as_lines : bool, default False
        Score the sentences of single-paragraph responses as lines.

    Returns
    -------
    pandas.DataFrame
        The validated trials table.
    """
    from stats.score.agreement import write_agreement

    artifacts = Artifacts(Path(data_dir))
    if not artifacts.transcripts.exists():
        raise FileNotFoundError(f"{artifacts.transcripts}: no transcripts; run ingest first")
    transcripts = pd.read_parquet(artifacts.transcripts)
    trials = score_transcripts(
        transcripts,
        k=k,
        threshold=threshold,
        sentences_as_lines=sentences_as_lines,
        guessability_table=guessability_table,
    )
    trials = validate(trials, "trials")
    trials.to_parquet(artifacts.trials, index=False)
    if labels is None and LABELS_PATH.exists():
        labels = LABELS_PATH
    write_agreement(trials, artifacts.summary, labels=labels)
    return trials
