"""Figures of the diagnostics page: predictive check, prior sensitivity, operating characteristics (plot 5)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    coord_flip,
    expand_limits,
    facet_wrap,
    geom_hline,
    geom_line,
    geom_point,
    geom_pointrange,
    ggplot,
    labs,
    scale_colour_manual,
    scale_x_continuous,
)

from stats.plots.theme import (
    ROPE_FILL,
    VERDICT_COLOURS,
    palette,
    plain_numbers,
    require,
    theme_stats,
)


def ppc_plot(ppc: pd.DataFrame) -> ggplot:
    """Posterior predictive check: observed rates against replicated intervals.

    Parameters
    ----------
    ppc : DataFrame
        Columns ``cell`` (x, categorical), ``panel`` (facet), ``observed_rate``,
        ``rep_mean``, ``rep_low`` and ``rep_high``.

    Returns
    -------
    plotnine.ggplot
    """
    require(ppc, ["cell", "panel", "observed_rate", "rep_mean", "rep_low", "rep_high"], "ppc_plot")
    return (
        ggplot(ppc, aes(x="cell"))
        + geom_pointrange(
            aes(y="rep_mean", ymin="rep_low", ymax="rep_high"), colour="#0072B2", size=0.3
        )
        + geom_point(aes(y="observed_rate"), shape="x", size=2.5, colour="black")
        # each panel on its own rate scale from 0: most rates are near 0, where a shared
        # 0-1 axis hides whether the observed mark lies inside its interval
        + facet_wrap("panel", scales="free", ncol=2)
        + expand_limits(y=0)
        + coord_flip()
        + labs(
            x="",
            y="rate (blue: replicated 95% interval; x: observed; each panel its own scale)",
            title="Posterior predictive check: does the model reproduce the data?",
        )
        + theme_stats((7.0, 8.0))
    )


def sensitivity_plot(sensitivity: pd.DataFrame, *, rope: float) -> ggplot:
    """Delta's interval and verdict under each prior scale (plot 4, second half).

    Parameters
    ----------
    sensitivity : DataFrame
        Columns ``panel`` (facet), ``prior_label`` (e.g. "prior sd x0.5"), ``mean``,
        ``low``, ``high`` and ``verdict``.
    rope : float
        Half-width of the ROPE, drawn as dashed lines.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        sensitivity, ["panel", "prior_label", "mean", "low", "high", "verdict"], "sensitivity_plot"
    )
    return (
        ggplot(sensitivity, aes(x="prior_label", y="mean", colour="verdict"))
        + geom_hline(yintercept=[-rope, rope], linetype="dashed", colour=ROPE_FILL)
        + geom_hline(yintercept=0, colour="#555555", size=0.3)
        + geom_pointrange(aes(ymin="low", ymax="high"))
        + facet_wrap("panel")
        + coord_flip()
        + scale_colour_manual(values=palette(VERDICT_COLOURS, sensitivity["verdict"]))
        + labs(
            x="prior scale",
            y=f"Delta (95% HDI; dashed: ROPE ±{rope:g})",
            colour="verdict",
            title="Does the verdict depend on the prior?",
        )
        + theme_stats((7.0, 3.5))
    )


def oc_plot(oc: pd.DataFrame, *, max_false_real: float = 0.05) -> ggplot:
    """Rate of "real" verdicts vs runs per word, under null and introspection worlds (plot 5).

    Parameters
    ----------
    oc : DataFrame
        Columns ``runs_per_word``, ``p_real``, ``world`` (colour), ``samples_label``
        (facet) and ``n_sims``.
    max_false_real : float, default 0.05
        The tolerated false "real" rate under the null world (dashed line).

    Returns
    -------
    plotnine.ggplot
    """
    require(oc, ["runs_per_word", "p_real", "world", "samples_label", "n_sims"], "oc_plot")
    return (
        ggplot(oc, aes(x="runs_per_word", y="p_real", colour="world"))
        + geom_hline(yintercept=max_false_real, linetype="dashed", colour=ROPE_FILL)
        + geom_line()
        + geom_point()
        + facet_wrap("samples_label")
        + scale_x_continuous(
            trans="log2", breaks=sorted(pd.unique(oc["runs_per_word"])), labels=plain_numbers
        )
        + coord_cartesian(ylim=(0, 1))
        + labs(
            x="fine-tuning runs per word (log scale)",
            y='P(verdict "real") over simulations',
            colour="simulated world",
            title=f'Power and false "real" rate (dashed: {max_false_real:g})',
        )
        + theme_stats((7.0, 4.0))
    )
