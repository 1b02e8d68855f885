"""The claims page: specific claims checked against the data and the pooled model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import Markdown, bullets, escape_markdown, md_table
from stats.report.text import DASH, counts, fmt, interval


def _column_or_dash(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(DASH, index=frame.index)
    return frame[column].astype(object).where(frame[column].notna(), DASH)


@block
def claims_table(data: ReportData) -> Markdown:
    """Every claim: counts, exact and Bayesian intervals, verdict, and the model's verdicts."""
    c = data.load("claims")
    table = pd.DataFrame(
        {
            "claim": c["claim_id"],
            "successes/trials": counts(c["successes"], c["trials"]),
            "rate": c["rate"].map(fmt),
            "exact 95%": [
                interval(lo, hi) for lo, hi in zip(c["exact_low"], c["exact_high"], strict=True)
            ],
            "Bayes 95%": [
                interval(lo, hi) for lo, hi in zip(c["bayes_low"], c["bayes_high"], strict=True)
            ],
            "verdict": c["verdict"],
            "model: this word": _column_or_dash(c, "model_verdict"),
            "model: all words": _column_or_dash(c, "pooled_verdict"),
        }
    )
    return md_table(table, align=["l", "r", "r", "r", "r", "l", "l", "l"], bold=["verdict"])


@block
def claims_details(data: ReportData) -> Markdown:
    """Per claim: its text, the comparison and the pooled model's view."""
    c = data.load("claims")
    items = []
    for _, row in c.iterrows():
        extra = ""
        if "model_verdict" in c and pd.notna(row.get("model_verdict")):
            extra = f" Pooled model for this word: *{escape_markdown(row['model_verdict'])}*"
            if pd.notna(row.get("pooled_verdict")):
                extra += f"; all words: *{escape_markdown(row['pooled_verdict'])}*"
            extra += "."
        text = escape_markdown(str(row["text"]).rstrip("."))
        items.append(
            f"**{escape_markdown(row['claim_id'])}** ({escape_markdown(row['verdict'])}): "
            f"{text}. {escape_markdown(row['comparison'])}.{extra}"
        )
    return bullets(items)


@block
def claims_figure(data: ReportData) -> object:
    """Each claim's rate with its exact and Bayesian intervals and the comparison rate."""
    c = data.load("claims")
    reference = c["comparison_rate"] if "comparison_rate" in c else pd.Series(np.nan, index=c.index)
    base = pd.DataFrame(
        {"claim_id": c["claim_id"], "verdict": c["verdict"], "reference": reference}
    )
    kinds = {
        "exact (Clopper-Pearson)": ("rate", "exact_low", "exact_high"),
        "Bayesian (Beta, run-clustered)": ("bayes_mean", "bayes_low", "bayes_high"),
    }
    long = pd.concat(
        [
            base.assign(kind=kind, estimate=c[m], low=c[lo], high=c[hi])
            for kind, (m, lo, hi) in kinds.items()
        ],
        ignore_index=True,
    )
    long["claim_id"] = pd.Categorical(long["claim_id"], categories=list(c["claim_id"])[::-1])
    return plots.claims_plot(long.dropna(subset=["estimate"]))
