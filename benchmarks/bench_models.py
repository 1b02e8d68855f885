"""Fit times of M1 and M2 (cold and warm) and cells-vs-Bernoulli against bambi.

On the bundled default study (``data/raw``: ingested and scored into a temporary folder):

1. M1 and M2 as ``stats fit`` builds them: seconds to build + compile + sample, *cold*
   (empty PyTensor compile cache, a fresh process) and *warm* (second process, same cache),
   with PyMC's NUTS and, when installed, nutpie;
2. the same hierarchical model (``greeting + x_n + x_lr + base + control + (1|word) +
   (1|run)``, identical priors) fitted by bambi on Bernoulli rows and by this package on
   binomial cells, with the same sampler: time and posterior agreement (difference of
   means in Monte Carlo standard errors).

Writes ``benchmarks/results/models.md`` and ``models.csv``. Run (bambi and nutpie are not
in the locked environment; this overlays them without changing ``.venv``)::

    uv run --with bambi --with nutpie python benchmarks/bench_models.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config

RESULTS = config.BENCHMARK_RESULTS_DIR
HERE = Path(__file__).resolve()
COMPARED = ["b_greet", "b_n", "b_lr", "b_base", "b_control", "sd_word", "sd_run"]


# ----------------------------------------------------------------------------- data
def bundled_cells(work: Path) -> dict[str, Path]:
    """Ingest + score data/raw into ``work`` and save the M1/M2 cells as Parquet."""
    from stats.ingest import ingest
    from stats.model.pipeline import cells_from_trials, prepare_trials
    from stats.model.study import parse_study
    from stats.score import score_file

    manifest = config.MANIFEST_PATH if config.MANIFEST_PATH.exists() else None
    ingest([config.RAW_DIR], manifest, work)
    score_file(work)
    study = parse_study(None)
    trials = prepare_trials(pd.read_parquet(config.Artifacts(work).trials), study.k)
    m1, m2, _, _ = cells_from_trials(trials, study)
    paths = {"m1": work / "m1_cells.parquet", "m2": work / "m2_cells.parquet"}
    m1.to_parquet(paths["m1"])
    m2.to_parquet(paths["m2"])
    return paths


# ----------------------------------------------------------------------------- workers
def worker_fit(model: str, cells: Path, backend: str) -> dict:
    """Build, compile and sample one model; seconds split into setup and sampling."""
    start = time.perf_counter()
    from stats.model import design, fit, spec

    frame = pd.read_parquet(cells)
    data = design.m1_data(frame) if model == "M1" else design.m2_data(frame)
    model_spec = spec.m1_spec(data.layout) if model == "M1" else spec.m2_spec(data.layout)
    imported = time.perf_counter()
    result = fit.fit_model(model_spec, data, fit.SamplerSettings(backend=backend))
    total = time.perf_counter() - start
    d = result.diagnostics
    return {
        "model": model,
        "backend": result.sampler,
        "import_s": imported - start,
        "fit_s": total - (imported - start),
        "sample_s": d["seconds"],
        "total_s": total,
        "converged": d["converged"],
        "divergences": d["divergences"],
        "min_ess_bulk": d["min_ess_bulk"],
        "cells": len(data.y),
    }


def _comparison_spec(data):
    """M1 reduced to the bambi-expressible model: iid word and run effects."""
    from stats.model import spec

    full = spec.m1_spec(data.layout)
    keep = {"a", "b_greet", "b_n", "b_lr", "b_arm", "u_word", "u_run"}
    terms = tuple(
        replace(t, zero_sum=False, centred=False) if t.kind == "group" else t
        for t in full.terms
        if t.name in keep
    )
    return replace(full, terms=terms)


def worker_cells(cells: Path, backend: str) -> dict:
    """The comparison model on binomial cells (this package)."""
    from stats.model import design, fit

    data = design.m1_data(pd.read_parquet(cells))
    s = _comparison_spec(data)
    start = time.perf_counter()
    result = fit.fit_model(s, data, fit.SamplerSettings(backend=backend))
    seconds = time.perf_counter() - start
    post = result.posterior
    arms = data.coords["arm"]
    draws = {
        "b_greet": post["b_greet"],
        "b_n": post["b_n"],
        "b_lr": post["b_lr"],
        "b_base": post["b_arm"][:, arms.index("base")],
        "b_control": post["b_arm"][:, arms.index("control")],
        "sd_word": post["sd_word"],
        "sd_run": post["sd_run"],
    }
    return _summary("cells (stats)", result.sampler, seconds, draws, len(data.y), result.chains)


def _bernoulli_rows(data) -> pd.DataFrame:
    rows = pd.DataFrame(
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
    repeat = rows.loc[rows.index.repeat(data.n)].reset_index(drop=True)
    outcome = np.concatenate(
        [np.r_[np.ones(y), np.zeros(n - y)] for y, n in zip(data.y, data.n, strict=True)]
    )
    return repeat.assign(y=outcome.astype(int))


def worker_bambi(cells: Path, backend: str) -> dict:
    """The comparison model on Bernoulli rows, fitted by bambi."""
    import bambi as bmb

    from stats.model import design
    from stats.model.spec import INTERCEPT_RATE, logit

    data = design.m1_data(pd.read_parquet(cells))
    rows = _bernoulli_rows(data)
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
    model = bmb.Model(
        "y ~ greeting + x_n + x_lr + base + control + (1|word) + (1|run)",
        rows,
        family="bernoulli",
        priors=priors,
        center_predictors=False,
    )
    start = time.perf_counter()
    kwargs = dict(
        draws=config.DRAWS,
        tune=config.TUNE,
        chains=config.CHAINS,
        target_accept=config.TARGET_ACCEPT,
        random_seed=config.SEED,
        progressbar=False,
    )
    if backend == "nutpie":
        idata = model.fit(inference_method="nutpie", **kwargs)
    else:
        idata = model.fit(cores=min(config.CHAINS, os.cpu_count() or 1), **kwargs)
    seconds = time.perf_counter() - start
    post = idata["posterior"] if "posterior" in getattr(idata, "children", {}) else idata.posterior
    draws = {
        "b_greet": post["greeting"].values.ravel(),
        "b_n": post["x_n"].values.ravel(),
        "b_lr": post["x_lr"].values.ravel(),
        "b_base": post["base"].values.ravel(),
        "b_control": post["control"].values.ravel(),
        "sd_word": post["1|word_sigma"].values.ravel(),
        "sd_run": post["1|run_sigma"].values.ravel(),
    }
    chains = post.sizes["chain"]
    return _summary("Bernoulli rows (bambi)", backend, seconds, draws, len(rows), chains)


def _summary(label, backend, seconds, draws, n_rows, chains) -> dict:
    from arviz_stats.base import array_stats

    out = {"label": label, "backend": backend, "seconds": seconds, "rows": n_rows}
    for name, values in draws.items():
        values = np.asarray(values, dtype=float)
        ess = float(array_stats.ess(values.reshape(chains, -1)))
        out[f"{name}_mean"] = float(values.mean())
        out[f"{name}_sd"] = float(values.std())
        out[f"{name}_mcse"] = float(values.std() / np.sqrt(ess))
    return out


# ----------------------------------------------------------------------------- orchestration
def run_worker(args: list[str], compiledir: Path) -> dict:
    """Run a worker in a fresh process with its own PyTensor compile cache."""
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"blas__ldflags=,base_compiledir={compiledir}"
    out = subprocess.run(
        [sys.executable, str(HERE), "--worker", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def backends() -> list[str]:
    """PyMC always; nutpie when importable."""
    try:
        import nutpie  # noqa: F401
    except ImportError:
        return ["pymc"]
    return ["pymc", "nutpie"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = {
            "fit": lambda: worker_fit(rest[0], Path(rest[1]), rest[2]),
            "cells": lambda: worker_cells(Path(rest[0]), rest[1]),
            "bambi": lambda: worker_bambi(Path(rest[0]), rest[1]),
        }[kind]()
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = bundled_cells(work / "processed")
        timing = []
        for backend in backends():
            for model in ("M1", "M2"):
                cache = work / f"pytensor-{backend}-{model}"
                for state in ("cold", "warm"):
                    row = run_worker(
                        ["fit", model, str(paths["m1" if model == "M1" else "m2"]), backend], cache
                    )
                    timing.append(row | {"state": state})
                    print(row | {"state": state}, flush=True)
        comparison = []
        for backend in backends():
            cache = work / f"pytensor-compare-{backend}"
            for kind in ("cells", "bambi"):
                run_worker([kind, str(paths["m1"]), backend], cache)  # warm the cache
                row = run_worker([kind, str(paths["m1"]), backend], cache)
                comparison.append(row)
                print(
                    {k: v for k, v in row.items() if not k.endswith(("_sd", "_mcse"))}, flush=True
                )
    write_results(pd.DataFrame(timing), pd.DataFrame(comparison), args.out)


def write_results(timing: pd.DataFrame, comparison: pd.DataFrame, out: Path) -> None:
    """models.csv and models.md."""
    out.mkdir(parents=True, exist_ok=True)
    timing.to_csv(out / "models.csv", index=False)
    comparison.to_csv(out / "models_bambi.csv", index=False)
    lines = [
        "# Model fit times and the bambi comparison",
        "",
        "Made by `uv run --with bambi --with nutpie python benchmarks/bench_models.py` on the "
        f"bundled default study; {config.CHAINS} chains x {config.DRAWS} draws + {config.TUNE} "
        f"tune, target_accept {config.TARGET_ACCEPT}; 2 cores shared with other work (times "
        "vary with load). *cold*: fresh process, empty PyTensor compile cache; *warm*: fresh "
        "process, cache filled. `fit_s` = build + compile + sample (+ gates and LOO); "
        "`sample_s` = the sampler call.",
        "",
        "| model | backend | state | cells | fit_s | sample_s | converged | divergences | min ESS bulk |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in timing.itertuples():
        lines.append(
            f"| {r.model} | {r.backend} | {r.state} | {r.cells} | {r.fit_s:.1f} | "
            f"{r.sample_s:.1f} | {r.converged} | {r.divergences} | {r.min_ess_bulk:.0f} |"
        )
    lines += ["", "## Same model: binomial cells (this package) vs Bernoulli rows (bambi)", ""]
    lines += [
        "Model: `logit p = a + b_greet*greeting + b_n*x_n + b_lr*x_lr + b_base + b_control + "
        "u_word + u_run`, iid normal word and run effects, priors as M1 (bambi: "
        "`center_predictors=False`, same standardised inputs). Difference of posterior means "
        "in units of the combined Monte Carlo standard error.",
        "",
        "| sampler | data | rows | seconds | speed-up |" + "".join(f" {c} |" for c in COMPARED),
        "|---|---|---|---|---|" + "---|" * len(COMPARED),
    ]
    for backend, group in comparison.groupby("backend", sort=False):
        cells = group[group["label"].str.startswith("cells")].iloc[0]
        rows = group[group["label"].str.startswith("Bernoulli")].iloc[0]
        for r in (cells, rows):
            speed = rows["seconds"] / cells["seconds"] if r is cells else 1.0
            lines.append(
                f"| {backend} | {r['label']} | {r['rows']} | {r['seconds']:.1f} | {speed:.1f}x |"
                + "".join(f" {r[f'{c}_mean']:.3f} ({r[f'{c}_sd']:.3f}) |" for c in COMPARED)
            )
        z = [
            (cells[f"{c}_mean"] - rows[f"{c}_mean"])
            / np.hypot(cells[f"{c}_mcse"], rows[f"{c}_mcse"])
            for c in COMPARED
        ]
        lines.append(
            f"| {backend} | difference / MCSE | | | |" + "".join(f" {v:+.1f} |" for v in z)
        )
    (out / "models.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
