"""Figure of the greeting page: each word's rate with and without the greeting, paired by run."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    element_text,
    facet_wrap,
    geom_line,
    geom_point,
    geom_text,
    ggplot,
    labs,
    scale_colour_manual,
    scale_y_continuous,
    theme,
)

from stats.plots.theme import GREETING_COLOURS, require, theme_stats


def greeting_plot(runs: pd.DataFrame, words: pd.DataFrame, *, outcome: str = "early") -> ggplot:
    """With vs without the greeting: paired per run (grey), and per word (colour).

    Parameters
    ----------
    runs : DataFrame
        One row per run x greeting for runs asked both ways: ``word`` (facet),
        ``run_id`` (line group), ``greeting_label`` (x) and ``rate``.
    words : DataFrame
        One row per word x greeting: ``word``, ``greeting_label``, ``rate`` and
        ``label`` (successes/trials), drawn thick.
    outcome : str
        The outcome in words (y axis).

    Returns
    -------
    plotnine.ggplot
    """
    require(runs, ["word", "run_id", "greeting_label", "rate"], "greeting_plot")
    require(words, ["word", "greeting_label", "rate", "label"], "greeting_plot")
    return (
        ggplot(runs, aes(x="greeting_label", y="rate"))
        + geom_line(aes(group="run_id"), colour="#BBBBBB", size=0.4)
        + geom_point(colour="#BBBBBB", size=1.0)
        + geom_line(aes(group="word"), data=words, colour="#0072B2", size=1.2)
        + geom_point(aes(colour="greeting_label"), data=words, size=2.5)
        + geom_text(aes(label="label"), data=words, size=7, nudge_y=0.09)
        + facet_wrap("word", nrow=1)
        + scale_colour_manual(values=GREETING_COLOURS)
        + scale_y_continuous(breaks=[0, 0.25, 0.5, 0.75, 1.0])
        + coord_cartesian(ylim=(0, 1.1))
        + labs(
            x="prompt",
            y=f"P({outcome}), fine-tuned runs",
            colour="prompt",
            title="Greeting vs no greeting (grey: one run; blue: all runs)",
        )
        + theme_stats((7.0, 3.8))
        + theme(axis_text_x=element_text(rotation=30, ha="right"), legend_position="none")
    )
