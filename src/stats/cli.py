"""The ``stats`` command line: one command per pipeline stage, wiring paths to stage functions.

Every command works from the repository root with no arguments on the bundled data;
defaults are the folders of :mod:`stats.config`. Stage modules are imported inside the
commands so that ``stats --help`` stays fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from stats import config

app = typer.Typer(
    help="Is a fine-tuned model's self-report real, or a fluke? ingest -> score -> fit -> review -> report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

RawArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Raw files or folders (default: data/raw).", show_default=False),
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        help="Runs manifest (YAML). Default: analysis/runs.yaml, for the bundled data/raw only.",
        show_default=False,
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="Processed-data folder to write.")]
DataOpt = Annotated[Path, typer.Option("--data", help="Processed-data folder.")]
StudyOpt = Annotated[Path, typer.Option("--study", help="Study spec (model choices, YAML).")]
ClaimsOpt = Annotated[Path, typer.Option("--claims", help="Claims to review (YAML).")]


class StageError(RuntimeError):
    """A stage could not run; the message says why and which command fixes it."""


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Time a stage and turn known failures into a one-line error and exit code 1."""
    start = time.perf_counter()
    console.print(f"[bold]{name}[/bold] ...")
    try:
        yield
    except (StageError, FileNotFoundError, ValueError) as err:
        console.print(f"[red]error[/red] in {name}: {err}")
        raise typer.Exit(1) from err
    console.print(f"[green]{name} done[/green] in {time.perf_counter() - start:.1f} s")


def _require(path: Path, made_by: str) -> None:
    if not path.exists():
        raise StageError(f"{path} does not exist: run `{made_by}` first")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command()
def ingest(
    raw: RawArg = None,
    manifest: ManifestOpt = None,
    out: OutOpt = config.PROCESSED_DIR,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force one adapter for every file.")
    ] = None,
) -> None:
    """Read run sources into transcripts.parquet, runs.parquet, rejects.parquet and ledger.json."""
    from stats.ingest import IngestError
    from stats.ingest import ingest as run_ingest
    from stats.ingest.manifest import default_manifest

    paths = list(raw) if raw else [config.RAW_DIR]
    if manifest is None:
        manifest, note = default_manifest(paths)
        if note:
            console.print(f"[yellow]note[/yellow]: {note}")
    with _stage("ingest"), _progress() as bar:
        task = bar.add_task("records", total=None)
        try:
            ledger = run_ingest(
                paths,
                manifest,
                out,
                fmt=fmt,
                progress=lambda n: bar.update(task, advance=n),
            )
        except IngestError as err:
            raise StageError(str(err)) from err
    total = ledger["total"]
    console.print(
        f"records {total['records']}: accepted {total['accepted']}, rejected {total['rejected']}, "
        f"duplicates {total['duplicates']}; conflicts {len(ledger.get('conflicts', []))} -> {out}"
    )


@app.command()
def score(
    data: DataOpt = config.PROCESSED_DIR,
    k: Annotated[int, typer.Option(help="'Early' means letters_visible <= k.")] = config.EARLY_K,
    labels: Annotated[
        Path, typer.Option(help="Judge/human labels CSV for scorer agreement.")
    ] = config.LABELS_PATH,
    threshold: Annotated[
        str, typer.Option(help="Level counted by articulation_line: vague, mechanism or word.")
    ] = config.ARTICULATION_THRESHOLD,
    sentences_as_lines: Annotated[
        bool, typer.Option(help="Treat sentences as lines (single-paragraph answers).")
    ] = False,
    guessability_table: Annotated[
        Path | None,
        typer.Option(help="CSV (word, letters_visible, probability) overriding the lexicon prior."),
    ] = None,
) -> None:
    """Score every transcript into trials.parquet (acrostic, articulation, leakage, guessability)."""
    artifacts = config.Artifacts(data)
    with _stage("score"):
        _require(artifacts.transcripts, "stats ingest")
        if threshold not in config.ARTICULATION_LEVELS[1:]:
            raise StageError(
                f"--threshold {threshold!r}: choose one of {config.ARTICULATION_LEVELS[1:]}"
            )
        from stats.score import score_file

        trials = score_file(
            data,
            k=k,
            labels=labels if labels.exists() else None,
            threshold=threshold,
            sentences_as_lines=sentences_as_lines,
            guessability_table=guessability_table,
        )
    console.print(f"{len(trials)} trials -> {artifacts.trials}")


