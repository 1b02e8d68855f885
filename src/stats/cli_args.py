"""Command-line arguments: the shared options, checks of named files and folders, and the
examples of ``--help``.

The checks are typer callbacks attached to the options and arguments of :mod:`stats.cli`:
they run before a command's body, so a mistake in an argument ends in one line naming it
and the fix (exit code 1) before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from stats import config
from stats.terminal import say

#: One example per command, shown at the end of its ``--help`` (:func:`add_examples`).
EXAMPLES = {
    "init": "Example: stats init my-study && cp -r ~/runs/* my-study/data/raw/ "
    "&& cd my-study && stats run && stats report",
    "ingest": "Examples: stats ingest (reads data/raw with analysis/runs.yaml) | "
    "stats ingest batches/ jobs/ --manifest analysis/runs.yaml --out data/processed",
    "score": "Example: stats score --data data/processed --threshold word",
    "fit": "Examples: stats fit | stats fit --study analysis/study.yaml --data data/processed",
    "review": "Example: stats review --claims analysis/claims.yaml",
    "run": "Examples: stats run (in a study folder) | "
    "stats run ~/runs/ --manifest runs.yaml --out processed --study study.yaml",
    "report": "Examples: stats report (in a study folder) | "
    "stats report --data ~/study/data/processed --out /tmp/site",
    "simulate": "Example: stats simulate analysis/designs/real.yaml --out /tmp/real/raw",
    "plan": "Examples: stats plan --quick | stats plan analysis/plans/default.yaml --only genuine:8",
    "make-batch": "Examples: stats make-batch ft:gpt-4o-2024-08-06:acme::abc123 gpt-4o-2024-08-06 "
    "| stats make-batch --manifest analysis/runs.yaml --out data/batches",
    "check-training": "Example: stats check-training data/raw/training/train-hello.jsonl --word HELLO",
}


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` and return the exit (code 1) to raise."""
    say(f"error: {message}", "red")
    return typer.Exit(1)


def _option(param: typer.CallbackParam) -> str:
    return "--" + str(param.name).replace("_", "-")


def named_file(default: Path | None) -> Callable[..., Path | None]:
    """Option callback: a named file must exist; unnamed, ``default`` when it exists, else None."""

    def check(param: typer.CallbackParam, value: Path | None) -> Path | None:
        option = _option(param)
        if value is None:
            return default if default is not None and default.is_file() else None
        if not value.exists():
            fallback = f"; leave out {option} to use {default} when it exists" if default else ""
            raise fail(f"{option} {value}: no such file: check the path{fallback}")
        if value.is_dir():
            raise fail(f"{option} {value} is a folder: name a file")
        return value

    return check


def raw_paths(value: list[Path] | None) -> list[Path] | None:
    """Argument callback: named raw paths must exist; unnamed, ``data/raw`` must."""
    for path in value or []:
        if not path.exists():
            raise fail(f"{path}: no such file or folder: check the path")
    if not value and not config.RAW_DIR.is_dir():
        raise fail(
            f"{config.RAW_DIR}/ does not exist in {Path.cwd()}: run `stats init DIR` for a study "
            "folder, cd into it and copy your run files into data/raw/, or name the files"
        )
    return value


def out_folder(param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Option callback: an output folder may be missing (it is made), but not a file."""
    if value is not None and value.exists() and not value.is_dir():
        raise fail(f"{_option(param)} {value} is a file: name a folder (it is made if missing)")
    return value


def report_project(reports: Path | None, out: Path | None) -> Path | None:
    """The Quarto project to render; None: the package's pages in a temporary project."""
    if reports is not None:
        if not (reports / "_quarto.yml").is_file():
            raise fail(
                f"--reports {reports}: no _quarto.yml there, not a Quarto project: name the "
                "reports/ folder of a study (`stats init` makes one), or leave out --reports"
            )
        return reports
    if (config.REPORTS_DIR / "_quarto.yml").is_file():
        return config.REPORTS_DIR
    if out is None:
        raise fail(
            f"no report pages here ({config.REPORTS_DIR}/_quarto.yml in {Path.cwd()}): run "
            "`stats init DIR` for a study folder, or pass --out DIR to render the package's "
            "pages into DIR"
        )
    return None


def add_examples(app: typer.Typer) -> None:
    """End every registered command's ``--help`` with its example of :data:`EXAMPLES`."""
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        if command.epilog is None and name in EXAMPLES:
            command.epilog = EXAMPLES[name]


#: The arguments and options shared by several commands of :mod:`stats.cli`.
RawArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Raw files or folders (default: data/raw).", show_default=False, callback=raw_paths
    ),
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        help=f"Runs manifest (YAML). Default: {config.MANIFEST_PATH} when the files are the "
        f"study's own ({config.RAW_DIR}, or inside it).",
        show_default=False,
        callback=named_file(None),
    ),
]


OutOpt = Annotated[
    Path, typer.Option("--out", help="Processed-data folder to write.", callback=out_folder)
]
DataOpt = Annotated[Path, typer.Option("--data", help="Processed-data folder.")]
StudyOpt = Annotated[
    Path | None,
    typer.Option(
        "--study",
        help=f"Study spec (model choices, YAML). Default: {config.STUDY_PATH} when it exists, "
        "else the built-in defaults.",
        show_default=False,
        callback=named_file(config.STUDY_PATH),
    ),
]
ClaimsOpt = Annotated[
    Path | None,
    typer.Option(
        "--claims",
        help=f"Claims to review (YAML). Default: {config.CLAIMS_PATH} when it exists.",
        show_default=False,
        callback=named_file(config.CLAIMS_PATH),
    ),
]
