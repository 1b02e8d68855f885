"""Figures of the self- vs cross-prediction page (issue 8, design 4)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    facet_wrap,
    geom_abline,
    geom_hline,
    geom_line,
    geom_point,
    geom_pointrange,
    geom_ribbon,
    ggplot,
    labs,
    position_dodge,
    position_nudge,
    scale_colour_manual,
    scale_fill_manual,
    scale_linetype_manual,
    scale_x_continuous,
)

from stats.plots.theme import palette, plain_numbers, require, theme_stats

#: Colour of self- vs cross-prediction.
PREDICTION_COLOURS: dict[str, str] = {"self": "#0072B2", "cross": "#E69F00"}
#: Line type of the reference levels drawn beside prediction accuracies.
REFERENCE_LINETYPES: dict[str, str] = {"modal baseline": "dashed", "ceiling": "dotted"}


def prediction_accuracy_plot(accuracy: pd.DataFrame, reference: pd.DataFrame) -> ggplot:
    """Self vs cross accuracy with the modal baseline and the non-determinism ceiling.

    Parameters
    ----------
    accuracy : DataFrame
        One row per kind: ``prediction`` (self/cross, x and colour), ``mean``, ``hdi_low``,
        ``hdi_high`` (model, new fine-tune), ``raw_rate``, ``exact_low``, ``exact_high``
        (pooled counts, exact interval).
    reference : DataFrame
        ``line`` (modal baseline / ceiling, line type) and ``value``.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        accuracy,
        ["prediction", "mean", "hdi_low", "hdi_high", "raw_rate", "exact_low", "exact_high"],
        "prediction_accuracy_plot",
    )
    require(reference, ["line", "value"], "prediction_accuracy_plot")
    return (
        ggplot(accuracy, aes(x="prediction", colour="prediction"))
        + geom_hline(
            aes(yintercept="value", linetype="line"), data=reference, colour="#555555", size=0.6
        )
        + geom_pointrange(
            aes(y="mean", ymin="hdi_low", ymax="hdi_high"),
            position=position_nudge(x=-0.08),
            size=0.6,
        )
        + geom_pointrange(
            aes(y="raw_rate", ymin="exact_low", ymax="exact_high"),
            position=position_nudge(x=0.08),
            shape="x",
            size=0.4,
            alpha=0.7,
        )
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=palette(PREDICTION_COLOURS, accuracy["prediction"]))
        + scale_linetype_manual(values=palette(REFERENCE_LINETYPES, reference["line"]))
        + labs(
            x="predictor",
            y="accuracy (dot: model 95% HDI; x: pooled, exact 95% CI)",
            colour="predictor",
            linetype="reference",
            title="Self- vs cross-prediction accuracy",
        )
        + theme_stats((6.5, 4.5))
    )


def prediction_calibration_plot(calibration: pd.DataFrame) -> ggplot:
    """Predicted vs observed shares of the most common object-level answers.

    Parameters
    ----------
    calibration : DataFrame
        ``panel`` (facet), ``prediction`` (colour), ``rank_label`` (shape: 1st/2nd/3rd),
        ``observed`` and ``predicted`` shares.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        calibration,
        ["panel", "prediction", "rank_label", "observed", "predicted"],
        "prediction_calibration_plot",
    )
    return (
        ggplot(calibration, aes(x="observed", y="predicted", colour="prediction"))
        + geom_abline(intercept=0, slope=1, linetype="dashed", colour="#999999")
        + geom_point(aes(shape="rank_label"), size=2.5)
        + facet_wrap("~panel")
        + coord_cartesian(xlim=(0, 1), ylim=(0, 1))
        + scale_colour_manual(values=palette(PREDICTION_COLOURS, calibration["prediction"]))
        + labs(
            x="observed share of the object-level answer",
            y="share of meta predictions naming it",
            colour="predictor",
            shape="object-level rank",
            title="Calibration: predicted vs observed (top 3 answers)",
        )
        + theme_stats((7.0, 4.5))
    )


def prediction_curves_plot(curves: pd.DataFrame, reference: pd.DataFrame) -> ggplot:
    """Accuracy vs training-set size, one line each for self and cross prediction.

    Parameters
    ----------
    curves : DataFrame
        ``prediction`` (colour), ``n_examples`` (x), ``mean``, ``hdi_low``, ``hdi_high``
        (model band), ``raw_rate``, ``exact_low``, ``exact_high`` (observed, exact CI).
    reference : DataFrame
        ``line`` and ``value`` (e.g. the modal baseline), drawn as horizontal lines.

    Returns
    -------
    plotnine.ggplot
    """
    require(
        curves,
        [
            "prediction",
            "n_examples",
            "mean",
            "hdi_low",
            "hdi_high",
            "raw_rate",
            "exact_low",
            "exact_high",
        ],
        "prediction_curves_plot",
    )
    require(reference, ["line", "value"], "prediction_curves_plot")
    colours = palette(PREDICTION_COLOURS, curves["prediction"])
    return (
        ggplot(curves, aes(x="n_examples", colour="prediction", fill="prediction"))
        + geom_hline(
            aes(yintercept="value", linetype="line"), data=reference, colour="#555555", size=0.6
        )
        + geom_ribbon(aes(ymin="hdi_low", ymax="hdi_high"), alpha=0.15, colour=None)
        + geom_line(aes(y="mean"))
        + geom_pointrange(
            aes(y="raw_rate", ymin="exact_low", ymax="exact_high"),
            position=position_dodge(width=0.1),
            size=0.3,
            fatten=1.5,
        )
        + scale_x_continuous(
            trans="log2",
            breaks=sorted(pd.unique(curves["n_examples"].dropna())),
            labels=plain_numbers,
        )
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=colours)
        + scale_fill_manual(values=colours)
        + scale_linetype_manual(values=palette(REFERENCE_LINETYPES, reference["line"]))
        + labs(
            x="training-set size of the predictor's fine-tune (log2 scale)",
            y="accuracy (band: model 95% HDI; points: exact 95% CI)",
            colour="predictor",
            fill="predictor",
            linetype="reference",
            title="Accuracy vs training-set size, self and cross prediction",
        )
        + theme_stats((7.0, 4.5))
    )
