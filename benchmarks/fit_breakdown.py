"""Where the time of one fit on the bundled study goes, per step, for either sampler.

Usage::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/fit_breakdown.py
        [--model M1|M2] [--backend pymc|nutpie] [--prior-scale 1] [--mass-matrix dense|diag]
        [--tune N] [--draws N] [--repeat 1]

Does by hand the steps of :func:`stats.model.fit.fit_model` and the model stage after it, and
prints wall and CPU seconds (this process and its forked chains) of each: model build, sampler
compilation (PyMC: the NUTS step and the trace's point function; nutpie: the model's
compilation), tuning and draws (split by their leapfrog steps), diagnostics with PSIS-LOO,
power-scaling sensitivity of the model's parameters, and the storage of the fit. ``--repeat``
samples again on the same compiled model (what refits at other prior scales cost once the
model is compiled). Needs ``data/processed/trials.parquet`` (``stats run``). Wall times scale
with the machine's load, printed with each run: compare CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd


def cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children (PyMC's forked chains)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """Wall and CPU seconds of named steps."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    @contextmanager
    def step(self, name: str):
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield
        self.rows.append((name, time.perf_counter() - wall, cpu_seconds() - cpu))

    def split(self, name: str, parts: dict[str, float]) -> None:
        """Replace step ``name`` by parts in proportion to ``parts`` (e.g. leapfrog steps)."""
        index = next(i for i, row in enumerate(self.rows) if row[0] == name)
        _, wall, cpu = self.rows.pop(index)
        total = sum(parts.values()) or 1.0
        for offset, (part, weight) in enumerate(parts.items()):
            self.rows.insert(index + offset, (part, wall * weight / total, cpu * weight / total))

    def print(self) -> None:
        for name, wall, cpu in self.rows:
            print(f"  {name:28s} {wall:7.2f} s wall {cpu:7.2f} s CPU")
        wall = sum(r[1] for r in self.rows)
        cpu = sum(r[2] for r in self.rows)
        print(f"  {'total':28s} {wall:7.2f} s wall {cpu:7.2f} s CPU")


def leapfrogs(idata, group: str) -> float:
    """Leapfrog steps of all chains in a sample-stats group (0 when absent)."""
    if group not in idata.children:
        return 0.0
    stats = idata[group]
    name = "n_steps" if "n_steps" in stats else "tree_size"
    return float(np.asarray(stats[name].values).sum()) if name in stats else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="M1", choices=["M1", "M2"])
    parser.add_argument("--backend", default="pymc", choices=["pymc", "nutpie"])
    parser.add_argument("--prior-scale", type=float, default=1.0)
    parser.add_argument("--mass-matrix", default=None, choices=["dense", "diag"])
    parser.add_argument("--tune", type=int, default=None, help="default: the study's")
    parser.add_argument("--draws", type=int, default=None, help="default: the study's")
    parser.add_argument("--repeat", type=int, default=1, help="fits on the compiled model")
    args = parser.parse_args()

    clock = Clock()
    with clock.step("import"):
        from stats import config
        from stats.model import cache, diagnostics, sample
        from stats.model.build import build_model
        from stats.model.design import m1_data, m2_data
        from stats.model.pipeline import cells_from_trials, prepare_trials
        from stats.model.sensitivity import power_scaling
        from stats.model.spec import m1_spec, m2_spec
        from stats.model.study import load_study

    study = load_study(config.STUDY_PATH)
    trials = prepare_trials(pd.read_parquet(config.Artifacts().trials), study.k)
    m1_cells, m2_cells, _, _ = cells_from_trials(trials, study)
    if args.model == "M1":
        data = m1_data(m1_cells)
        spec = m1_spec(data.layout, study.outcome, args.prior_scale, study.k)
    else:
        data = m2_data(m2_cells, k=study.k)
        spec = m2_spec(data.layout, args.prior_scale, study.k)
    overrides = {"mass_matrix": args.mass_matrix, "tune": args.tune, "draws": args.draws}
    settings = sample.with_settings(
        study.sampler_for(args.model),
        backend=args.backend,
        **{name: value for name, value in overrides.items() if value is not None},
    )
    with clock.step("build"):
        model = build_model(spec, data)
    with clock.step("compile"):
        sampler = sample.Sampler(model, settings)
        if not sampler.nutpie:
            sampler.nuts_step(settings)
            sampler.trace = sample._shared_function_trace(model)
    for attempt in range(args.repeat):
        label = "" if attempt == 0 else f" (again {attempt})"
        with clock.step(f"sample{label}"):
            idata = sampler.draw(settings, settings.seed + attempt)
        warm = leapfrogs(idata, "warmup_sample_stats")
        if not warm:  # PyMC discards the tuning draws: steps per draw are close in both
            warm = leapfrogs(idata, "sample_stats") * settings.tune / settings.draws
        clock.split(
            f"sample{label}",
            {f"tune{label}": warm, f"draws{label}": leapfrogs(idata, "sample_stats")},
        )
    with clock.step("diagnostics + PSIS-LOO"):
        gates = diagnostics.diagnose(idata, spec, data)
    with tempfile.TemporaryDirectory() as folder, clock.step("store (loglik, prior, write)"):
        tree = cache.fit_tree(idata, spec, data, seed=settings.seed, attrs={"cache_key": "key"})
        cache.save(tree, Path(folder) / "fit.nc")
    with clock.step("psense (every scalar)"):
        from stats.model.posterior import posterior_arrays, posterior_names

        posterior, chains = posterior_arrays(idata, posterior_names(spec))
        loglik = tree["log_likelihood"]["y"].values
        power_scaling(
            {k: v for k, v in posterior.items() if v.ndim == 1},
            tree["log_prior"]["prior"].values.reshape(-1),
            loglik.reshape(-1, loglik.shape[-1]),
            chains,
        )

    steps = leapfrogs(idata, "sample_stats") / (settings.chains * settings.draws)
    print(
        f"{args.model} x{args.prior_scale:g} on {len(data.y)} cells, {sampler.name}, "
        f"{settings.chains} chains x ({settings.tune} tune + {settings.draws} draws), "
        f"target_accept {settings.target_accept}, load {os.getloadavg()[0]:.2f}, "
        f"{os.cpu_count()} cores"
    )
    clock.print()
    ess = min(gates["min_ess_bulk"], gates["min_ess_tail"])
    print(
        f"  leapfrog steps per draw {steps:.1f}; converged {gates['converged']} "
        f"(R-hat {gates['max_rhat']:.4f}, min ESS {ess:.0f}, divergences {gates['divergences']})"
    )


if __name__ == "__main__":
    main()
