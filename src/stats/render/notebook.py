"""Pages as notebooks: read a ``.qmd`` (jupytext), parse cell options, inject parameters, execute.

The offline renderer's front half: jupytext's R Markdown reader turns a ``.qmd`` into a
notebook (Quarto's ``{python}`` fences are R Markdown fences), parameters are injected
after the cell tagged ``parameters`` (as Quarto and papermill do), and nbclient executes
the notebook on a kernel running the current interpreter, started in the reports folder
so that relative paths behave as under Quarto.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stats.render.project import RenderError

log = logging.getLogger(__name__)

KNOWN_CELL_OPTIONS = frozenset(
    {
        "label",
        "echo",
        "eval",
        "output",
        "include",
        "warning",
        "error",
        "fig-cap",
        "tbl-cap",
        "tags",
        "classes",
        "id",
    }
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_OPTION_LINE = re.compile(r"^#\|\s?(.*)$")


@dataclass
class Cell:
    """A code cell of a page with its Quarto options."""

    index: int
    source: str
    options: dict[str, Any]
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def code(self) -> str:
        """The source without the ``#|`` option lines."""
        lines = self.source.splitlines()
        while lines and _OPTION_LINE.match(lines[0]):
            lines.pop(0)
        return "\n".join(lines).strip("\n")


def cell_options(source: str) -> dict[str, Any]:
    """Parse the leading ``#|`` YAML option lines of a cell.

    Raises
    ------
    RenderError
        If the option lines are not valid YAML.
    """
    lines = []
    for line in source.splitlines():
        match = _OPTION_LINE.match(line)
        if not match:
            break
        lines.append(match.group(1))
    if not lines:
        return {}
    try:
        options = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as error:
        raise RenderError(f"invalid cell options {lines!r}: {error}") from error
    unknown = set(options) - KNOWN_CELL_OPTIONS
    if unknown:
        log.info("cell options %s are ignored by the offline renderer", sorted(unknown))
    return options


def read_page(path: Path) -> tuple[dict[str, Any], Any]:
    """Read a ``.qmd`` into (front matter, notebook) with jupytext's R Markdown reader."""
    import jupytext

    notebook = jupytext.reads(path.read_text(), fmt="Rmd")
    front: dict[str, Any] = {}
    if notebook.cells and notebook.cells[0].cell_type == "raw":
        text = notebook.cells[0].source.strip()
        if text.startswith("---"):
            front = yaml.safe_load(text.strip("-\n")) or {}
            notebook.cells.pop(0)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            options = cell_options(cell.source)
            tags = options.get("tags") or []
            cell.metadata["tags"] = list(dict.fromkeys([*cell.metadata.get("tags", []), *tags]))
            if options.get("error"):
                cell.metadata["tags"].append("raises-exception")
            if options.get("eval") is False:  # shown (if echoed), never run
                cell.metadata["stats_source"] = cell.source
                cell.source = ""
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return front, notebook


def inject_parameters(notebook: Any, params: dict[str, Any]) -> None:
    """Insert a cell assigning ``params`` after the ``parameters`` cell (or first), like papermill."""
    import nbformat

    if not params:
        return
    source = "# Injected Parameters\n" + "\n".join(
        f"{name} = {value!r}" for name, value in params.items()
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    position = next(
        (i + 1 for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])),
        0,
    )
    notebook.cells.insert(position, cell)


def setup_source(reports_dir: Path, warnings_shown: bool, reset: bool) -> str:
    lines = ["%reset -f"] if reset else []
    lines += [
        "import os as _os, warnings as _warnings",
        f"_os.chdir({str(reports_dir.resolve())!r})",
        "%config InlineBackend.figure_format = 'png'",
        "import plotnine.options as _plotnine_options",
        "_plotnine_options.set_option('figure_format', 'png')",
    ]
    if not warnings_shown:
        lines.append("_warnings.filterwarnings('ignore')")
    lines.append("del _os, _warnings, _plotnine_options")
    return "\n".join(lines)


@contextmanager
def kernel(reports_dir: Path, env: dict[str, str] | None = None) -> Iterator[Any]:
    """One kernel running the current interpreter, started in ``reports_dir``.

    ``env`` is added to the kernel's environment (e.g. the report's strict mode).
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.utils import run_sync

    with tempfile.TemporaryDirectory(prefix="stats-kernel-") as tmp:
        spec_dir = Path(tmp) / "stats-render"
        spec_dir.mkdir()
        spec = {
            "argv": [
                sys.executable,
                "-Xfrozen_modules=off",
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
            ],
            "display_name": "stats render",
            "language": "python",
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", **(env or {})},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        km = AsyncKernelManager(
            kernel_name="stats-render",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[tmp]),
            transport="ipc",  # local sockets: no TCP port, no loopback interface needed
            connection_file=str(Path(tmp) / "connection.json"),
        )
        run_sync(km.start_kernel)(cwd=str(reports_dir.resolve()))
        try:
            yield km
        finally:
            run_sync(km.shutdown_kernel)(now=True)


def execute_notebook(
    notebook: Any, km: Any, reports_dir: Path, page: str, timeout: int = 900
) -> Any:
    """Execute ``notebook`` on the running kernel ``km``.

    Raises
    ------
    RenderError
        Naming the page and the failing cell (its label when it has one).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        notebook,
        km=km,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(reports_dir.resolve())}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        failing = next(
            (
                c
                for c in reversed(notebook.cells)
                if "raises-exception" not in c.metadata.get("tags", [])
                and any(o.get("output_type") == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        label = cell_options(failing.source).get("label", "") if failing is not None else ""
        raise RenderError(
            f"{page}: cell {label or '(unlabelled)'} failed:\n{_ANSI.sub('', str(error))}"
        ) from error
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    return notebook


def parameter_defaults(notebook: Any) -> dict[str, Any]:
    """Literal assignments of the ``parameters`` cell (for the cache key)."""
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    values: dict[str, Any] = {}
    if cell is None:
        return values
    for node in ast.parse(cell.source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values
