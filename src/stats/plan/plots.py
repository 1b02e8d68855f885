"""The planner's figure: verdict shares vs runs per word (plotnine, :mod:`stats.plots` style).

A pure builder: the tidy frame of :func:`plan_frame` in, a ``ggplot`` out; nothing is
computed while drawing.
"""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_cartesian,
    facet_grid,
    geom_hline,
    geom_line,
    geom_linerange,
    geom_point,
    ggplot,
    labs,
    position_dodge,
    scale_colour_manual,
    scale_x_continuous,
)

from stats.plan.summary import VERDICTS
from stats.plots.theme import ROPE_FILL, VERDICT_COLOURS, plain_numbers, theme_stats

#: Word-type facets: the design's types in order, then the pooled verdict.
POOLED = "pooled"
COLUMNS = [
    "world", "runs_per_word", "word_type", "verdict", "share", "low", "high", "samples_label",
    "series",
]  # fmt: skip


def plan_frame(table: pd.DataFrame, greeting: bool = False) -> pd.DataFrame:
    """Long form of the planner's table for :func:`plan_plot` (word and pooled scopes).

    ``low``/``high`` are the share -/+ 2 Monte Carlo standard errors, clipped to [0, 1].
    """
    rows = table[
        (table["greeting"].astype(bool) == greeting) & table["scope"].isin(["word", POOLED])
    ]
    types = [*dict.fromkeys(rows.loc[rows["scope"] == "word", "word_type"]), POOLED]
    parts = []
    for verdict in VERDICTS:
        column = verdict.replace("-", "_")
        share, se = rows[f"p_{column}"], rows[f"mc_se_{column}"].fillna(0.0)
        parts.append(
            rows[["world", "runs_per_word", "samples_per_run", "word_type"]].assign(
                verdict=verdict,
                share=share,
                low=(share - 2 * se).clip(0, 1),
                high=(share + 2 * se).clip(0, 1),
            )
        )
    long = pd.concat(parts, ignore_index=True)
    samples = sorted(long["samples_per_run"].unique())
    labels = [f"{int(s)} samples per run" for s in samples]
    long["samples_label"] = pd.Categorical(
        long["samples_per_run"].map(dict(zip(samples, labels, strict=True))), categories=labels
    )
    long["word_type"] = pd.Categorical(long["word_type"], categories=types)
    long["verdict"] = pd.Categorical(long["verdict"], categories=list(VERDICTS))
    long["world"] = pd.Categorical(long["world"], categories=list(dict.fromkeys(long["world"])))
    long["series"] = long["verdict"].astype(str) + ", " + long["samples_label"].astype(str)
    return long[COLUMNS]


def plan_plot(frame: pd.DataFrame, *, max_false_real: float = 0.05) -> ggplot:
    """Share of each verdict vs runs per word, per world (rows) and word type (columns).

    Parameters
    ----------
    frame : DataFrame
        :data:`COLUMNS` (from :func:`plan_frame`).
    max_false_real : float
        The tolerated false "real" rate (dashed line).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"plan_plot: missing columns {missing}")
    dodge = position_dodge(width=0.15)
    several = frame["samples_label"].nunique() > 1
    mapping = aes(x="runs_per_word", y="share", colour="verdict", group="series")
    if several:
        mapping = aes(
            x="runs_per_word", y="share", colour="verdict", linetype="samples_label", group="series"
        )
    # lines join the runs per word of a grid (a single setting has nothing to join)
    lines = geom_line(position=dodge) if frame["runs_per_word"].nunique() > 1 else None
    return (
        ggplot(frame, mapping)
        + geom_hline(yintercept=max_false_real, linetype="dashed", colour=ROPE_FILL, size=0.4)
        + lines
        + geom_linerange(aes(ymin="low", ymax="high"), position=dodge)
        + geom_point(position=dodge, size=1.6)
        + facet_grid("world ~ word_type")
        + scale_colour_manual(values={v: VERDICT_COLOURS[v] for v in VERDICTS})
        + scale_x_continuous(
            trans="log2",
            breaks=sorted(pd.unique(frame["runs_per_word"])),
            minor_breaks=[],
            labels=plain_numbers,
        )
        + coord_cartesian(ylim=(0, 1))
        + labs(
            x="fine-tuning runs per word (log scale)",
            y="share of simulated studies",
            colour="verdict",
            linetype="samples",
            title="Planning: which verdict a design reaches (bars: +/- 2 Monte Carlo s.e.)",
            caption=f"dashed: {max_false_real:g}, the tolerated false 'real' rate in the null "
            "world; no-greeting verdicts",
        )
        + theme_stats((7.0, 5.0))
    )
