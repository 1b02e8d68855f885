"""The model stage: trials -> fits, verdicts and summary tables.

:func:`analyse` works on cells (used by :func:`fit_study` and by the simulation
benchmarks); :func:`fit_study` adds the file wiring of the CLI's ``stats fit``.

How the two models make one verdict (see :mod:`stats.model.decision`):

* M1 (primary outcome, ``articulated_early`` by default) gives ``Delta`` per word,
  pooled and for a new word, against the best available baseline;
* M2 (hazard of the first line naming the word) gives ``Delta_intro``, the part of
  the early-articulation probability owed to the introspection term. It joins the
  verdict when the data have a baseline arm (without one ``b_intro`` is not
  identified: it is collinear with the line intercepts);
* ``real`` needs both HDIs above the ROPE; ``fluke`` when either HDI lies inside it
  (or ``Delta`` is credibly negative); any failed gate of a fit used -> ``not-converged``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config, provenance, schemas
from stats import summarize as S
from stats.model.contrasts import Contrast, Predictor, deltas, intro_shares
from stats.model.design import M1_BY, M2_BY, ModelData, m1_data, m2_data
from stats.model.fit import Fit, fit_model
from stats.model.frequentist import (
    cross_terms,
    fisher_greeting,
    glm_crosscheck,
    self_consistency,
)
from stats.model.spec import ModelSpec, m1_spec, m2_spec
from stats.model.study import Study, load_study
from stats.model.synthetic import draw_prior, prior_log_density

Progress = Callable[[str], None]
#: Prior draws used for the prior overlay of Delta and the prior predictive check.
PRIOR_DRAWS = 1000


@dataclass
class ScaleResult:
    """Fits, contrasts and verdicts at one prior scale."""

    prior_scale: float
    m1: Fit
    m2: Fit | None
    contrasts: list[Contrast]
    intro: dict[tuple, np.ndarray]
    verdicts: pd.DataFrame


@dataclass
class Analysis:
    """Everything :func:`analyse` computed."""

    study: Study
    main: ScaleResult
    sensitivity: list[ScaleResult] = field(default_factory=list)
    extra: dict[str, Fit] = field(default_factory=dict)
    guess_at_k: dict[str, float] = field(default_factory=dict)

    @property
    def fits(self) -> list[Fit]:
        """Every fit, main first."""
        out = [self.main.m1] + ([self.main.m2] if self.main.m2 else [])
        out += list(self.extra.values())
        for r in self.sensitivity:
            out += [r.m1] + ([r.m2] if r.m2 else [])
        return out


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _fit_scale(
    study: Study,
    scale: float,
    d1: ModelData,
    d2: ModelData | None,
    guess_at_k: dict[str, float],
    cache_dir: Path | None,
    progress: Progress | None,
) -> ScaleResult:
    s1 = m1_spec(d1.layout, study.outcome, scale, study.k)
    _say(progress, f"M1 {study.outcome} (prior x{scale:g})")
    m1 = fit_model(
        s1, d1, study.sampler_for("M1"), name=f"M1-{study.outcome}-x{scale:g}", cache_dir=cache_dir
    )
    m2 = None
    if d2 is not None:
        s2 = m2_spec(d2.layout, scale, study.k)
        _say(progress, f"M2 hazard (prior x{scale:g})")
        m2 = fit_model(
            s2, d2, study.sampler_for("M2"), name=f"M2-word_line-x{scale:g}", cache_dir=cache_dir
        )
    return judge(study, scale, m1, m2, guess_at_k, study.sampler.seed)


def judge(
    study: Study,
    scale: float,
    m1: Fit,
    m2: Fit | None,
    guess_at_k: dict[str, float],
    seed: int = config.SEED,
) -> ScaleResult:
    """Contrasts and verdicts from fitted M1 (and M2)."""
    pred1 = Predictor(m1.spec, m1.data, m1.posterior, seed=seed)
    contrasts = deltas(pred1, guess_at_k)
    intro = {}
    if m2 is not None:
        intro = intro_shares(Predictor(m2.spec, m2.data, m2.posterior, seed=seed), contrasts)
    verdicts = S.verdict_rows(
        contrasts, intro, m1, m2, outcome=study.outcome, rope=study.rope, ci_prob=study.ci_prob
    )
    return ScaleResult(scale, m1, m2, contrasts, intro, verdicts)


def analyse(
    m1_cells: pd.DataFrame,
    m2_cells: pd.DataFrame | None,
    study: Study,
    *,
    guess_at_k: dict[str, float] | None = None,
    extra_cells: dict[str, pd.DataFrame] | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    sensitivity: bool = True,
) -> Analysis:
    """Fit M1 (and M2) on cells, derive contrasts and verdicts, refit for prior sensitivity.

    Parameters
    ----------
    m1_cells : DataFrame
        :data:`~stats.model.design.M1_BY` + ``successes, trials`` of ``study.outcome``.
    m2_cells : DataFrame or None
        :data:`~stats.model.design.M2_BY` + ``events, at_risk``; None skips M2.
    study : Study
    guess_at_k : dict, optional
        ``g(word, k)`` per word: the guessability-implied baseline.
    extra_cells : dict, optional
        Outcome -> M1 cells of further outcomes (fitted once, at the main prior scale).
    cache_dir : Path, optional
    progress : callable, optional
        Called with a short message before each fit.
    sensitivity : bool, default True
        Refit at ``study.sensitivity`` scales.

    Returns
    -------
    Analysis
    """
    guess_at_k = guess_at_k or {}
    d1 = m1_data(m1_cells)
    d2 = m2_data(m2_cells, k=study.k) if m2_cells is not None and len(m2_cells) else None
    if "M2" not in study.models:
        d2 = None
    main = _fit_scale(study, study.prior_scale, d1, d2, guess_at_k, cache_dir, progress)
    extra = {}
    for outcome, cells in (extra_cells or {}).items():
        d = m1_data(cells)
        spec = m1_spec(d.layout, outcome, study.prior_scale, study.k)
        _say(progress, f"M1 {outcome}")
        extra[outcome] = fit_model(
            spec,
            d,
            study.sampler_for("M1"),
            name=f"M1-{outcome}-x{study.prior_scale:g}",
            cache_dir=cache_dir,
        )
    runs = []
    if sensitivity:
        for factor in study.sensitivity:
            scale = study.prior_scale * factor
            runs.append(
                _sensitivity_scale(study, scale, main, d1, d2, guess_at_k, cache_dir, progress)
            )
    return Analysis(study, main, runs, extra, guess_at_k)


def reweight(fit: Fit, spec: ModelSpec, seed: int) -> tuple[Fit | None, float]:
    """The posterior under ``spec``'s priors by Pareto-smoothed importance sampling.

    Weights are the prior density ratio (likelihood and data unchanged). Returns the
    resampled fit and the Pareto k of the weights; ``None`` when k exceeds
    ``config.PARETO_K_WARN`` (the reweighted draws would be unreliable: refit instead).
    The gates of the original fit carry over (same chains).
    """
    from arviz_stats.base import array_stats

    log_ratio = prior_log_density(spec, fit.posterior) - prior_log_density(fit.spec, fit.posterior)
    # ArviZ's array psislw takes LOO's convention (log-likelihoods, weights exp(-x))
    log_weights, k = array_stats.psislw(-log_ratio, r_eff=1)
    k = float(k)
    if not k <= config.PARETO_K_WARN:
        return None, k
    weights = np.exp(log_weights - np.logaddexp.reduce(log_weights))
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(fit.n_draws)) / fit.n_draws
    index = np.minimum(np.searchsorted(np.cumsum(weights), positions), fit.n_draws - 1)
    posterior = {name: values[index] for name, values in fit.posterior.items()}
    diagnostics = dict(fit.diagnostics) | {
        "sampler": "psis-reweight",
        "seconds": 0.0,
        "reweight_k": k,
    }
    name = fit.name.rsplit("-x", 1)[0] + f"-x{spec.prior_scale:g}"
    return Fit(
        name, spec, fit.data, posterior, fit.chains, diagnostics, fit.key, sampler="psis-reweight"
    ), k


def _sensitivity_scale(
    study: Study,
    scale: float,
    main: ScaleResult,
    d1: ModelData,
    d2: ModelData | None,
    guess_at_k: dict[str, float],
    cache_dir: Path | None,
    progress: Progress | None,
) -> ScaleResult:
    """Refit (or, with ``sensitivity_method: auto``, reweight when Pareto k allows) at ``scale``."""
    seed = study.sampler.seed
    fits = []
    for result, data in ((main.m1, d1), (main.m2, d2)):
        if result is None:
            fits.append(None)
            continue
        target = result.spec.scaled(scale / result.spec.prior_scale)
        reweighted = None
        if study.sensitivity_method == "auto":
            reweighted, _ = reweight(result, target, seed)
        if reweighted is None:
            label = result.name.rsplit("-x", 1)[0]
            _say(progress, f"{label} (prior x{scale:g})")
            reweighted = fit_model(
                target,
                data,
                study.sampler_for(result.spec.name),
                name=f"{label}-x{scale:g}",
                cache_dir=cache_dir,
            )
        fits.append(reweighted)
    return judge(study, scale, fits[0], fits[1], guess_at_k, seed)


# ----------------------------------------------------------------------------- tables
def _prior_contrasts(result: ScaleResult, guess_at_k: dict[str, float], seed: int) -> tuple:
    spec: ModelSpec = result.m1.spec
    prior = draw_prior(spec, result.m1.data, np.random.default_rng(seed), PRIOR_DRAWS)
    pred = Predictor(spec, result.m1.data, prior, seed=seed)
    return deltas(pred, guess_at_k), prior


def summary_tables(
    analysis: Analysis, trials: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Every summary table of CONTRACTS.md (plus ``prior_predictive``, ``intro_draws`` and,
    given the trials, ``cross_terms``)."""
    study = analysis.study
    main = analysis.main
    ci = study.ci_prob
    m1_fits = [main.m1, *analysis.extra.values()]
    tables: dict[str, pd.DataFrame] = {}
    tables["diagnostics"] = S.diagnostics_table(analysis.fits)
    tables["coefficients"] = pd.concat(
        [S.coefficient_table(f, ci) for f in analysis.fits], ignore_index=True
    )
    tables["word_rates"] = pd.concat(
        [S.word_rates_table(f, analysis.guess_at_k, ci) for f in m1_fits], ignore_index=True
    )
    draws = [S.delta_draws_table(main.contrasts, "posterior", main.prior_scale)]
    priors = []
    for result in [main, *analysis.sensitivity]:
        if result is not main:
            draws.append(S.delta_draws_table(result.contrasts, "posterior", result.prior_scale))
        prior_contrasts, prior = _prior_contrasts(result, analysis.guess_at_k, study.sampler.seed)
        draws.append(S.delta_draws_table(prior_contrasts, "prior", result.prior_scale))
        if result is main:
            priors.append(S.prior_predictive_table(result.m1, prior))
    tables["delta_draws"] = pd.concat(draws, ignore_index=True)
    tables["intro_draws"] = _intro_draws(main)
    tables["prior_predictive"] = pd.concat(priors, ignore_index=True)
    tables["curves"] = pd.concat([S.curves_table(f, ci) for f in m1_fits], ignore_index=True)
    tables["hazard"] = (
        S.hazard_table(main.m2, ci) if main.m2 else pd.DataFrame(columns=HAZARD_COLUMNS)
    )
    ppc = [S.ppc_table(main.m1, "word_greeting", ["word", "greeting", "arm"], ci)]
    if main.m2 is not None:
        ppc.append(S.ppc_table(main.m2, "line", ["arm", "line"], ci))
    tables["ppc"] = pd.concat(ppc, ignore_index=True)
    tables["sensitivity"] = S.sensitivity_table(
        {r.prior_scale: r.verdicts for r in [main, *analysis.sensitivity]}
    )
    cross = glm_crosscheck(main.m1.spec, main.m1.data, main.m1.posterior)
    cross.insert(0, "fit", main.m1.name)
    tables["crosscheck"] = cross
    tables["fisher"] = fisher_greeting(main.m1.data.cells)
    consistency = []
    for f in m1_fits:
        c = self_consistency(f.data.cells)
        c["outcome"] = f.spec.outcome
        consistency.append(c)
    tables["consistency"] = pd.concat(consistency, ignore_index=True)
    if trials is not None:
        tables["cross_terms"] = cross_terms(trials, ci)
    return tables


