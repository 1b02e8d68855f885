"""The stage bodies run by their command and by ``stats run``: score, fit and review.

Each checks that the previous stage's output exists (:func:`require_input`), runs inside
:func:`stats.terminal.stage` and shows its result; a user mistake raises
:data:`StageError` (one line, exit code 1). The commands are :mod:`stats.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stats import config
from stats.terminal import UserError, say, say_spec, show, stage

if TYPE_CHECKING:
    import pandas as pd

#: The stage bodies raise this for a user mistake (one line, exit code 1).
StageError = UserError


def require_input(path: Path, made_by: str) -> None:
    """Stop with one line when ``path`` is missing: run ``made_by`` first."""
    if not path.exists():
        raise StageError(f"{path} does not exist: run `{made_by}` first")


def score_stage(data: Path, *, labels: Path | None = None, **options: object) -> None:
    """Score the transcripts of ``data`` into trials.parquet (options: those of ``score_file``)."""
    artifacts = config.Artifacts(data)
    with stage("score"):
        require_input(artifacts.transcripts, "stats ingest")
        threshold = options.get("threshold", config.ARTICULATION_THRESHOLD)
        if threshold not in config.ARTICULATION_LEVELS[1:]:
            raise StageError(
                f"--threshold {threshold!r}: choose one of {config.ARTICULATION_LEVELS[1:]}"
            )
        if labels is not None:
            say(f"labels: {labels}")
        from stats.score import score_file

        trials = score_file(data, labels=labels, **options)  # type: ignore[arg-type]
    say(f"{len(trials)} trials -> {artifacts.trials}")


def fit_stage(data: Path, study: Path | None) -> pd.DataFrame | None:
    """Fit the study; the verdicts, or None when the study has only follow-up designs."""
    from stats.terminal import FitProgress

    artifacts = config.Artifacts(data)
    with stage("fit", outputs=[artifacts.fits, artifacts.summary]):
        require_input(artifacts.trials, "stats score")
        say_spec("study", study, config.STUDY_PATH, "the built-in defaults")
        from stats.followups import run_followups
        from stats.model import fit_study

        with FitProgress() as progress:
            followups = run_followups(data, study, progress=progress)
            if followups:
                say(f"follow-up designs fitted: {', '.join(sorted(followups))}")
            try:
                verdicts = fit_study(data, study, progress=progress)
            except ValueError as err:
                if not followups:
                    raise StageError(f"{err}{_without_words_hint(artifacts.trials)}") from err
                # a study made only of follow-up designs has no main verdict to give
                say(f"main verdicts not fitted: {err}")
                verdicts = None
        total = progress.summary()
        if total:
            say(total)
    if verdicts is not None:
        from stats.terminal import verdict_table

        show(verdict_table(verdicts))
        say(f"verdicts -> {artifacts.verdicts}")
    return verdicts


def _without_words_hint(trials: Path) -> str:
    """The fix when no trial has a target word (the runs' words are unknown), else ''."""
    import pyarrow.parquet as pq

    words = pq.read_table(trials, columns=["word"]).column("word")
    if len(words) == 0 or words.null_count < len(words):
        return ""
    return (
        f": no run has a known word; name each fine-tuning run's training file (or its word) "
        f"in {config.MANIFEST_PATH} (docs/manifest.md), then `stats run`"
    )


def review_stage(claims: Path, data: Path) -> None:
    """Review the claims file against ``data``; show the claims table."""
    artifacts = config.Artifacts(data)
    with stage("review"):
        require_input(artifacts.trials, "stats score")
        say(f"claims: {claims}")
        from stats.review import review as run_review

        table = run_review(claims, data)
    from stats.terminal import claims_table

    show(claims_table(table))
    say(f"{len(table)} claims -> {artifacts.claims}")
