"""Reviewing claims: one row of ``claims.csv`` per claim, and :func:`review` writing it.

:func:`review_claim` counts a claim's trials, computes its intervals, compares it with a
fixed rate or another group (:func:`comparison_filter`) and decides its verdict, beside the
pooled model's verdict from ``verdicts.csv``; :func:`review` does it for every claim of a
claims file and writes ``claims.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from stats import provenance, schemas
from stats.config import Artifacts
from stats.model.frequentist import exact_interval
from stats.review.claims_file import Claim, parse_claims
from stats.review.counting import count, select
from stats.review.intervals import bayes_interval, decide, difference_interval

_DIRECTION_TEXT = {"greater": "greater than", "less": "less than", "similar": "similar to"}
#: Filter keys dropped when comparing with a baseline arm (run-level training conditions).
RUN_LEVEL_KEYS = (
    "arm",
    "run_id",
    "model",
    "n_examples",
    "lr_multiplier",
    "n_epochs",
    "batch_size",
    "follows_pattern",
)


def _describe(flt: dict[str, Any]) -> str:
    parts = []
    for key, value in flt.items():
        if isinstance(value, dict):
            bounds = [
                f"{key} >= {value['min']}" if "min" in value else "",
                f"{key} <= {value['max']}" if "max" in value else "",
            ]
            parts.append(" and ".join(b for b in bounds if b))
        elif isinstance(value, list):
            parts.append(f"{key} in {{{', '.join(map(str, value))}}}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "all trials"


def comparison_filter(claim: Claim) -> dict[str, Any] | None:
    """The filter of the comparison group, or None when comparing with a fixed rate."""
    compare = claim.compare
    if "filter" in compare:
        return dict(compare["filter"])
    if "vs" in compare:
        merged = {**claim.filter, **compare["vs"]}
        return {k: v for k, v in merged.items() if v is not None}
    if "baseline" in compare:
        kept = {
            k: v
            for k, v in claim.filter.items()
            if k not in RUN_LEVEL_KEYS and not k.startswith("conditions.")
        }
        return {**kept, "arm": compare["baseline"]}
    return None


def _model_verdicts(verdicts: pd.DataFrame | None, claim: Claim) -> tuple[str | None, str | None]:
    if verdicts is None or verdicts.empty:
        return None, None
    pooled = verdicts[verdicts["scope"] == "pooled"]
    pooled_verdict = str(pooled["verdict"].iloc[0]) if len(pooled) else None
    word = claim.filter.get("word")
    if not isinstance(word, str):
        return None, pooled_verdict
    rows = verdicts[
        (verdicts["scope"] == "word") & (verdicts["word"].astype(str).str.upper() == word.upper())
    ]
    if "greeting" in claim.filter and len(rows) > 1:
        same = rows[rows["greeting"].astype("boolean") == bool(claim.filter["greeting"])]
        rows = same if len(same) else rows
    return (str(rows["verdict"].iloc[0]) if len(rows) else None), pooled_verdict


def review_claim(
    claim: Claim, trials: pd.DataFrame, verdicts: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Counts, intervals, comparison and verdict of one claim (one row of claims.csv)."""
    group = count(select(trials, claim.filter), claim.outcome)
    exact_low, exact_high = map(float, exact_interval(group.successes, group.trials))
    mean, low, high = bayes_interval(group)
    direction = claim.compare["direction"]
    row: dict[str, Any] = {
        "claim_id": claim.claim_id,
        "text": claim.text,
        "successes": group.successes,
        "trials": group.trials,
        "rate": group.rate,
        "exact_low": exact_low,
        "exact_high": exact_high,
        "bayes_mean": mean,
        "bayes_low": low,
        "bayes_high": high,
    }
    other_filter = comparison_filter(claim)
    outcome = claim.outcome["column"] + (
        f" by line {claim.outcome['max_line']}" if "max_line" in claim.outcome else ""
    )
    extra: dict[str, Any] = {
        "filter": _describe(claim.filter),
        "outcome": outcome,
        "direction": direction,
        "runs": group.runs,
        "design_effect": group.design_effect,
        "comparison_successes": pd.NA,
        "comparison_trials": pd.NA,
        "comparison_rate": float("nan"),
        "diff_mean": float("nan"),
        "diff_low": float("nan"),
        "diff_high": float("nan"),
    }
    clustering = (
        f"{group.runs} runs, design effect {group.design_effect:.2f}"
        if group.runs > 1
        else "one run: run-to-run variation not estimable"
    )
    if other_filter is None:
        threshold = float(claim.compare["rate"])
        extra["comparison_rate"] = threshold
        verdict = decide(low, high, threshold=threshold, direction=direction, rope=claim.rope)
        comparison = f"Claimed {_DIRECTION_TEXT[direction]} the rate {threshold:g} ({clustering})"
    else:
        other_trials = select(trials, other_filter)
        note = ""
        if other_trials.empty and "baseline" in claim.compare and "word" in other_filter:
            # untuned base models are not trained on a word: their trials may carry none
            other_filter = {k: v for k, v in other_filter.items() if k != "word"}
            other_trials = select(trials, other_filter)
            if not other_trials.empty:
                note = "; the baseline trials carry no target word, so all of them are used"
        other = count(other_trials, claim.outcome)
        extra.update(
            comparison_successes=other.successes,
            comparison_trials=other.trials,
            comparison_rate=other.rate,
        )
        if other.trials == 0 or group.trials == 0:
            verdict = "no-data"
            comparison = f"Compared with {_describe(other_filter)}: no trial matches"
        else:
            d_mean, d_low, d_high = difference_interval(group, other)
            extra.update(diff_mean=d_mean, diff_low=d_low, diff_high=d_high)
            # "greater" must beat the comparison by more than the ROPE to count as supported
            threshold = {"greater": claim.rope, "less": -claim.rope, "similar": 0.0}[direction]
            verdict = decide(
                d_low, d_high, threshold=threshold, direction=direction, rope=claim.rope
            )
            comparison = (
                f"Claimed {_DIRECTION_TEXT[direction]} {_describe(other_filter)} ({other.successes}/{other.trials}): "
                f"difference {d_mean:+.2f} [{d_low:+.2f}, {d_high:+.2f}], ROPE ±{claim.rope:g} ({clustering}){note}"
            )
    if group.trials == 0:
        verdict = "no-data"
        comparison = f"No trial matches {_describe(claim.filter)}"
    model_verdict, pooled_verdict = _model_verdicts(verdicts, claim)
    row.update(comparison=comparison, verdict=verdict)
    return {**row, **extra, "model_verdict": model_verdict, "pooled_verdict": pooled_verdict}


