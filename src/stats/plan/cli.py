"""``stats plan DESIGN.yaml``: the planner's command, registered by :func:`register`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from stats import config

#: Where ``stats plan`` writes by default (the report's planning page reads it).
PLAN_DIR = config.PROCESSED_DIR / "plan"  # stats.plan.outputs.PLAN_SUBDIR


def plan(
    design: Annotated[
        Path, typer.Argument(help="Planning design (YAML), e.g. analysis/plans/default.yaml.")
    ] = Path("analysis/plans/default.yaml"),
    quick: Annotated[
        bool, typer.Option("--quick", help="The design's quick preset (a few minutes).")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Folder for plan.csv, .md, .png.")] = PLAN_DIR,
    cache: Annotated[
        Path | None,
        typer.Option(help="Per-study cache (default OUT/cache): a rerun resumes from it."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: the CPU count).")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this setting (world:runs or world:runsxsamples)."),
    ] = None,
) -> None:
    """Prospective design analysis: P(real), P(fluke), P(inconclusive), P(not-converged) by
    runs per word x samples per run and word type, through the verdict pipeline of `stats fit`."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from stats.terminal import console, stage

    workers = workers or os.cpu_count() or 1
    with stage("plan"):
        from stats.plan.design import load_plan
        from stats.plan.outputs import write_outputs
        from stats.plan.runner import StudyDone, quiet_sampling, run_plan
        from stats.plan.simulation import plan_study

        spec = load_plan(design)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
        )
        task = progress.add_task("simulated studies", total=None)

        def started(total: int, cached: int) -> None:
            console.print(
                f"{total} simulated studies, {cached} cached; {workers} workers "
                "(Ctrl-C stops; the same command resumes)"
            )
            progress.update(task, total=total)
            progress.start()

        def done(event: StudyDone) -> None:
            progress.update(task, advance=1, description=f"{event.setting.label:>18}")
            if not event.cached:
                counts = ", ".join(f"{k} {v}" for k, v in sorted(event.verdicts.items()))
                progress.console.print(
                    f"{event.setting.label} seed {event.seed}: {event.seconds:.0f} s ({counts})"
                )

        quiet_sampling()
        try:
            result = run_plan(
                spec,
                cache or out / "cache",
                quick=quick,
                workers=workers,
                only=only,
                progress=done,
                start=started,
            )
        except KeyboardInterrupt:
            progress.stop()
            console.print(
                f"[yellow]interrupted[/yellow]: finished studies are cached in "
                f"{cache or out / 'cache'}; rerun the same command to resume"
            )
            raise typer.Exit(130) from None
        finally:
            progress.stop()
        write_outputs(
            result, spec, out, quick=quick, workers=workers, study=plan_study(spec, quick)
        )
    console.print(
        f"{result.computed} studies simulated, {result.cached} from the cache, in "
        f"{result.seconds / 60:.1f} min -> {out / 'plan.md'}, {out / 'plan.png'}"
    )
    typer.echo((out / "plan.md").read_text(encoding="utf-8"))


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("plan")(plan)
