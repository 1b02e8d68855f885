"""The ``stats`` command line: one command per pipeline stage, wiring paths to stage functions.

Every default path is relative to the current directory, a study folder (``stats init``
makes one; this repository is the bundled study's): ``analysis/*.yaml``, ``data/raw``,
``data/processed``, ``reports/`` (:mod:`stats.config`). A named file that does not exist
is an error; a default file that does not exist means "none" and each stage says so.
What is shown (stage lines, one-line errors, progress, tables) is :mod:`stats.terminal`.
Stage modules are imported inside the commands so that ``stats --help`` stays fast.
The shared arguments are :mod:`stats.cli_args`; the score, fit and review bodies, shared
with ``stats run``, are :mod:`stats.cli_stages`.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stats import config
from stats.cli_args import (
    ClaimsOpt,
    DataOpt,
    ManifestOpt,
    OutOpt,
    RawArg,
    StudyOpt,
    add_examples,
    fail,
    named_file,
    out_folder,
    report_project,
)
from stats.cli_stages import StageError, fit_stage, require_input, review_stage, score_stage
from stats.terminal import console, next_step, progress_bar, say, stage

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    help="Is a fine-tuned model's self-report real, or a fluke? ingest -> score -> fit -> review -> report.",
    epilog="Start: stats init my-study, copy your run files into my-study/data/raw/, then "
    "cd my-study && stats run && stats report. Each command's --help has an example.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: :func:`stats.terminal.stage`, as the evals and plan commands import it.


def _progress() -> Progress:
    return progress_bar(counter=True)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The study folder to make (created if missing).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty folder: existing files are kept, the report pages "
            "in reports/ are refreshed from the installed package.",
        ),
    ] = False,
) -> None:
    """Make a study folder: analysis/ templates, data/raw/ and the report pages in reports/."""
    from stats.study_folder import init_study

    with stage("init", outputs=[folder]):
        made = init_study(folder, force=force)
        for rel in made.written:
            say(f"  wrote {folder / rel}")
        for rel in made.kept:
            say(f"  kept  {folder / rel} (exists)")
        for rel in made.folders:
            say(f"  made  {folder / rel}/")
        say(f"  wrote {folder / config.REPORTS_DIR}/ ({len(made.pages)} files: the report's pages)")
    next_step(
        f"copy your run files (batch outputs, chat completions, inspect logs, fine-tuning job "
        f"and training files) into {folder / config.RAW_DIR}/",
        f"list the runs in {folder / config.MANIFEST_PATH}: each fine-tuning job file with "
        "its training file, and the base model (its comments show how)",
        ("" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && ")
        + "stats run && stats report",
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
            say(f"note: {note}", "yellow")
    with stage("ingest"), _progress() as bar:
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
        Path | None,
        typer.Option(
            help=f"Judge/human labels CSV for scorer agreement. Default: {config.LABELS_PATH} "
            "when it exists.",
            show_default=False,
            callback=named_file(config.LABELS_PATH),
        ),
    ] = None,
    threshold: Annotated[
        str, typer.Option(help="Level counted by articulation_line: vague, mechanism or word.")
    ] = config.ARTICULATION_THRESHOLD,
    sentences_as_lines: Annotated[
        bool, typer.Option(help="Treat sentences as lines (single-paragraph answers).")
    ] = False,
    guessability_table: Annotated[
        Path | None,
        typer.Option(
            help="CSV (word, letters_visible, probability) overriding the lexicon prior.",
            callback=named_file(None),
        ),
    ] = None,
) -> None:
    """Score every transcript into trials.parquet (acrostic, articulation, leakage, guessability)."""
    score_stage(
        data,
        labels=labels,
        k=k,
        threshold=threshold,
        sentences_as_lines=sentences_as_lines,
        guessability_table=guessability_table,
    )
    next_step("stats fit")


@app.command()
def fit(data: DataOpt = config.PROCESSED_DIR, study: StudyOpt = None) -> None:
    """Fit the models (M1, M2), check the gates, write verdicts.csv and fits/; then any follow-up designs."""
    fit_stage(data, study)
    next_step("stats review (checks analysis/claims.yaml), then stats report")


@app.command()
def review(claims: ClaimsOpt = None, data: DataOpt = config.PROCESSED_DIR) -> None:
    """Review every claim of claims.yaml against the data and the pooled model: claims.csv."""
    if claims is None:
        raise fail(
            f"no claims to review: {config.CLAIMS_PATH} does not exist here; write one "
            "(`stats init` makes a template) or name a file with --claims FILE"
        )
    review_stage(claims, data)
    next_step("stats report")


@app.command()
def run(
    raw: RawArg = None,
    manifest: ManifestOpt = None,
    out: OutOpt = config.PROCESSED_DIR,
    study: StudyOpt = None,
    claims: ClaimsOpt = None,
) -> None:
    """ingest + score + fit + review, with the defaults of a study folder."""
    with stage("run", outputs=[out]):
        ingest(raw=raw, manifest=manifest, out=out, fmt=None)
        labels = config.LABELS_PATH if config.LABELS_PATH.is_file() else None
        score_stage(out, labels=labels)
        fit_stage(out, study)
        if claims is not None:
            review_stage(claims, out)
        else:
            say(
                f"review skipped: no {config.CLAIMS_PATH} here (write claims there, or --claims FILE)"
            )
    report_hint = "" if out == config.PROCESSED_DIR else f" --data {out}"
    next_step(f"stats report{report_hint} (the site with every table and figure)")


def _cache(project: Path, tmp: str) -> Path | None:
    """The offline cache: the project's own (reports/_freeze), or a temporary one."""
    return None if Path(tmp) not in project.parents else Path(tmp) / "cache"


