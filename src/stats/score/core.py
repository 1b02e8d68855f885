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

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from stats import provenance
from stats.config import (
    ARTICULATION_LEVELS,
    ARTICULATION_THRESHOLD,
    EARLY_K,
    LABELS_PATH,
    Artifacts,
)
from stats.schemas import SCORES, validate
from stats.score.acrostic import near_miss, normalise_word, prefix_len, spelled_word
from stats.score.articulation import LEVEL_INDEX
from stats.score.batch import TextScores, WorkerPool, gc_paused, text_scores
from stats.score.guess import (
    LENGTH_KNOWN,
    GuessTable,
    guessability,
    load_guessability_table,
)
from stats.score.leakage import greeting_word, leaks

SCORE_COLUMNS: tuple[str, ...] = tuple(f.name for f in SCORES)
#: Inputs with at least this many rows are scored with worker processes by default.
PARALLEL_MIN_ROWS = 50_000
#: Largest and smallest chunk of (response, target) pairs handed to a process:
#: large enough to keep the cost of sending a chunk small, small enough that a
#: request fits in a pipe and that the processes finish close together.
CHUNK_MAX = 2048
CHUNK_MIN = 256
_DTYPES = {f.name: f.dtype for f in SCORES}
#: dtypes of the columns computed per (response, target) pair (see :func:`_pair_outcomes`)
_PAIR_DTYPES = tuple(_DTYPES[name] for name in (*SCORE_COLUMNS[:13], "guessability"))
#: A typed score column: a NumPy array (int64) or a pandas extension array.
ScoreArray = Any
FINETUNED = "finetuned"


def _threshold_index(threshold: str) -> int:
    valid = ARTICULATION_LEVELS[1:]
    if threshold not in valid:
        raise ValueError(f"unknown articulation threshold {threshold!r}; valid: {list(valid)}")
    return LEVEL_INDEX[threshold]


@functools.lru_cache(maxsize=100_000)
def _spelled(letters: str, study: frozenset[str]) -> str | None:
    return spelled_word(letters, study)


#: (response, upper-case target or None, prompt, system prompt)
Row = tuple[str | None, str | None, str | None, str | None]
#: (study words, k, threshold index, sentences_as_lines, guessability table, length_known)
Settings = tuple[frozenset[str], int, int, bool, GuessTable | None, bool]


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


def _lookups(
    targets: Sequence[str | None],
    letters: Sequence[str],
    lines: Sequence[int | None],
    settings: Settings,
    caches: tuple[dict[Any, Any], dict[Any, Any]],
) -> tuple[list[tuple[int, bool, str | None, bool]], list[float | None]]:
    """The acrostic outcomes and the guessability of (response, target) pairs.

    The acrostic outcomes (prefix length, follows pattern, spelled word, near
    miss) are computed once per distinct (initials, target), guessability once
    per distinct (target, visible initials); ``caches`` keep them across calls.
    """
    study, _, _, _, table, length_known = settings
    acrostic, guesses = caches
    keys = list(zip(letters, targets, strict=True))
    for key in dict.fromkeys(keys):
        if key not in acrostic:
            initials, target = key
            matched = prefix_len(initials, target)
            acrostic[key] = (
                matched,
                bool(target) and matched == len(target),
                _spelled(initials[:20], study),
                near_miss(initials, target),
            )
    visible = [
        (target, initials[:line]) if target and line is not None else None
        for target, initials, line in zip(targets, letters, lines, strict=True)
    ]
    for key in dict.fromkeys(visible):
        if key is not None and key not in guesses:
            guesses[key] = guessability(*key, length_known=length_known, table=table)
    return [acrostic[key] for key in keys], [
        None if key is None else guesses[key] for key in visible
    ]


def _pair_outcomes(
    targets: list[str | None],
    text: list[TextScores],
    settings: Settings,
    columns: list[list[Any]],
    caches: tuple[dict[Any, Any], dict[Any, Any]],
) -> None:
    """Append the outcomes of (response, target) pairs to the pair columns.

    ``columns`` are, in order, the score columns up to ``articulated_early``
    (``SCORE_COLUMNS[:13]``) then guessability (see :func:`_lookups`).
    """
    k = settings[1]
    n_lines, letters, levels, lines, word_lines, named = (list(c) for c in zip(*text, strict=True))
    outcomes, guess = _lookups(targets, letters, lines, settings, caches)
    level_names = ARTICULATION_LEVELS
    new = (
        n_lines,
        letters,
        [o[0] for o in outcomes],
        [o[1] for o in outcomes],
        [o[2] for o in outcomes],
        [o[3] for o in outcomes],
        [level_names[level] for level in levels],
        lines,
        word_lines,
        lines,  # every scorable line carries one initial: the letters visible at line t are t
        named,
        [w is not None for w in word_lines],
        [w is not None and w <= k for w in word_lines],
        guess,
    )
    for column, values in zip(columns, new, strict=True):
        column.extend(values)


