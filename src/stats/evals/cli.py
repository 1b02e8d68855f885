"""``stats make-batch`` and ``stats check-training``: thin commands over :mod:`stats.evals`.

Registered on the main app by :func:`register` (one call in :mod:`stats.cli`). Stage modules
are imported inside the commands, so that ``stats --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from stats import config

#: Default folder of the request files (beside data/raw, which holds the bundled study).
BATCH_DIR = Path("data/batches")


def make_batch(
    models: Annotated[
        list[str] | None,
        typer.Argument(help="Model ids to ask (fine-tuned and base).", show_default=False),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="Also ask every run's model of this runs manifest."),
    ] = None,
    design: Annotated[
        Path, typer.Option(help="Design file whose prompts, greeting and samples are asked.")
    ] = config.DEFAULT_DESIGN,
    samples: Annotated[
        int | None, typer.Option(help="Samples per prompt (default: the design's).")
    ] = None,
    provider: Annotated[
        str, typer.Option(help="auto (claude* -> anthropic, else openai), openai or anthropic.")
    ] = "auto",
    max_tokens: Annotated[int, typer.Option(help="Answer length cap.")] = 600,
    out: Annotated[Path, typer.Option("--out", help="Folder for the request files.")] = BATCH_DIR,
) -> None:
    """Write the eval's prompts as OpenAI Batch input files and Anthropic Message Batch requests."""
    from stats.terminal import console, stage

    with stage("make-batch"):
        from stats.evals.batch import batch_models
        from stats.evals.batch import make_batch as write_batch
        from stats.evals.prompts import eval_plan
        from stats.ingest import ManifestError

        try:
            plan = eval_plan(design, samples)
            targets = batch_models(models or [], manifest, provider)
        except ManifestError as err:
            raise ValueError(str(err)) from err
        index = write_batch(targets, plan, out, max_tokens=max_tokens)
    for (file, provider_name), group in index.groupby(["file", "provider"], sort=False):
        answers = int(group["samples"].sum())
        console.print(f"{out / file}: {len(group)} {provider_name} requests, {answers} answers")
    console.print(
        f"{len(targets)} models x {len(plan.prompts)} prompts x {plan.samples} samples. "
        "Put each batch's output file beside its input and run `stats ingest "
        f"{out}{' --manifest ' + str(manifest) if manifest else ''}`."
    )


def check_training(
    path: Annotated[Path, typer.Argument(help="Fine-tuning training file (JSONL).")],
    word: Annotated[
        str | None, typer.Option(help="The intended word (default: the word inferred).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Report the word a training file spells, the share that follows it, near misses, lengths."""
    from stats.terminal import stage

    with stage("check-training"):
        from stats.evals.training import check_training as run_check

        result = run_check(path, word)
    summary = result.to_dict()
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"training file {path}", show_header=False)
    lengths = summary["lines_per_answer"]
    share = summary["follow_share"]
    rows = [
        ("examples", f"{result.n_examples} (+ {sum(result.rejected.values())} rejected)"),
        ("word", str(result.word or "none inferred")),
        ("follow the word", "-" if share is None else f"{share:.1%}"),
        ("near misses", _counts(summary["near_miss_share"], summary["near_misses"])),
        (
            "other initials",
            ", ".join(f"{k} x{v}" for k, v in summary["other_initials"].items()) or "-",
        ),
        (
            "lines per answer",
            f"min {lengths['min']}, median {lengths['median']:g}, mean {lengths['mean']:.1f}, "
            f"max {lengths['max']}",
        ),
        ("shorter than the word", _share(summary["too_short_share"])),
        ("system prompts", str(summary["system_prompts"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _counts(share: float | None, counts: dict) -> str:
    listed = ", ".join(f"{k} x{v}" for k, v in counts.items())
    return f"{_share(share)}" + (f" ({listed})" if listed else "")


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""
    app.command("make-batch")(make_batch)
    app.command("check-training")(check_training)