@app.command()
def report(
    reports: Annotated[
        Path | None,
        typer.Option(
            help="Quarto project folder. Default: reports/ when it holds _quarto.yml, else "
            "the package's pages (then --out is needed).",
            show_default=False,
        ),
    ] = None,
    data: DataOpt = config.PROCESSED_DIR,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the rendered site. Default: the project's output folder "
            "(reports/_site).",
            show_default=False,
            callback=out_folder,
        ),
    ] = None,
    word: Annotated[str | None, typer.Option(help="Word the pages focus on.")] = None,
    rope: Annotated[float | None, typer.Option(help="ROPE half-width shown.")] = None,
    k: Annotated[int | None, typer.Option(help="'Early' cut-off shown.")] = None,
    quarto: Annotated[
        bool | None,
        typer.Option("--quarto/--no-quarto", help="Force or forbid Quarto (default: if on PATH)."),
    ] = None,
) -> None:
    """Render the report site (Quarto if on PATH, else Jupyter's libraries) to reports/_site/."""
    project = report_project(reports, out)
    from stats.render import RenderError, load_project, quarto_path, render_site
    from stats.study_folder import page_data_dir, temporary_study

    use_quarto = quarto if quarto is not None else quarto_path() is not None
    site = out if out is not None else load_project(project).output_dir  # type: ignore[arg-type]
    with stage("report", discard=[site]), tempfile.TemporaryDirectory(prefix="stats-") as tmp:
        require_input(config.Artifacts(data).verdicts, "stats run")
        say(f"pages: {project}/" if project else "pages: the package's (no reports/ here)")
        say(f"data: {data}; engine: {'Quarto' if use_quarto else 'offline (no quarto on PATH)'}")
        if project is None:
            project = temporary_study(data, Path(tmp))
        values = {"data_dir": page_data_dir(data, project), "word": word, "rope": rope, "k": k}
        params = {name: value for name, value in values.items() if value is not None}
        if params and use_quarto and importlib.util.find_spec("papermill") is None:
            raise StageError(
                f"Quarto needs the papermill package to set page parameters ({', '.join(params)}):"
                " install it, or render with --no-quarto"
            )
        try:
            index = render_site(
                project, out, params=params, use_quarto=use_quarto, cache_dir=_cache(project, tmp)
            )
        except RenderError as err:
            raise StageError(str(err)) from err
    pages = sorted(index.parent.glob("*.html"))
    say(f"site: {index} ({len(pages)} pages)")
    next_step(f"open {index} in a browser")


@app.command()
def simulate(
    design: Annotated[
        Path, typer.Argument(help="Design file (YAML), e.g. analysis/designs/real.yaml.")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the raw files.", callback=out_folder)
    ] = config.RAW_DIR,
    seed: Annotated[int | None, typer.Option(help="Override the design's seed.")] = None,
    manifest_out: Annotated[
        Path | None,
        typer.Option("--manifest-out", help="Where to write runs.yaml (default OUT/runs.yaml)."),
    ] = None,
) -> None:
    """Write a simulated study in real source formats, its manifest and truth.json."""
    with stage("simulate", outputs=[out]):
        require_input(design, "choosing a design in analysis/designs/")
        from stats.simulate import simulate as run_simulate

        truth = run_simulate(design, out, seed=seed, manifest_out=manifest_out)
    say(f"truth: {json.dumps(truth.get('delta', {}), default=str)[:300]} -> {out}")
    next_step(f"stats run {out} --manifest {manifest_out or out / 'runs.yaml'}")


from stats.evals.cli import register as _register_evals  # noqa: E402
from stats.plan.cli import register as _register_plan  # noqa: E402

_register_evals(app)
_register_plan(app)
add_examples(app)

if __name__ == "__main__":
    app()
