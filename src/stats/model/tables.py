"""The summary tables of an analysis (CONTRACTS.md), computed once here and written as files.

:func:`summary_tables` turns the fits and verdicts of :func:`stats.model.pipeline.analyse`
into the tables the report reads (diagnostics, coefficients, rates, draws of Delta and of
the introspective share, predictive checks, sensitivity, cross-checks, observed counts and
the gate checks); :func:`write_tables` writes them into the summary folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stats import summarize as S
from stats.model.contrasts import Predictor, deltas
from stats.model.frequentist import cross_terms, fisher_greeting, glm_crosscheck, self_consistency
from stats.model.spec import ModelSpec
from stats.model.synthetic import draw_prior
from stats.summarize.gates import check_tables
from stats.summarize.observed import observed_tables

if TYPE_CHECKING:
    from stats.model.pipeline import Analysis, ScaleResult

#: Prior draws used for the prior overlay of Delta and the prior predictive check.
PRIOR_DRAWS = 1000


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
        [S.word_rates_table(f, analysis.guess_at_k, ci, study.sampler.seed) for f in m1_fits],
        ignore_index=True,
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
    tables["prior_sensitivity"] = analysis.prior_sensitivity
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
        cells = main.m1.data.cells
        extra = study.extra_outcomes
        tables |= observed_tables(trials, cells, study.outcome, extra, main.prior_scale)
    tables |= check_tables(tables["diagnostics"], tables["sensitivity"], main.prior_scale)
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


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write each table as CSV (``delta_draws``, ``intro_draws``: Parquet)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if name in ("delta_draws", "intro_draws"):
            table.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            table.to_csv(folder / f"{name}.csv", index=False)
