"""Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023) of M1 on a small design.

Loop: draw every parameter from the prior with NumPy (:func:`stats.model.synthetic.draw_prior`,
an implementation independent of the PyMC builder), simulate binomial cells
(:func:`stats.model.synthetic.simulate_binomial`), fit with the builder's model (NUTS: nutpie
through :class:`stats.model.refit.Refitter` when installed, else PyMC's NUTS with one compiled
step reused for every fit), and record the rank of the true value among ``L`` thinned
posterior draws. If prior, simulator, builder and sampler agree, ranks are uniform on
``0..L``. Checked quantities: every scalar parameter, the first level of every vector
parameter, and the log-likelihood of the simulated cells (a data-dependent test quantity,
Modrak et al. 2023).

Uniformity is tested per quantity with the ECDF test of Saeilynoja, Buerkner and Vehtari
(2022) (the simultaneous band of the ECDF-difference plot; its p-value by simulation) and,
as a second opinion, a chi-square test on ``BINS`` equal bins; each family is
Bonferroni-adjusted over quantities.

Convergence gates (analysis plan, section 4) are recorded for every fit. A fit that fails
them is refitted once with twice the draws and tuning steps (new seed), and the ranks of
the last attempt are kept whatever its gates say: every simulation contributes, because
dropping the hard ones would bias the ranks. The tests are also reported on the
simulations whose final fit passed every gate.

Writes ``benchmarks/results/sbc_ranks.csv`` (quantity, sim, rank, max_rank, truth),
``sbc_fits.csv`` (per-simulation diagnostics and attempts), ``sbc.png`` (ECDF differences
with 95% simultaneous bands), ``sbc_hist.png`` (rank histograms) and ``sbc.md``. Run::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/sbc.py
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from threadpoolctl import threadpool_limits

from stats import config
from stats.model import design, refit, spec, synthetic
from stats.model.diagnostics import diagnose, gated_parameter_names
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.sample import (
    BACKENDS,
    MASS_MATRICES,
    SamplerSettings,
    nutpie_available,
)
from stats.model.sample import Sampler as ModelSampler
from stats.model.spec import ModelSpec

RESULTS = config.BENCHMARK_RESULTS_DIR
#: Posterior draws kept per fit (evenly spaced over all chains): ranks run over ``0..THIN``.
THIN_DRAWS = 99
#: Bins of the chi-square test (``THIN_DRAWS + 1`` rank values split evenly).
BINS = 10
#: Family-wise level of the uniformity tests (Bonferroni over quantities).
ALPHA = 0.05
#: Null simulations of the ECDF test statistic.
ECDF_NULL_SIMS = 20_000
#: Name of the data-dependent test quantity.
LOGLIK = "loglik"


# ----------------------------------------------------------------------------- design
@dataclass(frozen=True)
class Design:
    """A small simulated study: fine-tuned runs per word x LR, greeting on/off, base runs.

    Parameters
    ----------
    words : tuple of str
    lr_multipliers : tuple of float
    runs_per_cell : int
        Fine-tuned runs per word x LR multiplier.
    samples_per_prompt : int
        Trials per run x prompt (one prompt per greeting level).
    base_runs : int
        Untuned runs answering the prompts of every word (0: no baseline arm).
    """

    words: tuple[str, ...] = ("HELLO", "SHINE", "PULSE")
    lr_multipliers: tuple[float, ...] = (1.0, 10.0)
    runs_per_cell: int = 2
    samples_per_prompt: int = 10
    base_runs: int = 1

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"{len(self.words)} words x {len(self.lr_multipliers)} LR x {self.runs_per_cell} "
            f"runs, greeting on/off, {self.base_runs} base model(s), "
            f"{self.samples_per_prompt} samples per prompt"
        )

    def data(self) -> design.ModelData:
        """The design coded for M1 (all counts zero; the simulations fill them)."""
        groups = synthetic.design_grid(
            list(self.words),
            lr_multipliers=self.lr_multipliers,
            runs_per_cell=self.runs_per_cell,
            prompts_per_greeting=1,
            samples_per_prompt=self.samples_per_prompt,
            base_runs=self.base_runs,
            follow_rate=None,
        )
        cells = groups.rename(columns={"samples": "trials"}).assign(successes=0)
        return design.m1_data(cells)


SMALL = Design()
TINY = Design(words=("HELLO", "SHINE"), samples_per_prompt=10)


def small_design() -> design.ModelData:
    """The benchmark's design (:data:`SMALL`) coded for M1."""
    return SMALL.data()


