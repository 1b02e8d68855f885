"""Figures of the verdict page: Delta's posterior per target and prompt condition (plot 4)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    after_stat,
    coord_cartesian,
    facet_wrap,
    geom_density,
    geom_point,
    geom_rect,
    geom_segment,
    geom_text,
    geom_vline,
    ggplot,
    labs,
    scale_colour_manual,
    scale_linetype_manual,
    scale_y_continuous,
)

from stats.plots.theme import (
    GREETING_COLOURS,
    ROPE_FILL,
    SOURCE_COLOURS,
    palette,
    require,
    theme_stats,
)


def rope_band(rope: float) -> geom_rect:
    """The ROPE ``[-rope, rope]`` as a shaded vertical band over the whole panel height."""
    band = pd.DataFrame(
        {"xmin": [-rope], "xmax": [rope], "ymin": [-float("inf")], "ymax": [float("inf")]}
    )
    return geom_rect(
        aes(xmin="xmin", xmax="xmax", ymin="ymin", ymax="ymax"),
        data=band,
        inherit_aes=False,
        fill=ROPE_FILL,
        alpha=0.12,
    )


def delta_plot(draws: pd.DataFrame, intervals: pd.DataFrame, *, rope: float) -> ggplot:
    """Posterior of Delta per target (panel) and prompt condition (colour), with the ROPE (plot 4).

    Each posterior is drawn scaled to its own peak (``after_stat("scaled")``), so both
    conditions read on one axis; each panel's x axis spans its posteriors and the ROPE.
    Below the curves, one bar per condition is the 95% HDI, labelled with its verdict.

    Parameters
    ----------
    draws : DataFrame
        Posterior draws: ``panel`` (facet), ``condition`` (colour: a key of
        :data:`~stats.plots.theme.GREETING_COLOURS`) and ``delta``.
    intervals : DataFrame
        One row per panel x condition: ``panel``, ``condition``, ``low``, ``high``,
        ``mean``, ``y`` (height of the bar, below 0) and ``label`` (condition and verdict).
    rope : float
        Half-width of the region of practical equivalence around 0.

    Returns
    -------
    plotnine.ggplot
    """
    require(draws, ["panel", "condition", "delta"], "delta_plot")
    require(intervals, ["panel", "condition", "low", "high", "mean", "y", "label"], "delta_plot")
    colours = palette(GREETING_COLOURS, pd.concat([draws["condition"], intervals["condition"]]))
    return (
        ggplot(draws, aes(x="delta", colour="condition"))
        + rope_band(rope)
        + geom_vline(xintercept=0, colour="#555555", size=0.3)
        + geom_density(aes(y=after_stat("scaled")), trim=True, size=0.8)
        + geom_segment(
            aes(x="low", xend="high", y="y", yend="y", colour="condition"),
            data=intervals,
            inherit_aes=False,
            size=1.2,
        )
        + geom_point(
            aes(x="mean", y="y", colour="condition"), data=intervals, inherit_aes=False, size=2
        )
        + geom_text(
            aes(x="mean", y="y", label="label"),
            data=intervals,
            inherit_aes=False,
            size=7,
            nudge_y=0.11,
        )
        + facet_wrap("panel", ncol=1, scales="free_x")
        + scale_colour_manual(values=colours)
        + scale_y_continuous(breaks=[0, 0.5, 1.0])
        + coord_cartesian(ylim=(-0.6, 1.05))
        + labs(
            x=f"Delta = P(early | fine-tuned) - P(early | baseline)   (shaded: ROPE ±{rope:g})",
            y="posterior density (peak = 1)",
            colour="prompt",
            title="Posterior of Delta; bars: 95% HDI with the verdict",
        )
        + theme_stats((7.0, 6.5))
    )


def prior_plot(draws: pd.DataFrame, *, rope: float) -> ggplot:
    """Prior against posterior of Delta over its whole range (the prior predictive check).

    Parameters
    ----------
    draws : DataFrame
        ``panel`` (facet), ``source`` (posterior / prior) and ``delta``.
    rope : float

    Returns
    -------
    plotnine.ggplot
    """
    require(draws, ["panel", "source", "delta"], "prior_plot")
    return (
        ggplot(draws, aes(x="delta", colour="source", linetype="source"))
        + rope_band(rope)
        + geom_density(aes(y=after_stat("scaled")))
        + facet_wrap("panel", nrow=1)
        + scale_colour_manual(values=palette(SOURCE_COLOURS, draws["source"]))
        + scale_linetype_manual(values={"posterior": "solid", "prior": "dashed"})
        + coord_cartesian(xlim=(-1, 1))
        + labs(
            x=f"Delta (no greeting; shaded: ROPE ±{rope:g})",
            y="density (peak = 1)",
            colour="",
            linetype="",
            title="Prior vs posterior of Delta (no pile-up at -1 or 1)",
        )
        + theme_stats((7.0, 3.0))
    )
