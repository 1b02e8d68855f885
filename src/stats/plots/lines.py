"""Figure of the lines page: hazard and cumulative articulation by line (plot 2)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    facet_wrap,
    geom_line,
    geom_point,
    geom_rect,
    geom_ribbon,
    ggplot,
    labs,
    scale_colour_manual,
    scale_fill_manual,
    scale_linetype_manual,
    scale_x_continuous,
)

from stats.plots.theme import ARM_COLOURS, EARLY_FILL, require, theme_stats


def hazard_plot(bands: pd.DataFrame, guess: pd.DataFrame, *, k: int) -> ggplot:
    """Hazard and cumulative articulation by line, per arm, with guessability (plot 2).

    Parameters
    ----------
    bands : DataFrame
        Columns ``measure`` (facet), ``arm``, ``arm_label`` (colour; include n), ``line``,
        ``mean``, ``low``, ``high`` (posterior band) and ``raw`` (observed).
    guess : DataFrame
        Columns ``measure``, ``arm_label``, ``line`` and ``guessability``: P(word | letters
        visible) of the words each arm was at risk of naming, the context-only baseline
        (dashed, in the arm's colour).
    k : int
        Lines ``<= k`` are shaded: there, context cannot yet explain the word.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        bands, ["measure", "arm", "arm_label", "line", "mean", "low", "high", "raw"], "hazard_plot"
    )
    colours = {
        str(lab): ARM_COLOURS.get(str(arm), "#555555")
        for arm, lab in zip(bands["arm"], bands["arm_label"], strict=True)
    }
    require(guess, ["measure", "arm_label", "line", "guessability"], "hazard_plot")
    early = pd.DataFrame({"xmin": [0.5], "xmax": [k + 0.5], "ymin": [0.0], "ymax": [1.0]})
    guess = guess.assign(curve="guessability: P(word | letters visible)")
    return (
        ggplot(bands, aes(x="line"))
        + geom_rect(
            aes(xmin="xmin", xmax="xmax", ymin="ymin", ymax="ymax"),
            data=early,
            inherit_aes=False,
            fill=EARLY_FILL,
            alpha=0.08,
        )
        + geom_ribbon(aes(ymin="low", ymax="high", fill="arm_label"), alpha=0.2)
        + geom_line(aes(y="mean", colour="arm_label"))
        + geom_point(aes(y="raw", colour="arm_label"), size=1.6)
        + geom_line(aes(y="guessability", linetype="curve", colour="arm_label"), data=guess)
        + facet_wrap("measure", ncol=2)
        + scale_linetype_manual(values={"guessability: P(word | letters visible)": "dashed"})
        + scale_colour_manual(values=colours)
        + scale_fill_manual(values=colours)
        + scale_x_continuous(breaks=sorted(pd.unique(bands["line"])))
        + coord_cartesian(ylim=(0, 1))
        + labs(
            x=f"line of the response (shaded: lines <= k = {k}, the word not yet guessable)",
            y="probability",
            colour="arm (trials)",
            fill="arm (trials)",
            linetype="",
            title="When is the word named? (bands: model 95%; points: observed)",
        )
        + theme_stats((7.0, 4.2))
    )