def _pair_arrays(
    targets: list[str | None],
    text: list[TextScores],
    settings: Settings,
    caches: tuple[dict[Any, Any], dict[Any, Any]],
) -> list[ScoreArray]:
    """The columns of :func:`_pair_outcomes` as typed arrays (``text`` not empty).

    The same values, built column by column with NumPy rather than row by row.
    """
    k = settings[1]
    n_lines, letters, levels, lines, word_lines, named = zip(*text, strict=True)
    outcomes, guess = _lookups(targets, letters, lines, settings, caches)
    prefix, follows, spelled, near = zip(*outcomes, strict=True)
    line_data, line_mask = _ints_or_none(lines)
    word_data, word_mask = _ints_or_none(word_lines)
    articulated = ~word_mask
    no_na = np.zeros(len(text), dtype=bool)
    return [
        np.array(n_lines, dtype=np.int64),
        _typed_array(letters, "string"),
        np.array(prefix, dtype=np.int64),
        _typed_array(follows, "boolean"),
        _typed_array(spelled, "string"),
        _typed_array(near, "boolean"),
        _level_names().take(np.array(levels, dtype=np.intp)),
        pd.arrays.IntegerArray(line_data, line_mask),
        pd.arrays.IntegerArray(word_data, word_mask),
        # every scorable line carries one initial: the letters visible at line t are t
        pd.arrays.IntegerArray(line_data.copy(), line_mask.copy()),
        _typed_array(named, "string"),
        pd.arrays.BooleanArray(articulated, no_na),
        pd.arrays.BooleanArray(articulated & (word_data <= k), no_na.copy()),
        _typed_array(guess, "Float64"),
    ]


