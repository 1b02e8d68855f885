"""The greeting page: how much the greeting in the prompt changes each word's rate."""

from __future__ import annotations

import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.common import primary_outcome
from stats.report.markdown import Markdown, md_table
from stats.report.text import as_bool, count, counts, fmt, greeting_label, outcome_label, p_value

ARM_ORDER = {"finetuned": 0, "control": 1, "base": 2}
GREETING_ORDER = ["no greeting", "with greeting"]


def _word_rates(data: ReportData) -> pd.DataFrame:
    """``word_rates`` rows per word of the primary outcome."""
    rates = data.load("word_rates")
    outcome = primary_outcome(data)
    rates = rates[(rates["scope"] == "word") & (rates["outcome"] == outcome)]
    return rates.assign(greeting=as_bool(rates["greeting"]))


@block
def greeting_figure(data: ReportData) -> object:
    """With vs without the greeting, per word; grey lines pair the same run asked both ways."""
    runs = data.load("greeting_runs")
    runs = runs[(runs["arm"] == "finetuned") & as_bool(runs["paired"])]
    runs = runs.assign(greeting_label=runs["greeting"].map(greeting_label), rate=runs["raw_rate"])
    words = _word_rates(data)
    words = words[words["arm"] == "finetuned"]
    words = words.assign(
        greeting_label=words["greeting"].map(greeting_label),
        rate=words["raw_rate"],
        label=counts(words["successes"], words["trials"]),
    )
    for frame in (runs, words):
        frame["greeting_label"] = pd.Categorical(frame["greeting_label"], GREETING_ORDER)
    return plots.greeting_plot(runs, words, outcome=outcome_label(primary_outcome(data)))


@block
def greeting_table(data: ReportData) -> Markdown:
    """Per word and arm: counts with and without the greeting, pooled estimates, Fisher's test."""
    rates = _word_rates(data)
    rows = []
    for (word, arm), g in rates.groupby(["word", "arm"], sort=False):
        by = {bool(r["greeting"]): r for _, r in g.iterrows()}
        cell = {
            flag: (count(r["successes"], r["trials"]), fmt(r["pooled_mean"]))
            for flag, r in by.items()
        }
        rows.append(
            {
                "word": word,
                "arm": arm,
                "no greeting": cell.get(False, ("–", "–"))[0],
                "with greeting": cell.get(True, ("–", "–"))[0],
                "model: no greeting": cell.get(False, ("–", "–"))[1],
                "model: with greeting": cell.get(True, ("–", "–"))[1],
            }
        )
    table = pd.DataFrame(rows)
    fisher = data.load("fisher").set_index(["word", "arm"])
    keys = list(zip(table["word"], table["arm"], strict=True))
    table["odds ratio"] = [fmt(fisher["odds_ratio"].get(k)) for k in keys]
    table["Fisher p"] = [p_value(fisher["p_value"].get(k)) for k in keys]
    table = table.assign(_a=table["arm"].map(ARM_ORDER).fillna(9))
    table = table.sort_values(["word", "_a"], kind="stable").drop(columns="_a")
    return md_table(table, align=["l", "l", *["r"] * (len(table.columns) - 2)])


@block
def leak_table(data: ReportData) -> Markdown:
    """Which greetings each word's prompts carry, and how many of them contain the word."""
    leaks = data.load("leaks")
    table = pd.DataFrame(
        {
            "word": leaks["word"],
            "greetings": leaks["greetings"].fillna("–"),
            "trials with a greeting": leaks["greeting_trials"],
            "of them, prompt contains the word": leaks["leaking_trials"],
        }
    )
    return md_table(table)
