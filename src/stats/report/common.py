"""Blocks every page shares (the simulated-data banner, the artifact list) and study facts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stats import calibration
from stats.config import Artifacts
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import Markdown, callout, escape_markdown, md_table


def primary_outcome(data: ReportData) -> str:
    """The verdicts' outcome (``summary/outcomes.csv``, role ``primary``)."""
    outcomes = data.load("outcomes")
    return str(outcomes.loc[outcomes["role"] == "primary", "outcome"].iloc[0])


def main_prior_scale(data: ReportData) -> float:
    """The prior scale of the verdicts' fits (``summary/outcomes.csv``)."""
    return float(data.load("outcomes")["prior_scale"].iloc[0])


def focus_rows(frame: pd.DataFrame, word: str) -> pd.DataFrame:
    """Rows of the headline scopes (population, new word) and of the page's ``word``."""
    keep = frame["scope"].isin(["pooled", "new-word"]) | (
        (frame["scope"] == "word") & (frame["word"] == word)
    )
    return frame[keep]


@block
def simulated_banner(data: ReportData) -> Markdown:
    """A caution banner when the data come from the simulator (``ledger["study"]["simulated"]``)."""
    info = data.load("ledger").get("study") or {}
    if not info.get("simulated"):
        return Markdown("")
    design = escape_markdown(info.get("design", "unknown design"))
    return callout(
        "caution",
        "Simulated data",
        f"Simulated transcripts (design {design}), not real model runs: this shows what the "
        "analysis does, not what models do.",
    )


@block
def artifact_status(data: ReportData, names: Sequence[str] | None = None) -> Markdown:
    """Which artifacts exist (paths inside the processed-data folder), and what writes each."""
    names = list(names or Artifacts.FILES)
    rows = [
        {
            "artifact": Artifacts.FILES[n].path,
            "present": "yes" if data.has(n) else "no",
            "written by": Artifacts.made_by(n),
        }
        for n in names
    ]
    rows += [
        {
            "artifact": f"(shipped) stats/calibration/{file}",
            "present": "yes" if data.has(name) else "no",
            "written by": calibration.MADE_BY[name],
        }
        for name, file in calibration.FILES.items()
    ]
    return md_table(pd.DataFrame(rows))
