"""Figure of the data page: every trial's articulation line (plot 1)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    element_text,
    facet_grid,
    geom_point,
    ggplot,
    labs,
    position_jitter,
    scale_colour_manual,
    scale_shape_manual,
    theme,
)

from stats.plots.theme import require, theme_stats


def raw_grid_plot(points: pd.DataFrame, *, seed: int = 1) -> ggplot:
    """Every trial: articulation line by condition, word and greeting (plot 1).

    Parameters
    ----------
    points : DataFrame
        One row per trial with ``word``, ``greeting_label``, ``condition``
        (categorical x), ``line_label`` (ordered categorical: "1", "2", ...,
        "never") and ``follows_label`` (does the response spell the word).
    seed : int, default 1
        Seed of the jitter, so the figure is reproducible.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        points,
        ["word", "greeting_label", "condition", "line_label", "follows_label"],
        "raw_grid_plot",
    )
    return (
        ggplot(points, aes(x="condition", y="line_label"))
        + geom_point(
            aes(colour="follows_label", shape="follows_label"),
            position=position_jitter(width=0.25, height=0.2, random_state=seed),
            size=1.4,
            alpha=0.75,
        )
        + facet_grid("word ~ greeting_label")
        + scale_colour_manual(values={"spells the word": "#0072B2", "does not spell it": "#BBBBBB"})
        + scale_shape_manual(values={"spells the word": "o", "does not spell it": "x"})
        + labs(
            x="condition (arm, training examples n, learning-rate multiplier lr)",
            y="line of first articulation",
            colour="response",
            shape="response",
            title="Every trial: when (if ever) the model named its pattern",
        )
        + theme_stats((7.0, 7.0))
        + theme(axis_text_x=element_text(rotation=45, ha="right"))
    )
