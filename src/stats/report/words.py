"""The words & training page: every word tried, and the effect of data size and learning rate."""

from __future__ import annotations

import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.common import primary_outcome
from stats.report.markdown import Markdown, md_table
from stats.report.text import (
    DASH,
    FACTOR_LABELS,
    SCOPE_ORDER,
    as_bool,
    counts,
    estimates,
    fmt,
    greeting_label,
    outcome_label,
    scope_label,
)

_KIND_RAW = "raw (exact 95% CI)"
_KIND_POOLED = "partially pooled (95% interval)"
_KIND_POP = "population (95% interval)"
_KIND_NEW = "new word (95% predictive)"


def _rates(data: ReportData, arm: str) -> pd.DataFrame:
    """``word_rates`` of one arm, primary outcome."""
    rates = data.load("word_rates")
    rates = rates[(rates["arm"] == arm) & (rates["outcome"] == primary_outcome(data))]
    return rates.assign(greeting=as_bool(rates["greeting"]))


def _kind(frame: pd.DataFrame, kind: str, estimate: str, low: str, high: str) -> pd.DataFrame:
    return frame.assign(kind=kind, estimate=frame[estimate], low=frame[low], high=frame[high])


@block
def forest_figure(data: ReportData, arm: str = "finetuned") -> object:
    """Plot 3: per-word raw vs partially pooled rates, population mean and new-word interval."""
    rates = _rates(data, arm)
    words = rates[rates["scope"] == "word"]
    pop = rates[rates["scope"] == "pooled"].assign(word=scope_label("pooled", None))
    new = rates[rates["scope"] == "new-word"].assign(word=scope_label("new-word", None))
    long = pd.concat(
        [
            _kind(words, _KIND_RAW, "raw_rate", "exact_low", "exact_high"),
            _kind(words, _KIND_POOLED, "pooled_mean", "pooled_low", "pooled_high"),
            _kind(pop, _KIND_POP, "pooled_mean", "pooled_low", "pooled_high"),
            _kind(new, _KIND_NEW, "pooled_mean", "pooled_low", "pooled_high"),
        ],
        ignore_index=True,
    )
    labelled = long["kind"].isin([_KIND_RAW, _KIND_POP])
    long["label"] = [
        text if keep else ""
        for text, keep in zip(counts(long["successes"], long["trials"]), labelled, strict=True)
    ]
    long["label_y"] = 1.03
    order = [
        scope_label("new-word", None),
        scope_label("pooled", None),
        *sorted(words["word"].unique(), reverse=True),
    ]
    long["row"] = pd.Categorical(long["word"], categories=order)
    long["greeting_label"] = long["greeting"].map(greeting_label)
    population = pop.assign(
        greeting_label=pop["greeting"].map(greeting_label), estimate=pop["pooled_mean"]
    )
    return plots.forest_plot(
        long,
        population[["greeting_label", "estimate"]],
        outcome=outcome_label(primary_outcome(data)),
    )


@block
def word_table(data: ReportData, arm: str = "finetuned") -> Markdown:
    """Every word tried (failures included): counts, raw and pooled rates, per prompt condition."""
    rates = _rates(data, arm)
    rates = rates.assign(_o=rates["scope"].map(SCOPE_ORDER)).sort_values(
        ["_o", "word", "greeting"], kind="stable"
    )
    new_word = rates["scope"].to_numpy() == "new-word"
    table = pd.DataFrame(
        {
            "word": [scope_label(s, w) for s, w in zip(rates["scope"], rates["word"], strict=True)],
            "prompt": rates["greeting"].map(greeting_label),
            "runs": rates["n_runs"].map(lambda x: fmt(x, 0)),
            "successes/trials": counts(rates["successes"], rates["trials"]),
            "raw rate [exact 95%]": estimates(
                rates["raw_rate"], rates["exact_low"], rates["exact_high"]
            ),
            "model [95%]": estimates(
                rates["pooled_mean"], rates["pooled_low"], rates["pooled_high"]
            ),
        }
    )
    table.loc[new_word, ["runs", "successes/trials", "raw rate [exact 95%]"]] = DASH
    return md_table(table, align=["l", "l", "r", "r", "r", "r"])


@block
def curves_figure(data: ReportData) -> object:
    """Rates across the n_examples and LR grids, every arm; untrained arms as reference bands."""
    curves = data.load("curves")
    curves = curves.assign(
        factor_label=curves["factor"].map(FACTOR_LABELS).fillna(curves["factor"]),
        outcome_label=curves["outcome"].map(outcome_label),
    )
    return plots.curves_plot(curves, _untrained_reference(data, curves))


def _untrained_reference(data: ReportData, curves: pd.DataFrame) -> pd.DataFrame:
    """Pooled model rates of arms without a training grid (base), one row per panel."""
    rates = data.load("word_rates")
    rates = rates[
        (rates["scope"] == "pooled")
        & ~rates["arm"].isin(set(curves["arm"]))
        & rates["outcome"].isin(set(curves["outcome"]))
    ]
    ranges = curves.groupby("factor_label")["value"].agg(xmin="min", xmax="max").reset_index()
    ref = rates.assign(
        outcome_label=rates["outcome"].map(outcome_label),
        greeting_label=as_bool(rates["greeting"]).map(greeting_label),
        mean=rates["pooled_mean"],
        low=rates["pooled_low"],
        high=rates["pooled_high"],
    ).merge(ranges, how="cross")
    return ref[list(plots.words.REFERENCE_COLUMNS)]


@block
def consistency_table(data: ReportData) -> Markdown:
    """Self-consistency of repeated samples per word, arm and prompt, one column per outcome."""
    c = data.load("consistency")
    c = c.assign(
        prompt=as_bool(c["greeting"]).map(greeting_label), outcome=c["outcome"].map(outcome_label)
    )
    wide = c.pivot_table(
        index=["word", "arm", "prompt"],
        columns="outcome",
        values="self_consistency",
        aggfunc="first",
    )
    wide = wide.map(fmt).reset_index()
    wide.columns = [*wide.columns[:3], *(f"self-consistency: {o}" for o in wide.columns[3:])]
    return md_table(wide)
