"""Plot builders: tidy DataFrame in, ``ggplot`` out (draw only; grouped by report page).

Every builder takes tidy frame(s) shaped by :mod:`stats.report` from the fit stage's
summary tables and maps columns to aesthetics. Builders are pure: the same frames give
the same plot, and nothing is drawn until the plot is shown or saved. All share
:func:`~stats.plots.theme.theme_stats` and the palettes of :mod:`stats.plots.theme`, so
the site reads as one document. The only statistics computed while drawing are
plotnine's own (the density curves of :func:`delta_plot` and :func:`prior_plot`).

The five reviewer plots of the analysis plan (section 8) are :func:`raw_grid_plot`
(data page), :func:`hazard_plot` (lines), :func:`forest_plot` (words),
:func:`delta_plot` (verdicts; + :func:`sensitivity_plot`) and :func:`oc_plot`
(diagnostics; the SBC figure is shipped by :mod:`stats.calibration`).
"""

from stats.plots.claims import claims_plot
from stats.plots.data import raw_grid_plot
from stats.plots.diagnostics import oc_plot, ppc_plot, sensitivity_plot
from stats.plots.followups import FOLLOWUP_COLOURS, followup_plot
from stats.plots.greeting import greeting_plot
from stats.plots.lines import hazard_plot
from stats.plots.prediction import (
    PREDICTION_COLOURS,
    REFERENCE_LINETYPES,
    prediction_accuracy_plot,
    prediction_calibration_plot,
    prediction_curves_plot,
)
from stats.plots.theme import (
    ARM_COLOURS,
    BASE_SIZE,
    DPI,
    ESTIMATE_COLOURS,
    FIGURE_SIZE,
    FONT_FAMILY,
    GREETING_COLOURS,
    MAX_WIDTH,
    SOURCE_COLOURS,
    VERDICT_COLOURS,
    theme_stats,
)
from stats.plots.verdicts import delta_plot, prior_plot
from stats.plots.words import curves_plot, forest_plot

__all__ = [
    "ARM_COLOURS", "BASE_SIZE", "DPI", "ESTIMATE_COLOURS", "FIGURE_SIZE", "FOLLOWUP_COLOURS",
    "FONT_FAMILY", "GREETING_COLOURS", "MAX_WIDTH", "PREDICTION_COLOURS", "REFERENCE_LINETYPES",
    "SOURCE_COLOURS", "VERDICT_COLOURS", "claims_plot", "curves_plot", "delta_plot",
    "followup_plot", "forest_plot", "greeting_plot", "hazard_plot", "oc_plot", "ppc_plot",
    "prediction_accuracy_plot", "prediction_calibration_plot", "prediction_curves_plot",
    "prior_plot", "raw_grid_plot", "sensitivity_plot", "theme_stats",
]  # fmt: skip
