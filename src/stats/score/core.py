"""Score responses: the pure per-response scorer and the table/file entry points.

The target word of each trial is chosen by :mod:`stats.score.targets`; the outcomes
derived from the text pass are described in :mod:`stats.score.columns`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stats import provenance
from stats.config import (
    ARTICULATION_LEVELS,
    ARTICULATION_THRESHOLD,
    EARLY_K,
    LABELS_PATH,
    Artifacts,
)
from stats.schemas import validate
from stats.score import articulation
from stats.score.acrostic import normalise_word
from stats.score.articulation import LEVEL_INDEX
from stats.score.batch import TextScores, gc_paused, text_scores
from stats.score.columns import (
    DTYPES,
    PAIR_DTYPES,
    SCORE_COLUMNS,
    ScoreArray,
    Settings,
    cached_spelled_word,
    columns_frame,
    concat,
    pair_arrays,
    python_values,
    typed_array,
    typed_series,
)
from stats.score.guess import LENGTH_KNOWN, GuessTable, load_guessability_table
from stats.score.leakage import greeting_word, leaks
from stats.score.targets import column_values, resolve_targets
from stats.score.workers import WorkerPool

__all__ = [
    "SCORE_COLUMNS",
    "clear_caches",
    "default_workers",
    "resolve_targets",
    "score_file",
    "score_response",
    "score_transcripts",
]

#: Inputs with at least this many rows are scored with worker processes by default.
PARALLEL_MIN_ROWS = 50_000
#: Largest and smallest chunk of (response, target) pairs handed to a process:
#: large enough to keep the cost of sending a chunk small, small enough that a
#: request fits in a pipe and that the processes finish close together.
CHUNK_MAX = 2048
CHUNK_MIN = 256


def _threshold_index(threshold: str) -> int:
    valid = ARTICULATION_LEVELS[1:]
    if threshold not in valid:
        raise ValueError(f"unknown articulation threshold {threshold!r}; valid: {list(valid)}")
    return LEVEL_INDEX[threshold]


def clear_caches() -> None:
    """Empty the per-process caches of the scorer (line analyses, spelled words; benchmarks)."""
    articulation.clear_caches()
    cached_spelled_word.cache_clear()


def _study_words(words: Iterable[str]) -> frozenset[str]:
    """Study words as the scorer compares them (upper case, blanks dropped)."""
    return frozenset(w for w in (normalise_word(x) for x in words) if w)


def default_workers(n_rows: int) -> int:
    """Processes used by default for ``n_rows`` rows (see :data:`PARALLEL_MIN_ROWS`)."""
    return min(2, os.cpu_count() or 1) if n_rows >= PARALLEL_MIN_ROWS else 1


def _chunk_bounds(n: int, processes: int) -> list[tuple[int, int]]:
    """(start, stop) of the chunks of ``n`` pairs shared by ``processes`` processes.

    Chunks shrink as the work runs out (each a quarter of an even share of
    what is left, between :data:`CHUNK_MIN` and :data:`CHUNK_MAX`), so that
    the processes, which take chunks in order, finish at about the same time.
    """
    bounds = []
    start = 0
    while start < n:
        size = min(CHUNK_MAX, max(CHUNK_MIN, (n - start) // (4 * processes)))
        bounds.append((start, min(n, start + size)))
        start += size
    return bounds


def _score_columns(
    responses: list[str | None],
    targets: list[str | None],
    prompts: list[str | None],
    systems: list[str | None],
    settings: Settings,
    pool: WorkerPool | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[ScoreArray]:
    """All scores, one typed array per column of ``SCORE_COLUMNS``.

    The text pass (:func:`stats.score.batch.text_scores`) runs once per
    distinct (response, target) pair (repeated samples are often identical),
    shared by this process and the workers of ``pool`` if given and there are
    at least two pairs per process. The derived outcomes are computed once per distinct key of what
    they depend on (see :func:`stats.score.columns.pair_arrays`; greeting and leak once per
    (prompt, system prompt, target)), while the workers run; so is
    ``meanwhile()``, other work of the caller that needs no score.
    """
    study, _, threshold_index, sentences_as_lines, _, _ = settings
    pair_codes: dict[tuple[str | None, str | None], int] = {}
    codes = [
        pair_codes.setdefault(pair, len(pair_codes))
        for pair in zip(responses, targets, strict=True)
    ]
    pairs = list(pair_codes)
    pair_targets = [target for _, target in pairs]
    if pool is not None and len(pairs) >= 2 * (pool.workers + 1):
        bounds = _chunk_bounds(len(pairs), pool.workers + 1)
        chunks = [(pairs[i:j], study, threshold_index, sentences_as_lines) for i, j in bounds]
        # this process scores chunks too, whenever the next result is not ready
        results: Iterable[list[TextScores]] = pool.map(text_scores, chunks, share=True)
    else:
        bounds = [(0, len(pairs))] if pairs else []
        results = (
            text_scores((pairs[i:j], study, threshold_index, sentences_as_lines)) for i, j in bounds
        )
    # greeting and leak do not depend on the text pass: computed while the workers run
    context_index: dict[tuple[str | None, str | None, str | None], int] = {}
    context_codes = [
        context_index.setdefault(key, len(context_index))
        for key in zip(prompts, systems, targets, strict=True)
    ]
    distinct_greetings = []
    distinct_leaks = []
    for prompt, system, target in context_index:
        greeting = greeting_word(prompt)
        distinct_greetings.append(greeting)
        distinct_leaks.append(leaks(target, prompt, system, greeting=greeting))
    # typed once per distinct key, then taken for every row
    taken = np.array(context_codes, dtype=np.intp)
    greetings = typed_array(distinct_greetings, DTYPES["greeting_word"]).take(taken)
    leaked = typed_array(distinct_leaks, DTYPES["leak"]).take(taken)
    if meanwhile is not None:
        meanwhile()
    pieces: list[list[ScoreArray]] = [[] for _ in PAIR_DTYPES]
    caches: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
    for (i, j), text in zip(bounds, results, strict=True):
        # typed chunk by chunk: while the workers run, not after
        arrays = pair_arrays(pair_targets[i:j], text, settings, caches)
        for piece, array in zip(pieces, arrays, strict=True):
            piece.append(array)
    if not pairs:
        arrays = [typed_array([], dtype) for dtype in PAIR_DTYPES]
    else:
        arrays = [concat(piece) for piece in pieces]
    if len(pairs) < len(codes):  # from distinct pairs back to rows
        taken = np.fromiter(codes, dtype=np.intp, count=len(codes))
        arrays = [array.take(taken) for array in arrays]
    *pair_columns, guess = arrays
    return [*pair_columns, greetings, leaked, guess]


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
    study = _study_words(study_words)
    if target:
        study = study | {target}
    settings = (
        study,
        k,
        _threshold_index(threshold),
        sentences_as_lines,
        guessability_table,
        length_known,
    )
    columns = _score_columns([response], [target], [prompt], [system_prompt], settings)
    return {
        name: python_values(column)[0] for name, column in zip(SCORE_COLUMNS, columns, strict=True)
    }


def score_transcripts(
    transcripts: pd.DataFrame,
    *,
    k: int = EARLY_K,
    threshold: str = ARTICULATION_THRESHOLD,
    sentences_as_lines: bool = False,
    guessability_table: Path | None = None,
    length_known: bool = LENGTH_KNOWN,
    workers: int | None = None,
    study_words: Iterable[str] = (),
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
        Processes that share the text pass: this one and ``workers - 1``
        worker processes (fresh interpreters, see :mod:`stats.score.workers`;
        POSIX only); 1 scores in this process alone. Default
        (:func:`default_workers`): 2, or the number of CPUs if fewer, from
        :data:`PARALLEL_MIN_ROWS` rows on, else 1. Results do not depend on it.
    study_words : iterable of str
        Words of the study besides the targets of ``transcripts`` (any case):
        recognised when named (``named_word``) and when spelled by the initials
        (``spelled_word``). :func:`stats.tidy.expand_baseline` passes every word
        of the study when it scores base trials against one word at a time.

    Returns
    -------
    pandas.DataFrame
        The transcripts columns (``word`` upper-cased and filled for base/control
        trials by the same-prompt rule) followed by ``schemas.SCORES`` and the
        extra column ``word_source`` (score and ``word_source`` columns of
        ``transcripts`` are replaced).
    """
    if "response" not in transcripts.columns:
        raise ValueError("transcripts lack the column 'response'")
    threshold_index = _threshold_index(threshold)
    table = load_guessability_table(guessability_table) if guessability_table else None
    if workers is None:
        workers = default_workers(len(transcripts))
    # the workers start first and boot while the columns are prepared; this
    # process is one of the ``workers`` (it shares the text pass with them)
    parallel = (
        workers > 1
        and bool(sys.executable)  # an embedded interpreter has no executable
        and os.name == "posix"  # (the pool waits on pipes with selectors)
    )
    # the call makes next to no reference cycles: the collector would only rescan what it allocates
    with gc_paused(), WorkerPool(workers - 1) if parallel else contextlib.nullcontext() as pool:
        targets, sources = resolve_targets(transcripts)
        study = frozenset(w for w in targets if w) | _study_words(study_words)
        settings = (study, k, threshold_index, sentences_as_lines, table, length_known)
        parts: dict[str, Any] = {}

        def other_columns() -> None:
            replaced = [*SCORE_COLUMNS, "word_source"]
            kept = transcripts.drop(columns=[c for c in replaced if c in transcripts.columns])
            parts["out"] = kept.assign(word=typed_series(targets, "string", transcripts.index))
            parts["word_source"] = typed_series(sources, "string", transcripts.index)

        columns = _score_columns(
            column_values(transcripts, "response"),
            targets,
            column_values(transcripts, "prompt"),
            column_values(transcripts, "system_prompt"),
            settings,
            pool,
            meanwhile=other_columns,
        )
        scores = columns_frame(columns, index=transcripts.index)
        scores["word_source"] = parts["word_source"]
        return pd.concat([parts["out"], scores], axis=1)


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
    provenance.require_current(artifacts.root, "score")
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
    provenance.record(artifacts.root, "score")
    return trials
