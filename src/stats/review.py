"""Claims review: check claims written as data against the trials and the pooled model.

A claim in ``analysis/claims.yaml`` is a filter of trials, an outcome and a
comparison::

    claims:
      - id: hello-by-line-2-greeting
        text: HELLO is articulated by line 2 when the prompt says hello
        filter: {word: HELLO, arm: finetuned, greeting: true}
        outcome: {column: articulated, max_line: 2, line_column: word_line}
        compare: {baseline: base, direction: greater}

Filters match trial columns (``word``, ``greeting``, ``arm``, ``n_examples``,
``lr_multiplier``, ... any column of ``schemas.TRIALS``) or keys of the JSON
``conditions`` column (``conditions.stage``). A value is a scalar (equality), a
list (any of) or ``{min: .., max: ..}`` (inclusive range). Outcomes are a boolean
trial column, optionally restricted to ``<line_column> <= max_line``.

Comparisons (``compare``):

* ``rate: r`` - the claim's rate against a fixed rate;
* ``vs: {...}`` - against the claim's filter with these keys replaced (``null`` drops a key);
* ``filter: {...}`` - against another filter;
* ``baseline: base | control`` - against that arm with the same word/greeting/prompt filters.

``direction`` is ``greater`` (default), ``less`` or ``similar`` (within the ROPE).

Each claim gets counts, an exact Clopper-Pearson interval, a Bayesian interval
(Jeffreys Beta posterior; when the trials come from several runs, the counts are
divided by the design effect 1 + (m - 1) * ICC estimated from the runs, so
correlated samples of one fine-tune are not counted as independent), the verdict
(``supported | contradicted | inconclusive | no-data``) and the pooled model's
verdict for the claim's word from ``verdicts.csv``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats as st

from stats import provenance, schemas
from stats.config import CI_PROB, ROPE, SEED, Artifacts

CLAIM_KEYS = ("id", "text", "source", "filter", "outcome", "compare", "rope", "notes")
OUTCOME_KEYS = ("column", "max_line", "line_column")
COMPARE_KEYS = ("rate", "vs", "filter", "baseline", "direction")
DIRECTIONS = ("greater", "less", "similar")
_DIRECTION_TEXT = {"greater": "greater than", "less": "less than", "similar": "similar to"}
BASELINE_ARMS = ("base", "control")
TOP_KEYS = ("claims",)
CLAIM_VERDICTS = ("supported", "contradicted", "inconclusive", "no-data")
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
#: Monte Carlo draws for the difference of two Beta posteriors.
DIFF_DRAWS = 20_000
JEFFREYS = 0.5


class ClaimsError(ValueError):
    """A claims file is malformed; the message names the file, line and field."""


# ----------------------------------------------------------------------------- parsing
class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Claim:
    """One validated claim (see the module docstring for the fields)."""

    claim_id: str
    text: str
    filter: dict[str, Any]
    outcome: dict[str, Any]
    compare: dict[str, Any]
    rope: float
    line: int


def _strip(mapping: Any) -> Any:
    if isinstance(mapping, dict):
        return {k: _strip(v) for k, v in mapping.items() if k != "__line__"}
    if isinstance(mapping, list):
        return [_strip(v) for v in mapping]
    return mapping


def _check_keys(where: str, given: dict[str, Any], valid: tuple[str, ...]) -> None:
    unknown = [k for k in given if k != "__line__" and k not in valid]
    if unknown:
        raise ClaimsError(f"{where}: unknown key(s) {unknown}; valid keys: {', '.join(valid)}")


def _check_filter(where: str, flt: Any) -> None:
    if not isinstance(flt, dict):
        raise ClaimsError(f"{where}: a filter must be a mapping of column: value, got {flt!r}")
    columns = set(schemas.columns("trials"))
    for key, value in _strip(flt).items():
        if not (key in columns or key.startswith("conditions.")):
            raise ClaimsError(
                f"{where}: unknown filter column {key!r}; valid: any trial column "
                f"({', '.join(sorted(columns))}) or conditions.<key>"
            )
        if isinstance(value, dict):
            _check_keys(f"{where}: filter {key}", value, ("min", "max"))


def parse_claims(path: Path) -> list[Claim]:
    """Read and validate a claims file.

    Parameters
    ----------
    path : Path
        A YAML file with a top-level ``claims`` list.

    Returns
    -------
    list of Claim

    Raises
    ------
    ClaimsError
        Naming the file, the line and the field, with the valid keys or values.
    """
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(), Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise ClaimsError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ClaimsError(f"{path}: expected a mapping with a 'claims' list")
    _check_keys(f"{path}", doc, TOP_KEYS)
    claims, seen = [], set()
    boolean_columns = {f.name for f in schemas.TRIALS if f.dtype in ("boolean", "bool")}
    line_columns = {"articulation_line", "word_line", "letters_visible"}
    for index, raw in enumerate(doc["claims"], 1):
        if not isinstance(raw, dict):
            raise ClaimsError(f"{path}: claim {index} is not a mapping")
        line = raw.get("__line__", 0)
        where = f"{path}, line {line}, claim {index} ({raw.get('id', '?')!r})"
        _check_keys(where, raw, CLAIM_KEYS)
        for required in ("id", "text", "filter", "outcome", "compare"):
            if required not in raw:
                raise ClaimsError(f"{where}: missing required key {required!r}")
        claim_id = str(raw["id"])
        if claim_id in seen:
            raise ClaimsError(f"{where}: duplicate id {claim_id!r}")
        seen.add(claim_id)
        _check_filter(f"{where}: filter", raw["filter"])
        outcome = raw["outcome"]
        outcome = {"column": outcome} if isinstance(outcome, str) else outcome
        if not isinstance(outcome, dict):
            raise ClaimsError(f"{where}: outcome must be a column name or a mapping")
        _check_keys(f"{where}: outcome", outcome, OUTCOME_KEYS)
        if outcome.get("column") not in boolean_columns:
            raise ClaimsError(
                f"{where}: outcome column {outcome.get('column')!r} is not a boolean trial column; "
                f"valid: {', '.join(sorted(boolean_columns))}"
            )
        if outcome.get("line_column", "articulation_line") not in line_columns:
            raise ClaimsError(
                f"{where}: outcome line_column must be one of {', '.join(sorted(line_columns))}"
            )
        compare = raw["compare"]
        if not isinstance(compare, dict):
            raise ClaimsError(f"{where}: compare must be a mapping")
        _check_keys(f"{where}: compare", compare, COMPARE_KEYS)
        kinds = [k for k in ("rate", "vs", "filter", "baseline") if k in compare]
        if len(kinds) != 1:
            raise ClaimsError(
                f"{where}: compare needs exactly one of rate, vs, filter, baseline; got {kinds}"
            )
        direction = compare.get("direction", "greater")
        if direction not in DIRECTIONS:
            raise ClaimsError(
                f"{where}: compare direction {direction!r}; valid: {', '.join(DIRECTIONS)}"
            )
        if "baseline" in compare and compare["baseline"] not in BASELINE_ARMS:
            raise ClaimsError(
                f"{where}: baseline {compare['baseline']!r}; valid: {', '.join(BASELINE_ARMS)}"
            )
        if "rate" in compare and not (
            isinstance(compare["rate"], int | float) and 0 <= compare["rate"] <= 1
        ):
            raise ClaimsError(f"{where}: compare rate must be a number in [0, 1]")
        for key in ("vs", "filter"):
            if key in compare:
                _check_filter(f"{where}: compare {key}", compare[key])
        claims.append(
            Claim(
                claim_id=claim_id,
                text=str(raw["text"]),
                filter=_strip(raw["filter"]),
                outcome=_strip(outcome),
                compare={**_strip(compare), "direction": direction},
                rope=float(raw.get("rope", ROPE)),
                line=line,
            )
        )
    return claims


# ----------------------------------------------------------------------------- counting
def _condition_column(trials: pd.DataFrame, key: str) -> pd.Series:
    parsed = trials["conditions"].fillna("{}").map(json.loads)
    return parsed.map(lambda d: d.get(key) if isinstance(d, dict) else None)


def select(trials: pd.DataFrame, flt: dict[str, Any]) -> pd.DataFrame:
    """Trials matching a claim filter (scalar = equal, list = any of, {min, max} = range)."""
    mask = pd.Series(True, index=trials.index)
    for key, value in flt.items():
        column = (
            _condition_column(trials, key.split(".", 1)[1])
            if key.startswith("conditions.")
            else trials[key]
        )
        if isinstance(value, dict):
            numeric = pd.to_numeric(column, errors="coerce")
            if "min" in value:
                mask &= (numeric >= value["min"]).fillna(False)
            if "max" in value:
                mask &= (numeric <= value["max"]).fillna(False)
        elif isinstance(value, list):
            mask &= column.isin(value).fillna(False).astype(bool)
        elif value is None:
            mask &= column.isna()
        else:
            if isinstance(value, str) and key in ("word",):
                value = value.upper()
            mask &= (column == value).fillna(False).astype(bool)
    return trials[mask.astype(bool)]


def outcome_values(trials: pd.DataFrame, outcome: dict[str, Any]) -> pd.Series:
    """The claim's per-trial outcome (boolean)."""
    hit = trials[outcome["column"]].fillna(False).astype(bool)
    if "max_line" in outcome:
        line = pd.to_numeric(
            trials[outcome.get("line_column", "articulation_line")], errors="coerce"
        )
        hit &= (line <= outcome["max_line"]).fillna(False)
    return hit