def quantities(model_spec: ModelSpec) -> list[str]:
    """Checked quantities: scalars, the first level of vectors, sds, and the log-likelihood."""
    names: list[str] = []
    for term in model_spec.terms:
        if term.kind in ("intercept", "slope"):
            names.append(term.name)
        elif term.kind == "contrast":
            names.append(f"{term.name}[0]")
        elif term.kind == "group":
            names += [term.sd_name, f"{term.name}[0]"] if term.sd_free else [f"{term.name}[0]"]
    return [*names, LOGLIK]


def pick(params: dict[str, np.ndarray], name: str) -> np.ndarray:
    """Draws of ``name`` or ``name[index]`` (a leading draw axis)."""
    if "[" in name:
        base, index = name[:-1].split("[")
        return params[base][:, int(index)]
    return params[name]


def loglik(
    model_spec: ModelSpec, data: design.ModelData, params: dict[str, np.ndarray], y: np.ndarray
) -> np.ndarray:
    """Binomial log-likelihood (up to a constant) of counts ``y`` under each draw of ``params``."""
    eta = linear_predictor(model_spec, params, data.rows, DRAWS)
    return (y * eta - data.n * np.logaddexp(0.0, eta)).sum(axis=1)


# ----------------------------------------------------------------------------- samplers
@dataclass
class Draws:
    """Posterior draws (stacked over chains) and the gate diagnostics of one fit."""

    posterior: dict[str, np.ndarray]
    diagnostics: dict[str, Any]


#: ``sampler(y, seed, attempt) -> Draws``; attempt 0 uses the base settings, 1 the retry's.
Sampler = Callable[[np.ndarray, int, int], Draws]


def retry_settings(settings: SamplerSettings) -> SamplerSettings:
    """Settings of the one retry of a fit that failed a gate: twice the draws and tuning."""
    return replace(settings, draws=2 * settings.draws, tune=2 * settings.tune)


def nutpie_sampler(
    model_spec: ModelSpec, data: design.ModelData, settings: SamplerSettings
) -> Sampler:
    """The project's :class:`~stats.model.refit.Refitter` (nutpie: compiled once, ``with_data``)."""
    # retries=0: the SBC loop makes its own one retry and records the first attempt's gates
    first = refit.Refitter(model_spec, data, replace(settings, backend="nutpie", retries=0))
    second = copy.copy(first)  # shares the compiled model
    second.settings = retry_settings(first.settings)

    def sample(y: np.ndarray, seed: int, attempt: int) -> Draws:
        result = (first if attempt == 0 else second).fit(y, data.n, seed)
        return Draws(result.posterior, dict(result.diagnostics))

    return sample


