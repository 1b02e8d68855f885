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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config, schemas
from stats.config import Artifacts
from stats.followups.common import (
    LevelFit,
    contrast_row,
    level_data,
    level_spec,
    new_run_rates,
    rate_row,
)
from stats.model.decision import hdi
from stats.model.fit import fit_model
from stats.model.frequentist import exact_interval
from stats.model.sample import SamplerSettings
from stats.model.spec import ModelSpec, Prior

DESIGN = "prediction"
KINDS = ("self", "cross")
#: Summary tables written: names of :attr:`stats.config.Artifacts.FILES` (``summary/<name>.csv``).
TABLES = (
    "prediction_accuracy",
    "prediction_baseline",
    "prediction_calibration",
    "prediction_diagnostics",
)
TOP_RANKS = 3
#: Prior SD of each level's logit accuracy (centred on 50%).
LEVEL_PRIOR_SD = 1.5
OUTCOME = "correct"
Progress = Callable[[str], None]


def level_label(kind: str, n_examples: object) -> str:
    """Label of one kind x training-set-size level, e.g. ``"self n=1000"``."""
    return f"{kind} n={'?' if pd.isna(n_examples) else int(n_examples)}"


def accuracy_spec(levels: list[str], n_runs: int) -> ModelSpec:
    """The accuracy model: the follow-ups' level model with priors centred on 50%.

    :func:`stats.followups.common.level_spec` (one logit rate per level, partially pooled
    run effect) with every level prior ``Normal(0, 1.5)`` instead of M1's 5%-centred one:
    prediction accuracies sit near chance levels of 20-60%.

    Parameters
    ----------
    levels : list of str
        Level labels (kind x training-set size).
    n_runs : int
        Number of predictor fine-tunes; the run effect enters from two on.

    Returns
    -------
    ModelSpec
    """
    spec = level_spec(levels, OUTCOME, n_runs)
    terms = tuple(
        replace(t, prior=Prior("normal", LEVEL_PRIOR_SD)) if t.population else t for t in spec.terms
    )
    return replace(spec, terms=terms, notes=("self/cross prediction accuracy",))


def scored_records(predictions: pd.DataFrame) -> pd.DataFrame:
    """Records judged for accuracy: object-level sample 0 of each item (one per predictor).

    Parameters
    ----------
    predictions : DataFrame
        ``predictions.parquet``.

    Returns
    -------
    DataFrame
        One row per predictor run x item, with a ``level`` column.
    """
    first = predictions.sort_values("sample_index").drop_duplicates(
        ["run_id", "predictor_model", "object_model", "task", "property", "item_id"]
    )
    return first.assign(
        level=[level_label(k, n) for k, n in zip(first["kind"], first["n_examples"], strict=True)]
    ).reset_index(drop=True)


def object_answers(predictions: pd.DataFrame) -> pd.DataFrame:
    """Distinct object-level samples (shared by every predictor of the same target).

    Parameters
    ----------
    predictions : DataFrame
        ``predictions.parquet``.

    Returns
    -------
    DataFrame
        ``object_model, task, property, item_id, sample_index, object_value``.
    """
    keys = ["object_model", "task", "property", "item_id", "sample_index"]
    return predictions.drop_duplicates(keys)[[*keys, "object_value"]].reset_index(drop=True)


def _pair_agreement(values: pd.Series) -> float:
    counts = values.value_counts().to_numpy()
    m = counts.sum()
    return float((counts * (counts - 1)).sum() / (m * (m - 1))) if m >= 2 else float("nan")


