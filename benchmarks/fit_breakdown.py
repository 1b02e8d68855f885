"""Where the time of one M1 fit on the bundled study goes (PyMC's NUTS, warm compile cache).

Usage::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/fit_breakdown.py [--model M1|M2]
        [--mass-matrix dense|diag] [--tune N]

Prints the seconds of each step of :func:`stats.model.fit.fit_model` done by hand (model
build, NUTS step compilation, the trace's point function, ``pm.sample``, diagnostics with
PSIS-LOO), the mean number of leapfrog steps per iteration and the cost of one log-density
and gradient evaluation. Needs ``data/processed/trials.parquet`` (``make report`` or
``stats run``). Run it on an idle machine: wall times scale with the load.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="M1", choices=["M1", "M2"])
    parser.add_argument(
        "--mass-matrix", default=None, choices=["dense", "diag"], help="default: the study's"
    )
    parser.add_argument("--tune", type=int, default=None, help="default: the study's")
    args = parser.parse_args()

    from pymc.blocking import DictToArrayBijection

    from stats import config
    from stats.model import diagnostics, sample
    from stats.model.build import build_model
    from stats.model.design import m1_data, m2_data
    from stats.model.pipeline import cells_from_trials, prepare_trials
    from stats.model.spec import m1_spec, m2_spec
    from stats.model.study import load_study

    study = load_study(config.STUDY_PATH)
    trials = prepare_trials(pd.read_parquet(config.Artifacts().trials), study.k)
    m1_cells, m2_cells, _, _ = cells_from_trials(trials, study)
    if args.model == "M1":
        data = m1_data(m1_cells)
        spec = m1_spec(data.layout, study.outcome, 1.0, study.k)
    else:
        data = m2_data(m2_cells)
        spec = m2_spec(data.layout, 1.0, study.k)
    overrides = {"mass_matrix": args.mass_matrix, "tune": args.tune}
    settings = sample.with_settings(
        study.sampler_for(args.model),
        backend="pymc",
        **{name: value for name, value in overrides.items() if value is not None},
    )
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    model = build_model(spec, data)
    seconds["build"] = time.perf_counter() - start
    sampler = sample.Sampler(model, settings)
    start = time.perf_counter()
    sampler.nuts_step(settings)
    seconds["NUTS step compile"] = time.perf_counter() - start
    start = time.perf_counter()
    sampler.trace = sample._shared_function_trace(model)
    seconds["trace point function"] = time.perf_counter() - start
    start = time.perf_counter()
    idata = sampler.draw(settings, settings.seed)
    seconds["pm.sample"] = time.perf_counter() - start
    start = time.perf_counter()
    diagnostics = diagnostics.diagnose(idata, spec, data)
    seconds["diagnostics + PSIS-LOO"] = time.perf_counter() - start

    logp = model.logp_dlogp_function(ravel_inputs=True)
    logp.set_extra_values({})
    point = model.initial_point()
    q = DictToArrayBijection.map({v.name: point[v.name] for v in model.value_vars}).data
    for _ in range(50):
        logp(q)
    start = time.perf_counter()
    for _ in range(1000):
        logp(q)
    gradient_us = (time.perf_counter() - start) * 1e3

    steps = float(idata["sample_stats"]["n_steps"].mean())
    leapfrogs = steps * settings.chains * (settings.draws + settings.tune)
    cores = min(settings.chains, os.cpu_count() or 1)
    print(
        f"{args.model} on {len(data.y)} cells, {settings.chains} chains x "
        f"({settings.tune} tune + {settings.draws} draws), {settings.mass_matrix} mass matrix, "
        f"target_accept {settings.target_accept}, load {os.getloadavg()[0]:.2f}"
    )
    for name, value in seconds.items():
        print(f"  {name:24s} {value:6.2f} s")
    print(f"  {'total':24s} {sum(seconds.values()):6.2f} s")
    print(
        f"  leapfrog steps per iteration {steps:.1f}; one leapfrog "
        f"{seconds['pm.sample'] * cores / leapfrogs * 1e6:.0f} µs of a core; "
        f"log density + gradient {gradient_us:.1f} µs"
    )
    ess = min(diagnostics["min_ess_bulk"], diagnostics["min_ess_tail"])
    print(
        f"  converged {diagnostics['converged']} (R-hat {diagnostics['max_rhat']:.4f}, "
        f"min ESS {ess:.0f}, divergences {diagnostics['divergences']})"
    )


if __name__ == "__main__":
    main()
