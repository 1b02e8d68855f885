"""Simulation-based calibration (Talts et al. 2018) of M1 on a small design.

Loop: draw every parameter from the prior with NumPy (:func:`stats.model.synthetic.draw_prior`,
an implementation independent of the PyMC builder), simulate binomial cells, fit with the
builder's model (NUTS: nutpie when installed, else PyMC), and record the rank of the true
value among ``L`` thinned posterior draws. If prior, simulator and sampler agree, ranks are
uniform on ``0..L``. Uniformity is tested per parameter with a chi-square test on
``BINS`` equal bins (and Bonferroni over parameters).

Writes ``benchmarks/results/sbc_ranks.csv`` (parameter, sim, rank, max_rank) and
``benchmarks/results/sbc.png``, and ``sbc.md`` with the test results. Run::

    PYTENSOR_FLAGS=blas__ldflags= uv run --with nutpie python benchmarks/sbc.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

from stats import config
from stats.model import design, fit, spec, synthetic

RESULTS = config.BENCHMARK_RESULTS_DIR
THIN_DRAWS = 99  # ranks 0..99
BINS = 10
#: Parameters whose calibration is checked (scalars, or name[index]).
PARAMETERS = ["a", "b_lr", "b_greet", "b_arm[0]", "sd_word", "sd_run", "u_word[0]", "d_word[0]"]


def small_design() -> design.ModelData:
    """3 words x 2 LR x 2 runs, greeting on/off, one base model, 10 samples per prompt."""
    groups = synthetic.design_grid(
        ["HELLO", "SHINE", "PULSE"],
        lr_multipliers=(1.0, 10.0),
        runs_per_cell=2,
        prompts_per_greeting=1,
        samples_per_prompt=10,
        base_runs=1,
    )
    cells = groups.rename(columns={"samples": "trials"}).assign(successes=0)
    return design.m1_data(cells)


def pick(params: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Draws of ``name`` or ``name[index]``."""
    if "[" in name:
        base, index = name[:-1].split("[")
        return params[base][:, int(index)]
    return params[name]


def run(n_sims: int, settings: fit.SamplerSettings, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranks of the true values and per-fit diagnostics."""
    data = small_design()
    layout = data.layout
    model_spec = spec.m1_spec(layout)
    refitter = fit.Refitter(model_spec, data, settings)
    rng = np.random.default_rng(seed)
    ranks, fits = [], []
    for sim in range(n_sims):
        truth = synthetic.draw_prior(model_spec, data, rng, 1)
        y = synthetic.simulate_binomial(model_spec, data, truth, rng)
        result = refitter.fit(y, data.n, seed + sim)
        total = result.n_draws
        keep = np.linspace(0, total - 1, THIN_DRAWS).astype(int)
        for name in PARAMETERS:
            draws = pick(result.posterior, name)[keep]
            ranks.append((name, sim, int((draws < pick(truth, name)[0]).sum()), THIN_DRAWS))
        d = result.diagnostics
        fits.append(
            {
                "sim": sim,
                "converged": d["converged"],
                "divergences": d["divergences"],
                "max_rhat": d["max_rhat"],
                "seconds": d["seconds"],
            }
        )
        print(f"sim {sim:4d} {d['seconds']:5.1f}s converged={d['converged']}", flush=True)
    return (
        pd.DataFrame(ranks, columns=["parameter", "sim", "rank", "max_rank"]),
        pd.DataFrame(fits),
    )


def uniformity(ranks: pd.DataFrame) -> pd.DataFrame:
    """Chi-square test of rank uniformity per parameter."""
    rows = []
    for name, group in ranks.groupby("parameter", sort=False):
        edges = np.linspace(0, THIN_DRAWS + 1, BINS + 1)
        counts, _ = np.histogram(group["rank"], bins=edges)
        test = sps.chisquare(counts)
        rows.append(
            {
                "parameter": name,
                "n": len(group),
                "chi2": float(test.statistic),
                "df": BINS - 1,
                "p_value": float(test.pvalue),
            }
        )
    table = pd.DataFrame(rows)
    table["p_bonferroni"] = np.minimum(1.0, table["p_value"] * len(table))
    return table


def figure(ranks: pd.DataFrame, path: Path) -> None:
    """Rank histograms with the 99% band of a uniform histogram."""
    names = list(dict.fromkeys(ranks["parameter"]))
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), sharey=True)
    n = ranks["sim"].nunique()
    low, high = sps.binom.ppf([0.005, 0.995], n, 1 / BINS)
    for ax, name in zip(np.ravel(axes), names, strict=False):
        values = ranks.loc[ranks["parameter"] == name, "rank"]
        ax.axhspan(low, high, color="0.85")
        ax.hist(values, bins=np.linspace(0, THIN_DRAWS + 1, BINS + 1), color="#33658a")
        ax.set_title(name, fontsize=9)
    for ax in np.ravel(axes)[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"SBC rank histograms, M1 small design ({n} simulations; grey: 99% band)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--draws", type=int, default=config.DRAWS)
    parser.add_argument("--tune", type=int, default=config.TUNE)
    parser.add_argument("--backend", default="auto", choices=fit.BACKENDS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = fit.SamplerSettings(
        draws=args.draws, tune=args.tune, seed=config.SEED, backend=args.backend
    )
    start = time.perf_counter()
    ranks, fits = run(args.sims, settings, config.SEED)
    seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    ranks.to_csv(args.out / "sbc_ranks.csv", index=False)
    figure(ranks, args.out / "sbc.png")
    table = uniformity(ranks)
    lines = [
        "# Simulation-based calibration of M1",
        "",
        f"`benchmarks/sbc.py`: {args.sims} simulations from the prior on a small design "
        f"(3 words x 2 LR x 2 runs, greeting on/off, 1 base model, 10 samples per prompt), "
        f"{settings.chains} chains x {settings.draws} draws ({fits['seconds'].sum() / 60:.1f} "
        f"min sampling, {seconds / 60:.1f} min in all; sampler {refit_backend(fits)}), ranks "
        f"among {THIN_DRAWS} thinned draws, chi-square on {BINS} bins.",
        "",
        f"Fits passing every gate: {fits['converged'].mean():.1%}; fits with divergences: "
        f"{(fits['divergences'] > 0).mean():.1%} (all fits are kept: dropping them would bias SBC).",
        "",
        "| parameter | n | chi2 (df 9) | p | p (Bonferroni) |",
        "|---|---|---|---|---|",
        *[
            f"| {r.parameter} | {r.n} | {r.chi2:.1f} | {r.p_value:.3f} | {r.p_bonferroni:.3f} |"
            for r in table.itertuples()
        ],
        "",
        f"Smallest Bonferroni-adjusted p: {table['p_bonferroni'].min():.3f} "
        f"({'no evidence against uniform ranks at 5%' if table['p_bonferroni'].min() > 0.05 else 'non-uniform ranks: investigate'}).",
    ]
    (args.out / "sbc.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def refit_backend(fits: pd.DataFrame) -> str:
    """Sampler name for the report (nutpie when importable)."""
    return "nutpie" if fit.nutpie_available() else "pymc"


if __name__ == "__main__":
    main()
