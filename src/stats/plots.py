"""Plot builders: tidy DataFrame in, ``ggplot`` out (draw only, never compute).

Every builder takes the tidy frame(s) prepared by :mod:`stats.report` (or by the
fit stage's summary tables) and maps columns to aesthetics; no statistic is
computed here (no density, no binning, no interval). Builders are pure: the
same frames give the same plot, and nothing is drawn until the plot is shown or
saved. All builders share :func:`theme_stats` and the palettes below, so the
site reads as one document.

The five reviewer plots of the analysis plan (section 8) are
:func:`raw_grid_plot`, :func:`hazard_plot`, :func:`forest_plot`,
:func:`delta_plot` (+ :func:`sensitivity_plot`) and :func:`oc_plot`
(+ :func:`sbc_plot`); the others serve the greeting, training, claims and
diagnostics pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    coord_flip,
    element_blank,
    element_rect,
    element_text,
    facet_grid,
    facet_wrap,
    geom_abline,
    geom_col,
    geom_errorbar,
    geom_hline,
    geom_line,
    geom_point,
    geom_pointrange,
    geom_rect,
    geom_ribbon,
    geom_segment,
    geom_text,
    geom_vline,
    ggplot,
    labs,
    position_dodge,
    position_jitter,
    position_nudge,
    scale_colour_manual,
    scale_fill_manual,
    scale_linetype_manual,
    scale_shape_manual,
    scale_x_continuous,
    scale_y_continuous,
    theme,
    theme_bw,
)

#: Font used by every figure (bundled with matplotlib, so pixel baselines are stable).
FONT_FAMILY = "DejaVu Sans"
#: Base font size in points.
BASE_SIZE = 9
#: Resolution of rendered figures (dots per inch); pinned for pixel baselines.
DPI = 100
#: Default figure size in inches (width, height).
FIGURE_SIZE = (8.0, 4.5)

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
        Width and height in inches.

    Returns
    -------
    plotnine.theme
    """
    return theme_bw(base_size=BASE_SIZE, base_family=FONT_FAMILY) + theme(
        figure_size=figure_size,
        dpi=DPI,
        legend_position="bottom",
        legend_title=element_text(size=BASE_SIZE),
        strip_background=element_rect(fill="#EEEEEE", colour="#BBBBBB"),
        panel_grid_minor=element_blank(),
        plot_title=element_text(size=BASE_SIZE + 2, weight="bold"),
        plot_caption=element_text(size=BASE_SIZE - 1, ha="left"),
    )


def _require(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    """Raise a ValueError naming the builder and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{builder}: missing columns {missing}; got {list(frame.columns)}")


def _plain_numbers(values: Sequence[float]) -> list[str]:
    """Axis labels as plain numbers (``8`` rather than ``2^3``)."""
    return [f"{v:g}" for v in values]


def _palette(values: Mapping[str, str], present: pd.Series) -> dict[str, str]:
    """The palette restricted to the levels present, with a grey fallback for unknown levels."""
    return {str(v): values.get(str(v), "#555555") for v in pd.unique(present.dropna())}


# ----------------------------------------------------------------------------- 1. raw grid
def raw_grid_plot(points: pd.DataFrame, counts: pd.DataFrame, *, seed: int = 1) -> ggplot:
    """Every trial: articulation line by condition, word and greeting (plot 1).

    Parameters
    ----------
    points : DataFrame
        One row per trial with ``word``, ``greeting_label``, ``condition``
        (categorical x), ``line_label`` (ordered categorical: "1", "2", ...,
        "never") and ``follows_label`` (does the response spell the word).
    counts : DataFrame
        One row per panel cell with ``word``, ``greeting_label``, ``condition``,
        ``line_label`` (where to print: a top row labelled "trials") and ``label``
        (the number of trials).
    seed : int, default 1
        Seed of the jitter, so the figure is reproducible.

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        points,
        ["word", "greeting_label", "condition", "line_label", "follows_label"],
        "raw_grid_plot",
    )
    _require(
        counts, ["word", "greeting_label", "condition", "line_label", "label"], "raw_grid_plot"
    )
    return (
        ggplot(points, aes(x="condition", y="line_label"))
        + geom_point(
            aes(colour="follows_label", shape="follows_label"),
            position=position_jitter(width=0.25, height=0.2, random_state=seed),
            size=1.4,
            alpha=0.75,
        )
        + geom_text(aes(label="label"), data=counts, size=6, colour="#333333")
        + facet_grid("word ~ greeting_label")
        + scale_colour_manual(values={"spells the word": "#0072B2", "does not spell it": "#BBBBBB"})
        + scale_shape_manual(values={"spells the word": "o", "does not spell it": "x"})
        + labs(
            x="condition (arm, training examples n, learning-rate multiplier lr)",
            y="line of first articulation (top row: trials per cell)",
            colour="response",
            shape="response",
            title="Every trial: when (if ever) the model named its pattern",
        )
        + theme_stats((9.0, 7.0))
        + theme(axis_text_x=element_text(rotation=45, ha="right"))
    )


