"""What the renderers read from a Quarto project: ``_quarto.yml``, its pages and navbar."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)


class RenderError(RuntimeError):
    """A page could not be rendered; the message names the page and the cell."""


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


def as_list(value: Any) -> list[Any]:
    """``value`` as a list (None -> [], a scalar -> [value])."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
