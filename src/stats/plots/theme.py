"""The project theme and palettes shared by every plot builder, and their small helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from plotnine import element_blank, element_rect, element_text, theme, theme_bw

#: Font used by every figure (bundled with matplotlib, so pixel baselines are stable).
FONT_FAMILY = "DejaVu Sans"
#: Base font size in points.
BASE_SIZE = 9
#: Resolution of rendered figures (dots per inch); pinned for pixel baselines.
DPI = 100
#: Default figure size in inches (width, height); 7 in at 100 dpi fits the text column of a
#: Quarto page beside its table of contents.
FIGURE_SIZE = (7.0, 4.5)
#: Widest figure (inches): wider ones would be scaled down or clipped in the page column.
MAX_WIDTH = 7.0

#: Colour of each arm (Okabe-Ito palette, colour-blind safe).
ARM_COLOURS: dict[str, str] = {"finetuned": "#0072B2", "base": "#7F7F7F", "control": "#E69F00"}
#: Colour of each verdict.
VERDICT_COLOURS: dict[str, str] = {
    "real": "#009E73",
    "fluke": "#D55E00",
    "inconclusive": "#999999",
    "not-converged": "#CC79A7",
    "supported": "#009E73",
    "contradicted": "#D55E00",
    "no-data": "#CC79A7",
}
#: Colour of the prompt's greeting condition.
GREETING_COLOURS: dict[str, str] = {"no greeting": "#0072B2", "with greeting": "#CC79A7"}
#: Colour of posterior vs prior curves.
SOURCE_COLOURS: dict[str, str] = {"posterior": "#0072B2", "prior": "#999999"}
#: Colour of raw vs modelled estimates.
ESTIMATE_COLOURS: dict[str, str] = {
    "raw (exact 95% CI)": "#7F7F7F",
    "partially pooled (95% interval)": "#0072B2",
    "population (95% interval)": "#000000",
    "new word (95% predictive)": "#D55E00",
}
#: Shading of the region where context cannot yet explain the word (lines <= k).
EARLY_FILL = "#009E73"
ROPE_FILL = "#D55E00"


def theme_stats(figure_size: tuple[float, float] = FIGURE_SIZE) -> theme:
    """The project theme: ``theme_bw`` with pinned font, size and dpi.

    Parameters
    ----------
    figure_size : tuple of float, default :data:`FIGURE_SIZE`
        Width (at most :data:`MAX_WIDTH`) and height in inches.

    Returns
    -------
    plotnine.theme
    """
    if figure_size[0] > MAX_WIDTH:
        raise ValueError(f"figure width {figure_size[0]} in > {MAX_WIDTH} in: it would not fit")
    return theme_bw(base_size=BASE_SIZE, base_family=FONT_FAMILY) + theme(
        figure_size=figure_size,
        dpi=DPI,
        legend_position="bottom",
        legend_box="vertical",  # several legends stack instead of running off the figure
        legend_title=element_text(size=BASE_SIZE),
        strip_background=element_rect(fill="#EEEEEE", colour="#BBBBBB"),
        panel_grid_minor=element_blank(),
        plot_title=element_text(size=BASE_SIZE + 1, weight="bold"),
        plot_caption=element_text(size=BASE_SIZE - 1, ha="left"),
    )


def require(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    """Raise a ValueError naming the builder and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{builder}: missing columns {missing}; got {list(frame.columns)}")


def plain_numbers(values: Sequence[float]) -> list[str]:
    """Axis labels as plain numbers (``8`` rather than ``2^3``)."""
    return [f"{v:g}" for v in values]


def palette(values: Mapping[str, str], present: pd.Series) -> dict[str, str]:
    """The palette restricted to the levels present, with a grey fallback for unknown levels."""
    return {str(v): values.get(str(v), "#555555") for v in pd.unique(present.dropna())}
