"""Self- vs cross-prediction (issue 8, design 4; Looking Inward, Binder et al. 2024).

Reads ``predictions.parquet`` (ingest adapter ``looking-inward``) and writes four tidy
tables to ``summary/``:

``prediction_accuracy.csv``
    Accuracy = P(meta prediction == property of the object-level answer), judged against
    object-level sample 0, per kind (self / cross) x training-set size (``scope = cell``),
    per kind averaged over sizes (``scope = kind``) and self - cross (``scope =
    difference``). Bayesian: one binomial-cell model with a level per kind x size and a
    partially pooled effect per predictor fine-tune (``run_id``), sampled by
    :func:`stats.model.fit.fit_model` (gates and cache apply); rates are those of a *new*
    fine-tune (run effect integrated out). Exact Clopper-Pearson intervals of the pooled
    counts beside (they ignore the clustering). Columns: those of
    :data:`stats.followups.common.COMMON_COLUMNS` plus ``scope, prediction, n_examples,
    p_self_above_cross, modal_baseline, ceiling``.
``prediction_baseline.csv``
    Per task x property (and ``all``): the modal answer, the modal baseline (share of
    object-level answers equal to the most common one: the accuracy of always guessing
    it), and the non-determinism ceiling (pairwise agreement of the property across
    repeated object-level samples of an item). Columns ``task, property, mode, items,
    modal_baseline, baseline_low, baseline_high, ceiling, ceiling_items``.
``prediction_calibration.csv``
    Per kind x task x property, the 1st, 2nd and 3rd most common object-level values:
    their observed share and the share of meta predictions naming them. Columns ``prediction,
    task, property, rank, value, observed, predicted, records, tv_distance`` (total
    variation distance between the two whole distributions).
``prediction_diagnostics.csv``
    The gates of the fit (``fit, max_rhat, min_ess_bulk, min_ess_tail, divergences,
    min_bfmi, converged, sampler, seconds``).

Model (plain data, :func:`accuracy_spec`: the follow-ups' level model of
:mod:`stats.followups.common`)::

    logit p(cell) = m[kind x size] + u_run[run],  u_run ~ Normal(0, sd_run)
    m ~ Normal(0, 1.5), sd_run ~ HalfNormal(1)

The level priors are centred on 50% (not on M1's 5%): prediction accuracies sit near
chance levels of 20-60%.

The descriptive tables live in :mod:`stats.followups.prediction_records`, the model and
its tables in :mod:`stats.followups.prediction_accuracy`; this module runs them and writes
the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from stats import config, schemas
from stats.config import Artifacts
from stats.followups.prediction_accuracy import (
    DESIGN,
    KINDS,
    LEVEL_PRIOR_SD,
    OUTCOME,
    accuracy_spec,
    accuracy_table,
    diagnostics_table,
    fit_accuracy,
)
from stats.followups.prediction_records import (
    TOP_RANKS,
    baseline_table,
    calibration_table,
    level_label,
    object_answers,
    record_baselines,
    scored_records,
)
from stats.model.sample import SamplerSettings

__all__ = [
    "DESIGN",
    "KINDS",
    "LEVEL_PRIOR_SD",
    "OUTCOME",
    "TABLES",
    "TOP_RANKS",
    "Progress",
    "accuracy_spec",
    "accuracy_table",
    "analyse_prediction",
    "baseline_table",
    "calibration_table",
    "diagnostics_table",
    "fit_accuracy",
    "level_label",
    "object_answers",
    "record_baselines",
    "run_prediction",
    "scored_records",
]

#: Summary tables written: names of :attr:`stats.config.Artifacts.FILES` (``summary/<name>.csv``).
TABLES = (
    "prediction_accuracy",
    "prediction_baseline",
    "prediction_calibration",
    "prediction_diagnostics",
)
Progress = Callable[[str], None]


def analyse_prediction(
    predictions: pd.DataFrame,
    *,
    settings: SamplerSettings | None = None,
    cache_dir: Path | None = None,
    ci_prob: float = config.CI_PROB,
) -> dict[str, pd.DataFrame]:
    """Every prediction table from a predictions frame (pure apart from the fit cache).

    Parameters
    ----------
    predictions : DataFrame
        Rows of ``predictions.parquet`` (validated here).
    settings : SamplerSettings, optional
        Default: :class:`SamplerSettings` defaults.
    cache_dir : Path, optional
        Fit cache folder.
    ci_prob : float

    Returns
    -------
    dict of str to DataFrame
        Keys of :data:`TABLES`.
    """
    settings = settings if settings is not None else SamplerSettings()
    predictions = schemas.validate(predictions, "predictions")
    if predictions.empty:
        raise ValueError("no prediction records to analyse")
    scored = scored_records(predictions)
    baseline = baseline_table(predictions, ci_prob)
    scored = record_baselines(scored, baseline)
    level_fit = fit_accuracy(scored, settings, cache_dir)
    return {
        "prediction_accuracy": accuracy_table(scored, level_fit, ci_prob),
        "prediction_baseline": baseline,
        "prediction_calibration": calibration_table(scored),
        "prediction_diagnostics": diagnostics_table(level_fit),
    }


def run_prediction(
    data_dir: Path = config.PROCESSED_DIR,
    *,
    settings: SamplerSettings | None = None,
    progress: Progress | None = None,
) -> dict[str, pd.DataFrame] | None:
    """Entry point of :func:`stats.followups.run_followups`: analyse and write the tables.

    Parameters
    ----------
    data_dir : Path
        Processed-data folder holding ``predictions.parquet``.
    settings : SamplerSettings, optional
        Default: :class:`SamplerSettings` defaults.
    progress : callable, optional
        Called with one-line status messages.

    Returns
    -------
    dict of str to DataFrame or None
        The tables written to ``summary/`` (see :data:`TABLES`); None when the folder has
        no ``predictions.parquet`` (earlier prediction tables are then removed).
    """
    artifacts = Artifacts(Path(data_dir))
    if not artifacts.predictions.exists():
        for name in TABLES:  # never leave stale results for the report
            artifacts.path(name).unlink(missing_ok=True)
        return None
    if progress is not None:
        progress("prediction: self vs cross accuracy")
    settings = settings if settings is not None else SamplerSettings()
    tables = analyse_prediction(
        pd.read_parquet(artifacts.predictions), settings=settings, cache_dir=artifacts.fits
    )
    artifacts.summary.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(artifacts.path(name), index=False)
    return tables