@app.command()
def fit(data: DataOpt = config.PROCESSED_DIR, study: StudyOpt = config.STUDY_PATH) -> None:
    """Fit the models (M1, M2), check the gates, write verdicts.csv and fits/; then any follow-up designs."""
    artifacts = config.Artifacts(data)
    study_path = study if study.exists() else None
    with _stage("fit"):
        _require(artifacts.trials, "stats score")
        from stats.followups import run_followups
        from stats.model import fit_study

        followups = run_followups(data, study_path)
        if followups:
            console.print(f"follow-up designs fitted: {', '.join(sorted(followups))}")
        try:
            verdicts = fit_study(data, study_path)
        except ValueError as err:
            if not followups:
                raise
            # a study made only of follow-up designs has no main verdict to give
            console.print(f"main verdicts not fitted: {err}")
            return
    _print_verdicts(verdicts)


@app.command()
def review(claims: ClaimsOpt = config.CLAIMS_PATH, data: DataOpt = config.PROCESSED_DIR) -> None:
    """Review every claim of claims.yaml against the data and the pooled model: claims.csv."""
    artifacts = config.Artifacts(data)
    with _stage("review"):
        _require(artifacts.trials, "stats score")
        _require(claims, "writing analysis/claims.yaml")
        from stats.review import review as run_review

        table = run_review(claims, data)
    console.print(f"{len(table)} claims -> {artifacts.claims}")


@app.command()
def run(
    raw: RawArg = None,
    manifest: ManifestOpt = None,
    out: OutOpt = config.PROCESSED_DIR,
    study: StudyOpt = config.STUDY_PATH,
    claims: ClaimsOpt = config.CLAIMS_PATH,
) -> None:
    """ingest + score + fit + review."""
    ingest(raw=raw, manifest=manifest, out=out, fmt=None)
    score(
        data=out,
        k=config.EARLY_K,
        labels=config.LABELS_PATH,
        threshold=config.ARTICULATION_THRESHOLD,
        sentences_as_lines=False,
        guessability_table=None,
    )
    fit(data=out, study=study)
    if claims.exists():
        review(claims=claims, data=out)


@app.command()
def report(
    reports: Annotated[Path, typer.Option(help="Quarto project folder.")] = config.REPORTS_DIR,
    data: DataOpt = config.PROCESSED_DIR,
    word: Annotated[str | None, typer.Option(help="Word the pages focus on.")] = None,
    rope: Annotated[float | None, typer.Option(help="ROPE half-width shown.")] = None,
    k: Annotated[int | None, typer.Option(help="'Early' cut-off shown.")] = None,
    quarto: Annotated[
        bool | None,
        typer.Option("--quarto/--no-quarto", help="Force or forbid Quarto (default: if on PATH)."),
    ] = None,
) -> None:
    """Render the report site (Quarto if on PATH, else Jupyter's libraries) to reports/_site/."""
    with _stage("report"):
        _require(config.Artifacts(data).verdicts, "stats run")
        from stats.render import render_site

        params: dict[str, object] = {"data_dir": str(data.resolve())}
        params.update(
            {
                key: value
                for key, value in (("word", word), ("rope", rope), ("k", k))
                if value is not None
            }
        )
        index = render_site(reports, params=params, use_quarto=quarto)
    console.print(f"site: {index}")


@app.command()
def simulate(
    design: Annotated[
        Path, typer.Argument(help="Design file (YAML), e.g. analysis/designs/real.yaml.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the raw files.")] = config.RAW_DIR,
    seed: Annotated[int | None, typer.Option(help="Override the design's seed.")] = None,
    manifest_out: Annotated[
        Path | None,
        typer.Option("--manifest-out", help="Where to write runs.yaml (default OUT/runs.yaml)."),
    ] = None,
) -> None:
    """Write a simulated study in real source formats, its manifest and truth.json."""
    with _stage("simulate"):
        _require(design, "choosing a design in analysis/designs/")
        from stats.simulate import simulate as run_simulate

        truth = run_simulate(design, out, seed=seed, manifest_out=manifest_out)
    console.print(f"truth: {json.dumps(truth.get('delta', {}), default=str)[:300]} -> {out}")


def _print_verdicts(verdicts) -> None:
    from rich.table import Table

    table = Table(title="verdicts")
    for column in ("scope", "word", "greeting", "mean", "hdi_low", "hdi_high", "verdict"):
        table.add_column(column)
    for row in verdicts.itertuples():
        table.add_row(
            str(row.scope),
            str(row.word),
            str(row.greeting),
            f"{row.mean:.3f}",
            f"{row.hdi_low:.3f}",
            f"{row.hdi_high:.3f}",
            str(row.verdict),
        )
    Console().print(table)


if __name__ == "__main__":
    app()
