"""What the command line shows: stage lines, one-line errors, fit progress, result tables.

Status goes to stderr (:data:`console`), results (the verdict and claims tables) to
stdout, so ``stats fit > verdicts.txt`` keeps the table. Every stage says what it did
and, at the end, what to do next; a user mistake ends in one line naming the path and
the fix, and exit code 1, never a traceback (set ``STATS_TRACEBACK=1`` to see one).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from stats.model.events import FitEvent

if TYPE_CHECKING:
    import pandas as pd

#: Status lines (stderr). Not wrapped: a message stays one line when it is piped or logged.
console = Console(stderr=True, soft_wrap=True)
#: Width of result tables when stdout is not a terminal and COLUMNS is unset (Rich: 80).
PIPE_WIDTH = 120


class UserError(RuntimeError):
    """A mistake of the user's: the message is one line naming the path and the fix."""


#: Exceptions reported as one line (their messages name the file and the fix); anything
#: else is a bug and keeps its traceback.
_ONE_LINE = (UserError, FileNotFoundError, ValueError)


def say(message: str, style: str | None = None) -> None:
    """Print one status line (not wrapped, no markup read from ``message``)."""
    text = escape(message)
    console.print(f"[{style}]{text}[/{style}]" if style else text, soft_wrap=True)


def next_step(*steps: str) -> None:
    """Print what to do next."""
    for step in steps:
        say(f"next: {step}", "cyan")


def say_spec(what: str, path: Path | None, default: Path, fallback: str) -> None:
    """Say which spec file a stage uses, or that it uses none and what that means."""
    if path is not None:
        say(f"{what}: {path}")
    else:
        say(f"{what}: {fallback} (no {default} here; `stats init` writes a template)")


def describe_error(err: BaseException) -> str:
    """One line for a known failure: the message, or the path and a fix for an OSError."""
    if isinstance(err, OSError) and not isinstance(err, FileNotFoundError):
        where = err.filename or "a file"
        fixes = {
            PermissionError: "make it readable and writable (chmod/chown) or choose another path",
            NotADirectoryError: "a file stands where a folder is needed: choose a folder path",
            FileExistsError: "a file of that name exists: choose another path or remove it",
            IsADirectoryError: "a folder stands where a file is needed: name a file",
        }
        fix = next((text for kind, text in fixes.items() if isinstance(err, kind)), None)
        return f"{where}: {err.strerror or err}" + (f": {fix}" if fix else "")
    return str(err)


def _remove_created(created: Iterable[Path], *, whole: bool) -> None:
    """Remove folders a failed stage created: ``whole``, or only when they hold no file."""
    for path in created:
        if not path.is_dir():
            continue
        if whole or not any(p.is_file() for p in path.rglob("*")):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def stage(
    name: str, *, outputs: Iterable[Path] = (), discard: Iterable[Path] = ()
) -> Iterator[None]:
    """Time a stage; turn known failures into one line and exit code 1.

    Parameters
    ----------
    name : str
        The stage, as the user typed it (``ingest``, ``fit``, ...).
    outputs : iterable of Path
        Folders the stage may create: on failure, those it created are removed when they
        hold no file (nothing empty is left behind).
    discard : iterable of Path
        Folders the stage may create whose content is worthless when it fails (a half
        rendered site): on failure, those it created are removed with their content.
    """
    made_outputs = [p for p in outputs if not p.exists()]
    made_discard = [p for p in discard if not p.exists()]
    start = time.perf_counter()
    console.print(f"[bold]{name}[/bold] ...")
    try:
        yield
    except BaseException as err:
        _remove_created(made_outputs, whole=False)
        _remove_created(made_discard, whole=True)
        if isinstance(err, KeyboardInterrupt):
            say(f"{name} interrupted", "red")
            raise typer.Exit(130) from err
        if isinstance(err, typer.Exit) or not isinstance(err, (*_ONE_LINE, OSError)):
            raise
        if os.environ.get("STATS_TRACEBACK"):
            raise
        say(f"error in {name}: {describe_error(err)}", "red")
        raise typer.Exit(1) from err
    say(f"{name} done in {time.perf_counter() - start:.1f} s", "green")


# ----------------------------------------------------------------------------- progress
def progress_bar(*, counter: bool) -> Progress:
    """A transient spinner with the step's description and elapsed time (shown on terminals).

    ``counter`` adds a bar and the count of items done (the records of an ingest).
    """
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if counter:
        columns += [BarColumn(), TextColumn("{task.completed}")]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


def quiet_library_logs() -> None:
    """Send library log records of level WARNING and above to the status console.

    PyMC installs its own INFO handler on import unless the root logger has one; with
    this handler in place first, PyMC's per-sampling INFO lines stay quiet (the fit
    progress says the same) and its warnings still show.
    """
    root = logging.getLogger()
    if not root.handlers:
        from rich.logging import RichHandler

        root.addHandler(RichHandler(console=console, show_time=False, show_path=False))
        root.setLevel(logging.WARNING)


