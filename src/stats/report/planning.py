"""Helpers of the planning page (``planning.qmd``): the planner's results, displayed.

They read what ``stats plan`` wrote into ``<data dir>/plan/`` (:mod:`stats.plan.outputs`);
nothing is computed here but display forms. A missing run becomes a note naming the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from stats.plan.outputs import PLAN_SUBDIR, reading
from stats.report import (
    CSV_NA_VALUES,
    Markdown,
    MissingArtifact,
    Study,
    _fmt,
    _safe,
    code_span,
    escape_markdown,
    md_table,
)

COMMAND = "stats plan analysis/plans/default.yaml --quick"


def _plan_path(study: Study, name: str) -> Path:
    path = study.data_dir / PLAN_SUBDIR / name
    if not path.exists():
        raise MissingArtifact(f"plan/{name}", path, COMMAND)
    return path


def load_plan_table(study: Study) -> pd.DataFrame:
    """``plan.csv`` (world names such as "null" kept as text)."""
    return pd.read_csv(
        _plan_path(study, "plan.csv"), keep_default_na=False, na_values=CSV_NA_VALUES
    )


def _run_facts(study: Study) -> dict[str, Any]:
    return json.loads(_plan_path(study, "plan_run.json").read_text())


@_safe
def plan_status(study: Study) -> Markdown:
    """How the planning results were made: design, preset, studies, wall time, sampler."""
    facts = _run_facts(study)
    sampler = facts["sampler"]
    preset = " --quick" if facts["quick"] else ""
    command = code_span(f"stats plan {facts['design']}{preset}")
    return Markdown(
        f"Made by {command}: {len(facts['settings'])} settings, "
        f"{facts['computed'] + facts['cached']} simulated studies "
        f"({facts['computed']} simulated in this run, {facts['cached']} from its cache; their "
        f"fits sampled for {facts['fit_seconds'] / 60:.1f} min in all); this run took "
        f"{facts['seconds'] / 60:.1f} min on {facts['workers']} worker processes (load average "
        f"{facts['load']}). Sampler: {sampler['draws']} draws + {sampler['tune']} tuning x "
        f"{sampler['chains']} chains, {sampler['retries']} retry after a missed gate, as "
        "`stats fit` samples."
    )


@_safe
def plan_figure(study: Study) -> Any:
    """Share of each verdict vs runs per word, per world and word type (no greeting)."""
    from stats.plan.plots import plan_frame, plan_plot

    return plan_plot(plan_frame(load_plan_table(study)))


def _share(p: object, se: object) -> str:
    return f"{_fmt(p)} ± {_fmt(se)}"


@_safe
def plan_table(study: Study) -> Markdown:
    """The no-greeting verdict shares with their Monte Carlo standard errors."""
    table = load_plan_table(study)
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
            "P(inconclusive)": rows["p_inconclusive"].map(_fmt),
            "P(not converged)": rows["p_not_converged"].map(_fmt),
        }
    )
    return md_table(shown, align=["l", "l", "r", "r", "r", "r", "r", "r", "r"])


@_safe
def plan_reading(study: Study) -> Markdown:
    """What the grid says: runs per word needed for each world's target share."""
    table = load_plan_table(study)
    # design names are the user's text: escaped like any other text on the page
    table = table.assign(
        world=table["world"].map(escape_markdown), word_type=table["word_type"].map(escape_markdown)
    )
    return Markdown("\n".join(reading(table)))
