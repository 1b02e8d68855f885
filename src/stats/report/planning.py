"""The planning page (``planning.qmd``): the planner's results, displayed.

They read what ``stats plan`` wrote into ``<data dir>/plan/`` (:mod:`stats.plan.outputs`;
``plan`` and ``plan_run`` in :class:`stats.config.Artifacts`); nothing is computed here but
display forms. Without a plan the page says so once (:func:`plan_status`) and its other
blocks are left out.
"""

from __future__ import annotations

import pandas as pd

from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import (
    Markdown,
    code_span,
    escape_markdown,
    md_table,
    not_available,
    omitted,
)
from stats.report.text import fmt


def _plan(data: ReportData) -> pd.DataFrame | None:
    """``plan.csv`` (world names such as "null" kept as text), or None before ``stats plan``."""
    return data.load("plan") if data.has("plan") else None


@block
def plan_status(data: ReportData) -> Markdown:
    """How the planning results were made: design, preset, studies, wall time, sampler."""
    if not data.has("plan_run"):
        command = code_span(data.artifacts.made_by("plan"))
        return not_available(f"no planning results in this study yet: {command} makes them.")
    facts = data.load("plan_run")
    sampler = facts["sampler"]
    preset = " --quick" if facts["quick"] else ""
    command = code_span(f"stats plan {facts['design']}{preset}")
    return Markdown(
        f"Made by {command}: {len(facts['settings'])} settings, "
        f"{facts['computed'] + facts['cached']} simulated studies "
        f"({facts['computed']} simulated in this run, {facts['cached']} from its cache; their "
        f"fits sampled for {facts['fit_seconds'] / 60:.1f} min in all); this run took "
        f"{facts['seconds'] / 60:.1f} min on {facts['workers']} worker processes (load average "
        f"{escape_markdown(facts['load'])}). Sampler: {sampler['draws']} draws + "
        f"{sampler['tune']} tuning x {sampler['chains']} chains, {sampler['retries']} retry "
        "after a missed gate, as `stats fit` samples."
    )


@block
def plan_figure(data: ReportData) -> object:
    """Share of each verdict vs runs per word, per world and word type (no greeting)."""
    from stats.plan.plots import plan_frame, plan_plot

    table = _plan(data)
    return omitted() if table is None else plan_plot(plan_frame(table))


def _share(p: object, se: object) -> str:
    return f"{fmt(p)} ± {fmt(se)}"


@block
def plan_table(data: ReportData) -> Markdown:
    """The no-greeting verdict shares with their Monte Carlo standard errors."""
    table = _plan(data)
    if table is None:
        return omitted()
    rows = table[~table["greeting"].astype(bool) & table["scope"].isin(["word", "pooled"])]
    shown = pd.DataFrame(
        {
            "world": rows["world"],
            "word type": rows["word_type"],
            "runs per word": rows["runs_per_word"].astype(int).astype(str),
            "samples per run": rows["samples_per_run"].astype(int).astype(str),
            "studies": rows["n_sims"].astype(int).astype(str),
            "P(real)": [
                _share(p, s) for p, s in zip(rows["p_real"], rows["mc_se_real"], strict=True)
            ],
            "P(fluke)": [
                _share(p, s) for p, s in zip(rows["p_fluke"], rows["mc_se_fluke"], strict=True)
            ],
            "P(inconclusive)": rows["p_inconclusive"].map(fmt),
            "P(not converged)": rows["p_not_converged"].map(fmt),
        }
    )
    return md_table(shown, align=["l", "l", "r", "r", "r", "r", "r", "r", "r"])


@block
def plan_reading(data: ReportData) -> Markdown:
    """What the grid says: runs per word needed for each world's target share."""
    from stats.plan.outputs import reading

    table = _plan(data)
    if table is None:
        return omitted()
    # design names are the user's text: escaped like any other text on the page
    table = table.assign(
        world=table["world"].map(escape_markdown), word_type=table["word_type"].map(escape_markdown)
    )
    return Markdown("\n".join(reading(table)))
