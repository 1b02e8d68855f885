"""Figure of the follow-up design pages (issue 8, designs 1-3)."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    facet_wrap,
    geom_pointrange,
    geom_text,
    ggplot,
    labs,
    position_dodge,
    scale_colour_manual,
)

from stats.plots.theme import palette, require, theme_stats

#: Colour of observed vs modelled follow-up rates.
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
    require(
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
        + scale_colour_manual(values=palette(FOLLOWUP_COLOURS, rates["estimate_kind"]))
        + labs(x="", y="rate (successes/trials on the right)", colour="", title=title)
        + theme_stats((7.0, height))
    )