def review(claims: Path, data_dir: Path) -> pd.DataFrame:
    """Review every claim against the trials and write ``claims.csv``.

    Parameters
    ----------
    claims : Path
        The claims file (``analysis/claims.yaml``).
    data_dir : Path
        The processed-data folder holding ``trials.parquet`` (and, if present,
        ``verdicts.csv``); ``claims.csv`` is written there.

    Returns
    -------
    DataFrame
        The columns of ``schemas.CLAIMS`` first, then ``filter, outcome, direction,
        runs, design_effect, comparison_successes, comparison_trials,
        comparison_rate, diff_mean, diff_low, diff_high, model_verdict,
        pooled_verdict``.

    Raises
    ------
    ClaimsError
        If the claims file is malformed.
    FileNotFoundError
        If ``trials.parquet`` is missing (run ``stats score``).
    """
    art = Artifacts(Path(data_dir))
    parsed = parse_claims(Path(claims))
    if not art.trials.exists():
        raise FileNotFoundError(f"{art.trials} is missing: run `stats score` first")
    provenance.require_current(art.root, "review")
    trials = pd.read_parquet(art.trials)
    verdicts = pd.read_csv(art.verdicts) if art.verdicts.exists() else None
    rows = [review_claim(claim, trials, verdicts) for claim in parsed]
    table = pd.DataFrame(rows) if rows else schemas.empty("claims")
    for column in ("comparison_successes", "comparison_trials", "runs"):
        if column in table:
            table[column] = pd.array(table[column], dtype="Int64")
    table = schemas.validate(table, "claims")
    table.to_csv(art.claims, index=False)
    provenance.record(art.root, "review")
    return table