# ----------------------------------------------------------------------------- 2. hazard
def hazard_plot(bands: pd.DataFrame, guess: pd.DataFrame, *, k: int) -> ggplot:
    """Hazard and cumulative articulation by line, per arm, with guessability (plot 2).

    Parameters
    ----------
    bands : DataFrame
        Columns ``measure`` (facet), ``arm``, ``arm_label`` (colour; include n), ``line``,
        ``mean``, ``low``, ``high`` (posterior band) and ``raw`` (observed).
    guess : DataFrame
        Columns ``measure``, ``line`` and ``guessability``: P(word | letters
        visible), the context-only baseline.
    k : int
        Lines ``<= k`` are shaded: there, context cannot yet explain the word.

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        bands, ["measure", "arm", "arm_label", "line", "mean", "low", "high", "raw"], "hazard_plot"
    )
    colours = {
        str(lab): ARM_COLOURS.get(str(arm), "#555555")
        for arm, lab in zip(bands["arm"], bands["arm_label"], strict=True)
    }
    _require(guess, ["measure", "line", "guessability"], "hazard_plot")
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
        + geom_line(aes(y="guessability", linetype="curve"), data=guess, colour="black")
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
            title="When does the model name its pattern? Bands: model 95% intervals; points: observed",
        )
        + theme_stats((9.0, 4.2))
    )


# ----------------------------------------------------------------------------- 3. forest
def forest_plot(rates: pd.DataFrame, population: pd.DataFrame) -> ggplot:
    """Per-word raw vs partially pooled rates, population mean and new-word interval (plot 3).

    Parameters
    ----------
    rates : DataFrame
        Columns ``row`` (ordered categorical: words, then the population and new-word
        rows), ``greeting_label`` (facet), ``kind`` (colour: a key of
        :data:`ESTIMATE_COLOURS`), ``estimate``, ``low``, ``high``, ``label``
        (successes/trials) and ``label_y`` (where the label is printed).
    population : DataFrame
        Columns ``greeting_label`` and ``estimate``: the population mean, drawn
        as a dashed reference line.

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        rates,
        ["row", "greeting_label", "kind", "estimate", "low", "high", "label", "label_y"],
        "forest_plot",
    )
    _require(population, ["greeting_label", "estimate"], "forest_plot")
    dodge = position_dodge(width=0.6)
    return (
        ggplot(rates, aes(x="row", y="estimate", colour="kind"))
        + geom_hline(
            aes(yintercept="estimate"), data=population, linetype="dashed", colour="#555555"
        )
        + geom_pointrange(aes(ymin="low", ymax="high"), position=dodge, size=0.4)
        + geom_text(
            aes(y="label_y", label="label"), position=dodge, size=6, ha="left", show_legend=False
        )
        + facet_wrap("greeting_label", ncol=2)
        + coord_flip(ylim=(0, 1.25))
        + scale_colour_manual(values=_palette(ESTIMATE_COLOURS, rates["kind"]))
        + scale_y_continuous(breaks=[0, 0.25, 0.5, 0.75, 1.0])
        + labs(
            x="",
            y="P(articulated early), fine-tuned runs (labels: successes/trials)",
            colour="",
            title="Per word: raw rates vs partially pooled estimates (dashed: population mean)",
        )
        + theme_stats((9.0, 4.5))
    )


