"""A study folder: the layout every command's defaults point into, and ``stats init``.

A study folder holds one study, laid out as :mod:`stats.config` names its paths::

    analysis/runs.yaml      the runs manifest (docs/manifest.md)
    analysis/study.yaml     model choices
    analysis/claims.yaml    claims to review
    data/raw/               the user's run files
    data/processed/         derived by ``stats run``
    reports/                the report's Quarto project (pages from this package)

Every ``stats`` command resolves its default paths against the current directory, so
inside a study folder ``stats run`` and ``stats report`` need no arguments. This
repository is itself a study folder (the bundled, simulated study); its ``reports/``
pages are symbolic links to the package's pages, which :func:`init_study` copies as
real files. The templates (``stats/templates/``) and the pages
(``stats/report/site/``) are package data, shipped in the wheel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from stats import config

#: Study-folder file -> template file (``stats/templates/``) it is written from.
SKELETON: dict[Path, str] = {
    config.MANIFEST_PATH: "runs.yaml",
    config.STUDY_PATH: "study.yaml",
    config.CLAIMS_PATH: "claims.yaml",
    Path("README.md"): "README.md",
    Path(".gitignore"): "gitignore",
}
#: Folders of a study folder that start empty.
EMPTY_FOLDERS: tuple[Path, ...] = (config.RAW_DIR,)
#: Names in the package's pages folder that are not pages (caches, build output).
_NOT_PAGES = frozenset({"__pycache__", "_site", "_freeze", ".quarto"})


class StudyFolderError(ValueError):
    """A study folder cannot be made here; the message names the path and the fix."""


def templates() -> Traversable:
    """The package's template folder (``stats/templates/``)."""
    return files("stats").joinpath("templates")


def package_pages() -> Traversable:
    """The package's report pages (``stats/report/site/``: ``_quarto.yml``, ``*.qmd``, css)."""
    return files("stats.report").joinpath("site")


def _page_files(folder: Traversable, prefix: Path = Path()) -> list[tuple[Path, Traversable]]:
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in _NOT_PAGES or entry.name.startswith("."):
            continue
        if entry.is_dir():
            out += _page_files(entry, prefix / entry.name)
        else:
            out.append((prefix / entry.name, entry))
    return out


def copy_pages(dest: Path) -> list[Path]:
    """Copy the package's report pages into ``dest`` as real files (replacing older copies).

    Parameters
    ----------
    dest : Path
        The Quarto project folder to write (created if missing).

    Returns
    -------
    list of Path
        The files written, relative to ``dest``.
    """
    written = []
    for rel, source in _page_files(package_pages()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # a link into the package: replace it by the file itself
            target.unlink()
        target.write_bytes(source.read_bytes())
        written.append(rel)
    if not written:
        raise StudyFolderError(f"{package_pages()}: the package ships no report pages")
    return written


@dataclass
class InitResult:
    """What :func:`init_study` did, relative to the study folder."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)


def _check_target(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise StudyFolderError(f"{folder} is a file: name a new folder for the study")
    if folder.is_dir() and not force:
        entries = sorted(p.name for p in folder.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise StudyFolderError(
                f"{folder} is not empty ({shown}): name a new folder, or pass --force to add "
                "the skeleton here (existing files are kept; report pages are refreshed)"
            )


def init_study(folder: Path, *, force: bool = False) -> InitResult:
    """Write a study skeleton into ``folder``.

    Parameters
    ----------
    folder : Path
        The study folder; created if missing. It must be empty unless ``force``.
    force : bool, default False
        Write into a non-empty folder: skeleton files that exist are kept as they are,
        the report pages in ``reports/`` are replaced by the installed package's.

    Returns
    -------
    InitResult

    Raises
    ------
    StudyFolderError
        If ``folder`` is a file, or not empty without ``force``.
    """
    folder = Path(folder)
    _check_target(folder, force)
    result = InitResult(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for rel, template in SKELETON.items():
        target = folder / rel
        if target.exists():
            result.kept.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(templates().joinpath(template).read_bytes())
        result.written.append(rel)
    for rel in EMPTY_FOLDERS:
        if not (folder / rel).is_dir():
            (folder / rel).mkdir(parents=True)
            result.folders.append(rel)
    result.pages = [config.REPORTS_DIR / p for p in copy_pages(folder / config.REPORTS_DIR)]
    return result


def temporary_study(data: Path, folder: Path) -> Path:
    """Lay out a study folder in ``folder`` around a processed-data folder found elsewhere.

    The package's pages go to ``folder/reports`` and ``folder/data/processed`` links to
    ``data``, so the pages' own default (``data_dir = "../data/processed"``) finds the
    data: no page parameter is needed, and none shows a temporary path.

    Parameters
    ----------
    data : Path
        The processed-data folder to report.
    folder : Path
        An empty temporary folder.

    Returns
    -------
    Path
        The Quarto project (``folder/reports``).
    """
    reports = folder / config.REPORTS_DIR
    copy_pages(reports)
    link = folder / config.PROCESSED_DIR
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(data).resolve(), target_is_directory=True)
    return reports


def page_data_dir(data: Path, project: Path) -> str | None:
    """The ``data_dir`` page parameter that points ``project``'s pages at ``data``.

    None when the study-folder layout already does (``project/../data/processed`` is
    ``data``); otherwise the path relative to the project, as the pages resolve it.
    """
    if (Path(project).parent / config.PROCESSED_DIR).resolve() == Path(data).resolve():
        return None
    return os.path.relpath(Path(data).resolve(), Path(project).resolve())
