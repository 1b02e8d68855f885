"""Render the Quarto report site, with Quarto when it is installed and without it otherwise.

``quarto render reports/`` is how users consume the package. Quarto cannot be installed
on every machine, so :func:`render_site` also renders the *same* ``.qmd`` files offline
(:mod:`stats.render.offline`). Both build the same site: every page of ``_quarto.yml``
always renders; a block whose data are absent shows a plain "Not available: ..." note
outside any numbered figure or table (``unavailable.lua`` under Quarto,
:mod:`stats.render.markdown` offline).

Modules: :mod:`~stats.render.project` (``_quarto.yml``), :mod:`~stats.render.notebook`
(pages as notebooks, execution), :mod:`~stats.render.markdown` (cell options, numbered
floats, cross-references), :mod:`~stats.render.offline` (pandoc, cache),
:mod:`~stats.render.quarto` and :mod:`~stats.render.failures` (failed blocks).

Strict mode: with ``strict=True`` a report helper's exception fails the render (its
page and cell are named); otherwise the page shows a warning box and, once the whole
site is written, :func:`render_site` raises :class:`BlockFailures` naming each failed
block, so ``stats report`` exits non-zero while the user can still read the site.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stats.config import REPORTS_DIR
from stats.render.failures import BlockFailures, FailedBlock, failed_blocks
from stats.render.markdown import (
    ABSENT,
    FAILED_CLASS,
    UNAVAILABLE_CLASS,
    cell_markdown,
    local_links,
    page_markdown,
    resolve_crossrefs,
)
from stats.render.notebook import (
    Cell,
    cell_options,
    execute_notebook,
    inject_parameters,
    parameter_defaults,
    read_page,
)
from stats.render.offline import ENGINE_VERSION, PageTiming, cache_key, render_offline
from stats.render.project import NavItem, Project, RenderError, load_project
from stats.render.quarto import QuartoRun, quarto_path, render_with_quarto

log = logging.getLogger(__name__)

#: Environment variable of the report's strict mode (:data:`stats.report.STRICT_ENV`).
STRICT_ENV = "STATS_REPORT_STRICT"

__all__ = [
    "ABSENT", "ENGINE_VERSION", "FAILED_CLASS", "STRICT_ENV", "UNAVAILABLE_CLASS",
    "BlockFailures", "Cell", "FailedBlock", "NavItem", "PageTiming", "Project", "QuartoRun",
    "RenderError", "cache_key", "cell_markdown", "cell_options", "execute_notebook",
    "failed_blocks", "inject_parameters", "load_project", "local_links", "page_markdown",
    "parameter_defaults", "quarto_path", "read_page", "render_offline", "render_site",
    "render_with_quarto", "resolve_crossrefs",
]  # fmt: skip


def render_site(
    reports_dir: Path = REPORTS_DIR,
    out_dir: Path | None = None,
    params: dict[str, Any] | None = None,
    use_quarto: bool | None = None,
    *,
    cache_dir: Path | None = None,
    strict: bool | None = None,
    quarto: str | Path | None = None,
) -> Path:
    """Render the report site; Quarto when available, the offline engine otherwise.

    Parameters
    ----------
    reports_dir : Path, default ``reports``
        The Quarto project folder.
    out_dir : Path, optional
        Output folder; default the project's ``output-dir`` (``reports/_site``).
    params : dict, optional
        Page parameters (``data_dir``, ``word``, ``rope``, ``k``), as ``-P`` for Quarto.
    use_quarto : bool, optional
        True: require Quarto; False: always render offline; None (default): Quarto if found.
    cache_dir : Path, optional
        Offline cache of executed pages (default ``<reports_dir>/_freeze/offline``).
    strict : bool, optional
        True: a report helper's exception fails the render. None: as the environment
        variable :data:`STRICT_ENV` says.
    quarto : str or Path, optional
        The Quarto executable (default: ``quarto`` on PATH).

    Returns
    -------
    Path
        The site's ``index.html``.

    Raises
    ------
    RenderError
        If Quarto is required but absent, or a page fails (naming the page and cell).
    BlockFailures
        After writing the site, when some report blocks failed (each one named).
    """
    reports_dir = Path(reports_dir)
    env = {} if strict is None else {STRICT_ENV: "1" if strict else "0"}
    quarto = quarto or quarto_path()
    if use_quarto is None:
        use_quarto = quarto is not None
    if use_quarto:
        if quarto is None:
            raise RenderError("use_quarto=True but `quarto` is not on PATH")
        index = render_with_quarto(reports_dir, out_dir, params, quarto=quarto, env=env).index
    else:
        index, timings = render_offline(reports_dir, out_dir, params, cache_dir=cache_dir, env=env)
        for timing in timings:
            cached = " (cached)" if timing.cached else ""
            log.info("%s: %.1f s%s", timing.page, timing.seconds, cached)
    failures = failed_blocks(index.parent)
    if failures:
        raise BlockFailures(failures)
    return index
