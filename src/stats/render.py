"""Render the Quarto report site, with Quarto when it is installed and without it otherwise.

``quarto render reports/`` is how users consume the package. Quarto cannot be
installed on every machine, so :func:`render_site` also renders the *same*
``.qmd`` files offline:

1. read ``_quarto.yml`` (project ``output-dir`` and ``render`` list, ``website``
   title and navbar, ``execute`` and ``format: html`` options);
2. for each page, jupytext's R Markdown reader turns the ``.qmd`` into a notebook
   (Quarto's ``{python}`` fences are R Markdown fences);
3. parameters are injected after the cell tagged ``parameters`` (as Quarto and
   papermill do), then nbclient executes the notebook with a kernel running the
   current interpreter (working directory = the reports folder, so relative
   paths behave as under Quarto);
4. cell options are honoured (``eval``, ``echo``, ``output`` incl. ``asis``,
   ``include``, ``warning``, ``error``, ``label``, ``fig-cap``, ``tbl-cap``,
   ``tags``); labelled figures and tables are numbered and ``@fig-``/``@tbl-``
   cross-references resolved; callouts (``::: {.callout-note title=".."}``)
   become styled boxes (a pandoc Lua filter);
5. pandoc (from ``pypandoc-binary``) writes one self-contained HTML page per
   ``.qmd`` (``--standalone --embed-resources``; figures as base64 PNG; no
   script, font or stylesheet from the network; no math engine) with a shared
   navbar.

Conditional pages: a page whose front matter says ``requires: summary/heldout.csv``
(a path, or a list, relative to the page's ``data_dir`` parameter) is rendered only when
those artifacts exist; otherwise it is skipped, its stale HTML removed, and its navbar
link dropped (:func:`missing_requirements`). The follow-up pages of issue 8 use it.
Quarto itself ignores the key (arbitrary front matter is page metadata), so under Quarto
such a page always renders and its helpers show "Not available yet" callouts.

``execute: freeze`` is mirrored by a cache of executed notebooks
(``reports/_freeze/offline/<page>.ipynb``): with ``freeze: auto`` a page is
re-executed only when its key changes (the ``.qmd`` and ``_quarto.yml`` text,
the parameters, the sources of ``stats.report``, ``stats.plots``, ``stats.config``
and ``stats.render``, and the size and mtime of every
file under a parameter that names an existing path, e.g. the data folder);
``freeze: true`` reuses any cached page; ``freeze: false`` never caches. PDF
output needs Quarto (typst); the offline path writes HTML only and says so in
each page's footer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stats.config import REPORTS_DIR

log = logging.getLogger(__name__)

#: Bump when the offline renderer changes what it writes (invalidates the cache).
ENGINE_VERSION = "1"
#: Package code whose source is part of the cache key: what the pages' cells run.
CODE_KEY_MODULES = ("report", "plots.py", "config.py", "render.py")
CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")
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
_CROSSREF = re.compile(r"(?<![\w@\\`])(\[)?@((?:fig|tbl)-[A-Za-z0-9_-]*[A-Za-z0-9])(\])?")
_OPTION_LINE = re.compile(r"^#\|\s?(.*)$")

_CALLOUT_FILTER = r"""
local titles = {note = "Note", tip = "Tip", warning = "Warning", important = "Important", caution = "Caution"}
function Div(el)
  for _, cls in ipairs(el.classes) do
    local kind = cls:match("^callout%-(%a+)$")
    if kind and titles[kind] then
      local title = el.attributes["title"] or titles[kind]
      local content = el.content
      if #content > 0 and content[1].t == "Header" then
        title = pandoc.utils.stringify(content[1])
        content:remove(1)
      end
      local head = pandoc.Div({pandoc.Plain({pandoc.Strong(pandoc.Inlines(title))})}, pandoc.Attr("", {"callout-title"}))
      local body = pandoc.Div(content, pandoc.Attr("", {"callout-body"}))
      return pandoc.Div({head, body}, pandoc.Attr(el.identifier, {"callout", "callout-" .. kind}, {}))
    end
  end
