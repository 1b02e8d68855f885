"""Fit times of M1 and M2 (cold and warm) and binomial cells vs Bernoulli rows against bambi.

On the bundled default study (``data/processed/trials.parquet``, made by ``make report`` or
``stats ingest`` + ``stats score``; when it is missing, ``data/raw`` is ingested and scored
into a temporary folder), with the sampler settings of ``analysis/study.yaml``:

1. M1 and M2 exactly as ``stats fit`` specifies them, each in a fresh process that builds,
   compiles and samples the model through :func:`stats.model.fit.fit_model` with the fit
   cache disabled (``cache_dir=None``: ``data/processed/fits`` is never read), *cold*
   (empty PyTensor compile cache) and then *warm* (same cache, filled by the cold run);
   with PyMC's NUTS (the locked environment's sampler) and, when importable, nutpie;
2. the same hierarchical model (M1 reduced to what a bambi formula expresses:
   ``articulated_early ~ greeting + x_n + x_lr + base + control + (1|word) + (1|run)``,
   iid normal word and run effects, the project's priors) fitted by bambi on trial-level
   Bernoulli rows and by this package on binomial cells, warm, with the same sampler and
   settings (M1's; with PyMC, bambi's model is sampled by this package's sampler, and
   neither side is retried after a missed gate): wall time, divergences and posterior
   agreement (difference of posterior means in units of the combined Monte Carlo
   standard error, and of the posterior sd).

Writes ``benchmarks/results/models.md``, ``models.csv`` (fit times), ``models_bambi.csv``
(the comparison) and ``models.png``. Run (bambi and nutpie are not in the locked
environment; ``--with`` overlays them without changing ``.venv``)::

    PYTENSOR_FLAGS=blas__ldflags= uv run --no-sync --with bambi --with nutpie \\
        python benchmarks/bench_models.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stats import config

RESULTS = config.BENCHMARK_RESULTS_DIR
HERE = Path(__file__).resolve()
#: Parameters compared between the cell fit and bambi (bambi's names in :func:`worker_bambi`).
COMPARED = ["a", "b_greet", "b_n", "b_lr", "b_base", "b_control", "sd_word", "sd_run"]
#: Warm M1 fit-time target of issue 5 (seconds).
M1_WARM_TARGET = 15.0
#: Speed-up of the cell fit over bambi's Bernoulli rows targeted by issue 5.
SPEEDUP_TARGET = 5.0


def _load() -> float:
    return os.getloadavg()[0]


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished child processes.

    PyMC samples chains in child processes and nutpie in threads: both count here, so a
    difference of two readings is the CPU a fit used whatever the load of the machine.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ----------------------------------------------------------------------------- data
def study_cells(trials_path: Path, study_path: Path, work: Path) -> dict[str, Any]:
    """M1 and M2 cells of the study, saved as Parquet in ``work``.

    Parameters
    ----------
    trials_path : Path
        Scored trials; when missing, ``data/raw`` is ingested and scored into ``work``.
    study_path : Path
        The study spec (outcome, k, sampler settings).
    work : Path
        Scratch folder.

    Returns
    -------
    dict
        ``m1``, ``m2`` (Parquet paths), ``source`` (where the trials came from), ``trials``
        (number of modelled trials), ``study`` (the parsed study).
    """
    from stats.model.pipeline import cells_from_trials, prepare_trials
    from stats.model.study import load_study

    study = load_study(study_path if study_path.exists() else None)
    source = str(trials_path)
    if not trials_path.exists():
        from stats.ingest import ingest
        from stats.score import score_file

        processed = work / "processed"
        manifest = config.MANIFEST_PATH if config.MANIFEST_PATH.exists() else None
        ingest([config.RAW_DIR], manifest, processed)
        score_file(processed)
        trials_path = config.Artifacts(processed).trials
        source = f"{config.RAW_DIR} (ingested and scored by the benchmark)"
    trials = prepare_trials(pd.read_parquet(trials_path), study.k)
    m1, m2, _, _ = cells_from_trials(trials, study)
    paths = {"m1": work / "m1_cells.parquet", "m2": work / "m2_cells.parquet"}
    m1.to_parquet(paths["m1"])
    m2.to_parquet(paths["m2"])
    return paths | {"source": source, "trials": int(m1["trials"].sum()), "study": study}


# ----------------------------------------------------------------------------- workers
def _import_sampling_stack(backend: str) -> None:
    """Import the libraries a fit uses (once per process, reported as ``import_s``).

    Bambi's side imports them with ``bambi`` before its clock starts; the cells' side
    must too, or its fit time carries about 5 s of imports (measured in run 5: fresh
    process, M1 warm 18.1-18.6 s against 11.7-13.5 s after the imports).
    """
    import arviz  # noqa: F401
    import arviz_stats  # noqa: F401
    import pymc  # noqa: F401

    if backend == "nutpie":
        import nutpie  # noqa: F401


def _settings(study_path: Path, backend: str, model: str):
    """The study and the settings of ``model``'s fits (the comparison model is M1's)."""
    from stats.model.study import load_study

    study = load_study(study_path if study_path.exists() else None)
    return study, replace(study.sampler_for(model), backend=backend)


def worker_fit(model: str, cells: Path, backend: str, study_path: Path) -> dict:
    """Code, build, compile and sample one model as ``stats fit`` does, fit cache off."""
    start = time.perf_counter()
    from stats.model import design, fit, spec

    study, settings = _settings(study_path, backend, model)
    _import_sampling_stack(backend)
    imported = time.perf_counter()
    frame = pd.read_parquet(cells)
    if model == "M1":
        data = design.m1_data(frame)
        model_spec = spec.m1_spec(data.layout, study.outcome, study.prior_scale, study.k)
    else:
        data = design.m2_data(frame, k=study.k)
        model_spec = spec.m2_spec(data.layout, study.prior_scale, study.k)
    coded, cpu = time.perf_counter(), cpu_seconds()
    result = fit.fit_model(model_spec, data, settings, cache_dir=None)
    done = time.perf_counter()
    d = result.diagnostics
    return {
        "model": model,
        "backend": result.sampler,
        "cells": len(data.y),
        "terms": " ".join(t.name for t in model_spec.terms),
        "import_s": imported - start,
        "code_s": coded - imported,
        "sample_s": d["seconds"],
        "fit_s": done - coded,
        "fit_cpu_s": cpu_seconds() - cpu,
        "converged": d["converged"],
        "failed": "; ".join(d["failed"]),
        "divergences": d["divergences"],
        "max_rhat": d["max_rhat"],
        "min_ess_bulk": d["min_ess_bulk"],
    }


def comparison_spec(data):
    """M1 reduced to the bambi-expressible model: no prompt, word x baseline or word x
    greeting terms, and iid (not zero-sum) non-centred word and run effects."""
    from stats.model import spec

    full = spec.m1_spec(data.layout)
    keep = {"a", "b_greet", "b_n", "b_lr", "b_arm", "u_word", "u_run"}
    terms = tuple(
        replace(t, zero_sum=False, centred=False) if t.kind == "group" else t
        for t in full.terms
        if t.name in keep
    )
    return replace(full, terms=terms)


def replicated_cells(cells: Path, replicate: int) -> pd.DataFrame:
    """The M1 cells with every trial repeated ``replicate`` times (same cells, more rows)."""
    frame = pd.read_parquet(cells)
    return frame.assign(
        successes=frame["successes"] * replicate, trials=frame["trials"] * replicate
    )


def worker_cells(cells: Path, backend: str, study_path: Path, replicate: int = 1) -> dict:
    """The comparison model on binomial cells (this package), fit cache off."""
    from stats.model import design, fit

    _, settings = _settings(study_path, backend, "M1")  # the comparison model is M1's
    # like for like: one sampling run on each side (bambi's is never retried); divergences
    # are reported for both
    settings = replace(settings, retries=0)
    _import_sampling_stack(backend)
    start, cpu = time.perf_counter(), cpu_seconds()
    data = design.m1_data(replicated_cells(cells, replicate))
    s = comparison_spec(data)
    coded = time.perf_counter()
    result = fit.fit_model(s, data, settings, cache_dir=None)
    total, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    post = result.posterior
    arms = data.coords["arm"]
    draws = {
        "a": post["a"],
        "b_greet": post["b_greet"],
        "b_n": post["b_n"],
        "b_lr": post["b_lr"],
        "b_base": post["b_arm"][:, arms.index("base")],
        "b_control": post["b_arm"][:, arms.index("control")],
        "sd_word": post["sd_word"],
        "sd_run": post["sd_run"],
    }
    # like for like with bambi: coding + build + compile + sample (no gates, no LOO)
    seconds = (coded - start) + result.diagnostics["seconds"]
    out = _summary("binomial cells (stats)", result.sampler, seconds, draws, result.chains)
    return out | {
        "replicate": replicate,
        "rows": len(data.y),
        "total_s": total,
        "cpu_s": cpu,
        "divergences": _div(result),
    }


def _div(result) -> int:
    return int(result.diagnostics["divergences"])


def bernoulli_rows(data) -> pd.DataFrame:
    """One row per trial, outcome ``articulated_early``, with the cells' coded inputs.

    The cells are an exact aggregation of the trials (``stats.tidy.binomial_cells``), so
    expanding each cell into ``successes`` ones and ``trials - successes`` zeros gives back
    the trial-level data set, with the inputs standardised as the package does.
    """
    per_cell = pd.DataFrame(
        {
            "greeting": data.rows.inputs["greeting"],
            "x_n": data.rows.inputs["x_n"],
            "x_lr": data.rows.inputs["x_lr"],
            "base": (data.cells["arm"] == "base").astype(float).to_numpy(),
            "control": (data.cells["arm"] == "control").astype(float).to_numpy(),
            "word": data.cells["word"].astype(str).to_numpy(),
            "run": data.cells["run_id"].astype(str).to_numpy(),
        }
    )
    rows = per_cell.loc[per_cell.index.repeat(data.n)].reset_index(drop=True)
    outcome = np.concatenate(
        [np.r_[np.ones(y), np.zeros(n - y)] for y, n in zip(data.y, data.n, strict=True)]
    )
    return rows.assign(articulated_early=outcome.astype(int))


BAMBI_FORMULA = "articulated_early ~ greeting + x_n + x_lr + base + control + (1|word) + (1|run)"


def worker_bambi(cells: Path, backend: str, study_path: Path, replicate: int = 1) -> dict:
    """The comparison model on trial-level Bernoulli rows, fitted by bambi."""
    import logging

    import bambi as bmb

    from stats.model import design
    from stats.model.spec import INTERCEPT_RATE, logit

    logging.getLogger("bambi").setLevel(logging.WARNING)
    _, settings = _settings(study_path, backend, "M1")  # the comparison model is M1's
    data = design.m1_data(replicated_cells(cells, replicate))
    rows = bernoulli_rows(data)
    group = bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=1.0))
    priors = {
        "Intercept": bmb.Prior("Normal", mu=logit(INTERCEPT_RATE), sigma=1.5),
        "greeting": bmb.Prior("Normal", mu=0, sigma=1.0),
        "x_n": bmb.Prior("Normal", mu=0, sigma=1.0),
        "x_lr": bmb.Prior("Normal", mu=0, sigma=1.0),
        "base": bmb.Prior("Normal", mu=0, sigma=1.5),
        "control": bmb.Prior("Normal", mu=0, sigma=1.5),
        "1|word": group,
        "1|run": group,
    }
    start, cpu = time.perf_counter(), cpu_seconds()
    model = bmb.Model(
        BAMBI_FORMULA,
        rows,
        family="bernoulli",
        priors=priors,
        center_predictors=False,
        noncentered=True,
    )
    kwargs = {  # nutpie's
        "draws": settings.draws,
        "tune": settings.tune,
        "chains": settings.chains,
        "target_accept": settings.target_accept,
        "random_seed": settings.seed,
        "progressbar": False,
    }
    if backend == "nutpie":
        idata = model.fit(inference_method="nutpie", **kwargs)
    else:
        # bambi's PyMC model, sampled by the package's own PyMC sampler (the cells' one):
        # same mass-matrix adaptation, jittered starts and BLAS limit, so that the two sides
        # differ only in rows vs cells. (PyMC's own dense adaptation, bambi's `init`, diverged
        # 16-18 times here where the cells' shrunk one did not: run 5.)
        from stats.model import sample

        model.build()
        idata = sample.Sampler(model.backend.model, settings).draw(settings, settings.seed)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    post = idata["posterior"]
    draws = {
        "a": post["Intercept"],
        "b_greet": post["greeting"],
        "b_n": post["x_n"],
        "b_lr": post["x_lr"],
        "b_base": post["base"],
        "b_control": post["control"],
        "sd_word": post["1|word_sigma"],
        "sd_run": post["1|run_sigma"],
    }
    chains = post.sizes["chain"]
    draws = {k: np.asarray(v.values).ravel() for k, v in draws.items()}
    divergences = int(np.asarray(idata["sample_stats"]["diverging"].values).sum())
    out = _summary("Bernoulli rows (bambi)", backend, seconds, draws, chains)
    return out | {
        "replicate": replicate,
        "rows": len(rows),
        "total_s": seconds,
        "cpu_s": cpu,
        "divergences": divergences,
    }


def _summary(label: str, backend: str, seconds: float, draws: dict, chains: int) -> dict:
    """Mean, sd and Monte Carlo standard error (from the bulk ESS) of each compared draw."""
    from arviz_stats.base import array_stats

    out: dict[str, Any] = {"label": label, "backend": backend, "seconds": seconds}
    for name, values in draws.items():
        values = np.asarray(values, dtype=float)
        ess = float(array_stats.ess(values.reshape(chains, -1), method="bulk"))
        out[f"{name}_mean"] = float(values.mean())
        out[f"{name}_sd"] = float(values.std())
        out[f"{name}_ess"] = ess
        out[f"{name}_mcse"] = float(values.std() / np.sqrt(ess))
    return out


# ----------------------------------------------------------------------------- orchestration
def run_worker(args: list[str], compiledir: Path, study: Path) -> dict:
    """Run a worker in a fresh process with its own PyTensor compile cache.

    Adds ``process_s`` (wall time of the whole process: interpreter start, imports, work)
    and the 1-minute load average before and after.
    """
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"blas__ldflags=,base_compiledir={compiledir}"
    load_before = _load()
    start, cpu = time.perf_counter(), cpu_seconds()
    out = subprocess.run(
        [sys.executable, str(HERE), "--study", str(study), "--worker", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    process, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return row | {
        "process_s": process,
        "process_cpu_s": cpu,
        "load_before": load_before,
        "load_after": _load(),
    }


def code_state() -> str:
    """Commit measured, and whether the model code had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src/stats/model"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [p for p in dirty if p.startswith("src/")]
    if not changed:
        return f"commit {head}"
    return f"commit {head} plus uncommitted changes to {', '.join(changed)}"


