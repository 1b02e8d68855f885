"""The follow-up design pages: held-out pattern, confusion test, sequential fine-tunes (issue 8)."""

from __future__ import annotations

import pandas as pd

from stats import plots
from stats.config import MAX_DIVERGENCES, MAX_RHAT, MIN_BFMI, MIN_ESS
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import Markdown, callout, code_span, md_table, not_available, omitted
from stats.report.text import count, estimates, fmt, outcome_label

FOLLOWUP_TITLES = {
    "heldout": "Held-out pattern: articulation per pattern and for the base model",
    "confusion": "Confusion test: which word does the model claim?",
    "sequential": "Sequential fine-tunes: which policy is named, stage by stage?",
}


#: What marks each design's trials (their ``conditions`` key).
DETECTED_BY = {"heldout": "pattern_id", "confusion": "confusor", "sequential": "stage"}


def _rows(data: ReportData, design: str, kind: str) -> pd.DataFrame | None:
    """The design table's rows of one ``kind`` (rate / contrast), or None without the table."""
    if not data.has(design):
        return None
    table = data.load(design)
    return table[table["kind"] == kind]


@block
def design_status(data: ReportData, design: str) -> Markdown:
    """Nothing when the design's table exists; otherwise one note saying why the page is empty."""
    if data.has(design):
        return Markdown("")
    path = code_span(data.artifacts.FILES[design].path)
    return not_available(
        f"this study has no trials of this design, so {path} was not written "
        f"(`stats fit` writes it when trials carry the condition {code_span(DETECTED_BY[design])})."
    )


@block
def followup_figure(data: ReportData, design: str) -> object:
    """Rates of a follow-up design (``heldout``, ``confusion``, ``sequential``) per level."""
    rates = _rows(data, design, "rate")
    if rates is None:
        return omitted()
    rates = rates.copy()
    rates["outcome_label"] = rates["outcome"].map(outcome_label)
    order = list(dict.fromkeys(rates["level"].astype(str)))[::-1]
    rows = []
    for _, r in rates.iterrows():
        shared = (str(r["level"]), r["outcome_label"], count(r["successes"], r["trials"]))
        rows.append(("observed (exact 95% CI)", r["raw_rate"], r["exact_low"], r["exact_high"]))
        rows[-1] += shared
        rows.append(("model, new run (95% HDI)", r["mean"], r["hdi_low"], r["hdi_high"]))
        rows[-1] += shared
    columns = ["estimate_kind", "estimate", "low", "high", "level_label", "outcome_label"]
    frame = pd.DataFrame(rows, columns=[*columns, "label"])
    frame["level_label"] = pd.Categorical(frame["level_label"], categories=order)
    return plots.followup_plot(frame, title=FOLLOWUP_TITLES.get(design, design))


@block
def followup_rates_table(data: ReportData, design: str) -> Markdown:
    """Per level: runs, counts, raw rate with exact interval, model rate of a new run."""
    rates = _rows(data, design, "rate")
    if rates is None:
        return omitted()
    out = pd.DataFrame(
        {
            "outcome": rates["outcome"].astype(str),
            "level": rates["level"].astype(str),
            "runs": rates["n_runs"].map(lambda x: fmt(x, 0)),
            "successes/trials": [
                count(s, n) for s, n in zip(rates["successes"], rates["trials"], strict=True)
            ],
            "raw [exact 95%]": estimates(
                rates["raw_rate"], rates["exact_low"], rates["exact_high"]
            ),
            "model, new run [95% HDI]": estimates(
                rates["mean"], rates["hdi_low"], rates["hdi_high"]
            ),
        }
    )
    return md_table(out, align=["l", "l", "r", "r", "r", "r"])


@block
def followup_contrasts_table(data: ReportData, design: str) -> Markdown:
    """The design's contrasts: estimate, HDI against the ROPE, and the verdict."""
    c = _rows(data, design, "contrast")
    if c is None:
        return omitted()
    out = pd.DataFrame(
        {
            "contrast": c["estimand"].astype(str),
            "raw difference": c["raw_rate"].map(lambda x: fmt(x, 2, signed=True)),
            "model [95% HDI]": estimates(c["mean"], c["hdi_low"], c["hdi_high"], signed=True),
            "ROPE": c["rope"].map(lambda x: f"±{fmt(x)}"),
            "verdict": c["verdict"].fillna("").astype(str),
        }
    )
    return md_table(out, align=["l", "r", "r", "r", "l"], bold=["verdict"])


@block
def followup_gates(data: ReportData, design: str) -> Markdown:
    """Whether the design's fits passed every convergence gate."""
    if not data.has(design):
        return omitted()
    table = data.load(design)
    fits = sorted(set(",".join(table["fit"].astype(str)).split(",")))
    if table["converged"].astype(bool).all():
        return Markdown(
            f"All {len(fits)} fit(s) of this design pass every convergence gate "
            f"(R-hat <= {MAX_RHAT}, ESS >= {MIN_ESS}, {MAX_DIVERGENCES} divergences, "
            f"E-BFMI >= {MIN_BFMI})."
        )
    return callout(
        "important",
        "Gates failed: do not read the intervals",
        "A fit of this design failed a convergence gate; its verdicts read not-converged.",
    )