HAZARD_COLUMNS = [
    "arm", "line", "letters_visible", "at_risk", "events", "raw_hazard", "hazard_mean",
    "hazard_low", "hazard_high", "cumulative_raw", "cumulative_mean", "cumulative_low",
    "cumulative_high", "guessability",
]  # fmt: skip


def _intro_draws(result: ScaleResult) -> pd.DataFrame:
    frames = []
    for (scope, word, greeting), values in result.intro.items():
        frames.append(
            pd.DataFrame(
                {
                    "scope": scope,
                    "word": word,
                    "greeting": greeting,
                    "prior_scale": result.prior_scale,
                    "draw": np.arange(len(values)),
                    "delta_intro": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def verdicts_frame(analysis: Analysis) -> pd.DataFrame:
    """The main verdicts, validated against schemas.VERDICTS."""
    verdicts = analysis.main.verdicts
    if verdicts.empty:
        return schemas.empty("verdicts")
    return schemas.validate(verdicts.reset_index(drop=True), "verdicts")


# ----------------------------------------------------------------------------- trials -> cells
def prepare_trials(trials: pd.DataFrame, k: int) -> pd.DataFrame:
    """Base trials scored against every fine-tuned word; ``articulated_early`` at ``k``."""
    from stats.tidy import expand_baseline

    if (trials["arm"] == "base").any() and "response" in trials:
        trials = expand_baseline(trials, k=k)
    trials = trials[trials["word"].notna()].copy()
    word_line = pd.to_numeric(trials["word_line"], errors="coerce")
    trials["articulated_early"] = (word_line.notna() & (word_line <= k)).astype(bool)
    return trials


def cells_from_trials(
    trials: pd.DataFrame, study: Study
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, pd.DataFrame], dict[str, float]]:
    """M1 cells (primary and extra outcomes), M2 cells and g(word, k) from scored trials."""
    from stats.score.guess import guessability
    from stats.tidy import binomial_cells, hazard_cells, person_period

    # ``leak`` is constant within an M1 cell (word x prompt): carried, not a covariate
    by1 = [*M1_BY, "leak"] if "leak" in trials else M1_BY
    if "leak" in trials:
        trials = trials.assign(leak=trials["leak"].astype("boolean").fillna(False).astype(bool))
    m1 = binomial_cells(trials, study.outcome, by1)
    extra = {o: binomial_cells(trials, o, by1) for o in study.extra_outcomes}
    m2 = None
    if "M2" in study.models:
        periods = person_period(trials, k=study.k)
        by = M2_BY
        if "leak" in trials:
            # base trials are expanded to one copy per word sharing a trial_id: key by both
            keys = ["trial_id", "word"]
            leak = trials[[*keys, "leak"]].drop_duplicates(keys)
            periods = periods.merge(leak, on=keys, how="left", validate="many_to_one")
            periods["leak"] = periods["leak"].astype("boolean").fillna(False)
            by = [*M2_BY, "leak"]
        m2 = hazard_cells(periods, by) if len(periods) else None
    words = sorted(set(trials["word"].dropna().astype(str)))
    guess = {w: float(guessability(w, min(study.k, len(w)))) for w in words}
    return m1, m2, extra, guess


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write each table as CSV (``delta_draws``, ``intro_draws``: Parquet)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if name in ("delta_draws", "intro_draws"):
            table.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            table.to_csv(folder / f"{name}.csv", index=False)


def fit_study(
    data_dir: Path, study: Path | None = None, *, progress: Progress | None = None
) -> pd.DataFrame:
    """Fit the study's models and write fits, verdicts and summary tables.

    Parameters
    ----------
    data_dir : Path
        Processed-data folder holding ``trials.parquet`` (:class:`stats.config.Artifacts`).
    study : Path, optional
        Study spec (``analysis/study.yaml``); None uses the defaults.
    progress : callable, optional
        Called with a short message before each fit.

    Returns
    -------
    DataFrame
        The verdicts (schemas.VERDICTS columns plus ``baseline, basis, intro_mean,
        intro_low, intro_high, reason``), also written to ``verdicts.csv``.
    """
    artifacts = config.Artifacts(Path(data_dir))
    spec = load_study(study)
    if not artifacts.trials.exists():
        raise FileNotFoundError(f"{artifacts.trials} does not exist: run `stats score` first")
    provenance.require_current(artifacts.root, "fit")
    trials = prepare_trials(pd.read_parquet(artifacts.trials), spec.k)
    if trials.empty:
        raise ValueError(f"{artifacts.trials}: no trials with a target word to model")
    m1_cells, m2_cells, extra, guess = cells_from_trials(trials, spec)
    analysis = analyse(
        m1_cells,
        m2_cells,
        spec,
        guess_at_k=guess,
        extra_cells=extra,
        cache_dir=artifacts.fits,
        progress=progress,
    )
    _say(progress, "summary tables")
    tables = summary_tables(analysis, trials)
    write_tables(tables, artifacts.summary)
    verdicts = verdicts_frame(analysis)
    verdicts.to_csv(artifacts.verdicts, index=False)
    provenance.record(artifacts.root, "fit")
    return verdicts