def backends(choice: str) -> list[str]:
    """``pymc``, ``nutpie`` or both (``all``: PyMC always, nutpie when importable)."""
    if choice != "all":
        return [choice]
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return ["pymc"]
    return ["pymc", "nutpie"]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--worker``, one measurement in this process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--trials", type=Path, default=config.Artifacts().trials)
    parser.add_argument("--study", type=Path, default=config.STUDY_PATH)
    parser.add_argument("--backend", default="all", choices=["all", "pymc", "nutpie"])
    parser.add_argument("--warm-repeats", type=int, default=2)
    parser.add_argument("--skip-timing", action="store_true", help="only the bambi comparison")
    parser.add_argument("--skip-bambi", action="store_true", help="only the fit times")
    parser.add_argument(
        "--replicate",
        type=int,
        nargs="+",
        default=[1],
        help="bambi comparison also with every trial repeated this many times",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the rows of earlier invocations in --out that this one does not re-measure",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite models.md and models.png"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        study = args.study
        result = {
            "fit": lambda: worker_fit(rest[0], Path(rest[1]), rest[2], study),
            "cells": lambda: worker_cells(Path(rest[0]), rest[1], study, int(rest[2])),
            "bambi": lambda: worker_bambi(Path(rest[0]), rest[1], study, int(rest[2])),
        }[kind]()
        print(json.dumps(result))
        return
    if args.report_only:
        timing = pd.read_csv(args.out / "models.csv", keep_default_na=False)
        comparison = pd.read_csv(args.out / "models_bambi.csv", keep_default_na=False)
        runs = json.loads((args.out / "models_run.json").read_text())
        write_results(timing, comparison, runs, args.out)
        return
    command = (
        "PYTENSOR_FLAGS=blas__ldflags= uv run --no-sync --with bambi --with nutpie "
        + (
            "python benchmarks/bench_models.py " + " ".join(sys.argv[1:] if argv is None else argv)
        ).strip()
    )
    started = time.perf_counter()
    chosen = backends(args.backend)
    timing, comparison, runs = _earlier(args.out, args.keep, chosen, args)
    run = {"command": command, "code": code_state(), "load_start": _fmt_load(os.getloadavg())}
    runs.append(run)

    def save() -> None:
        run.update(minutes=(time.perf_counter() - started) / 60)
        run.update(load_end=_fmt_load(os.getloadavg()))
        write_results(pd.DataFrame(timing), pd.DataFrame(comparison), runs, args.out)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        info = study_cells(args.trials, args.study, work)
        study = info["study"]
        run.update(
            source=info["source"],
            trials=info["trials"],
            outcome=study.outcome,
            k=study.k,
            study=study.source,
            sampler=asdict(study.sampler),
            sampler_m1=asdict(study.sampler_for("M1")),
        )
        if not args.skip_timing:
            for backend in chosen:
                for model in ("M1", "M2"):
                    cache = work / f"pytensor-{backend}-{model}"
                    cells = str(info["m1" if model == "M1" else "m2"])
                    for state in ["cold"] + ["warm"] * args.warm_repeats:
                        row = run_worker(["fit", model, cells, backend], cache, args.study)
                        timing.append(row | {"state": state, "run": len(runs)})
                        print({k: row[k] for k in ("model", "backend", "fit_s")}, state)
                        save()
        if not args.skip_bambi:
            for backend, replicate in product(chosen, args.replicate):
                cache = work / f"pytensor-compare-{backend}"
                for kind in ("cells", "bambi"):
                    job = [kind, str(info["m1"]), backend, str(replicate)]
                    if replicate == args.replicate[0]:  # fill the compile cache (cheaply)
                        run_worker([*job[:-1], "1"], cache, args.study)
                    row = run_worker(job, cache, args.study)
                    comparison.append(row | {"run": len(runs)})
                    print({k: row[k] for k in ("label", "backend", "replicate", "seconds")})
                    save()
    save()


def _earlier(
    out: Path, keep: bool, chosen: list[str], args: argparse.Namespace
) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows and runs of earlier invocations kept by ``--keep`` (minus what is re-measured)."""
    if not keep or not (out / "models_run.json").exists():
        return [], [], []
    runs = json.loads((out / "models_run.json").read_text())
    timing, comparison = [], []
    if (out / "models.csv").exists():
        frame = pd.read_csv(out / "models.csv", keep_default_na=False)
        if not args.skip_timing:
            frame = frame[~frame["backend"].isin(chosen)]
        timing = frame.to_dict("records")
    if (out / "models_bambi.csv").exists():
        frame = pd.read_csv(out / "models_bambi.csv", keep_default_na=False)
        if not args.skip_bambi:
            again = frame["backend"].isin(chosen) & frame["replicate"].isin(args.replicate)
            frame = frame[~again]
        comparison = frame.to_dict("records")
    return timing, comparison, runs


# ----------------------------------------------------------------------------- results
def pairs(comparison: pd.DataFrame):
    """``(backend, replicate, cells row, bambi row)`` per comparison (None: not measured).

    The cells' sampler is named with its mass matrix (``pymc-diag``), bambi's is not.
    """
    sampler = comparison["backend"].str.split("-").str[0].rename("sampler")
    for (backend, replicate), group in comparison.groupby([sampler, "replicate"], sort=False):
        cells = group[group["label"].str.startswith("binomial")]
        bambi = group[group["label"].str.startswith("Bernoulli")]
        yield (
            backend,
            replicate,
            cells.iloc[-1] if len(cells) else None,
            bambi.iloc[-1] if len(bambi) else None,
        )


def agreement(comparison: pd.DataFrame) -> pd.DataFrame:
    """Cell fit minus bambi per backend and parameter, in MCSE and posterior-sd units."""
    rows = []
    for backend, replicate, cells, bambi in pairs(comparison):
        if cells is None or bambi is None:
            continue
        for name in COMPARED:
            diff = cells[f"{name}_mean"] - bambi[f"{name}_mean"]
            rows.append(
                {
                    "backend": backend,
                    "replicate": replicate,
                    "parameter": name,
                    "cells_mean": cells[f"{name}_mean"],
                    "cells_sd": cells[f"{name}_sd"],
                    "bambi_mean": bambi[f"{name}_mean"],
                    "bambi_sd": bambi[f"{name}_sd"],
                    "difference": diff,
                    "z_mcse": diff / np.hypot(cells[f"{name}_mcse"], bambi[f"{name}_mcse"]),
                    "in_sd": diff
                    / np.sqrt((cells[f"{name}_sd"] ** 2 + bambi[f"{name}_sd"] ** 2) / 2),
                    "sd_ratio": cells[f"{name}_sd"] / bambi[f"{name}_sd"],
                }
            )
    return pd.DataFrame(rows)


def figure(timing: pd.DataFrame, agree: pd.DataFrame, path: Path) -> None:
    """Fit times (left) and cell vs bambi posterior means +- sd (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (not timing.empty) + (not agree.empty)
    if panels == 0:
        return
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.8), squeeze=False)
    axes = list(axes[0])
    if not timing.empty:
        ax = axes.pop(0)
        best = timing.groupby(["model", "backend", "state"], sort=False)["fit_s"].min()
        labels = [f"{m} {b}\n{s}" for m, b, s in best.index]
        colors = ["#b0413e" if s == "cold" else "#33658a" for _, _, s in best.index]
        ax.barh(range(len(best)), best.to_numpy(), color=colors)
        ax.set_yticks(range(len(best)), labels, fontsize=7)
        ax.axvline(M1_WARM_TARGET, color="0.3", ls="--", lw=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("fit_model seconds (build + compile + sample + gates)")
        ax.set_title("Fit times (red: cold, blue: warm; dashed: 15 s)", fontsize=9)
    if not agree.empty:
        ax = axes.pop(0)
        first = agree[agree["replicate"] == agree["replicate"].min()]
        for j, (backend, group) in enumerate(first.groupby("backend", sort=False)):
            y = np.arange(len(group)) + 0.15 * (2 * j - 1)
            ax.errorbar(
                group["cells_mean"],
                y - 0.05,
                xerr=group["cells_sd"],
                fmt="o",
                ms=3,
                color="#33658a",
                label=f"cells ({backend}, {'upper' if j == 0 else 'lower'})",
                alpha=1.0 if j == 0 else 0.55,
            )
            ax.errorbar(
                group["bambi_mean"],
                y + 0.05,
                xerr=group["bambi_sd"],
                fmt="s",
                ms=3,
                color="#d08c3c",
                label=f"bambi rows ({backend}, {'upper' if j == 0 else 'lower'})",
                alpha=1.0 if j == 0 else 0.55,
            )
            ax.set_yticks(np.arange(len(group)), group["parameter"], fontsize=8)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.invert_yaxis()
        ax.legend(fontsize=7)
        ax.set_title("Posterior mean +- sd: cells vs bambi", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt_load(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def write_results(
    timing: pd.DataFrame, comparison: pd.DataFrame, runs: list[dict], out: Path
) -> None:
    """``models.csv``, ``models_bambi.csv``, ``models_run.json``, ``models.png``, ``models.md``.

    Called after every measurement, so an interrupted run keeps what it measured.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "models_run.json").write_text(json.dumps(runs, indent=2) + "\n")
    last = runs[-1]
    s = last.get("sampler", {})
    lines = [
        "# Model fit times and the bambi comparison",
        "",
        "Invocations (the `run` column of the tables; 2 cores shared with other jobs, so "
        "wall times vary with load: CPU seconds are given beside them):",
        "",
    ]
    for i, run in enumerate(runs, start=1):
        lines.append(
            f"{i}. `{run['command']}`: {run.get('minutes', 0):.1f} min; load average "
            f"(1, 5, 15 min) {run['load_start']} at start, {run.get('load_end', '?')} at the "
            f"end; code: {run['code']}." + (f" **{run['note']}**" if run.get("note") else "")
        )
    lines += [
        "",
        f"Data: {last.get('source')}, {last.get('trials', 0):,} modelled trials (outcome "
        f"`{last.get('outcome')}`, k = {last.get('k')}). Sampler settings of "
        f"`{last.get('study')}`: {s.get('chains')} chains x {s.get('draws')} draws + "
        f"{s.get('tune')} tune, target_accept {s.get('target_accept')}, seed {s.get('seed')}, "
        f"mass matrix of PyMC's NUTS {s.get('mass_matrix', 'diag')}"
        + (
            f"; M1 and the comparison model: {s1['tune']} tune, mass matrix {s1['mass_matrix']} "
            "(`sampler.per_model`)."
            if (s1 := last.get("sampler_m1")) and s1 != s
            else "."
        ),
    ]
    if not timing.empty:
        timing.to_csv(out / "models.csv", index=False)
        lines += [
            "",
            "## Fit times (fit cache disabled)",
            "",
            "Each row is a fresh process. *cold*: empty PyTensor compile cache; *warm*: the "
            "cache the cold run filled. `fit` = `fit_model` (build + compile + sample + gates "
            "and PSIS-LOO), `sample` = build + compile + sampler call, `process` = the "
            "whole process (interpreter start and imports included; from run 7 on, PyMC and "
            "ArviZ are imported before `fit` starts, as bambi's side always did; before, `fit` "
            "included about 5 s of those imports); load = 1-minute load "
            "average when the process started; `fit CPU` = CPU seconds (user + system, "
            "sampler processes and threads included) of the `fit` step: on an idle 2-core "
            "machine the wall time would be about the larger of CPU / 2 and the serial "
            "part (compilation).",
            "",
            "| run | model | backend | state | cells | fit s | fit CPU s | sample s | "
            "process s | load | converged | divergences | min ESS bulk |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in timing.itertuples():
            lines.append(
                f"| {r.run} | {r.model} | {r.backend} | {r.state} | {r.cells} | {r.fit_s:.1f} | "
                f"{r.fit_cpu_s:.1f} | {r.sample_s:.1f} | {r.process_s:.1f} | "
                f"{r.load_before:.1f} | {r.converged} | {r.divergences} | "
                f"{r.min_ess_bulk:.0f} |"
            )
        warm = timing[(timing["model"] == "M1") & (timing["state"] == "warm")]
        for backend, group in warm.groupby("backend", sort=False):
            # the newest run only: what a fit includes changed between runs (run 7)
            group = group[group["run"] == group["run"].max()]
            best = group["fit_s"].min()
            verdict = "meets" if best < M1_WARM_TARGET else "misses"
            lines.append("")
            lines.append(
                f"M1 warm ({backend}, run {group['run'].iloc[0]}): {best:.1f} s wall "
                f"(best of {len(group)}: "
                f"{', '.join(f'{v:.1f}' for v in group['fit_s'])}; load "
                f"{', '.join(f'{v:.1f}' for v in group['load_before'])}), "
                f"{group['fit_cpu_s'].min():.1f} CPU s: **{verdict}** the "
                f"< {M1_WARM_TARGET:.0f} s target at this load."
            )
        lines += ["", "Terms fitted:", ""]
        for (model, terms), _ in timing.groupby(["model", "terms"], sort=False):
            lines.append(f"- {model}: `{terms}`")
    agree = pd.DataFrame()
    if not comparison.empty:
        comparison = comparison.astype({"replicate": int})
        comparison.to_csv(out / "models_bambi.csv", index=False)
        agree = agreement(comparison)
        lines += [
            "",
            "## Same model: binomial cells (this package) vs Bernoulli rows (bambi)",
            "",
            f"bambi formula `{BAMBI_FORMULA}` on one row per trial (`center_predictors=False`, "
            "non-centred group effects), priors as M1: intercept Normal(logit 0.05, 1.5), "
            "slopes Normal(0, 1) on the package's standardised inputs (Gelman scaling), arm "
            "offsets Normal(0, 1.5) (finetuned is the reference: `base`, `control` are "
            "indicators), word and run effects Normal(0, sd) with sd ~ HalfNormal(1). The "
            "package fits the same model (M1 without the prompt, word x baseline and word x "
            "greeting terms, iid rather than zero-sum word effects) on binomial cells. Both "
            "warm (second fresh process on a filled compile cache); seconds = coding + model "
            "construction + compile + sampling (the package's gates and LOO excluded, as "
            "bambi computes neither).",
            "",
            "`replicate` r: every trial repeated r times (r = 1 is the study as it is; "
            "r = 10 keeps the 346 cells and makes ten times the rows), to show how the cost "
            "of each representation grows with trials per cell.",
            "",
            "| run | sampler | replicate | data | rows | seconds | CPU s | process s | load | "
            "divergences | speed-up (wall) | speed-up (CPU) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        verdicts = []
        for backend, replicate, cells, bambi in pairs(comparison):
            if cells is None or bambi is None:
                r = cells if bambi is None else bambi
                lines.append(
                    f"| {r['run']} | {backend} | {replicate} | {r['label']} | {r['rows']:,} | "
                    f"{r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['process_s']:.1f} | "
                    f"{r['load_before']:.1f} | {r['divergences']} | (other side not "
                    "measured) | |"
                )
                continue
            ratio = bambi["seconds"] / cells["seconds"]
            ratio_cpu = bambi["cpu_s"] / cells["cpu_s"]
            for r, speed in ((cells, (ratio, ratio_cpu)), (bambi, (1.0, 1.0))):
                lines.append(
                    f"| {r['run']} | {backend} | {replicate} | {r['label']} | {r['rows']:,} | "
                    f"{r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['process_s']:.1f} | "
                    f"{r['load_before']:.1f} | {r['divergences']} | {speed[0]:.1f}x | "
                    f"{speed[1]:.1f}x |"
                )
            met = "meets" if min(ratio, ratio_cpu) >= SPEEDUP_TARGET else "misses"
            verdicts.append(
                f"- {backend}, replicate {replicate}: cells {ratio:.1f}x faster than bambi's "
                f"rows in wall time, {ratio_cpu:.1f}x less CPU ({met} the >= "
                f"{SPEEDUP_TARGET:.0f}x target)."
            )
        lines += ["", *verdicts, ""]
        lines += [
            "Posterior agreement (cells minus bambi): difference of means in units of the "
            "combined Monte Carlo standard error (|z| < 3 expected when both sample the same "
            "posterior) and of the posterior sd; sd ratio = cells sd / bambi sd.",
            "",
            "| sampler | replicate | parameter | cells mean (sd) | bambi mean (sd) | "
            "diff / MCSE | diff / sd | sd ratio |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in agree.itertuples():
            lines.append(
                f"| {r.backend} | {r.replicate} | {r.parameter} | "
                f"{r.cells_mean:.3f} ({r.cells_sd:.3f}) | "
                f"{r.bambi_mean:.3f} ({r.bambi_sd:.3f}) | {r.z_mcse:+.2f} | {r.in_sd:+.3f} | "
                f"{r.sd_ratio:.2f} |"
            )
        if not agree.empty:
            lines += [
                "",
                f"Largest |diff / MCSE|: {agree['z_mcse'].abs().max():.2f}; largest "
                f"|diff / sd|: {agree['in_sd'].abs().max():.3f}.",
            ]
    figure(timing, agree, out / "models.png")
    lines += ["", "Figure: `models.png`."]
    (out / "models.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