def baseline_table(predictions: pd.DataFrame, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Modal baseline and non-determinism ceiling per task x property, and overall.

    Parameters
    ----------
    predictions : DataFrame
    ci_prob : float

    Returns
    -------
    DataFrame
        See the module docstring; the ``all`` row averages cells weighted by items.
    """
    answers = object_answers(predictions)
    first = answers.sort_values("sample_index").drop_duplicates(
        ["object_model", "task", "property", "item_id"]
    )
    rows = []
    for (task, prop), group in first.groupby(["task", "property"], sort=True):
        counts = group["object_value"].value_counts()
        mode, hits, items = str(counts.index[0]), int(counts.iloc[0]), int(counts.sum())
        low, high = exact_interval(hits, items, ci_prob)
        repeated = answers[(answers["task"] == task) & (answers["property"] == prop)]
        agreement = repeated.groupby(["object_model", "item_id"])["object_value"].agg(
            _pair_agreement
        )
        agreement = agreement.dropna()
        rows.append(
            {
                "task": task,
                "property": prop,
                "mode": mode,
                "items": items,
                "hits": hits,
                "modal_baseline": hits / items,
                "baseline_low": float(low),
                "baseline_high": float(high),
                "ceiling": float(agreement.mean()) if len(agreement) else float("nan"),
                "ceiling_items": len(agreement),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    hits, items = int(table["hits"].sum()), int(table["items"].sum())
    low, high = exact_interval(hits, items, ci_prob)
    weights = table["ceiling_items"]
    overall = {
        "task": "all",
        "property": "all",
        "mode": "",
        "items": items,
        "hits": hits,
        "modal_baseline": hits / items,
        "baseline_low": float(low),
        "baseline_high": float(high),
        "ceiling": float((table["ceiling"].fillna(0) * weights).sum() / weights.sum())
        if weights.sum()
        else float("nan"),
        "ceiling_items": int(weights.sum()),
    }
    return pd.concat([table, pd.DataFrame([overall])], ignore_index=True)


def record_baselines(scored: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per scored record, the modal-baseline hit and the ceiling of its task x property.

    Parameters
    ----------
    scored : DataFrame
        From :func:`scored_records`.
    baseline : DataFrame
        From :func:`baseline_table`.

    Returns
    -------
    DataFrame
        ``scored`` with ``modal_hit`` (the object value is the modal answer) and ``ceiling``.
    """
    cells = baseline[baseline["task"] != "all"].set_index(["task", "property"])
    keys = pd.MultiIndex.from_frame(scored[["task", "property"]])
    mode = cells["mode"].reindex(keys).to_numpy()
    return scored.assign(
        modal_hit=(scored["object_value"].to_numpy() == mode),
        ceiling=cells["ceiling"].reindex(keys).to_numpy(),
    )


def calibration_table(scored: pd.DataFrame, top: int = TOP_RANKS) -> pd.DataFrame:
    """Observed vs predicted shares of the ``top`` most common object-level values.

    Parameters
    ----------
    scored : DataFrame
        From :func:`scored_records`.
    top : int

    Returns
    -------
    DataFrame
        See the module docstring.
    """
    rows = []
    for (kind, task, prop), group in scored.groupby(["kind", "task", "property"], sort=True):
        observed = group["object_value"].value_counts(normalize=True)
        predicted = group["meta_prediction"].value_counts(normalize=True)
        values = observed.index.union(predicted.index)
        tv = 0.5 * float(
            (observed.reindex(values, fill_value=0) - predicted.reindex(values, fill_value=0))
            .abs()
            .sum()
        )
        for rank, (value, share) in enumerate(observed.head(top).items(), start=1):
            rows.append(
                {
                    "prediction": kind,
                    "task": task,
                    "property": prop,
                    "rank": rank,
                    "value": str(value),
                    "observed": float(share),
                    "predicted": float(predicted.get(value, 0.0)),
                    "records": len(group),
                    "tv_distance": tv,
                }
            )
    return pd.DataFrame(rows)


def _levels(scored: pd.DataFrame) -> list[str]:
    """Levels ordered by kind (self first) then training-set size."""
    order = scored[["kind", "n_examples", "level"]].drop_duplicates()
    order = order.assign(_k=order["kind"].map({k: i for i, k in enumerate(KINDS)}))
    return list(order.sort_values(["_k", "n_examples"], na_position="first")["level"])


def fit_accuracy(
    scored: pd.DataFrame, settings: SamplerSettings, cache_dir: Path | None
) -> LevelFit:
    """Fit :func:`accuracy_spec` to run x level cells of correct predictions.

    Parameters
    ----------
    scored : DataFrame
        From :func:`scored_records`.
    settings : SamplerSettings
    cache_dir : Path or None

    Returns
    -------
    LevelFit
    """
    cells = (
        scored.assign(_y=scored[OUTCOME].astype(bool).astype("int64"), arm="finetuned")
        .groupby(["run_id", "level", "arm"], as_index=False)
        .agg(successes=("_y", "sum"), trials=("_y", "size"))
    )
    levels = _levels(scored)
    data = level_data(cells, levels)
    spec = accuracy_spec(levels, len(data.coords["run"]))
    fit = fit_model(spec, data, settings, name="followup-prediction-accuracy", cache_dir=cache_dir)
    return LevelFit(fit, levels, new_run_rates(fit, levels), cells)


def _interval_row(base: dict, draws: np.ndarray, ci_prob: float) -> dict:
    low, high = hdi(draws, ci_prob)
    return {**base, "mean": float(np.mean(draws)), "hdi_low": low, "hdi_high": high}


def accuracy_table(
    scored: pd.DataFrame, level_fit: LevelFit, ci_prob: float = config.CI_PROB
) -> pd.DataFrame:
    """Rows per kind x size, per kind and self - cross (see the module docstring).

    Parameters
    ----------
    scored : DataFrame
        From :func:`record_baselines`.
    level_fit : LevelFit
        From :func:`fit_accuracy`.
    ci_prob : float

    Returns
    -------
    DataFrame
        The ``prediction_accuracy`` table.
    """
    meta = scored.drop_duplicates("level").set_index("level")
    rows = []
    for level in level_fit.levels:
        row = rate_row(DESIGN, level_fit, level, OUTCOME, ci_prob)
        used = scored[scored["level"] == level]
        row.update(
            scope="cell",
            prediction=meta.loc[level, "kind"],
            n_examples=meta.loc[level, "n_examples"],
            modal_baseline=float(used["modal_hit"].mean()),
            ceiling=float(used["ceiling"].mean()),
        )
        rows.append(row)
    cell_rows = pd.DataFrame(rows)
    kind_draws = {}
    for kind in KINDS:
        levels = [lv for lv in level_fit.levels if meta.loc[lv, "kind"] == kind]
        if not levels:
            continue
        kind_draws[kind] = np.mean([level_fit.rates[lv] for lv in levels], axis=0)
        mine = cell_rows[cell_rows["prediction"] == kind]
        used = scored[scored["kind"] == kind]
        s, n = int(mine["successes"].sum()), int(mine["trials"].sum())
        low, high = exact_interval(s, n, ci_prob)
        base = {
            **cell_rows.iloc[0].to_dict(),
            "scope": "kind",
            "kind": "rate",
            "estimand": f"P(correct | {kind}), averaged over training-set sizes",
            "level": kind,
            "arm": kind,
            "prediction": kind,
            "n_examples": pd.NA,
            "successes": s,
            "trials": n,
            "n_runs": int(used["run_id"].nunique()),
            "raw_rate": s / n,
            "exact_low": float(low),
            "exact_high": float(high),
            "modal_baseline": float(used["modal_hit"].mean()),
            "ceiling": float(used["ceiling"].mean()),
        }
        rows.append(_interval_row(base, kind_draws[kind], ci_prob))
    if len(kind_draws) == 2:
        plus = [(level_fit, lv) for lv in level_fit.levels if meta.loc[lv, "kind"] == "self"]
        minus = [(level_fit, lv) for lv in level_fit.levels if meta.loc[lv, "kind"] == "cross"]
        diff = contrast_row(DESIGN, "self - cross accuracy", plus, minus, OUTCOME, 0.0, ci_prob)
        diff.update(
            scope="difference",
            prediction="self - cross",
            n_examples=pd.NA,
            p_self_above_cross=float(np.mean(kind_draws["self"] > kind_draws["cross"])),
            modal_baseline=float("nan"),
            ceiling=float("nan"),
        )
        rows.append(diff)
    table = pd.DataFrame(rows)
    if "p_self_above_cross" not in table:
        table["p_self_above_cross"] = float("nan")
    table["n_examples"] = table["n_examples"].astype("Int64")
    return table


def diagnostics_table(level_fit: LevelFit) -> pd.DataFrame:
    """The fit's convergence gates as one row.

    Parameters
    ----------
    level_fit : LevelFit

    Returns
    -------
    DataFrame
        The ``prediction_diagnostics`` table.
    """
    d = level_fit.fit.diagnostics
    keys = ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_bfmi")
    row = {"fit": level_fit.fit.name, **{k: d.get(k) for k in keys}}
    row.update(
        converged=level_fit.converged,
        failed="; ".join(d.get("failed", [])),
        sampler=level_fit.fit.sampler or d.get("sampler", ""),
        seconds=d.get("seconds"),
        cached=level_fit.fit.cached,
    )
    return pd.DataFrame([row])


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
