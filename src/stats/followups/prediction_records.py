"""Prediction records and their descriptive tables: scored records, baselines, calibration.

The records judged for accuracy (:func:`scored_records`), the distinct object-level answers
(:func:`object_answers`), the modal baseline and non-determinism ceiling per task x property
(:func:`baseline_table`, :func:`record_baselines`) and the observed vs predicted shares of
the most common answers (:func:`calibration_table`); no model. The tables are described in
:mod:`stats.followups.prediction`.
"""

from __future__ import annotations

import pandas as pd

from stats import config
from stats.model.frequentist import exact_interval

TOP_RANKS = 3


def level_label(kind: str, n_examples: object) -> str:
    """Label of one kind x training-set-size level, e.g. ``"self n=1000"``."""
    return f"{kind} n={'?' if pd.isna(n_examples) else int(n_examples)}"


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
