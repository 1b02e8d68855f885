"""The self- vs cross-prediction accuracy model: its spec, fit, accuracy and gate tables.

:func:`accuracy_spec` (the follow-ups' level model with priors centred on 50%),
:func:`fit_accuracy` (run x level cells of correct predictions), :func:`accuracy_table`
(per kind x size, per kind, self - cross) and :func:`diagnostics_table` (the fit's gates).
The model is described in :mod:`stats.followups.prediction`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config
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
#: Prior SD of each level's logit accuracy (centred on 50%).
LEVEL_PRIOR_SD = 1.5
OUTCOME = "correct"


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
