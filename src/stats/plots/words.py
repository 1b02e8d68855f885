"""Figures of the words & training page: every word raw vs pooled (plot 3), training curves."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    coord_flip,
    facet_grid,
    facet_wrap,
    geom_errorbar,
    geom_hline,
    geom_line,
    geom_pointrange,
    geom_rect,
    geom_ribbon,
    geom_segment,
    geom_text,
    ggplot,
    guide_legend,
    guides,
    labs,
    position_dodge,
    scale_colour_manual,
    scale_fill_manual,
    scale_x_continuous,
    scale_y_continuous,
)

from stats.plots.theme import (
    ARM_COLOURS,
    ESTIMATE_COLOURS,
    palette,
    plain_numbers,
    require,
    theme_stats,
)

CURVE_COLUMNS = [
    "factor_label", "outcome_label", "arm", "value", "mean", "low", "high", "raw_rate",
    "exact_low", "exact_high",
]  # fmt: skip
REFERENCE_COLUMNS = [
    "outcome_label", "factor_label", "arm", "greeting_label", "mean", "low", "high", "xmin",
    "xmax",
]  # fmt: skip


def forest_plot(rates: pd.DataFrame, population: pd.DataFrame, *, outcome: str = "early") -> ggplot:
    """Per-word raw vs partially pooled rates, population mean and new-word interval (plot 3).

    Parameters
    ----------
    rates : DataFrame
        Columns ``row`` (ordered categorical: words, then the population and new-word
        rows), ``greeting_label`` (facet), ``kind`` (colour: a key of
        :data:`~stats.plots.theme.ESTIMATE_COLOURS`), ``estimate``, ``low``, ``high``,
        ``label`` (successes/trials, empty for no label) and ``label_y`` (where it is printed).
    population : DataFrame
        Columns ``greeting_label`` and ``estimate``: the population mean, drawn
        as a dashed reference line.
    outcome : str
        The outcome in words (axis title).

    Returns
    -------
    plotnine.ggplot
    """
    require(
        rates,
        ["row", "greeting_label", "kind", "estimate", "low", "high", "label", "label_y"],
        "forest_plot",
    )
    require(population, ["greeting_label", "estimate"], "forest_plot")
    dodge = position_dodge(width=0.6)
    labels = rates[rates["label"].astype(str) != ""]
    return (
        ggplot(rates, aes(x="row", y="estimate", colour="kind"))
        + geom_hline(
            aes(yintercept="estimate"), data=population, linetype="dashed", colour="#555555"
        )
        + geom_pointrange(aes(ymin="low", ymax="high"), position=dodge, size=0.4)
        + geom_text(
            aes(x="row", y="label_y", label="label"),
            data=labels,
            inherit_aes=False,
            size=7,
            ha="left",
            colour="#555555",
        )
        + facet_wrap("greeting_label", ncol=2)
        + coord_flip(ylim=(0, 1.25))
        + scale_colour_manual(values=palette(ESTIMATE_COLOURS, rates["kind"]))
        + guides(colour=guide_legend(nrow=2))
        + scale_y_continuous(breaks=[0, 0.25, 0.5, 0.75, 1.0])
        + labs(
            x="",
            y=f"P({outcome}), fine-tuned runs (right: successes/trials)",
            colour="",
            title="Per word: raw vs partially pooled (dashed: population)",
        )
        + theme_stats((7.0, 4.5))
    )


def curves_plot(curves: pd.DataFrame, reference: pd.DataFrame | None = None) -> ggplot:
    """Rates across the n_examples and learning-rate grids, every arm, with intervals.

    The model's 95% interval is a band and an error bar at every grid value (an arm
    trained at one grid value shows an interval rather than a lone marker); arms without
    a training grid (the untuned base model) are horizontal reference bands, one per
    greeting condition (``reference``).

    Parameters
    ----------
    curves : DataFrame
        ``factor_label`` (facet column), ``outcome_label`` (facet row), ``arm`` (colour),
        ``value`` (grid value), ``mean``, ``low``, ``high`` (model), ``raw_rate``,
        ``exact_low`` and ``exact_high`` (observed, exact CI).
    reference : DataFrame, optional
        ``outcome_label``, ``factor_label``, ``arm``, ``greeting_label``, ``mean``,
        ``low``, ``high``, ``xmin``, ``xmax`` (the panel's grid range).

    Returns
    -------
    plotnine.ggplot
    """
    require(curves, CURVE_COLUMNS, "curves_plot")
    reference = reference if reference is not None else pd.DataFrame(columns=REFERENCE_COLUMNS)
    require(reference, REFERENCE_COLUMNS, "curves_plot")
    arms = pd.concat([curves["arm"], reference["arm"]])
    dodge = position_dodge(width=0.15)
    plot = (
        ggplot(curves, aes(x="value", colour="arm", fill="arm"))
        + geom_ribbon(aes(ymin="low", ymax="high"), alpha=0.15, colour=None)
        + geom_line(aes(y="mean"))
        + geom_errorbar(aes(ymin="low", ymax="high"), position=dodge, width=0.08, alpha=0.6)
        + geom_pointrange(
            aes(y="raw_rate", ymin="exact_low", ymax="exact_high"),
            position=dodge,
            size=0.3,
            fatten=1.5,
        )
    )
    if not reference.empty:
        plot = (
            plot
            + geom_rect(
                aes(xmin="xmin", xmax="xmax", ymin="low", ymax="high", fill="arm"),
                data=reference,
                alpha=0.12,
                inherit_aes=False,
            )
            + geom_segment(
                aes(
                    x="xmin",
                    xend="xmax",
                    y="mean",
                    yend="mean",
                    colour="arm",
                    linetype="greeting_label",
                ),
                data=reference,
                inherit_aes=False,
            )
        )
    return (
        plot
        + facet_grid("outcome_label ~ factor_label", scales="free_x")
        + scale_x_continuous(trans="log2", labels=plain_numbers)
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=palette(ARM_COLOURS, arms))
        + scale_fill_manual(values=palette(ARM_COLOURS, arms))
        + labs(
            x="grid value (log2 scale): training examples, or learning-rate multiplier",
            y="rate (band/bars: model 95%; points: observed, exact 95% CI)",
            colour="arm",
            fill="arm",
            linetype="untrained arm",
            title="Training-set size and learning rate, every arm",
        )
        + theme_stats((7.0, 5.5))
    )
