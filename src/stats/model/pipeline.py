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
* the rule (``real`` / ``fluke`` / ``inconclusive``) and its reason codes are in
  :mod:`stats.model.decision`; any failed gate of a fit used -> ``not-converged``.

Prior sensitivity: power-scaling (:mod:`stats.model.sensitivity`) on the verdicts'
estimands of the main fits; a model is refitted at the study's prior scales (x0.5, x2)
only when one of its estimands is flagged (``sensitivity_method: refit`` refits always).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config, provenance, schemas
from stats import summarize as S
from stats.model.compiled import CompiledModels
from stats.model.contrasts import Contrast, Predictor, deltas, intro_shares
from stats.model.design import M1_BY, M2_BY, ModelData, m1_data, m2_data
from stats.model.events import Progress
from stats.model.fit import Fit, fit_model
from stats.model.sensitivity import prior_sensitivity
from stats.model.spec import ModelSpec, m1_spec, m2_spec
from stats.model.study import Study, load_study
from stats.model.tables import summary_tables, write_tables


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
    prior_sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def fits(self) -> list[Fit]:
        """Every fit sampled (or read from the cache), main first, each once."""
        out = [self.main.m1] + ([self.main.m2] if self.main.m2 else [])
        out += list(self.extra.values())
        for r in self.sensitivity:
            out += [r.m1] + ([r.m2] if r.m2 else [])
        return list({id(f): f for f in out}.values())


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


@dataclass
class FitPlan:
    """Numbers the stage's fits for the progress events ("fit k of n") and shares their
    compiled models (:mod:`stats.model.compiled`)."""

    progress: Progress | None
    total: int
    done: int = 0
    #: One compiled model per structure, shared by the stage's fits.
    compiled: CompiledModels = field(default_factory=CompiledModels)

    def fit(
        self, spec: ModelSpec, data: ModelData, study: Study, name: str, cache_dir: Path | None
    ) -> Fit:
        """:func:`fit_model` with the study's settings for this model, numbered."""
        self.done += 1
        self.total = max(self.total, self.done)
        return fit_model(
            spec,
            data,
            study.sampler_for(spec.name),
            name=name,
            cache_dir=cache_dir,
            progress=self.progress,
            index=self.done,
            total=self.total,
            compiled=self.compiled,
        )


def _fit_scale(
    study: Study,
    scale: float,
    d1: ModelData,
    d2: ModelData | None,
    guess_at_k: dict[str, float],
    cache_dir: Path | None,
    plan: FitPlan,
) -> ScaleResult:
    s1 = m1_spec(d1.layout, study.outcome, scale, study.k)
    m1 = plan.fit(s1, d1, study, f"M1-{study.outcome}-x{scale:g}", cache_dir)
    m2 = None
    if d2 is not None:
        s2 = m2_spec(d2.layout, scale, study.k)
        m2 = plan.fit(s2, d2, study, f"M2-word_line-x{scale:g}", cache_dir)
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
    extra_cells = extra_cells or {}
    plan = FitPlan(progress, total=1 + (d2 is not None) + len(extra_cells))
    main = _fit_scale(study, study.prior_scale, d1, d2, guess_at_k, cache_dir, plan)
    extra = {}
    for outcome, cells in extra_cells.items():
        d = m1_data(cells)
        spec = m1_spec(d.layout, outcome, study.prior_scale, study.k)
        extra[outcome] = plan.fit(spec, d, study, f"M1-{outcome}-x{study.prior_scale:g}", cache_dir)
    psense = prior_sensitivity(main)
    runs = []
    if sensitivity and study.sensitivity:
        present = {f.spec.name for f in (main.m1, main.m2) if f is not None}
        flagged = set(psense.loc[psense["flagged"].astype(bool), "model"])
        refit = present if study.sensitivity_method == "refit" else present & flagged
        if refit:
            plan.total += len(study.sensitivity) * len(refit)
            why = "always refit" if study.sensitivity_method == "refit" else "power-scaling flags"
            scales = ", ".join(f"x{factor:g}" for factor in study.sensitivity)
            _say(
                progress,
                f"prior sensitivity ({why} {', '.join(sorted(refit))}): "
                f"{plan.total - plan.done} more fits at prior {scales}",
            )
            for factor in study.sensitivity:
                scale = study.prior_scale * factor
                runs.append(_refit_scale(study, scale, main, refit, guess_at_k, cache_dir, plan))
    return Analysis(study, main, runs, extra, guess_at_k, psense)


def _refit_scale(
    study: Study,
    scale: float,
    main: ScaleResult,
    refit: set[str],
    guess_at_k: dict[str, float],
    cache_dir: Path | None,
    plan: FitPlan,
) -> ScaleResult:
    """Verdicts at prior ``scale``: the models in ``refit`` sampled again, the others kept.

    A model kept at the main scale is one whose estimands power-scaling found insensitive
    to the prior: its refit would give the same draws up to Monte Carlo error.
    """
    fits = []
    for result in (main.m1, main.m2):
        if result is None or result.spec.name not in refit:
            fits.append(result)
            continue
        target = result.spec.scaled(scale / result.spec.prior_scale)
        label = result.name.rsplit("-x", 1)[0]
        fits.append(plan.fit(target, result.data, study, f"{label}-x{scale:g}", cache_dir))
    return judge(study, scale, fits[0], fits[1], guess_at_k, study.sampler.seed)


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
        intro_low, intro_high, intro_p_floor, reason``), also written to ``verdicts.csv``.
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
