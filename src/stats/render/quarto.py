"""Rendering with Quarto: ``quarto render reports/`` with the page parameters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stats.render.project import RenderError, load_project


def quarto_path() -> str | None:
    """The ``quarto`` executable on PATH, or None."""
    return shutil.which("quarto")


@dataclass(frozen=True)
class QuartoRun:
    """What a Quarto render produced: the site's index and Quarto's own output."""

    index: Path
    log: str


def render_with_quarto(
    reports_dir: Path,
    out_dir: Path | None,
    params: dict[str, Any] | None,
    *,
    quarto: str | Path | None = None,
    env: dict[str, str] | None = None,
) -> QuartoRun:
    """Run ``quarto render reports_dir`` (with ``-P name:value`` per parameter).

    Parameters
    ----------
    reports_dir : Path
    out_dir : Path, optional
        ``--output-dir``; default the project's ``output-dir``.
    params : dict, optional
    quarto : str or Path, optional
        The Quarto executable; default :func:`quarto_path`.
    env : dict, optional
        Added to Quarto's environment (its Jupyter kernel inherits it).

    Returns
    -------
    QuartoRun

    Raises
    ------
    RenderError
        When Quarto exits non-zero (its output is included).
    """
    project = load_project(reports_dir)
    command = [str(quarto or quarto_path() or "quarto"), "render", str(reports_dir)]
    for name, value in (params or {}).items():
        command += ["-P", f"{name}:{value}"]
    if out_dir is not None:
        command += ["--output-dir", str(Path(out_dir).resolve())]
    # Quarto picks its Jupyter kernel's Python from QUARTO_PYTHON: point it at this
    # interpreter so that `import stats` works in the pages.
    environment = {
        **os.environ,
        "QUARTO_PYTHON": os.environ.get("QUARTO_PYTHON", sys.executable),
        **(env or {}),
    }
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    output = f"{result.stdout}\n{result.stderr}".strip()
    if result.returncode != 0:
        raise RenderError(f"quarto render failed:\n{output[-4000:]}")
    index = (Path(out_dir) if out_dir is not None else project.output_dir) / "index.html"
    return QuartoRun(index, output)