# ----------------------------------------------------------------------------- 4. delta
def delta_plot(densities: pd.DataFrame, intervals: pd.DataFrame, *, rope: float) -> ggplot:
    """Posterior of Delta with the ROPE shaded and the prior overlaid (plot 4).

    Parameters
    ----------
    densities : DataFrame
        Columns ``panel`` (facet), ``source`` (posterior/prior), ``delta`` and
        ``density`` (precomputed curve).
    intervals : DataFrame
        Columns ``panel``, ``low``, ``high``, ``mean``, ``y`` (height of the interval
        bar) and ``label`` (the verdict text).
    rope : float
        Half-width of the region of practical equivalence around 0.

    Returns
    -------
    plotnine.ggplot
    """
    _require(densities, ["panel", "source", "delta", "density"], "delta_plot")
    _require(intervals, ["panel", "low", "high", "mean", "y", "label"], "delta_plot")
    rope_band = pd.DataFrame(
        {"xmin": [-rope], "xmax": [rope], "ymin": [0.0], "ymax": [float("inf")]}
    )
    return (
        ggplot(densities, aes(x="delta"))
        + geom_rect(
            aes(xmin="xmin", xmax="xmax", ymin="ymin", ymax="ymax"),
            data=rope_band,
            inherit_aes=False,
            fill=ROPE_FILL,
            alpha=0.12,
        )
        + geom_vline(xintercept=0, colour="#555555", size=0.3)
        + geom_line(aes(y="density", colour="source", linetype="source"))
        + geom_segment(
            aes(x="low", xend="high", y="y", yend="y"), data=intervals, inherit_aes=False, size=1.0
        )
        + geom_point(aes(x="mean", y="y"), data=intervals, inherit_aes=False, size=2.2)
        + geom_text(
            aes(x="high", y="y", label="label"),
            data=intervals,
            inherit_aes=False,
            size=7,
            ha="left",
            nudge_x=0.02,
        )
        + facet_wrap("panel", ncol=1, scales="free_y")
        + scale_colour_manual(values=_palette(SOURCE_COLOURS, densities["source"]))
        + scale_linetype_manual(values={"posterior": "solid", "prior": "dashed"})
        + labs(
            x=f"Delta = P(early | fine-tuned, no greeting) - P(early | baseline)  (shaded: ROPE ±{rope:g})",
            y="density",
            colour="",
            linetype="",
            title="Posterior of Delta (bar: 95% HDI) against its prior",
        )
        + theme_stats((8.0, 6.0))
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
    _require(
        sensitivity, ["panel", "prior_label", "mean", "low", "high", "verdict"], "sensitivity_plot"
    )
    return (
        ggplot(sensitivity, aes(x="prior_label", y="mean", colour="verdict"))
        + geom_hline(yintercept=[-rope, rope], linetype="dashed", colour=ROPE_FILL)
        + geom_hline(yintercept=0, colour="#555555", size=0.3)
        + geom_pointrange(aes(ymin="low", ymax="high"))
        + facet_wrap("panel")
        + coord_flip()
        + scale_colour_manual(values=_palette(VERDICT_COLOURS, sensitivity["verdict"]))
        + labs(
            x="prior scale",
            y=f"Delta (95% HDI; dashed: ROPE ±{rope:g})",
            colour="verdict",
            title="Does the verdict depend on the prior? Refits with prior scales x0.5 and x2",
        )
        + theme_stats((8.0, 3.5))
    )


# ----------------------------------------------------------------------------- 5. operating characteristics
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
    _require(oc, ["runs_per_word", "p_real", "world", "samples_label", "n_sims"], "oc_plot")
    return (
        ggplot(oc, aes(x="runs_per_word", y="p_real", colour="world"))
        + geom_hline(yintercept=max_false_real, linetype="dashed", colour=ROPE_FILL)
        + geom_line()
        + geom_point()
        + facet_wrap("samples_label")
        + scale_x_continuous(
            trans="log2", breaks=sorted(pd.unique(oc["runs_per_word"])), labels=_plain_numbers
        )
        + coord_cartesian(ylim=(0, 1))
        + labs(
            x="fine-tuning runs per word (log scale)",
            y='P(verdict "real") over simulations',
            colour="simulated world",
            title=f'Operating characteristics: power, and false "real" rate (dashed: {max_false_real:g})',
        )
        + theme_stats((8.0, 4.0))
    )


def sbc_plot(counts: pd.DataFrame, band: pd.DataFrame) -> ggplot:
    """Simulation-based calibration rank histograms with the uniform band (appendix).

    Parameters
    ----------
    counts : DataFrame
        Columns ``parameter`` (facet), ``bin`` (rank bin, 0-based) and ``count``.
    band : DataFrame
        Columns ``parameter``, ``low``, ``high`` and ``expected``: the 99% range of a
        bin count under uniform ranks.

    Returns
    -------
    plotnine.ggplot
    """
    _require(counts, ["parameter", "bin", "count"], "sbc_plot")
    _require(band, ["parameter", "low", "high", "expected"], "sbc_plot")
    return (
        ggplot(counts, aes(x="bin", y="count"))
        + geom_rect(
            aes(ymin="low", ymax="high"),
            data=band,
            xmin=-float("inf"),
            xmax=float("inf"),
            inherit_aes=False,
            fill="#999999",
            alpha=0.25,
        )
        + geom_hline(aes(yintercept="expected"), data=band, colour="#555555", linetype="dashed")
        + geom_col(fill="#0072B2", width=0.9)
        + facet_wrap("parameter")
        + labs(
            x="rank bin of the true value among posterior draws",
            y="simulations in bin",
            title="SBC ranks: bars should stay inside the grey 99% band of uniform ranks",
        )
        + theme_stats((8.0, 4.5))
    )


# ----------------------------------------------------------------------------- other pages
def curves_plot(curves: pd.DataFrame) -> ggplot:
    """Rates across the n_examples and learning-rate grids, for every arm.

    Parameters
    ----------
    curves : DataFrame
        Columns ``factor_label`` (facet column), ``outcome_label`` (facet row),
        ``arm`` (colour), ``value`` (grid value), ``mean``, ``low``, ``high`` (model
        band), ``raw_rate``, ``exact_low`` and ``exact_high`` (observed, exact CI).

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        curves,
        [
            "factor_label",
            "outcome_label",
            "arm",
            "value",
            "mean",
            "low",
            "high",
            "raw_rate",
            "exact_low",
            "exact_high",
        ],
        "curves_plot",
    )
    dodge = position_dodge(width=0.15)
    return (
        ggplot(curves, aes(x="value", colour="arm", fill="arm"))
        + geom_ribbon(aes(ymin="low", ymax="high"), alpha=0.15, colour=None)
        + geom_line(aes(y="mean"))
        + geom_pointrange(
            aes(y="raw_rate", ymin="exact_low", ymax="exact_high"),
            position=dodge,
            size=0.3,
            fatten=1.5,
        )
        + facet_grid("outcome_label ~ factor_label", scales="free_x")
        + scale_x_continuous(trans="log2", labels=_plain_numbers)
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=_palette(ARM_COLOURS, curves["arm"]))
        + scale_fill_manual(values=_palette(ARM_COLOURS, curves["arm"]))
        + labs(
            x="grid value (log2 scale): training examples, or learning-rate multiplier",
            y="rate (band: model 95%; points: observed, exact 95% CI)",
            colour="arm",
            fill="arm",
            title="Effect of training-set size and learning rate, every arm",
        )
        + theme_stats((9.0, 5.5))
    )


def greeting_plot(runs: pd.DataFrame, words: pd.DataFrame) -> ggplot:
    """With vs without the greeting: paired per run, and per word.

    Parameters
    ----------
    runs : DataFrame
        One row per run x greeting for runs asked both ways: ``word`` (facet),
        ``run_id`` (line group), ``greeting_label`` (x) and ``rate``.
    words : DataFrame
        One row per word x greeting: ``word``, ``greeting_label``, ``rate`` and
        ``label`` (successes/trials), drawn thick.

    Returns
    -------
    plotnine.ggplot
    """
    _require(runs, ["word", "run_id", "greeting_label", "rate"], "greeting_plot")
    _require(words, ["word", "greeting_label", "rate", "label"], "greeting_plot")
    return (
        ggplot(runs, aes(x="greeting_label", y="rate"))
        + geom_line(aes(group="run_id"), colour="#BBBBBB", size=0.4)
        + geom_point(colour="#BBBBBB", size=1.0)
        + geom_line(aes(group="word"), data=words, colour="#0072B2", size=1.2)
        + geom_point(aes(colour="greeting_label"), data=words, size=2.5)
        + geom_text(aes(label="label"), data=words, size=6, nudge_y=0.08)
        + facet_wrap("word", nrow=1)
        + scale_colour_manual(values=GREETING_COLOURS)
        + scale_y_continuous(breaks=[0, 0.25, 0.5, 0.75, 1.0])
        + coord_cartesian(ylim=(0, 1.1))
        + labs(
            x="prompt",
            y="P(articulated early), fine-tuned runs",
            colour="prompt",
            title="Greeting vs no greeting: grey lines are the same run asked both ways; blue: all runs",
        )
        + theme_stats((9.0, 3.8))
        + theme(axis_text_x=element_text(rotation=30, ha="right"), legend_position="none")
    )


def claims_plot(claims: pd.DataFrame) -> ggplot:
    """Each claim's rate with exact and Bayesian intervals, and its comparison rate.

    Parameters
    ----------
    claims : DataFrame
        Long form, one row per claim x interval kind: ``claim_id`` (x, categorical),
        ``kind`` (exact / Bayesian), ``estimate``, ``low``, ``high``, ``verdict``
        (colour) and ``reference`` (the comparison rate, may be NaN).

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        claims,
        ["claim_id", "kind", "estimate", "low", "high", "verdict", "reference"],
        "claims_plot",
    )
    dodge = position_dodge(width=0.5)
    reference = claims.drop_duplicates("claim_id").dropna(subset=["reference"])
    return (
        ggplot(claims, aes(x="claim_id", y="estimate", colour="verdict", shape="kind"))
        + geom_pointrange(aes(ymin="low", ymax="high"), position=dodge, size=0.4)
        + geom_point(
            aes(x="claim_id", y="reference"),
            data=reference,
            inherit_aes=False,
            shape="|",
            size=6,
            colour="black",
        )
        + coord_flip(ylim=(0, 1))
        + scale_colour_manual(values=_palette(VERDICT_COLOURS, claims["verdict"]))
        + labs(
            x="claim",
            y="rate of the claimed outcome (bar |: the comparison's rate)",
            colour="verdict",
            shape="95% interval",
            title="Claims: observed rate with exact and Bayesian intervals",
        )
        + theme_stats((9.0, 4.0))
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
    _require(ppc, ["cell", "panel", "observed_rate", "rep_mean", "rep_low", "rep_high"], "ppc_plot")
    return (
        ggplot(ppc, aes(x="cell"))
        + geom_pointrange(
            aes(y="rep_mean", ymin="rep_low", ymax="rep_high"), colour="#0072B2", size=0.3
        )
        + geom_point(aes(y="observed_rate"), shape="x", size=2.5, colour="black")
        + facet_wrap("panel", scales="free_y")
        + coord_flip(ylim=(0, 1))
        + labs(
            x="",
            y="rate (blue: replicated 95% interval; x: observed)",
            title="Posterior predictive check: does the model reproduce the data?",
        )
        + theme_stats((9.0, 6.0))
    )


# ----------------------------------------------------------------------------- self/cross prediction
#: Colour of self- vs cross-prediction (issue 8, design 4).
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
    _require(
        accuracy,
        ["prediction", "mean", "hdi_low", "hdi_high", "raw_rate", "exact_low", "exact_high"],
        "prediction_accuracy_plot",
    )
    _require(reference, ["line", "value"], "prediction_accuracy_plot")
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
        + scale_colour_manual(values=_palette(PREDICTION_COLOURS, accuracy["prediction"]))
        + scale_linetype_manual(values=_palette(REFERENCE_LINETYPES, reference["line"]))
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
    _require(
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
        + scale_colour_manual(values=_palette(PREDICTION_COLOURS, calibration["prediction"]))
        + labs(
            x="observed share of the object-level answer",
            y="share of meta predictions naming it",
            colour="predictor",
            shape="object-level rank",
            title="Calibration: predicted vs observed distribution (top 3 answers)",
        )
        + theme_stats((8.0, 4.5))
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
    _require(
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
    _require(reference, ["line", "value"], "prediction_curves_plot")
    colours = _palette(PREDICTION_COLOURS, curves["prediction"])
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
            labels=_plain_numbers,
        )
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=colours)
        + scale_fill_manual(values=colours)
        + scale_linetype_manual(values=_palette(REFERENCE_LINETYPES, reference["line"]))
        + labs(
            x="training-set size of the predictor's fine-tune (log2 scale)",
            y="accuracy (band: model 95% HDI; points: exact 95% CI)",
            colour="predictor",
            fill="predictor",
            linetype="reference",
            title="Accuracy vs training-set size, self and cross prediction",
        )
        + theme_stats((8.0, 4.5))
    )


