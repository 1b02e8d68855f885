"""Files of a planning run: table, verdicts, reading, figure and run facts, replaced together.

``OUT/plan.csv`` (:func:`stats.plan.summary.summarise`), ``plan_verdicts.csv`` (every verdict
of every simulated study), ``plan.md`` (how it was made, the no-greeting table, the reading),
``plan.png`` (:func:`stats.plan.plots.plan_plot`) and ``plan_run.json`` (wall time, load,
sampler, studies computed and cached). Each is written to a temporary file first and all are
renamed at the end, so a failure leaves the previous set as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from stats.plan.design import PlanDesign
from stats.plan.runner import PlanRun
from stats.plan.summary import markdown_table, runs_needed, summarise

#: Folder of a planning run inside the processed-data folder (read by the report).
PLAN_SUBDIR = "plan"
FILES = ("plan.csv", "plan_verdicts.csv", "plan.md", "plan.png", "plan_run.json")
#: Columns of the table in plan.md.
SHOWN = [
    "world", "word_type", "runs_per_word", "samples_per_run", "n_sims", "p_real", "mc_se_real",
    "p_fluke", "mc_se_fluke", "p_inconclusive", "p_not_converged",
]  # fmt: skip
POWER = 0.8
FLUKE_POWER = 0.5


def reading(table: pd.DataFrame) -> list[str]:
    """Sentences on the no-greeting verdicts: what a design reaches in each world.

    In a world with introspection (``introspection`` true): the runs per word from which
    P(real) reaches :data:`POWER`; in one without: the largest false P(real) and the runs per
    word from which P(fluke) reaches :data:`FLUKE_POWER`; in both, the largest
    P(not-converged).
    """
    lines = []
    plain = table[~table["greeting"].astype(bool) & table["scope"].isin(["word", "pooled"])]
    for world, rows in plain.groupby("world", sort=False):
        genuine = bool(rows["introspection"].iloc[0])
        verdict, target = ("real", POWER) if genuine else ("fluke", FLUKE_POWER)
        for row in runs_needed(table, str(world), verdict, target).itertuples():
            where = f"{world} world, {row.word_type}, {row.samples_per_run} samples per run"
            if pd.isna(row.runs_per_word):
                lines.append(
                    f"- {where}: P({verdict}) stays below {target:g} on this grid "
                    f"(at most {row.best:.2f})."
                )
            else:
                lines.append(
                    f"- {where}: P({verdict}) >= {target:g} from {row.runs_per_word} runs per word."
                )
        stuck = rows.loc[rows["p_not_converged"].idxmax()]
        summary = (
            f"- {world} world: largest P(not-converged) {stuck.p_not_converged:.2f} "
            f"({stuck.word_type}, {stuck.runs_per_word} runs per word)"
        )
        if not genuine:
            worst = rows.loc[rows["p_real"].idxmax()]
            summary += (
                f"; largest false P(real) {worst.p_real:.2f} (MC se {worst.mc_se_real:.2f}; "
                f"{worst.word_type}, {worst.runs_per_word} runs per word)"
            )
        lines.append(summary + ".")
    return lines


def ordered(table: pd.DataFrame, design: PlanDesign) -> pd.DataFrame:
    """The table in design order (world, greeting, samples, word type, runs), with the
    world's ``introspection`` flag."""
    worlds = list(design.worlds)
    types = [t.name for t in design.word_types] + ["pooled", "new-word"]
    keys = table.assign(
        _world=table["world"].map(worlds.index),
        _type=table["word_type"].map(lambda t: types.index(t) if t in types else len(types)),
    )
    keys = keys.sort_values(
        ["_world", "greeting", "samples_per_run", "_type", "runs_per_word"], kind="stable"
    )
    out = keys.drop(columns=["_world", "_type"]).reset_index(drop=True)
    out.insert(1, "introspection", out["world"].map(design.introspective))
    return out


def _markdown(table: pd.DataFrame, design: PlanDesign, facts: dict[str, Any]) -> str:
    plain = table[~table["greeting"].astype(bool) & table["scope"].isin(["word", "pooled"])]
    sampler = facts["sampler"]
    preset = " --quick" if facts["quick"] else ""
    lines = [
        f"# Planning: {design.name}",
        "",
        f"Made by `stats plan {design.source}{preset}` in {facts['seconds'] / 60:.1f} min "
        f"({facts['computed']} studies simulated, {facts['cached']} read from the cache; "
        f"the fits of all studies took {facts['fit_seconds'] / 60:.1f} min of sampling; "
        f"{facts['workers']} worker processes; load average {facts['load']}). Sampler: "
        f"{sampler['draws']} draws + {sampler['tune']} tune x {sampler['chains']} chains, "
        f"{sampler['retries']} retry after a missed gate. Words: "
        + ", ".join(f"{t.name} {t.word} (follows {t.follow_rate:g})" for t in design.word_types)
        + f"; one untuned base run per study; both greeting levels. {design.description}",
        "",
        "Verdicts without the greeting (the primary estimand); MC se: Monte Carlo standard "
        "error, clustered by simulated study. Every group, both greeting levels and the "
        "new-word scope are in plan.csv.",
        "",
        markdown_table(plain[SHOWN]),
        "",
        "## Reading",
        "",
        *reading(table),
    ]
    return "\n".join(lines) + "\n"


def write_outputs(
    run: PlanRun, design: PlanDesign, out_dir: Path, *, quick: bool, workers: int, study: Any
) -> pd.DataFrame:
    """Summarise ``run`` and write :data:`FILES` into ``out_dir``; return the table."""
    from stats.plan.plots import plan_frame, plan_plot

    if run.verdicts.empty:
        raise ValueError(f"{design.source}: no simulated study to summarise")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = ordered(summarise(run.verdicts), design)
    facts = {
        "design": design.source,
        "quick": quick,
        "seconds": run.seconds,
        # sampling time of every study, cached ones included (each study's M1 + M2 fits)
        "fit_seconds": float(
            run.verdicts.drop_duplicates(["setting_key", "seed"])["seconds"].sum()
        ),
        "computed": run.computed,
        "cached": run.cached,
        "workers": workers,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "settings": [s.label for s in run.settings],
        "sampler": asdict(study.sampler),
    }
    tmp = {name: out_dir / f".{name}.tmp" for name in FILES}
    table.to_csv(tmp["plan.csv"], index=False)
    run.verdicts.to_csv(tmp["plan_verdicts.csv"], index=False)
    tmp["plan.md"].write_text(_markdown(table, design, facts), encoding="utf-8")
    plan_plot(plan_frame(table)).save(tmp["plan.png"], format="png", verbose=False)
    tmp["plan_run.json"].write_text(json.dumps(facts, indent=1, default=str))
    for name, path in tmp.items():
        path.replace(out_dir / name)
    return table