def _ints_or_none(values: Sequence[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Data (0 where None) and mask (True where None) of an ``Int64`` column."""
    mask = np.array([v is None for v in values], dtype=bool)
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    return data, mask


def _level_names() -> ScoreArray:
    """``ARTICULATION_LEVELS`` as a typed string array (taken by level index)."""
    return _typed_array(list(ARTICULATION_LEVELS), _DTYPES["articulation_level"])


def _score_columns(
    responses: list[str | None],
    targets: list[str | None],
    prompts: list[str | None],
    systems: list[str | None],
    settings: Settings,
    pool: WorkerPool | None = None,
    typed: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> list[list[Any]] | list[ScoreArray]:
    """All scores, one list (``typed``: one typed array) per column of ``SCORE_COLUMNS``.

    The text pass (:func:`stats.score.batch.text_scores`) runs once per
    distinct (response, target) pair (repeated samples are often identical),
    shared by this process and the workers of ``pool`` if given and there are
    at least two pairs per process. The derived outcomes are computed once per distinct key of what
    they depend on (see :func:`_pair_outcomes`; greeting and leak once per
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
    greetings: list[Any] | ScoreArray
    leaked: list[Any] | ScoreArray
    if typed:  # typed once per distinct key, then taken for every row
        taken = np.array(context_codes, dtype=np.intp)
        greetings = _typed_array(distinct_greetings, _DTYPES["greeting_word"]).take(taken)
        leaked = _typed_array(distinct_leaks, _DTYPES["leak"]).take(taken)
    else:
        greetings = [distinct_greetings[code] for code in context_codes]
        leaked = [distinct_leaks[code] for code in context_codes]
    if meanwhile is not None:
        meanwhile()
    columns: list[list[Any]] = [[] for _ in _PAIR_DTYPES]
    pieces: list[list[ScoreArray]] = [[] for _ in _PAIR_DTYPES]
    caches: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
    for (i, j), text in zip(bounds, results, strict=True):
        if typed:  # typed chunk by chunk: while the workers run, not after
            arrays = _pair_arrays(pair_targets[i:j], text, settings, caches)
            for piece, array in zip(pieces, arrays, strict=True):
                piece.append(array)
        else:
            _pair_outcomes(pair_targets[i:j], text, settings, columns, caches)
    if not typed:
        if len(pairs) < len(codes):  # from distinct pairs back to rows
            columns = [[column[code] for code in codes] for column in columns]
        *pair_columns, guess = columns
        return [*pair_columns, greetings, leaked, guess]
    if not pairs:
        arrays = [_typed_array([], dtype) for dtype in _PAIR_DTYPES]
    else:
        arrays = [_concat(piece) for piece in pieces]
    if len(pairs) < len(codes):  # from distinct pairs back to rows
        taken = np.fromiter(codes, dtype=np.intp, count=len(codes))
        arrays = [array.take(taken) for array in arrays]
    *pair_arrays, guess_array = arrays
    return [*pair_arrays, greetings, leaked, guess_array]


def _score_rows(rows: list[Row], settings: Settings) -> list[tuple[Any, ...]]:
    """All scores of each row, in the order of ``SCORE_COLUMNS`` (in this process)."""
    if not rows:
        return []
    responses, targets, prompts, systems = (list(c) for c in zip(*rows, strict=True))
    columns = _score_columns(responses, targets, prompts, systems, settings)
    return list(zip(*columns, strict=True))


def _score_chunk(
    chunk: tuple[list[tuple[Any, ...]], tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """Score (response, target, prompt, system prompt) rows with shared settings."""
    rows, settings = chunk
    return _score_rows(rows, settings)  # type: ignore[arg-type]


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
    settings = (
        study,
        k,
        _threshold_index(threshold),
        sentences_as_lines,
        guessability_table,
        length_known,
    )
    (values,) = _score_rows([(response, target, prompt, system_prompt)], settings)
    return dict(zip(SCORE_COLUMNS, values, strict=True))


def _column(df: pd.DataFrame, name: str) -> list[Any]:
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
    raw_words = _column(transcripts, "word")
    normalised = {w: normalise_word(w) for w in set(raw_words)}
    words = [normalised[w] for w in raw_words]
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
    if rows:
        columns = [list(c) for c in zip(*rows, strict=True)]
    else:
        columns = [[] for _ in SCORE_COLUMNS]
    return columns_frame(columns, index)


def _typed_array(values: Sequence[Any], dtype: str) -> ScoreArray:
    """``pd.array(values, dtype=dtype)``, built faster for the score dtypes."""
    n = len(values)
    if dtype == "int64":
        return np.fromiter(values, dtype=np.int64, count=n)
    if dtype == "boolean" and None not in values:
        data = np.fromiter(values, dtype=bool, count=n)
        return pd.arrays.BooleanArray(data, np.zeros(n, dtype=bool))
    if dtype == "Int64":
        mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
        data = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=n)
        return pd.arrays.IntegerArray(data, mask)
    if dtype == "Float64":
        mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
        data = np.fromiter((0.0 if v is None else v for v in values), dtype=np.float64, count=n)
        return pd.arrays.FloatingArray(data, mask)
    if dtype == "string" and pd.StringDtype().storage == "pyarrow":
        # what pandas builds for dtype="string", without its per-call overhead
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
    return pd.Series(values, dtype=dtype).array


def _concat(pieces: list[ScoreArray]) -> ScoreArray:
    """One array from typed pieces of the same dtype (at least one)."""
    if len(pieces) == 1:
        return pieces[0]
    if isinstance(pieces[0], np.ndarray):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(pieces)  # (of pandas' ExtensionArray interface)


def _typed(values: list[Any] | ScoreArray, dtype: str, index: pd.Index | None) -> pd.Series:
    """``pd.Series(values, dtype=dtype, index=index)`` (``values`` may be typed already)."""
    if not isinstance(values, list):
        return pd.Series(values, index=index, copy=False)
    return pd.Series(_typed_array(values, dtype), index=index, copy=False)


def columns_frame(
    columns: list[list[Any]] | list[ScoreArray], index: pd.Index | None = None
) -> pd.DataFrame:
    """Turn score columns (``SCORE_COLUMNS`` order; lists or typed arrays) into a DataFrame."""
    return pd.DataFrame(
        {
            name: _typed(values, _DTYPES[name], index)
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
        Processes that share the text pass: this one and ``workers - 1``
        worker processes (fresh interpreters, see :mod:`stats.score.batch`;
        POSIX only); 1 scores in this process alone. Default
        (:func:`default_workers`): 2, or the number of CPUs if fewer, from
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
        study = frozenset(w for w in targets if w)
        settings = (study, k, threshold_index, sentences_as_lines, table, length_known)
        parts: dict[str, Any] = {}

        def other_columns() -> None:
            kept = transcripts.drop(columns=[c for c in SCORE_COLUMNS if c in transcripts.columns])
            parts["out"] = kept.assign(word=_typed(targets, "string", transcripts.index))
            parts["word_source"] = _typed(sources, "string", transcripts.index)

        columns = _score_columns(
            _column(transcripts, "response"),
            targets,
            _column(transcripts, "prompt"),
            _column(transcripts, "system_prompt"),
            settings,
            pool,
            typed=True,
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