class FitProgress:
    """Renders the model stage's progress: :class:`FitEvent` objects and status strings.

    Events give "fit k of n", the fit's name, the elapsed time and every retry; a string
    (a step that is not a fit, or the model stage before it emitted events) is a status
    line. :meth:`summary` is the total at the end. PyMC's own INFO lines are muted while
    the renderer is active (the events say the same, per fit).
    """

    def __init__(self) -> None:
        self._bar = progress_bar(counter=False)
        self._task: Any = None
        self._start = time.perf_counter()
        self.done: dict[int, FitEvent] = {}
        self.retries = 0
        self._pymc_level: int | None = None

    def __enter__(self) -> FitProgress:
        quiet_library_logs()
        pymc_log = logging.getLogger("pymc")  # when PyMC was imported before
        self._pymc_level = pymc_log.level
        pymc_log.setLevel(logging.WARNING)
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
        logging.getLogger("pymc").setLevel(self._pymc_level or logging.NOTSET)

    def _show(self, description: str) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(escape(description), total=None)

    def __call__(self, event: FitEvent | str) -> None:
        if not isinstance(event, FitEvent):
            say(f"  [{time.perf_counter() - self._start:6.1f} s] {event}")
            self._show(str(event))
            return
        head = f"fit {event.index} of {event.total} {event.name}"
        if event.kind == "start":
            self._show(head + (f" (attempt {event.attempt})" if event.attempt > 1 else ""))
        elif event.kind == "retry":
            self.retries += 1
            say(
                f"  {head}: missed a convergence gate after {event.elapsed:.1f} s; "
                f"sampling again (attempt {event.attempt})",
                "yellow",
            )
            self._show(f"{head} (attempt {event.attempt})")
        else:
            self.done[event.index] = event
            if event.kind == "cached":
                how = "read from the fit cache"
            else:
                tries = f", {event.attempt} attempts" if event.attempt > 1 else ""
                how = f"{event.elapsed:.1f} s{tries}"
            state = "converged" if event.converged else "NOT converged"
            say(f"  {head}: {state} ({how})", None if event.converged else "red")

    def summary(self) -> str | None:
        """The total: fits, time, retries, how many converged (None before any event)."""
        if not self.done:
            return None
        fits = list(self.done.values())
        failed = sum(1 for e in fits if not e.converged)
        cached = sum(1 for e in fits if e.kind == "cached")
        parts = [f"{len(fits)} fits in {time.perf_counter() - self._start:.1f} s"]
        parts.append(f"{self.retries} retr{'y' if self.retries == 1 else 'ies'}")
        if cached:
            parts.append(f"{cached} from the cache")
        parts.append(f"{failed} not converged" if failed else "all converged")
        return ", ".join(parts)


# ----------------------------------------------------------------------------- result tables
def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _text(value: object) -> str:
    return "" if _missing(value) else str(value)


def _scope(row: Any) -> str:
    if row.scope == "pooled":
        return "all words"
    if row.scope == "new-word":
        return "a new word"
    return _text(row.word)


def _greeting(value: object) -> str:
    if _missing(value):
        return ""
    return "yes" if bool(value) else "no"


def verdict_table(verdicts: pd.DataFrame) -> Table:
    """Verdicts per word, pooled and for a new word, with Delta's HDI and the reason."""
    table = Table(title="verdicts (verdicts.csv)", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("word", "greeting", "Delta [95% HDI]", "verdict"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason", overflow="fold")
    import pandas as pd

    from stats.report.reasons import reason_text  # the page's words (heavy: imported here)

    for row in verdicts.itertuples():
        delta = f"{row.mean:+.2f} [{row.hdi_low:+.2f}, {row.hdi_high:+.2f}]"
        reason = reason_text(pd.Series(row._asdict()))[0]
        table.add_row(
            escape(_scope(row)),
            _greeting(row.greeting),
            delta,
            str(row.verdict),
            escape(reason),
        )
    return table


def claims_table(claims: pd.DataFrame) -> Table:
    """Each claim with its verdict, counts, the comparison made and the model's verdict."""
    table = Table(title="claims (claims.csv)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("claim", overflow="fold")
    for column in ("verdict", "trials"):
        table.add_column(column, no_wrap=True)
    table.add_column("comparison", overflow="fold")
    table.add_column("model's verdict", overflow="fold")
    for row in claims.itertuples():
        model = _text(getattr(row, "model_verdict", None))
        pooled = _text(getattr(row, "pooled_verdict", None))
        if not model and pooled:
            model = f"{pooled} (all words)"
        table.add_row(
            escape(str(row.claim_id)),
            str(row.verdict),
            f"{_text(row.successes)}/{_text(row.trials)}",
            escape(_text(row.comparison)),
            model,
        )
    return table


def show(table: Table) -> None:
    """Print a result table to stdout (:data:`PIPE_WIDTH` wide when piped)."""
    results = Console()
    if not results.is_terminal and "COLUMNS" not in os.environ:
        results = Console(width=PIPE_WIDTH)
    results.print(table)
