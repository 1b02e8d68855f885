"""Figure of the claims page: each claim's rate with its intervals."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    geom_point,
    geom_pointrange,
    ggplot,
    labs,
    position_dodge,
    scale_colour_manual,
)

from stats.plots.theme import VERDICT_COLOURS, palette, require, theme_stats


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
    require(
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
        + scale_colour_manual(values=palette(VERDICT_COLOURS, claims["verdict"]))
        + labs(
            x="claim",
            y="rate of the claimed outcome (bar |: the comparison's rate)",
            colour="verdict",
            shape="95% interval",
            title="Claims: observed rate with exact and Bayesian intervals",
        )
        + theme_stats((7.0, 4.0))
    )