end
"""

_BASE_CSS = """
:root { --fg: #1f2328; --muted: #57606a; --accent: #0b5cad; --line: #d0d7de; }
html { font-size: 16px; }
body { font-family: "DejaVu Sans", system-ui, sans-serif; color: var(--fg); max-width: 1100px;
       margin: 0 auto; padding: 0 1.2rem 2rem; line-height: 1.5; }
nav.site-nav { display: flex; flex-wrap: wrap; gap: .2rem 1.1rem; align-items: baseline;
       border-bottom: 2px solid var(--line); padding: .7rem 0; margin-bottom: 1rem; }
nav.site-nav .site-title { font-weight: bold; margin-right: 1rem; color: var(--fg); text-decoration: none; }
nav.site-nav a { color: var(--accent); text-decoration: none; }
nav.site-nav a.active { font-weight: bold; border-bottom: 2px solid var(--accent); }
header#title-block-header h1.title { margin-bottom: .2rem; }
header#title-block-header p.subtitle { color: var(--muted); margin-top: 0; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .85rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid #8c959f; }
img { max-width: 100%; height: auto; }
figure { margin: 1rem 0; }
figcaption, .table-caption { color: var(--muted); font-size: .9rem; }
.table-caption { margin-top: 1rem; }
pre { background: #f6f8fa; padding: .6rem .8rem; overflow-x: auto; font-size: .8rem; border-radius: 4px;
      white-space: pre-wrap; }
code { font-family: "DejaVu Sans Mono", monospace; }
.callout { border-left: 5px solid #8c959f; background: #f6f8fa; margin: 1rem 0; padding: .4rem .9rem;
           border-radius: 3px; }
.callout-title { margin-bottom: .2rem; }
.callout-note { border-left-color: #0b5cad; background: #eef5fc; }
.callout-tip { border-left-color: #1a7f37; background: #eefaf0; }
.callout-warning { border-left-color: #bf8700; background: #fff8e5; }
.callout-important { border-left-color: #cf222e; background: #fdeeee; }
.callout-caution { border-left-color: #bc4c00; background: #fff1e5; }
footer.render-note { color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line);
       margin-top: 2rem; padding-top: .5rem; }
"""


class RenderError(RuntimeError):
    """A page could not be rendered; the message names the page and the cell."""


# ----------------------------------------------------------------------------- project
@dataclass(frozen=True)
class NavItem:
    """One navbar link."""

    text: str
    href: str


@dataclass(frozen=True)
class Project:
    """What the offline renderer reads from ``_quarto.yml``.

    Parameters
    ----------
    root : Path
        The reports folder.
    config : dict
        The parsed ``_quarto.yml``.
    pages : list of Path
        The ``.qmd`` files to render, in navbar order.
    """

    root: Path
    config: dict[str, Any]
    pages: list[Path]

    @property
    def output_dir(self) -> Path:
        """``project.output-dir`` (default ``_site``) under the reports folder."""
        return self.root / str(self.config.get("project", {}).get("output-dir", "_site"))

    @property
    def title(self) -> str:
        """``website.title`` (default "Report")."""
        return str(self.config.get("website", {}).get("title", "Report"))

    @property
    def execute(self) -> dict[str, Any]:
        """Project-level ``execute`` options (echo, warning, freeze...)."""
        return dict(self.config.get("execute") or {})

    @property
    def html_options(self) -> dict[str, Any]:
        """Project-level ``format: html`` options (toc, css...)."""
        fmt = self.config.get("format") or {}
        html = fmt.get("html") if isinstance(fmt, dict) else None
        return dict(html) if isinstance(html, dict) else {}

    def navbar(self, titles: dict[str, str]) -> list[NavItem]:
        """Navbar links (``website.navbar.left`` then ``right``); other hosts are left out."""
        nav = self.config.get("website", {}).get("navbar", {}) or {}
        items = []
        for entry in [*(nav.get("left") or []), *(nav.get("right") or [])]:
            href = entry if isinstance(entry, str) else entry.get("href", "")
            if not href or re.match(r"^[a-z]+:", href):
                log.warning("navbar entry %r skipped: only local pages are linked offline", href)
                continue
            text = entry.get("text") if isinstance(entry, dict) else None
            items.append(NavItem(text or titles.get(href, Path(href).stem), _html_name(href)))
        return items


def _html_name(href: str) -> str:
    return re.sub(r"\.(qmd|ipynb|md)$", ".html", href)


def load_project(reports_dir: Path) -> Project:
    """Read ``_quarto.yml`` and list the pages to render.

    Parameters
    ----------
    reports_dir : Path
        The Quarto project folder.

    Returns
    -------
    Project

    Raises
    ------
    RenderError
        If ``_quarto.yml`` is missing or lists a page that does not exist.
    """
    reports_dir = Path(reports_dir)
    config_path = reports_dir / "_quarto.yml"
    if not config_path.exists():
        raise RenderError(f"{config_path} not found: not a Quarto project")
    config = yaml.safe_load(config_path.read_text()) or {}
    listed = config.get("project", {}).get("render")
    if listed:
        pages = []
        for pattern in listed:
            if str(pattern).startswith("!"):
                continue
            matches = sorted(reports_dir.glob(str(pattern)))
            if not matches:
                raise RenderError(
                    f"{config_path}: project.render lists {pattern!r}, which matches no file"
                )
            pages.extend(m for m in matches if m.suffix == ".qmd")
    else:
        pages = [p for p in sorted(reports_dir.glob("*.qmd")) if not p.name.startswith(("_", "."))]
    nav = [
        e if isinstance(e, str) else e.get("href", "")
        for e in (config.get("website", {}).get("navbar", {}) or {}).get("left") or []
    ]
    rank = {href: i for i, href in enumerate(nav)}
    pages = sorted(dict.fromkeys(pages), key=lambda p: rank.get(p.name, len(rank)))
    return Project(reports_dir, config, pages)


# ----------------------------------------------------------------------------- pages and cells
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


def _setup_source(reports_dir: Path, warnings_shown: bool, reset: bool) -> str:
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


# ----------------------------------------------------------------------------- execution
@contextmanager
def _kernel(reports_dir: Path) -> Iterator[Any]:
    """One kernel running the current interpreter, started in ``reports_dir``."""
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
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
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


# ----------------------------------------------------------------------------- assembling markdown
def _number_floats(cells: list[Cell]) -> dict[str, str]:
    """Map fig-/tbl- labels to "Figure N" / "Table N" in order of appearance."""
    numbers: dict[str, str] = {}
    counters = {"fig": 0, "tbl": 0}
    names = {"fig": "Figure", "tbl": "Table"}
    for cell in cells:
        label = str(cell.options.get("label", ""))
        kind = label.split("-", 1)[0]
        if kind in counters and label not in numbers:
            counters[kind] += 1
            numbers[label] = f"{names[kind]}\u00a0{counters[kind]}"
    return numbers


def resolve_crossrefs(text: str, numbers: dict[str, str]) -> str:
    """Replace ``@fig-x`` / ``[@tbl-y]`` with links "Figure N"; unknown ones become ``?@fig-x``."""

    def replace(match: re.Match[str]) -> str:
        label = match.group(2)
        if label in numbers:
            return f"[{numbers[label]}](#{label})"
        log.warning("unresolved cross-reference @%s", label)
        return f"**?\\@{label}**"

    return _CROSSREF.sub(replace, text)


_QMD_LINK = re.compile(r"(\]\((?![a-z]+:)[^)\s]+?)\.qmd((?:#[^)\s]*)?\))")


def local_links(text: str) -> str:
    """Point markdown links to ``page.qmd`` at ``page.html``, as Quarto does in websites."""
    return _QMD_LINK.sub(r"\1.html\2", text)


def _fence(text: str, language: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _image(data: str, mime: str) -> str:
    if mime == "image/svg+xml":
        data = base64.b64encode(data.encode()).decode("ascii")
    return f"data:{mime};base64,{''.join(data.split())}"


def _output_blocks(cell: Cell, options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Markdown blocks and image URIs of a cell's outputs, after output/warning/error options."""
    blocks: list[str] = []
    images: list[str] = []
    asis = options.get("output") == "asis"
    for output in cell.outputs:
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stderr" and not options.get("warning", True):
                continue
            text = output.get("text", "")
            blocks.append(text if asis else _fence(text.rstrip("\n")))
        elif kind == "error":
            if options.get("error"):
                blocks.append(_fence(_ANSI.sub("", "\n".join(output.get("traceback", [])))))
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            image = next(
                (m for m in ("image/png", "image/svg+xml", "image/jpeg") if m in data), None
            )
            if image:
                images.append(_image(data[image], image))
            elif "text/markdown" in data:
                blocks.append(data["text/markdown"])
            elif "text/html" in data:
                blocks.append(f"```{{=html}}\n{data['text/html']}\n```")
            elif "text/plain" in data:
                blocks.append(data["text/plain"] if asis else _fence(data["text/plain"]))
    return blocks, images


def cell_markdown(cell: Cell, defaults: dict[str, Any], numbers: dict[str, str]) -> str:
    """Markdown of one executed code cell, honouring Quarto's cell options."""
    options = {**defaults, **cell.options}
    if options.get("include") is False:
        return ""
    parts: list[str] = []
    if options.get("echo", True) and cell.code:
        parts.append(_fence(cell.code, "python"))
    if options.get("output", True) is False:
        return "\n\n".join(parts)
    blocks, images = _output_blocks(cell, options)
    label = str(options.get("label", ""))
    if images:
        caption = resolve_crossrefs(str(options.get("fig-cap", "")), numbers)
        prefix = numbers.get(label)
        text = f"{prefix}: {caption}" if prefix and caption else (prefix or caption)
        attrs = f"{{#{label}}}" if label.startswith("fig-") else ""
        parts.append(f"![{text}]({images[0]}){attrs}" if text else f"![]({images[0]})")
        parts.extend(f"![]({uri})" for uri in images[1:])
    if label.startswith("tbl-") or "tbl-cap" in options:
        caption = resolve_crossrefs(str(options.get("tbl-cap", "")), numbers)
        prefix = numbers.get(label)
        title = f"{prefix}: {caption}" if prefix and caption else (prefix or caption)
        ident = f"#{label} " if label.startswith("tbl-") else ""
        body = "\n\n".join(blocks)
        parts.append(
            f"::::: {{{ident}.table-float}}\n:::: {{.table-caption}}\n{title}\n::::\n\n{body}\n\n:::::"
        )
    elif label.startswith("fig-") and not images:
        caption = resolve_crossrefs(str(options.get("fig-cap", "")), numbers)
        prefix = numbers.get(label, "")
        body = "\n\n".join(blocks)
        parts.append(
            f"::::: {{#{label} .figure-float}}\n{body}\n\n:::: {{.table-caption}}\n{prefix}: {caption}\n::::\n:::::"
        )
    else:
        parts.extend(blocks)
    return "\n\n".join(p for p in parts if p)


def page_markdown(notebook: Any, front: dict[str, Any], defaults: dict[str, Any]) -> str:
    """The whole page as pandoc markdown: metadata, text cells and executed code cells."""
    cells = []
    for i, c in enumerate(notebook.cells):
        if c.cell_type == "code":
            source = c.metadata.get("stats_source", c.source)
            cells.append(Cell(i, source, cell_options(source), c.get("outputs", [])))
    numbers = _number_floats(cells)
    by_index = {c.index: c for c in cells}
    chunks = []
    meta = {
        k: front[k] for k in ("title", "subtitle", "author", "date", "description") if k in front
    }
    if meta:
        chunks.append("---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---")
    for i, raw in enumerate(notebook.cells):
        if raw.cell_type == "markdown":
            chunks.append(local_links(resolve_crossrefs(raw.source, numbers)))
        elif raw.cell_type == "code" and "injected-parameters" not in raw.metadata.get("tags", []):
            if "stats-setup" in raw.metadata.get("tags", []):
                continue
            chunks.append(cell_markdown(by_index[i], defaults, numbers))
        elif raw.cell_type == "raw":
            chunks.append(raw.source)
    return "\n\n".join(c for c in chunks if c.strip()) + "\n"


# ----------------------------------------------------------------------------- pandoc
def _nav_html(
    project: Project, titles: dict[str, str], current: str, skipped: frozenset[str] = frozenset()
) -> str:
    links = [f'<a class="site-title" href="index.html">{_html_escape(project.title)}</a>']
    for item in project.navbar(titles):
        if item.href in skipped:
            continue  # a page whose required data are absent (see page_requirements)
        active = ' class="active"' if item.href == current else ""
        links.append(f'<a href="{_html_escape(item.href)}"{active}>{_html_escape(item.text)}</a>')
    return '<nav class="site-nav">' + "\n".join(links) + "</nav>\n"


def _html_escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)


def pandoc_html(
    markdown: str, out_file: Path, *, css: list[Path], before: str, after: str, toc: bool
) -> None:
    """Convert page markdown to one self-contained HTML file with pandoc.

    Raises
    ------
    RenderError
        If pandoc fails (its message is included).
    """
    import pypandoc

    with tempfile.TemporaryDirectory(prefix="stats-pandoc-") as tmp:
        tmp_dir = Path(tmp)
        (tmp_dir / "callouts.lua").write_text(_CALLOUT_FILTER)
        (tmp_dir / "before.html").write_text(before)
        (tmp_dir / "after.html").write_text(after)
        (tmp_dir / "base.css").write_text(_BASE_CSS)
        (tmp_dir / "page.md").write_text(markdown)
        args = [
            str(tmp_dir / "page.md"),
            "--from=markdown",
            "--to=html5",
            "--standalone",
            "--embed-resources",
            f"--lua-filter={tmp_dir / 'callouts.lua'}",
            f"--include-before-body={tmp_dir / 'before.html'}",
            f"--include-after-body={tmp_dir / 'after.html'}",
            f"--css={tmp_dir / 'base.css'}",
            *[f"--css={path.resolve()}" for path in css],
            f"--output={Path(out_file).resolve()}",  # pandoc runs in tmp_dir: never relative
        ]
        if toc:
            args.append("--toc")
        result = subprocess.run(
            [pypandoc.get_pandoc_path(), *args],
            capture_output=True,
            text=True,
            cwd=tmp_dir,
            check=False,
        )
        if result.returncode != 0:
            raise RenderError(f"pandoc failed for {out_file.name}: {result.stderr.strip()}")
        if result.stderr.strip():
            log.info("pandoc (%s): %s", out_file.name, result.stderr.strip())


# ----------------------------------------------------------------------------- conditional pages
def page_requirements(front: dict[str, Any]) -> list[str]:
    """The artifacts a page needs, from its front-matter key ``requires`` (str or list)."""
    value = front.get("requires")
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if str(v).strip()]


def missing_requirements(
    front: dict[str, Any], notebook: Any, params: dict[str, Any], reports_dir: Path
) -> list[str]:
    """Required artifacts of a page that do not exist (empty: render the page).

    A page declares ``requires: summary/heldout.csv`` (or a list) in its front matter;
    each path is relative to the page's ``data_dir`` parameter (the injected value, else
    the default of its ``parameters`` cell), itself relative to the reports folder, as
    the page's cells resolve it. A page with absent data is not rendered and is dropped
    from the navbar. Quarto ignores the key (arbitrary front matter is metadata): under
    Quarto such a page renders, and its helpers show "Not available yet" callouts.
    """
    needed = page_requirements(front)
    if not needed:
        return []
    data_dir = params.get("data_dir")
    if data_dir is None:
        defaults = _parameter_defaults(notebook) if notebook is not None else {}
        data_dir = defaults.get("data_dir", ".")
    base = Path(str(data_dir))
    base = base if base.is_absolute() else Path(reports_dir) / base
    return [rel for rel in needed if not (base / rel).exists()]


# ----------------------------------------------------------------------------- cache
def _files_under(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from (p for p in sorted(path.rglob("*")) if p.is_file())


def _parameter_defaults(notebook: Any) -> dict[str, Any]:
    """Literal assignments of the ``parameters`` cell (for the cache key)."""
    import ast

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


def cache_key(page: Path, project: Project, notebook: Any, params: dict[str, Any]) -> str:
    """Hash of everything a page's executed output depends on (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(ENGINE_VERSION.encode())
    digest.update(page.read_bytes())
    digest.update((project.root / "_quarto.yml").read_bytes())
    values = {**_parameter_defaults(notebook), **params}
    digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    package = Path(__file__).parent
    for module in CODE_KEY_MODULES:
        for source in sorted(_files_under(package / module)):
            if source.suffix in (".py", ".qmd", ".yml", ".css"):
                digest.update(source.read_bytes())
    for value in values.values():
        if not isinstance(value, str) or not value:
            continue
        target = (project.root / value) if not Path(value).is_absolute() else Path(value)
        for file in _files_under(target):
            stat = file.stat()
            digest.update(f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- entry points
def quarto_path() -> str | None:
    """The ``quarto`` executable on PATH, or None."""
    return shutil.which("quarto")


def render_with_quarto(
    reports_dir: Path, out_dir: Path | None, params: dict[str, Any] | None
) -> Path:
    """Run ``quarto render reports_dir`` (with ``-P name:value`` per parameter).

    Returns
    -------
    Path
        ``index.html`` in the output folder.
    """
    project = load_project(reports_dir)
    command = [quarto_path() or "quarto", "render", str(reports_dir)]
    for name, value in (params or {}).items():
        command += ["-P", f"{name}:{value}"]
    if out_dir is not None:
        command += ["--output-dir", str(Path(out_dir).resolve())]
    # Quarto picks its Jupyter kernel's Python from QUARTO_PYTHON: point it at this
    # interpreter so that `import stats` works in the pages.
    env = {**os.environ, "QUARTO_PYTHON": os.environ.get("QUARTO_PYTHON", sys.executable)}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RenderError(f"quarto render failed:\n{result.stderr.strip()}")
    return (Path(out_dir) if out_dir is not None else project.output_dir) / "index.html"


@dataclass
class PageTiming:
    """How long a page took and whether its executed notebook came from the cache."""

    page: str
    seconds: float
    cached: bool


def render_offline(
    reports_dir: Path,
    out_dir: Path | None = None,
    params: dict[str, Any] | None = None,
    *,
    cache_dir: Path | None = None,
) -> tuple[Path, list[PageTiming]]:
    """Render every page with jupytext + nbclient + pandoc (no Quarto).

    Parameters
    ----------
    reports_dir : Path
        The Quarto project folder.
    out_dir : Path, optional
        Output folder; default ``project.output-dir``.
    params : dict, optional
        Parameter overrides injected into every page.
    cache_dir : Path, optional
        Where executed notebooks are cached; default ``<reports_dir>/_freeze/offline``.

    Returns
    -------
    index : Path
        The site's ``index.html``.
    timings : list of PageTiming
    """
    import nbformat

    reports_dir = Path(reports_dir)
    project = load_project(reports_dir)
    out_dir = (Path(out_dir) if out_dir is not None else project.output_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(cache_dir) if cache_dir is not None else reports_dir / "_freeze" / "offline"
    params = dict(params or {})
    freeze = project.execute.get("freeze", False)
    html_opts = project.html_options
    css = [reports_dir / c for c in _as_list(html_opts.get("css"))]
    pages = [(page, *read_page(page)) for page in project.pages]
    titles = {page.name: str(front.get("title", page.stem)) for page, front, _ in pages}
    skipped = set()
    for page, front, notebook in pages:
        missing = missing_requirements(front, notebook, params, reports_dir)
        if missing:
            log.info("%s skipped: required data absent (%s)", page.name, ", ".join(missing))
            skipped.add(page.with_suffix(".html").name)
            (out_dir / page.with_suffix(".html").name).unlink(missing_ok=True)  # no stale page
    pages = [p for p in pages if p[0].with_suffix(".html").name not in skipped]
    timings: list[PageTiming] = []
    kernel = None
    stack = None
    try:
        for page, front, notebook in pages:
            start = time.perf_counter()
            defaults = {
                "echo": True,
                "warning": True,
                **project.execute,
                **(front.get("execute") or {}),
            }
            key = cache_key(page, project, notebook, params)
            cached_path = cache_dir / f"{page.stem}.ipynb"
            executed = None
            if freeze and cached_path.exists():
                candidate = nbformat.read(cached_path, as_version=4)
                if freeze is True or candidate.metadata.get("stats_render_key") == key:
                    executed = candidate
            from_cache = executed is not None
            if executed is None:
                if kernel is None:
                    stack = _kernel(reports_dir)
                    kernel = stack.__enter__()
                inject_parameters(notebook, params)
                setup = nbformat.v4.new_code_cell(
                    _setup_source(reports_dir, bool(defaults.get("warning")), reset=True),
                    metadata={"tags": ["stats-setup"]},
                )
                notebook.cells.insert(0, setup)
                executed = execute_notebook(notebook, kernel, reports_dir, page.name)
                executed.metadata["stats_render_key"] = key
                if freeze:
                    cache_dir.mkdir(parents=True, exist_ok=True)
                    nbformat.write(executed, cached_path)
            markdown = page_markdown(executed, front, defaults)
            html_name = page.with_suffix(".html").name
            toc = bool(front.get("toc", html_opts.get("toc", False)))
            engine = "jupytext + nbclient + pandoc (offline; Quarto not found), HTML only: PDF needs Quarto"
            shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "page defaults"
            after = f'<footer class="render-note">Rendered by stats.render with {engine}. Parameters: {_html_escape(shown)}.</footer>'
            pandoc_html(
                markdown,
                out_dir / html_name,
                css=css,
                before=_nav_html(project, titles, html_name, frozenset(skipped)),
                after=after,
                toc=toc,
            )
            timings.append(PageTiming(page.name, time.perf_counter() - start, from_cache))
    finally:
        if stack is not None:
            stack.__exit__(None, None, None)
    return out_dir / "index.html", timings


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def render_site(
    reports_dir: Path = REPORTS_DIR,
    out_dir: Path | None = None,
    params: dict[str, Any] | None = None,
    use_quarto: bool | None = None,
    *,
    cache_dir: Path | None = None,
) -> Path:
    """Render the report site; Quarto when available, the offline engine otherwise.

    Parameters
    ----------
    reports_dir : Path, default ``reports``
        The Quarto project folder.
    out_dir : Path, optional
        Output folder; default the project's ``output-dir`` (``reports/_site``).
    params : dict, optional
        Page parameters (``data_dir``, ``word``, ``rope``, ``k``...), as ``-P`` for Quarto.
    use_quarto : bool, optional
        True: require Quarto; False: always render offline; None (default): Quarto if on PATH.
    cache_dir : Path, optional
        Offline cache of executed pages (default ``<reports_dir>/_freeze/offline``).

    Returns
    -------
    Path
        The site's ``index.html``.

    Raises
    ------
    RenderError
        If Quarto is required but absent, or a page fails (naming the page and cell).
    """
    reports_dir = Path(reports_dir)
    if use_quarto is None:
        use_quarto = quarto_path() is not None
    if use_quarto:
        if quarto_path() is None:
            raise RenderError("use_quarto=True but `quarto` is not on PATH")
        return render_with_quarto(reports_dir, out_dir, params)
    index, timings = render_offline(reports_dir, out_dir, params, cache_dir=cache_dir)
    for timing in timings:
        log.info("%s: %.1f s%s", timing.page, timing.seconds, " (cached)" if timing.cached else "")
    return index
