"""Which mass matrix a retry should adapt: measured on the fits that miss a gate.

Result (``benchmarks/results/retry_mass_matrix.md``): the dense one (nutpie's low-rank
adaptation) took 10 times as long per fit and passed the gates as often as the diagonal one
(7 of 10 each; it mended an R-hat miss, not a divergence, and diverged more in total), so
retries keep the diagonal mass matrix.

M1 in the operating-characteristics benchmark's genuine world with 32 runs per word (the
setting where 2 of 10 studies stayed `not-converged` after a retry with twice the draws):
for each simulated study, the first attempt (the study's settings, diagonal mass matrix)
and then both candidate retries on the same counts, twice the draws with the diagonal
mass matrix and twice the draws with the dense one (nutpie: low-rank adaptation), with the
same seed. Reports the gates (``stats.model.diagnostics.diagnose``) and the wall seconds of
each. Run::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/retry_mass_matrix.py

Writes ``benchmarks/results/retry_mass_matrix.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from operating_characteristics import oc_design

from stats import config
from stats.model.build import N_DATA, Y_DATA
from stats.model.diagnostics import diagnose
from stats.model.synthetic import with_counts
from stats.plan.simulation import SimulatedSetting, plan_study
from stats.plan.summary import markdown_table


def attempt(model, settings, seed: int, y, n) -> dict:
    """One sampling of ``model`` (a Refitter) and its gates."""
    counts = {Y_DATA: np.asarray(y, dtype="float64"), N_DATA: np.asarray(n, dtype="float64")}
    start = time.perf_counter()
    idata = model.sampler.draw(settings, seed, counts)
    seconds = time.perf_counter() - start
    d = diagnose(idata, model.spec, with_counts(model.data, y, n))
    return {
        "seconds": seconds,
        "max_rhat": d["max_rhat"],
        "min_ess": min(d["min_ess_bulk"], d["min_ess_tail"]),
        "divergences": d["divergences"],
        "passed": bool(d["converged"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="genuine")
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--out", type=Path, default=config.BENCHMARK_RESULTS_DIR)
    args = parser.parse_args()
    design = oc_design(10, 25)
    study = plan_study(design)
    setting = next(
        s for s in design.settings() if s.world == args.world and s.runs_per_word == args.runs
    )
    simulated = SimulatedSetting(design, setting, study)
    model = simulated.m1
    rows = []
    for i in range(setting.sims):
        seed = setting.seed + i
        cells, _ = simulated.simulate(seed)
        y, n = cells["successes"], cells["trials"]
        first = replace(model.settings, seed=seed)
        retry = replace(first, draws=2 * first.draws, seed=seed + 1)
        for label, settings, s in (
            ("first (diag)", first, seed),
            ("retry diag", replace(retry, mass_matrix="diag"), seed + 1),
            ("retry dense", replace(retry, mass_matrix="dense"), seed + 1),
        ):
            rows.append({"seed": seed, "attempt": label} | attempt(model, settings, s, y, n))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("attempt", sort=False).agg(
        fits=("passed", "size"),
        passed=("passed", "sum"),
        median_seconds=("seconds", "median"),
        max_rhat=("max_rhat", "max"),
        min_ess=("min_ess", "min"),
        divergences=("divergences", "sum"),
    )
    failed_first = table.loc[(table.attempt == "first (diag)") & ~table.passed, "seed"]
    rescued = table[table.seed.isin(failed_first) & (table.attempt != "first (diag)")]
    lines = [
        "# Which mass matrix a retry adapts",
        "",
        f"Made by `benchmarks/retry_mass_matrix.py` (M1, {args.world} world, {args.runs} runs "
        f"per word, {setting.sims} simulated studies of the operating-characteristics "
        f"benchmark; sampler {model.sampler.name}, {model.settings.chains} chains; wall "
        "seconds on 2 shared cores: compare within the table only).",
        "",
        markdown_table(summary.reset_index()),
        "",
        "Studies whose first attempt missed a gate, and both retries on the same counts:",
        "",
        markdown_table(rescued),
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retry_mass_matrix.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