def pymc_sampler(
    model_spec: ModelSpec, data: design.ModelData, settings: SamplerSettings
) -> Sampler:
    """PyMC's NUTS on the builder's model, compiled once and reused for every fit.

    ``pm.sample`` compiles the log-density and its gradient at every call (about 6 s of
    graph rewriting on this model, measured), which dominates a small fit. A NUTS step built
    once reads the counts from the model's data containers, so ``pm.set_data`` is all a
    refit needs; ``pm.sample`` resets the step's adaptation at every call. Chains run one
    after another in this process (no worker start-up).
    """
    import pymc as pm

    from stats.model.build import N_DATA, Y_DATA, build_model

    logging.getLogger("pymc").setLevel(logging.ERROR)
    model = build_model(model_spec, data, mutable_counts=True)
    nuts = ModelSampler(model, replace(settings, backend="pymc"))
    nuts.nuts_step(settings)
    names = sorted({*_effect_names(model_spec), *gated_parameter_names(model_spec)})

    def sample(y: np.ndarray, seed: int, attempt: int) -> Draws:
        s = settings if attempt == 0 else retry_settings(settings)
        start = time.perf_counter()
        with model:
            pm.set_data({Y_DATA: np.asarray(y, float), N_DATA: np.asarray(data.n, float)})
            with threadpool_limits(limits=1, user_api="blas"):  # as stats.model.sample.Sampler
                idata = pm.sample(
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    cores=1,
                    step=nuts.nuts_step(s),  # a retry's target_accept gets its own step
                    random_seed=seed,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
        diagnostics = diagnose(idata, model_spec, synthetic.with_counts(data, y))
        diagnostics["seconds"] = time.perf_counter() - start
        diagnostics["sampler"] = f"pymc-{settings.mass_matrix}"
        posterior = idata["posterior"]
        draws = {
            name: np.asarray(posterior[name].values).reshape(-1, *posterior[name].shape[2:])
            for name in names
        }
        return Draws(draws, diagnostics)

    return sample


def _effect_names(model_spec: ModelSpec) -> list[str]:
    """Every value the linear predictor reads, plus the sds."""
    names = [t.name for t in model_spec.terms]
    names += [t.sd_name for t in model_spec.terms if t.sd_name]
    return names


def make_sampler(
    model_spec: ModelSpec, data: design.ModelData, settings: SamplerSettings
) -> tuple[Sampler, str]:
    """The sampler for ``settings.backend`` (``auto``: nutpie when importable) and its name."""
    use_nutpie = settings.backend == "nutpie" or (settings.backend == "auto" and nutpie_available())
    if use_nutpie:
        return nutpie_sampler(model_spec, data, settings), "nutpie"
    return pymc_sampler(model_spec, data, settings), f"pymc-{settings.mass_matrix}"


# ----------------------------------------------------------------------------- the loop
@dataclass
class SbcResult:
    """Ranks (long table) and one row of diagnostics per simulation."""

    ranks: pd.DataFrame
    fits: pd.DataFrame


def run(
    data: design.ModelData,
    fit_spec: ModelSpec,
    sampler: Sampler,
    n_sims: int,
    seed: int,
    *,
    truth_spec: ModelSpec | None = None,
    thin: int = THIN_DRAWS,
    retry: bool = True,
    progress: Callable[[str], None] | None = print,
) -> SbcResult:
    """Simulate from the prior, fit, and rank the truth among thinned posterior draws.

    Parameters
    ----------
    data : ModelData
        The design (its counts are replaced by each simulation).
    fit_spec : ModelSpec
        The model the sampler fits (fixed over simulations).
    sampler : callable
        ``sampler(y, seed, attempt) -> Draws`` (:func:`make_sampler`).
    n_sims : int
    seed : int
        Simulation ``i`` draws from ``default_rng([seed, i])`` and samples with seed
        ``seed + i`` (``+ 1_000_000`` on the retry).
    truth_spec : ModelSpec, optional
        Prior the truths are drawn from (default ``fit_spec``; another spec gives a
        deliberately mis-specified check).
    thin : int, default THIN_DRAWS
        Posterior draws kept (evenly spaced), so ranks run over ``0..thin``.
    retry : bool, default True
        Refit once with twice the draws and tuning when a gate fails.
    progress : callable or None, default print

    Returns
    -------
    SbcResult
    """
    truth_spec = truth_spec or fit_spec
    names = quantities(fit_spec)
    ranks, fits = [], []
    for sim in range(n_sims):
        rng = np.random.default_rng([seed, sim])
        truth = synthetic.draw_prior(truth_spec, data, rng, 1)
        y = synthetic.simulate_binomial(truth_spec, data, truth, rng)
        attempts, seconds = 0, 0.0
        draws = sampler(y, seed + sim, 0)
        first = draws.diagnostics
        seconds += first["seconds"]
        attempts += 1
        if retry and not first["converged"]:
            draws = sampler(y, seed + sim + 1_000_000, 1)
            seconds += draws.diagnostics["seconds"]
            attempts += 1
        d = draws.diagnostics
        total = len(next(iter(draws.posterior.values())))
        keep = np.linspace(0, total - 1, thin).astype(int)
        kept = {k: v[keep] for k, v in draws.posterior.items()}
        for name in names:
            if name == LOGLIK:
                values = loglik(fit_spec, data, kept, y)
                true = float(loglik(truth_spec, data, truth, y)[0])
            else:
                values, true = pick(kept, name), float(pick(truth, name)[0])
            ranks.append((name, sim, int((values < true).sum()), thin, true))
        fits.append(
            {
                "sim": sim,
                "attempts": attempts,
                "converged_first": bool(first["converged"]),
                "failed_first": "; ".join(first["failed"]),
                "converged": bool(d["converged"]),
                "failed": "; ".join(d["failed"]),
                "divergences": int(d["divergences"]),
                "max_rhat": float(d["max_rhat"]),
                "min_ess_bulk": float(d["min_ess_bulk"]),
                "min_ess_tail": float(d["min_ess_tail"]),
                "min_bfmi": float(d["min_bfmi"]),
                "draws_total": total,
                "thinning_ok": bool(d["min_ess_bulk"] >= thin),
                "seconds": seconds,
                "sampler": d.get("sampler", ""),
                "successes": int(np.sum(y)),
            }
        )
        if progress is not None:
            progress(
                f"sim {sim:4d} {seconds:5.1f}s attempts={attempts} converged={d['converged']}"
                + (f" ({'; '.join(d['failed'])})" if not d["converged"] else "")
            )
    return SbcResult(
        pd.DataFrame(ranks, columns=["quantity", "sim", "rank", "max_rank", "truth"]),
        pd.DataFrame(fits),
    )


# ----------------------------------------------------------------------------- uniformity
def ecdf_pointwise_p(n: int, max_rank: int) -> np.ndarray:
    """Two-sided binomial tail probability of every ECDF count, ``(max_rank, n + 1)``.

    Row ``k`` is the ECDF at rank ``k`` (``k = 0..max_rank-1``; at ``max_rank`` it is 1):
    under uniform ranks, ``n * ECDF(k) ~ Binomial(n, (k + 1) / (max_rank + 1))``.
    """
    z = (np.arange(max_rank) + 1) / (max_rank + 1)
    counts = np.arange(n + 1)
    low = sps.binom.cdf(counts[None, :], n, z[:, None])
    high = sps.binom.sf(counts[None, :] - 1, n, z[:, None])
    return np.minimum(1.0, 2 * np.minimum(low, high))


def ecdf_counts(ranks: np.ndarray, max_rank: int) -> np.ndarray:
    """ECDF counts at ranks ``0..max_rank-1`` of each row of ``ranks`` (``(m, n)`` or ``(n,)``)."""
    ranks = np.atleast_2d(ranks)
    m = ranks.shape[0]
    flat = (np.arange(m)[:, None] * (max_rank + 1) + ranks).ravel()
    hist = np.bincount(flat, minlength=m * (max_rank + 1)).reshape(m, max_rank + 1)
    return np.cumsum(hist, axis=1)[:, :max_rank]


@dataclass(frozen=True)
class EcdfNull:
    """Null distribution of the ECDF test statistic for ``n`` ranks on ``0..max_rank``.

    The statistic is the smallest pointwise two-sided binomial tail probability over the
    ECDF (Saeilynoja et al. 2022); its null distribution is simulated from uniform ranks.
    """

    n: int
    max_rank: int
    pointwise: np.ndarray
    null_statistics: np.ndarray

    @classmethod
    def simulate(cls, n: int, max_rank: int, sims: int = ECDF_NULL_SIMS, seed: int = 0):
        """Simulate ``sims`` sets of ``n`` uniform ranks (seeded)."""
        pointwise = ecdf_pointwise_p(n, max_rank)
        rng = np.random.default_rng(seed)
        stats = np.empty(sims)
        for start in range(0, sims, 2000):
            block = rng.integers(0, max_rank + 1, size=(min(2000, sims - start), n))
            counts = ecdf_counts(block, max_rank)
            stats[start : start + len(block)] = pointwise[np.arange(max_rank), counts].min(axis=1)
        return cls(n, max_rank, pointwise, np.sort(stats))

    def statistic(self, ranks: np.ndarray) -> float:
        """Smallest pointwise tail probability of the ECDF of ``ranks``."""
        counts = ecdf_counts(np.asarray(ranks), self.max_rank)[0]
        return float(self.pointwise[np.arange(self.max_rank), counts].min())

    def p_value(self, ranks: np.ndarray) -> float:
        """Share of null statistics at or below the observed one (add-one smoothed)."""
        below = np.searchsorted(self.null_statistics, self.statistic(ranks), side="right")
        return float((below + 1) / (len(self.null_statistics) + 1))

    def band(self, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
        """Simultaneous ``1 - alpha`` band of the ECDF counts at ranks ``0..max_rank-1``.

        The counts whose pointwise probability reaches the ``alpha`` quantile of the null
        statistic: an ECDF leaves the band exactly when the test rejects at ``alpha``.
        """
        gamma = np.quantile(self.null_statistics, alpha)
        inside = self.pointwise >= gamma
        counts = np.arange(self.n + 1)
        low = np.where(inside, counts[None, :], self.n).min(axis=1)
        high = np.where(inside, counts[None, :], 0).max(axis=1)
        return low, high


def chi_square(ranks: np.ndarray, max_rank: int, bins: int = BINS) -> tuple[float, float]:
    """Chi-square statistic and p-value of ``bins`` equal rank bins."""
    edges = np.linspace(0, max_rank + 1, bins + 1)
    counts, _ = np.histogram(ranks, bins=edges)
    test = sps.chisquare(counts)
    return float(test.statistic), float(test.pvalue)


def uniformity(ranks: pd.DataFrame, bins: int = BINS, seed: int = 0) -> pd.DataFrame:
    """ECDF and chi-square uniformity tests per quantity, Bonferroni-adjusted over quantities.

    Parameters
    ----------
    ranks : DataFrame
        ``quantity, sim, rank, max_rank`` (one ``max_rank``).
    bins : int, default BINS
        Bins of the chi-square test (``max_rank + 1`` should be a multiple).
    seed : int, default 0
        Seed of the ECDF null simulation.

    Returns
    -------
    DataFrame
        ``quantity, n, ecdf_p, ecdf_p_bonferroni, chi2, df, chi2_p, chi2_p_bonferroni``.
    """
    max_rank = int(ranks["max_rank"].iloc[0])
    nulls: dict[int, EcdfNull] = {}
    rows = []
    for name, group in ranks.groupby("quantity", sort=False):
        values = group["rank"].to_numpy()
        null = nulls.setdefault(len(values), EcdfNull.simulate(len(values), max_rank, seed=seed))
        chi2, chi2_p = chi_square(values, max_rank, bins)
        rows.append(
            {
                "quantity": name,
                "n": len(values),
                "ecdf_p": null.p_value(values),
                "chi2": chi2,
                "df": bins - 1,
                "chi2_p": chi2_p,
            }
        )
    table = pd.DataFrame(rows)
    for col in ("ecdf_p", "chi2_p"):
        table[f"{col}_bonferroni"] = np.minimum(1.0, table[col] * len(table))
    order = ["quantity", "n", "ecdf_p", "ecdf_p_bonferroni", "chi2", "df", "chi2_p"]
    return table[[*order, "chi2_p_bonferroni"]]


def ecdf_difference(ranks: pd.DataFrame, alpha: float = ALPHA, seed: int = 0) -> pd.DataFrame:
    """Tidy ECDF-difference curves with their simultaneous bands, for plotting.

    Returns
    -------
    DataFrame
        ``quantity, x, difference, low, high``: at fractional rank ``x = (k + 1) / (L + 1)``,
        ECDF minus ``x`` and the band's limits minus ``x``.
    """
    max_rank = int(ranks["max_rank"].iloc[0])
    x = (np.arange(max_rank) + 1) / (max_rank + 1)
    frames = []
    nulls: dict[int, EcdfNull] = {}
    for name, group in ranks.groupby("quantity", sort=False):
        values = group["rank"].to_numpy()
        n = len(values)
        null = nulls.setdefault(n, EcdfNull.simulate(n, max_rank, seed=seed))
        low, high = null.band(alpha)
        counts = ecdf_counts(values, max_rank)[0]
        frames.append(
            pd.DataFrame(
                {
                    "quantity": name,
                    "x": x,
                    "difference": counts / n - x,
                    "low": low / n - x,
                    "high": high / n - x,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- figures
def figure_ecdf(curves: pd.DataFrame, n_sims: int, path: Path, alpha: float = ALPHA) -> None:
    """ECDF-difference panels (one per quantity) with the simultaneous band shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(curves["quantity"]))
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), sharey=True)
    for ax, name in zip(np.ravel(axes), names, strict=False):
        c = curves[curves["quantity"] == name]
        ax.fill_between(c["x"], c["low"], c["high"], color="0.85", step="post", lw=0)
        ax.step(c["x"], c["difference"], where="post", color="#33658a", lw=1.2)
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(0, 1)
    for ax in np.ravel(axes)[len(names) :]:
        ax.axis("off")
    for ax in np.ravel(axes)[::cols]:
        ax.set_ylabel("ECDF - uniform")
    fig.suptitle(
        f"SBC of M1: ECDF difference of fractional ranks ({n_sims} simulations; "
        f"grey: {1 - alpha:.0%} simultaneous band)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure_histograms(ranks: pd.DataFrame, path: Path, bins: int = BINS) -> None:
    """Rank histograms with the pointwise 99% band of a uniform histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(ranks["quantity"]))
    max_rank = int(ranks["max_rank"].iloc[0])
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), sharey=True)
    n = ranks["sim"].nunique()
    low, high = sps.binom.ppf([0.005, 0.995], n, 1 / bins)
    for ax, name in zip(np.ravel(axes), names, strict=False):
        values = ranks.loc[ranks["quantity"] == name, "rank"]
        ax.axhspan(low, high, color="0.85")
        ax.hist(values, bins=np.linspace(0, max_rank + 1, bins + 1), color="#33658a")
        ax.set_title(name, fontsize=9)
    for ax in np.ravel(axes)[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"SBC rank histograms, M1 ({n} simulations; grey: pointwise 99% band)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- report
def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def report(
    ranks: pd.DataFrame,
    fits: pd.DataFrame,
    table: pd.DataFrame,
    table_first_pass: pd.DataFrame | None,
    meta: dict[str, Any],
) -> str:
    """The Markdown summary (``sbc.md``) from the ranks, the fits and the run's metadata."""
    n = len(fits)
    s = meta["settings"]
    failing_first = fits[~fits["converged_first"]]
    still = int((~fits["converged"]).sum())
    worst = table["ecdf_p_bonferroni"].min()
    verdict = (
        "no evidence against uniform ranks"
        if worst > ALPHA
        else "**non-uniform ranks: investigate**"
    )
    if meta["retry"]:
        handling = (
            "- Handling: each was refitted once with twice the draws and tuning (new seed); "
            f"**{still}** still failed after the retry{_still_failing(fits)}."
        )
    else:
        handling = f"- Handling: no retry (`--no-retry`); **{still}** fits failed a gate."
    lines = [
        "# Simulation-based calibration of M1",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"- Design: {meta['design']}; M1 terms "
        f"`{', '.join(q for q in quantities_in(ranks) if q != LOGLIK)}`"
        f" (first level of vectors) and `{LOGLIK}` (log-likelihood of the simulated cells).",
        f"- {n} simulations from the prior, sampler {meta['sampler']}, {s['chains']} chains x "
        f"{s['draws']} draws + {s['tune']} tune, target_accept {s['target_accept']}, seed "
        f"{s['seed']}; ranks among {int(ranks['max_rank'].iloc[0])} evenly thinned draws "
        f"(ranks 0..{int(ranks['max_rank'].iloc[0])}).",
        f"- Time: {meta['seconds'] / 60:.1f} min wall in all (compilation included), "
        f"{fits['seconds'].sum() / 60:.1f} min in fits (median {fits['seconds'].median():.1f} s "
        f"per simulation); load average (1, 5, 15 min) {meta['load_start']} at start, "
        f"{meta['load_end']} at the end, on 2 cores shared with other jobs.",
        "",
        "## Convergence gates",
        "",
        f"- First fits failing a gate (R-hat <= {config.MAX_RHAT}, bulk and tail ESS >= "
        f"{config.MIN_ESS}, {config.MAX_DIVERGENCES} divergences, E-BFMI >= "
        f"{config.MIN_BFMI}): **{len(failing_first)} of {n}** "
        f"({_gate_counts(fits['failed_first'])})"
        + (
            ": " + "; ".join(f"sim {r.sim}: {r.failed_first}" for r in failing_first.itertuples())
            if len(failing_first)
            else ""
        )
        + ".",
        handling,
        "- No simulation is dropped: the ranks of every simulation's last fit enter the tests "
        "below (dropping the hard posteriors would bias SBC). Sensitivity check: the same "
        "tests without the simulations whose first fit failed a gate (see the end).",
        f"- Fits with divergences (last attempt): {int((fits['divergences'] > 0).sum())}; "
        f"fits whose bulk ESS was below the number of thinned draws (thinned draws not "
        f"independent): {int((~fits['thinning_ok']).sum())}; smallest bulk ESS "
        f"{fits['min_ess_bulk'].min():.0f}, largest R-hat {fits['max_rhat'].max():.3f} "
        "(last attempts).",
        "",
        "## Rank uniformity",
        "",
        f"ECDF test with a {1 - ALPHA:.0%} simultaneous band (Saeilynoja et al. 2022; "
        f"p-value from {ECDF_NULL_SIMS:,} null simulations) and chi-square on {BINS} equal "
        f"bins (df {BINS - 1}); Bonferroni over the {len(table)} quantities.",
        "",
        _table_md(table),
        "",
        f"Smallest Bonferroni-adjusted ECDF p: {worst:.3f} ({verdict} at a family-wise "
        f"{ALPHA:.0%}); smallest Bonferroni-adjusted chi-square p: "
        f"{table['chi2_p_bonferroni'].min():.3f}.",
    ]
    if table_first_pass is not None:
        lines += [
            "",
            f"Sensitivity: without the {len(failing_first)} simulations whose first fit failed "
            f"a gate ({n - len(failing_first)} left): smallest Bonferroni-adjusted ECDF p "
            f"{table_first_pass['ecdf_p_bonferroni'].min():.3f}, chi-square "
            f"{table_first_pass['chi2_p_bonferroni'].min():.3f}.",
        ]
    lines += [
        "",
        "Figures: `sbc.png` (ECDF minus uniform CDF of the fractional ranks, grey: "
        "simultaneous band per quantity; a curve leaving it is a rejection at 5% for that "
        "quantity), `sbc_hist.png` (rank histograms). Tables: `sbc_ranks.csv` (quantity, sim, "
        "rank, max_rank, truth), `sbc_fits.csv` (gates and attempts per simulation); "
        "`sbc_run.json`: the run's settings, time and load.",
    ]
    return "\n".join(lines) + "\n"


def quantities_in(ranks: pd.DataFrame) -> list[str]:
    """Quantities in table order."""
    return list(dict.fromkeys(ranks["quantity"]))


def _gate_counts(failed: pd.Series) -> str:
    """How many first fits missed each kind of gate."""
    kinds = {"R-hat": 0, "ESS": 0, "divergences": 0, "E-BFMI": 0}
    for text in failed:
        for kind in kinds:
            if kind in text:
                kinds[kind] += 1
    return ", ".join(f"{kind}: {count}" for kind, count in kinds.items())


def _still_failing(fits: pd.DataFrame) -> str:
    """`` (sim 3: ...; sim 7: ...)`` for the simulations whose last fit failed a gate."""
    bad = fits[~fits["converged"]]
    if bad.empty:
        return ""
    return " (" + "; ".join(f"sim {r.sim}: {r.failed}" for r in bad.itertuples()) + ")"


def _table_md(table: pd.DataFrame) -> str:
    rows = [
        "| quantity | n | ECDF p | ECDF p (Bonferroni) | chi2 | chi2 p | chi2 p (Bonferroni) |",
        "|---|---|---|---|---|---|---|",
    ]
    rows += [
        f"| {r.quantity} | {r.n} | {r.ecdf_p:.3f} | {r.ecdf_p_bonferroni:.3f} | {r.chi2:.1f} "
        f"| {r.chi2_p:.3f} | {r.chi2_p_bonferroni:.3f} |"
        for r in table.itertuples()
    ]
    return "\n".join(rows)


# ----------------------------------------------------------------------------- main
def write_outputs(out: Path) -> str:
    """Figures and ``sbc.md`` from ``sbc_ranks.csv``, ``sbc_fits.csv`` and ``sbc_run.json``."""
    ranks = pd.read_csv(out / "sbc_ranks.csv")
    fits = pd.read_csv(out / "sbc_fits.csv", keep_default_na=False)
    meta = json.loads((out / "sbc_run.json").read_text())
    table = uniformity(ranks)
    first_pass = fits.loc[fits["converged_first"], "sim"]
    table_first_pass = (
        uniformity(ranks[ranks["sim"].isin(first_pass)])
        if 0 < len(first_pass) < len(fits)
        else None
    )
    figure_ecdf(ecdf_difference(ranks), len(fits), out / "sbc.png")
    figure_histograms(ranks, out / "sbc_hist.png")
    text = report(ranks, fits, table, table_first_pass, meta)
    (out / "sbc.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    """Run the SBC and write its results (``--report-only``: rewrite figures and report)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--draws", type=int, default=config.DRAWS)
    parser.add_argument("--tune", type=int, default=config.TUNE)
    parser.add_argument("--chains", type=int, default=config.CHAINS)
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument(
        "--mass-matrix", default=config.MASS_MATRIX, choices=MASS_MATRICES, help="PyMC's NUTS"
    )
    parser.add_argument("--design", default="small", choices=["small", "tiny"])
    parser.add_argument("--no-retry", action="store_true", help="keep first fits as they are")
    parser.add_argument("--report-only", action="store_true", help="redo figures and sbc.md")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.report_only:
        print(write_outputs(args.out))
        return
    chosen = SMALL if args.design == "small" else TINY
    settings = SamplerSettings(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        backend=args.backend,
        mass_matrix=args.mass_matrix,
    )
    load_start = _load()
    start = time.perf_counter()
    data = chosen.data()
    model_spec = spec.m1_spec(data.layout)
    sampler, sampler_name = make_sampler(model_spec, data, settings)
    command = "PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python " + shlex.join(
        ["benchmarks/sbc.py", *(sys.argv[1:] if argv is None else argv)]
    )
    result = run(data, model_spec, sampler, args.sims, args.seed, retry=not args.no_retry)
    meta = {
        "command": command,
        "design": chosen.describe(),
        "settings": asdict(settings),
        "sampler": sampler_name,
        "retry": not args.no_retry,
        "seconds": time.perf_counter() - start,
        "load_start": load_start,
        "load_end": _load(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    result.ranks.to_csv(args.out / "sbc_ranks.csv", index=False)
    result.fits.to_csv(args.out / "sbc_fits.csv", index=False)
    (args.out / "sbc_run.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(write_outputs(args.out))


if __name__ == "__main__":
    main()
