"""The self- vs cross-prediction page (Looking Inward design; issue 8, design 4)."""

from __future__ import annotations

import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import (
    Markdown,
    callout,
    code_span,
    escape_markdown,
    md_table,
    not_available,
    omitted,
)
from stats.report.text import count, estimates, fmt, interval

_PREDICTION_ORDER = {"self": 0, "cross": 1, "self - cross": 2}


def _prediction_reference(data: ReportData) -> pd.DataFrame:
    """Modal baseline and ceiling over all tasks (the ``all`` row), as lines to draw."""
    base = data.load("prediction_baseline")
    overall = base[base["task"] == "all"].iloc[0]
    return pd.DataFrame(
        {
            "line": ["modal baseline", "ceiling"],
            "value": [overall["modal_baseline"], overall["ceiling"]],
        }
    )


@block
def prediction_status(data: ReportData) -> Markdown:
    """Nothing when the design's tables exist; otherwise one note saying why the page is empty."""
    if data.has("prediction_accuracy"):
        return Markdown("")
    path = code_span(data.artifacts.FILES["prediction_accuracy"].path)
    return not_available(
        f"this study has no self- or cross-prediction records, so {path} was not written "
        "(`stats ingest` reads them from files in the looking-inward format)."
    )


@block
def prediction_accuracy_figure(data: ReportData) -> object:
    """Self vs cross accuracy (model and pooled counts), modal baseline and ceiling."""
    if not data.has("prediction_accuracy"):
        return omitted()
    acc = data.load("prediction_accuracy")
    kinds = acc[acc["scope"] == "kind"].copy()
    kinds["prediction"] = pd.Categorical(kinds["prediction"], ["self", "cross"])
    return plots.prediction_accuracy_plot(kinds, _prediction_reference(data))


@block
def prediction_curves_figure(data: ReportData) -> object:
    """Accuracy vs training-set size, lines for both self and cross prediction."""
    if not data.has("prediction_accuracy"):
        return omitted()
    acc = data.load("prediction_accuracy")
    cells = acc[(acc["scope"] == "cell") & acc["n_examples"].notna()].copy()
    cells["prediction"] = pd.Categorical(cells["prediction"], ["self", "cross"])
    reference = _prediction_reference(data)
    return plots.prediction_curves_plot(cells, reference[reference["line"] == "modal baseline"])


@block
def prediction_calibration_figure(data: ReportData) -> object:
    """Predicted vs observed shares of the top-3 object-level answers."""
    if not data.has("prediction_accuracy"):
        return omitted()
    cal = data.load("prediction_calibration").copy()
    cal["panel"] = cal["task"].astype(str) + " / " + cal["property"].astype(str)
    cal["rank_label"] = cal["rank"].map({1: "1st", 2: "2nd", 3: "3rd"}).fillna("other")
    return plots.prediction_calibration_plot(cal)


@block
def prediction_accuracy_table(data: ReportData) -> Markdown:
    """Accuracy per kind, per training-set size and self - cross, with both intervals."""
    if not data.has("prediction_accuracy"):
        return omitted()
    acc = data.load("prediction_accuracy").copy()
    acc["_order"] = acc["prediction"].map(_PREDICTION_ORDER)
    acc = acc.sort_values(["_order", "scope", "n_examples"], na_position="first")
    table = pd.DataFrame(
        {
            "predictor": acc["prediction"],
            "training examples": acc["n_examples"].map(
                lambda n: "all" if pd.isna(n) else str(int(n))
            ),
            "correct": [count(s, n) for s, n in zip(acc["successes"], acc["trials"], strict=True)],
            "runs": acc["n_runs"],
            "observed (exact 95% CI)": [
                f"{fmt(r)} {interval(lo, hi)}" if pd.notna(lo) else fmt(r, signed=True)
                for r, lo, hi in zip(
                    acc["raw_rate"], acc["exact_low"], acc["exact_high"], strict=True
                )
            ],
            "model (95% HDI)": estimates(acc["mean"], acc["hdi_low"], acc["hdi_high"]),
            "P(self > cross)": acc["p_self_above_cross"].map(fmt),
            "modal baseline": acc["modal_baseline"].map(fmt),
            "converged": acc["converged"].map(lambda c: "yes" if bool(c) else "NO"),
        }
    )
    return md_table(table)


@block
def prediction_baseline_table(data: ReportData) -> Markdown:
    """Modal answer, modal baseline and non-determinism ceiling per task x property."""
    if not data.has("prediction_accuracy"):
        return omitted()
    base = data.load("prediction_baseline")
    table = pd.DataFrame(
        {
            "task": base["task"],
            "property": base["property"],
            "modal answer": base["mode"].fillna(""),
            "items": base["items"],
            "modal baseline (exact 95% CI)": estimates(
                base["modal_baseline"], base["baseline_low"], base["baseline_high"]
            ),
            "ceiling (sample agreement)": base["ceiling"].map(fmt),
        }
    )
    return md_table(table)


@block
def prediction_gates(data: ReportData) -> Markdown:
    """Convergence gates of the accuracy model, as a sentence (a warning when one failed)."""
    if not data.has("prediction_accuracy"):
        return omitted()
    row = data.load("prediction_diagnostics").iloc[0]
    text = (
        f"max R-hat {fmt(row['max_rhat'], 3)}, min ESS "
        f"{fmt(min(row['min_ess_bulk'], row['min_ess_tail']), 0)}, "
        f"{int(row['divergences'])} divergences, E-BFMI {fmt(row['min_bfmi'])}"
    )
    if bool(row["converged"]):
        return Markdown(f"Convergence gates passed ({escape_markdown(text)}).")
    failed = escape_markdown(str(row.get("failed", "")))
    return callout("important", "Gates failed: do not read the intervals", f"{text}. {failed}")
