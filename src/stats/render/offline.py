"""The offline renderer: the same ``.qmd`` pages, rendered without Quarto.

Quarto cannot be installed on every machine, so :func:`render_offline` renders the
project with jupytext + nbclient (:mod:`stats.render.notebook`) and pandoc (from
``pypandoc-binary``): one self-contained HTML page per ``.qmd``
(``--standalone --embed-resources``; figures as base64 PNG; no script, font or
stylesheet from the network; no math engine) with a shared navbar. Callouts
(``::: {.callout-note title=".."}``) become styled boxes (a pandoc Lua filter).

Cache of executed pages (``reports/_freeze/offline/<page>.ipynb``): a page is executed
again only when its key changes: the ``.qmd`` and ``_quarto.yml`` text, the parameters,
the package code the cells run (:data:`CODE_KEY_MODULES`), and the size and mtime of
every file under a parameter that names an existing path (the data folder). Because the
key covers the data, the cache never serves stale numbers, whatever ``execute: freeze``
says (``freeze: true`` reuses any cached page, as Quarto would). PDF output needs Quarto
(typst); this renderer writes HTML only and says so in each page's footer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stats.render.markdown import page_markdown
from stats.render.notebook import (
    execute_notebook,
    inject_parameters,
    parameter_defaults,
    read_page,
    setup_source,
)
from stats.render.notebook import kernel as kernel_for
from stats.render.project import Project, RenderError, as_list, load_project

log = logging.getLogger(__name__)

#: Bump when the offline renderer changes what it writes (invalidates the cache).
ENGINE_VERSION = "2"
#: Package code and data whose files are part of the cache key: what the pages' cells run.
CODE_KEY_MODULES = ("report", "plots", "render", "calibration", "config.py")
ENGINE = "jupytext + nbclient + pandoc (offline; Quarto not used), HTML only: PDF needs Quarto"

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
      local classes = {"callout"}
      for _, c in ipairs(el.classes) do table.insert(classes, c) end
      return pandoc.Div({head, body}, pandoc.Attr(el.identifier, classes, {}))
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


def _nav_html(project: Project, titles: dict[str, str], current: str) -> str:
    links = [f'<a class="site-title" href="index.html">{_html_escape(project.title)}</a>']
    for item in project.navbar(titles):
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


def _files_under(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from (p for p in sorted(path.rglob("*")) if p.is_file())


def cache_key(page: Path, project: Project, notebook: Any, params: dict[str, Any]) -> str:
    """Hash of everything a page's executed output depends on (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(ENGINE_VERSION.encode())
    digest.update(page.read_bytes())
    digest.update((project.root / "_quarto.yml").read_bytes())
    values = {**parameter_defaults(notebook), **params}
    digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    package = Path(__file__).parent.parent
    for module in CODE_KEY_MODULES:
        for source in sorted(_files_under(package / module)):
            if source.suffix in (".py", ".qmd", ".yml", ".css", ".lua", ".csv", ".json", ".png"):
                digest.update(source.read_bytes())
    for value in values.values():
        if not isinstance(value, str) or not value:
            continue
        target = (project.root / value) if not Path(value).is_absolute() else Path(value)
        for file in _files_under(target):
            stat = file.stat()
            digest.update(f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


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
    env: dict[str, str] | None = None,
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
    env : dict, optional
        Added to the kernel's environment (e.g. ``{STRICT_ENV: "1"}``).

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
    css = [reports_dir / c for c in as_list(html_opts.get("css"))]
    pages = [(page, *read_page(page)) for page in project.pages]
    titles = {page.name: str(front.get("title", page.stem)) for page, front, _ in pages}
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
            if cached_path.exists():
                candidate = nbformat.read(cached_path, as_version=4)
                if freeze is True or candidate.metadata.get("stats_render_key") == key:
                    executed = candidate
            from_cache = executed is not None
            if executed is None:
                if kernel is None:
                    stack = kernel_for(reports_dir, env)
                    kernel = stack.__enter__()
                inject_parameters(notebook, params)
                setup = nbformat.v4.new_code_cell(
                    setup_source(reports_dir, bool(defaults.get("warning")), reset=True),
                    metadata={"tags": ["stats-setup"]},
                )
                notebook.cells.insert(0, setup)
                executed = execute_notebook(notebook, kernel, reports_dir, page.name)
                executed.metadata["stats_render_key"] = key
                cache_dir.mkdir(parents=True, exist_ok=True)
                nbformat.write(executed, cached_path)
            markdown = page_markdown(executed, front, defaults)
            html_name = page.with_suffix(".html").name
            toc = bool(front.get("toc", html_opts.get("toc", False)))
            pandoc_html(
                markdown,
                out_dir / html_name,
                css=css,
                before=_nav_html(project, titles, html_name),
                after=_footer(params),
                toc=toc,
            )
            timings.append(PageTiming(page.name, time.perf_counter() - start, from_cache))
    finally:
        if stack is not None:
            stack.__exit__(None, None, None)
    return out_dir / "index.html", timings


def _footer(params: dict[str, Any]) -> str:
    """The page footer: the engine and the parameters (absolute paths shortened to their name)."""
    shown = ", ".join(
        f"{k}={Path(v).name if isinstance(v, str) and Path(v).is_absolute() else v!r}"
        for k, v in params.items()
    )
    note = f"Rendered by stats.render with {ENGINE}. Parameters: {shown or 'page defaults'}."
    return f'<footer class="render-note">{_html_escape(note)}</footer>'
