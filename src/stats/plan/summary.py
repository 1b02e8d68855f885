"""Verdict shares over simulated studies, with Monte Carlo errors, and their text forms.

:func:`summarise` turns the verdicts of many simulated studies into one row per group
(by default world x runs per word x samples per run x greeting x scope x word type):
``p_real``, ``p_fluke``, ``p_inconclusive``, ``p_not_converged`` and the Monte Carlo standard
error of each, clustered by simulated study (a study's verdicts share its fits), plus
``p_real_if_converged``, ``p_real_m1_only`` and the shares of studies whose fits needed
another attempt. :func:`plan_reading` states, per world and word type, the smallest number of
runs per word that reaches a target share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VERDICTS = ("real", "fluke", "inconclusive", "not-converged")
#: Grouping of the planner's table.
PLAN_BY = ["world", "runs_per_word", "samples_per_run", "greeting", "scope", "word_type"]
#: Grouping of the operating-characteristics table (benchmarks/results/oc.csv).
OC_BY = ["world", "runs_per_word", "samples_per_run", "greeting", "scope"]


def _column(verdict: str) -> str:
    return verdict.replace("-", "_")


def clustered_se(group: pd.DataFrame, hit: pd.Series) -> float:
    """MC standard error of the share of ``hit`` in ``group``, clustered by study (``seed``).

    With one verdict per study it is the binomial standard error (times ``sqrt(k/(k-1))``).
    NaN with fewer than two studies.
    """
    per_study = hit.groupby(group["seed"])
    totals, sizes = per_study.sum().to_numpy(float), per_study.size().to_numpy(float)
    k = len(sizes)
    if k < 2:
        return float("nan")
    p = totals.sum() / sizes.sum()
    var = k / (k - 1) * np.sum((totals - p * sizes) ** 2) / sizes.sum() ** 2
    return float(np.sqrt(var))


def _retry_shares(group: pd.DataFrame) -> dict[str, float]:
    """Share of studies whose M1 / M2 fit needed another attempt."""
    studies = group.drop_duplicates("seed")
    return {
        "p_m1_retried": float((studies["m1_attempts"] > 1).mean()),
        "p_m2_retried": float((studies["m2_attempts"] > 1).mean()),
    }


def summarise(raw: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Verdict shares per group, with clustered Monte Carlo standard errors.

    Parameters
    ----------
    raw : DataFrame
        Verdicts of simulated studies (:meth:`stats.plan.simulation.SimulatedSetting.one_study`
        rows plus ``world``, ``runs_per_word``, ``samples_per_run``).
    by : list of str, optional
        Grouping columns; default :data:`PLAN_BY`.

    Returns
    -------
    DataFrame
        ``by``, ``n_sims``, ``n_verdicts``, ``p_<verdict>`` and ``mc_se_<verdict>`` for each
        verdict (``not-converged`` spelled ``not_converged``), ``mc_se_real`` first among the
        errors, ``p_real_if_converged``, ``p_real_m1_only``, ``p_m1_retried``, ``p_m2_retried``.
    """
    by = PLAN_BY if by is None else by
    rows = []
    for key, group in raw.groupby(by, sort=False, dropna=False):
        verdict = group["verdict"]
        row = dict(zip(by, key, strict=True))
        row |= {"n_sims": int(group["seed"].nunique()), "n_verdicts": len(group)}
        row |= {f"p_{_column(v)}": float((verdict == v).mean()) for v in VERDICTS}
        row |= {f"mc_se_{_column(v)}": clustered_se(group, verdict == v) for v in VERDICTS}
        converged = group["converged"].astype(bool)
        row["p_real_if_converged"] = (
            float((verdict[converged] == "real").mean()) if converged.any() else float("nan")
        )
        row["p_real_m1_only"] = float((group["verdict_m1_only"] == "real").mean())
        row |= _retry_shares(group)
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table (no tabulate dependency); floats with ``digits`` decimals."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "–" if np.isnan(value) else f"{value:.{digits}f}"
        return str(value)

    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def runs_needed(
    table: pd.DataFrame, world: str, verdict: str = "real", target: float = 0.8
) -> pd.DataFrame:
    """Smallest runs per word whose share of ``verdict`` reaches ``target`` (no greeting).

    One row per samples per run x word type (word scope, and pooled): ``runs_per_word`` is
    NA when no simulated setting reached the target.
    """
    rows = table[(table["world"] == world) & ~table["greeting"].astype(bool)]
    rows = rows[rows["scope"].isin(["word", "pooled"])]
    column = f"p_{_column(verdict)}"
    out = []
    for (samples, word_type), group in rows.groupby(["samples_per_run", "word_type"], sort=False):
        group = group.sort_values("runs_per_word")
        reached = group[group[column] >= target]
        out.append(
            {
                "samples_per_run": samples,
                "word_type": word_type,
                "runs_per_word": reached["runs_per_word"].iloc[0] if len(reached) else pd.NA,
                "best": float(group[column].max()),
            }
        )
    return pd.DataFrame(out)