@dataclass(frozen=True)
class Counts:
    """Successes and trials of a group, with per-run counts for clustering."""

    successes: int
    trials: int
    runs: int
    design_effect: float

    @property
    def rate(self) -> float:
        """Observed proportion (NaN without trials)."""
        return self.successes / self.trials if self.trials else float("nan")


def design_effect(successes: np.ndarray, trials: np.ndarray) -> float:
    """Design effect 1 + (m0 - 1) * ICC of clustered binary data (ANOVA estimator, Fleiss).

    Parameters
    ----------
    successes, trials : array
        Per-cluster (run) counts.

    Returns
    -------
    float
        1 for a single cluster or clusters of size 1; never below 1.
    """
    successes, trials = np.asarray(successes, float), np.asarray(trials, float)
    k, n = len(trials), trials.sum()
    if k < 2 or n <= k:
        return 1.0
    p_i = successes / trials
    p = successes.sum() / n
    msb = np.sum(trials * (p_i - p) ** 2) / (k - 1)
    msw = np.sum(trials * p_i * (1 - p_i)) / (n - k)
    m0 = (n - np.sum(trials**2) / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    icc = 0.0 if denom <= 0 else float(np.clip((msb - msw) / denom, 0.0, 1.0))
    return 1.0 + (m0 - 1) * icc


def count(trials: pd.DataFrame, outcome: dict[str, Any]) -> Counts:
    """Counts of a claim's outcome, with the run design effect."""
    if trials.empty:
        return Counts(0, 0, 0, 1.0)
    hits = outcome_values(trials, outcome)
    per_run = hits.groupby(trials["run_id"]).agg(["sum", "size"])
    deff = design_effect(per_run["sum"].to_numpy(), per_run["size"].to_numpy())
    return Counts(int(hits.sum()), len(hits), len(per_run), deff)


def exact_interval(successes: int, trials: int, prob: float = CI_PROB) -> tuple[float, float]:
    """Clopper-Pearson interval of a binomial proportion."""
    if trials == 0:
        return float("nan"), float("nan")
    alpha = 1 - prob
    low = 0.0 if successes == 0 else st.beta.ppf(alpha / 2, successes, trials - successes + 1)
    high = (
        1.0
        if successes == trials
        else st.beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
    )
    return float(low), float(high)


def beta_posterior(counts: Counts) -> tuple[float, float]:
    """Jeffreys Beta posterior parameters, with counts shrunk by the run design effect."""
    s, n = counts.successes / counts.design_effect, counts.trials / counts.design_effect
    return JEFFREYS + s, JEFFREYS + n - s


def bayes_interval(counts: Counts, prob: float = CI_PROB) -> tuple[float, float, float]:
    """Posterior mean and equal-tailed interval of the rate."""
    if counts.trials == 0:
        return float("nan"), float("nan"), float("nan")
    a, b = beta_posterior(counts)
    low, high = st.beta.ppf([(1 - prob) / 2, (1 + prob) / 2], a, b)
    return a / (a + b), float(low), float(high)


def difference_interval(
    first: Counts, second: Counts, *, prob: float = CI_PROB, seed: int = SEED
) -> tuple[float, float, float]:
    """Posterior mean and equal-tailed interval of ``p_first - p_second`` (Monte Carlo, seeded)."""
    rng = np.random.default_rng(seed)
    a1, b1 = beta_posterior(first)
    a2, b2 = beta_posterior(second)
    diff = rng.beta(a1, b1, DIFF_DRAWS) - rng.beta(a2, b2, DIFF_DRAWS)
    low, high = np.quantile(diff, [(1 - prob) / 2, (1 + prob) / 2])
    return float(diff.mean()), float(low), float(high)


def decide(low: float, high: float, *, threshold: float, direction: str, rope: float) -> str:
    """Verdict of an interval against a threshold.

    ``greater``: supported if ``low > threshold``, contradicted if ``high < threshold``.
    ``less``: the mirror. ``similar``: supported if inside ``threshold ± rope``,
    contradicted if entirely outside it. Otherwise inconclusive.
    """
    if np.isnan(low) or np.isnan(high):
        return "no-data"
    if direction == "greater":
        return (
            "supported"
            if low > threshold
            else "contradicted"
            if high < threshold
            else "inconclusive"
        )
    if direction == "less":
        return (
            "supported"
            if high < threshold
            else "contradicted"
            if low > threshold
            else "inconclusive"
        )
    if threshold - rope < low and high < threshold + rope:
        return "supported"
    if high < threshold - rope or low > threshold + rope:
        return "contradicted"
    return "inconclusive"


# ----------------------------------------------------------------------------- reviewing
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
    exact_low, exact_high = exact_interval(group.successes, group.trials)
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
