"""Page blocks: the decorator every page helper wears, and the figure it displays.

A page helper returns a :class:`~stats.report.markdown.Markdown` block, a plotnine
``ggplot`` or a :class:`Figure`. :func:`block` wraps it so that

* a missing artifact becomes a plain "Not available: ..." paragraph
  (:func:`~stats.report.markdown.not_available`) naming the file and the command that
  writes it;
* a ``ggplot`` is drawn *inside the helper call* into a :class:`Figure` (PNG bytes), so
  that a drawing error is the helper's error, not a display hook's;
* any other exception is, in **strict mode** (environment variable :data:`STRICT_ENV`
  set to ``1``: tests and CI), raised, which fails the page's cell and so the render;
  otherwise it becomes a visible warning box of class
  :data:`~stats.report.markdown.FAILED_CLASS` titled "Could not build <helper>".
  :func:`stats.render.render_site` finds those boxes in the written pages and raises
  :class:`stats.render.BlockFailures` naming each one, so ``stats report`` exits non-zero
  while the user still sees the rest of the site.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from plotnine import ggplot

from stats.config import Artifacts
from stats.render import STRICT_ENV
from stats.report.artifacts import MissingArtifact
from stats.report.markdown import (
    FAILED_CLASS,
    Markdown,
    callout,
    code_span,
    escape_markdown,
    not_available,
)

#: Resolution at which figures are drawn (dots per inch).
FIGURE_DPI = 100


def strict_mode() -> bool:
    """Whether helper exceptions propagate (:data:`STRICT_ENV` is set and not ``0``)."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


@dataclass(frozen=True)
class Figure:
    """A drawn figure: PNG bytes and their size in pixels, displayed as ``image/png``.

    Parameters
    ----------
    png : bytes
    width, height : int
        Pixels (read from the PNG header when built with :meth:`from_png`).
    """

    png: bytes
    width: int
    height: int

    @classmethod
    def from_png(cls, png: bytes) -> Figure:
        """Wrap PNG bytes, reading the size from the IHDR chunk."""
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError("not a PNG image")
        width, height = struct.unpack(">II", png[16:24])
        return cls(png, width, height)

    @classmethod
    def draw(cls, plot: ggplot) -> Figure:
        """Draw a ggplot now (errors surface here, in the helper's call)."""
        buffer = io.BytesIO()
        plot.save(buffer, format="png", dpi=FIGURE_DPI, verbose=False)
        return cls.from_png(buffer.getvalue())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return (
            {"image/png": self.png, "text/plain": f"<figure {self.width}x{self.height}>"},
            {"image/png": {"width": self.width, "height": self.height}},
        )

    def save(self, path: Any) -> None:
        """Write the PNG to ``path``."""
        with open(path, "wb") as handle:
            handle.write(self.png)


def missing_note(missing: MissingArtifact) -> Markdown:
    """The "Not available" paragraph of a missing artifact (path relative to its folder)."""
    where = (
        f"{code_span(Artifacts.FILES[missing.name].path)} in the processed-data folder"
        if missing.name in Artifacts.FILES
        else code_span(missing.path)
    )
    return not_available(f"{where} does not exist (written by {code_span(missing.command)}).")


def failed_box(name: str, error: BaseException) -> Markdown:
    """The warning box a failed block leaves on the page (outside strict mode)."""
    detail = escape_markdown(f"{type(error).__name__}: {error}")
    return callout("warning", f"Could not build {name}", detail, classes=[FAILED_CLASS])


def block(helper: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a page helper (see the module docstring)."""

    @functools.wraps(helper)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = helper(*args, **kwargs)
            return Figure.draw(result) if isinstance(result, ggplot) else result
        except MissingArtifact as missing:
            return missing_note(missing)
        except Exception as error:
            if strict_mode():
                raise
            return failed_box(helper.__name__, error)

    return wrapper