# ----------------------------------------------------------------------------- follow-up designs
#: Colour of observed vs modelled follow-up rates (issue 8, designs 1-3).
FOLLOWUP_COLOURS: dict[str, str] = {
    "observed (exact 95% CI)": "#7F7F7F",
    "model, new run (95% HDI)": "#0072B2",
}


def followup_plot(rates: pd.DataFrame, *, title: str) -> ggplot:
    """Rates of a follow-up design per level: observed with exact CI beside the model's HDI.

    Parameters
    ----------
    rates : DataFrame
        Columns ``level_label`` (ordered categorical, y axis), ``outcome_label`` (facet),
        ``estimate_kind`` (a key of :data:`FOLLOWUP_COLOURS`), ``estimate``, ``low``,
        ``high`` and ``label`` (successes/trials, printed on the right).
    title : str

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        rates,
        ["level_label", "outcome_label", "estimate_kind", "estimate", "low", "high", "label"],
        "followup_plot",
    )
    dodge = position_dodge(width=0.5)
    height = 1.6 + 0.45 * rates["level_label"].nunique() * max(1, rates["outcome_label"].nunique())
    labels = rates[rates["estimate_kind"] == "observed (exact 95% CI)"].assign(y=1.02)
    return (
        ggplot(rates, aes(x="level_label", y="estimate", colour="estimate_kind"))
        + geom_pointrange(aes(ymin="low", ymax="high"), position=dodge, size=0.4)
        + geom_text(
            aes(x="level_label", y="y", label="label"),
            data=labels,
            colour="#555555",
            size=7,
            ha="left",
            inherit_aes=False,
        )
        + facet_wrap("outcome_label", ncol=1, scales="free_y")
        + coord_flip(ylim=(0, 1.15))
        + scale_colour_manual(values=_palette(FOLLOWUP_COLOURS, rates["estimate_kind"]))
        + labs(x="", y="rate (successes/trials on the right)", colour="", title=title)
        + theme_stats((8.0, height))
    )


def curves_arms_plot(curves: pd.DataFrame, reference: pd.DataFrame) -> ggplot:
    """Rates across the n_examples and LR grids, every arm with intervals (issue 8, design 5).

    Like :func:`curves_plot`, plus (a) the model's 95% interval drawn as an error bar at
    every grid value, so that an arm trained at a single grid value (sham controls) shows
    an interval rather than a lone marker (a ribbon over one x value is invisible), and
    (b) arms without a training grid (the untuned base model) as horizontal reference
    bands, one per greeting condition.

    Parameters
    ----------
    curves : DataFrame
        As for :func:`curves_plot`.
    reference : DataFrame
        Columns ``outcome_label``, ``factor_label``, ``arm``, ``greeting_label``,
        ``mean``, ``low``, ``high``, ``xmin``, ``xmax`` (the panel's grid range); may be
        empty.

    Returns
    -------
    plotnine.ggplot
    """
    _require(
        curves,
        ["factor_label", "outcome_label", "arm", "value", "mean", "low", "high", "raw_rate",
         "exact_low", "exact_high"],
        "curves_arms_plot",
    )  # fmt: skip
    _require(
        reference,
        ["outcome_label", "factor_label", "arm", "greeting_label", "mean", "low", "high", "xmin",
         "xmax"],
        "curves_arms_plot",
    )  # fmt: skip
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
        + scale_x_continuous(trans="log2", labels=_plain_numbers)
        + coord_cartesian(ylim=(0, 1))
        + scale_colour_manual(values=_palette(ARM_COLOURS, arms))
        + scale_fill_manual(values=_palette(ARM_COLOURS, arms))
        + labs(
            x="grid value (log2 scale): training examples, or learning-rate multiplier",
            y="rate (band/bars: model 95%; points: observed, exact 95% CI)",
            colour="arm",
            fill="arm",
            linetype="untrained arm",
            title="Effect of training-set size and learning rate, every arm "
            "(untrained arms: reference bands)",
        )
        + theme_stats((9.0, 5.5))
    )
