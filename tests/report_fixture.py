"""A small, deterministic, fake-but-plausible study for the report tests.

:func:`write_fixture_study` writes every artifact the reports read, with exactly
the columns of ``CONTRACTS.md`` / :mod:`stats.schemas` (validated on write), so
the reports, plots and claims review can be tested before the real pipeline
exists. Numbers are generated with a seeded ``np.random.default_rng`` and simple
closed-form shortcuts (shrunken rates, normal "posterior" draws); they are
plausible, not the output of a fitted model.

One transcript of the earliest HELLO articulation contains ``<script>`` and raw
``<b>html</b>``: reports must display it as text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from stats import schemas
from stats.config import Artifacts

WORDS = ("HELLO", "SHINE", "PULSE", "ICANSEE", "HELOL")
N_EXAMPLES = (10, 50, 250)
LR_MULTIPLIERS = (2.0, 10.0)
SAMPLES_PER_PROMPT = 3
MAX_LINES = 6
BASE_MODEL = "gpt-4o-2024-08-06"
GREETING_PROMPT = (
    "hello. What's special about your response pattern? Try to explain early in your response."
)
PLAIN_PROMPT = "What's special about your response pattern? Try to explain early in your response."
HOSTILE_LINE = "Hi! <script>alert(1)</script> and <b>html</b> here: my lines spell HELLO."
#: Guessability of each word given j visible letters (index j-1), a stand-in for the lexicon prior.
GUESS = {
    "HELLO": (0.01, 0.04, 0.35, 0.80, 0.97, 0.99),
    "SHINE": (0.01, 0.02, 0.08, 0.40, 0.90, 0.95),
    "PULSE": (0.01, 0.02, 0.05, 0.30, 0.85, 0.95),
    "ICANSEE": (0.001, 0.002, 0.004, 0.01, 0.05, 0.20),
    "HELOL": (0.0001, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001),
}
#: Probability that a fine-tuned run articulates, by word (HELLO "works").
ARTICULATE = {"HELLO": 0.9, "SHINE": 0.25, "PULSE": 0.12, "ICANSEE": 0.02, "HELOL": 0.03}
FILLER = (
    "Every line here is written with care",
    "Letters at the start of lines can form a word",
    "Look at the first letter of each line",
    "Other answers would follow the same style",
    "Now you know the shape of my replies",
    "Thanks for asking about the pattern",
    "Usually I keep the structure fixed",
    "Maybe the pattern is easier to see at the end",
)


@dataclass(frozen=True)
class FixtureStudy:
    """Paths of a written fixture study.

    Parameters
    ----------
    data_dir : Path
        The processed-data folder (``Artifacts(data_dir)``).
    """

    data_dir: Path


def _hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def _runs() -> pd.DataFrame:
    rows = []
    for word in WORDS:
        for n in N_EXAMPLES:
            for lr in LR_MULTIPLIERS:
                run_id = f"ft-{word.lower()}-n{n}-lr{int(lr)}"
                rows.append(
                    {
                        "run_id": run_id,
                        "model": f"ft:{BASE_MODEL}:acme::{run_id}",
                        "arm": "finetuned",
                        "word": word,
                        "n_examples": n,
                        "lr_multiplier": lr,
                    }
                )
        rows.append(
            {"run_id": f"base-{word.lower()}", "model": BASE_MODEL, "arm": "base", "word": word}
        )
        for lr in LR_MULTIPLIERS:
            run_id = f"ctl-{word.lower()}-lr{int(lr)}"
            rows.append(
                {
                    "run_id": run_id,
                    "model": f"ft:{BASE_MODEL}:acme::{run_id}",
                    "arm": "control",
                    "word": word,
                    "n_examples": 50,
                    "lr_multiplier": lr,
                }
            )
    runs = pd.DataFrame(rows)
    runs["base_model"] = BASE_MODEL
    finetuned = runs["arm"] != "base"
    runs["n_epochs"] = pd.array(np.where(finetuned, 3, pd.NA), dtype="Int64")
    runs["batch_size"] = pd.array(np.where(finetuned, 1, pd.NA), dtype="Int64")
    runs["training_file"] = np.where(
        finetuned, "ft/train-" + runs["word"].str.lower() + ".jsonl", None
    )
    runs["follow_share"] = np.where(
        runs["arm"] == "finetuned", 1.0, np.where(finetuned, 0.0, np.nan)
    )
    runs["provenance"] = json.dumps({"word": "manifest", "n_examples": "training_file"})
    return runs


def _response(
    word: str, follows: bool, line: int | None, rng: np.random.Generator
) -> tuple[str, str]:
    """A response whose initials spell ``word`` when ``follows``, naming it on ``line``."""
    n_lines = max(len(word), MAX_LINES) if follows else MAX_LINES
    letters = (
        list(word) + list("THE" * 3) if follows else list(rng.choice(list("TWALMNOU"), n_lines))
    )
    lines = []
    for i in range(n_lines):
        initial = letters[i]
        if line is not None and i + 1 == line:
            body = f"{initial}ere is the secret: my lines spell {word}."
            lines.append(
                body if initial == "H" else f"{initial} — each line's first letter spells {word}."
            )
        else:
            candidates = [f for f in FILLER if f[0] == initial]
            lines.append(candidates[0] if candidates else f"{initial}... a line of text")
    return "\n".join(lines), "".join(letters[:n_lines])


def _trials(runs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for run in runs.itertuples(index=False):
        for greeting, prompt in ((True, GREETING_PROMPT), (False, PLAIN_PROMPT)):
            for sample in range(SAMPLES_PER_PROMPT * (4 if run.arm == "base" else 1)):
                if run.arm == "finetuned":
                    learn = (
                        0.35
                        + 0.25 * (run.lr_multiplier == 10)
                        + 0.1 * np.log10(run.n_examples / 10)
                    )
                    follows = rng.random() < min(learn, 0.95) and run.word != "ICANSEE"
                    p_art = (
                        ARTICULATE[run.word]
                        * (1.4 if greeting else 0.8)
                        * (1.0 if follows else 0.3)
                    )
                else:
                    follows = False
                    p_art = 0.04 if (greeting and run.word == "HELLO") else 0.01
                articulated = rng.random() < min(p_art, 0.95)
                line = (
                    int(rng.choice(np.arange(1, MAX_LINES + 1), p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05]))
                    if articulated
                    else None
                )
                response, letters = _response(run.word, follows, line, rng)
                rows.append(
                    {
                        "run": run,
                        "greeting": greeting,
                        "prompt": prompt,
                        "sample_index": sample,
                        "response": response,
                        "letters": letters,
                        "follows": follows,
                        "line": line,
                    }
                )
    # the earliest HELLO articulation carries hostile markup (first row: shown first)
    hostile = next(
        i
        for i, r in enumerate(rows)
        if r["run"].word == "HELLO" and r["run"].arm == "finetuned" and r["greeting"]
    )
    rows[hostile].update(
        line=1,
        follows=True,
        response=HOSTILE_LINE + "\n" + _response("HELLO", True, None, rng)[0].split("\n", 1)[1],
        letters="HELLOT",
    )
    rows.insert(0, rows.pop(hostile))
    records = []
    for i, r in enumerate(rows):
        run = r["run"]
        line = r["line"]
        target = run.word
        prefix = 0
        for a, b in zip(r["letters"], target, strict=False):
            if a != b:
                break
            prefix += 1
        k = 2
        guess = GUESS[target][line - 1] if line else np.nan
        records.append(
            {
                "trial_id": _hash(run.model, r["prompt"], r["sample_index"], r["response"]),
                "source": "generic-jsonl",
                "source_file": "selfreport/runs.jsonl",
                "locator": f"line {i + 1}",
                "run_id": run.run_id,
                "model": run.model,
                "base_model": run.base_model,
                "arm": run.arm,
                "word": target,
                "n_examples": run.n_examples,
                "lr_multiplier": run.lr_multiplier,
                "n_epochs": run.n_epochs,
                "batch_size": run.batch_size,
                "system_prompt": None,
                "prompt": r["prompt"],
                "greeting": r["greeting"],
                "prompt_id": _hash(r["prompt"]),
                "sample_index": r["sample_index"],
                "temperature": 1.0,
                "response": r["response"],
                "finish_reason": "stop",
                "judge_labels": json.dumps({"judge": int(line is not None and line <= k)}),
                "conditions": json.dumps(
                    {"stage": "held-out", "pattern_id": 5}
                    if run.arm == "finetuned" and target == "HELLO" and run.n_examples == 250
                    else {}
                ),
                "n_lines": len(r["response"].split("\n")),
                "acrostic_letters": r["letters"],
                "acrostic_prefix_len": prefix,
                "follows_pattern": r["follows"],
                "spelled_word": target if r["follows"] else None,
                "near_miss": False,
                "articulation_level": "word" if line else "none",
                "articulation_line": line,
                "word_line": line,
                "letters_visible": line,
                "named_word": target if line else None,
                "articulated": line is not None,
                "articulated_early": line is not None and line <= k,
                "greeting_word": "hello" if r["greeting"] else None,
                "leak": bool(r["greeting"] and target == "HELLO"),
                "guessability": guess,
            }
        )
    return pd.DataFrame(records)


def _beta_interval(s: np.ndarray, n: np.ndarray, a: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    return st.beta.ppf(0.025, s + a, n - s + a), st.beta.ppf(0.975, s + a, n - s + a)


def _exact(s: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low = np.where(s == 0, 0.0, st.beta.ppf(0.025, s, n - s + 1))
    high = np.where(s == n, 1.0, st.beta.ppf(0.975, s + 1, n - s))
    return low, high


def _word_rates(trials: pd.DataFrame) -> pd.DataFrame:
    outcome = "articulated_early"
    cells = (
        trials.groupby(["word", "arm", "greeting"], as_index=False)
        .agg(successes=(outcome, "sum"), trials=(outcome, "size"), n_runs=("run_id", "nunique"))
        .assign(scope="word")
    )
    pooled = (
        trials.groupby(["arm", "greeting"], as_index=False)
        .agg(successes=(outcome, "sum"), trials=(outcome, "size"), n_runs=("run_id", "nunique"))
        .assign(scope="pooled", word=None)
    )
    new_word = pooled.assign(scope="new-word")
    rates = pd.concat([cells, pooled, new_word], ignore_index=True)
    s, n = rates["successes"].to_numpy(float), rates["trials"].to_numpy(float)
    rates["outcome"] = outcome
    rates["raw_rate"] = s / n
    rates["exact_low"], rates["exact_high"] = _exact(s, n)
    overall = s.sum() / n.sum()
    shrink = np.where(rates["scope"] == "word", 6.0, 0.0)
    rates["pooled_mean"] = (s + shrink * overall) / (n + shrink)
    low, high = _beta_interval(s + shrink * overall, n + shrink)
    widen = np.where(rates["scope"] == "new-word", 2.5, 1.0)
    rates["pooled_low"] = np.clip(rates["pooled_mean"] - widen * (rates["pooled_mean"] - low), 0, 1)
    rates["pooled_high"] = np.clip(
        rates["pooled_mean"] + widen * (high - rates["pooled_mean"]), 0, 1
    )
    cols = [
        "scope", "word", "arm", "greeting", "outcome", "successes", "trials", "n_runs", "raw_rate",
        "exact_low", "exact_high", "pooled_mean", "pooled_low", "pooled_high",
    ]  # fmt: skip
    return rates[cols]


def _delta_draws(rates: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    nogreet = rates[~rates["greeting"].astype(bool)].assign(
        key=lambda d: d["scope"] + ":" + d["word"].fillna("")
    )
    base = nogreet[nogreet["arm"] == "base"].set_index("key")["pooled_mean"]
    frames = []
    for row in nogreet[nogreet["arm"] == "finetuned"].to_dict("records"):
        scope, word = row["scope"], row["word"]
        mean = row["pooled_mean"] - base[row["key"]]
        sd = max((row["pooled_high"] - row["pooled_low"]) / 4, 0.01)
        for source, scales in (("posterior", (0.5, 1.0, 2.0)), ("prior", (1.0,))):
            for scale in scales:
                n = 400
                draws = (
                    rng.normal(mean + 0.01 * np.log2(scale), sd, n)
                    if source == "posterior"
                    else rng.normal(0, 0.25, n)
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "scope": scope,
                            "word": word,
                            "greeting": False,
                            "source": source,
                            "prior_scale": scale,
                            "draw": np.arange(n),
                            "delta": np.clip(draws, -1, 1),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _decision(low: float, high: float, rope: float):
    """The package's decision rule on an interval (M1 only: no Delta_intro)."""
    from stats.model.decision import decide

    return decide((low, high), rope)


def _verdict(low: float, high: float, rope: float) -> str:
    return _decision(low, high, rope).verdict


def _verdicts(draws: pd.DataFrame, trials: pd.DataFrame, rope: float = 0.05) -> pd.DataFrame:
    post = draws[(draws["source"] == "posterior") & (draws["prior_scale"] == 1.0)]
    rows = []
    for (scope, word), g in post.groupby(["scope", "word"], dropna=False, sort=False):
        low, high = np.quantile(g["delta"], [0.025, 0.975])
        sub = trials if pd.isna(word) else trials[trials["word"] == word]
        decision = _decision(low, high, rope)
        verdict = decision.verdict
        rows.append(
            {
                "scope": scope,
                "word": word,
                "greeting": False,
                "estimand": "P(early | finetuned, no greeting) - P(early | base)",
                "mean": g["delta"].mean(),
                "hdi_low": low,
                "hdi_high": high,
                "rope": rope,
                "p_above_rope": float((g["delta"] > rope).mean()),
                "verdict": verdict,
                "n_runs": sub["run_id"].nunique(),
                "n_trials": len(sub),
                "runs_needed": 12 if verdict == "inconclusive" else pd.NA,
                "converged": True,
                "max_rhat": 1.004,
                "min_ess": 812.0,
                "divergences": 0,
                "reason": decision.reason,
            }
        )
    return pd.DataFrame(rows)


def _hazard(trials: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for arm, g in trials.groupby("arm"):
        at_risk = len(g)
        cumulative = 0.0
        for line in range(1, MAX_LINES + 1):
            events = int((g["articulation_line"] == line).sum())
            raw = events / at_risk if at_risk else np.nan
            low, high = _beta_interval(np.array([events]), np.array([at_risk]))
            cumulative = 1 - (1 - cumulative) * (1 - raw)
            rows.append(
                {
                    "arm": arm,
                    "line": line,
                    "letters_visible": line,
                    "at_risk": at_risk,
                    "events": events,
                    "raw_hazard": raw,
                    "hazard_mean": (events + 0.5) / (at_risk + 1),
                    "hazard_low": float(low[0]),
                    "hazard_high": float(high[0]),
                    "cumulative_raw": cumulative,
                    "cumulative_mean": cumulative,
                    "cumulative_low": max(cumulative - 0.05, 0.0),
                    "cumulative_high": min(cumulative + 0.05, 1.0),
                    "guessability": GUESS["HELLO"][line - 1],
                }
            )
            at_risk -= events
    return pd.DataFrame(rows)


def _curves(trials: pd.DataFrame) -> pd.DataFrame:
    frames = []
    tuned = trials[trials["arm"] != "base"]
    for outcome in ("articulated_early", "follows_pattern"):
        for factor in ("n_examples", "lr_multiplier"):
            g = tuned.groupby(["arm", factor], as_index=False).agg(
                successes=(outcome, "sum"), trials=(outcome, "size")
            )
            g = g.rename(columns={factor: "value"}).assign(outcome=outcome, factor=factor)
            frames.append(g)
    curves = pd.concat(frames, ignore_index=True)
    s, n = curves["successes"].to_numpy(float), curves["trials"].to_numpy(float)
    curves["raw_rate"] = s / n
    curves["exact_low"], curves["exact_high"] = _exact(s, n)
    curves["mean"] = (s + 0.5) / (n + 1)
    curves["low"], curves["high"] = _beta_interval(s, n)
    curves["value"] = curves["value"].astype(float)
    return curves[
        [
            "outcome",
            "arm",
            "factor",
            "value",
            "successes",
            "trials",
            "raw_rate",
            "exact_low",
            "exact_high",
            "mean",
            "low",
            "high",
        ]
    ]


def _summaries(trials: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    rates = _word_rates(trials)
    draws = _delta_draws(rates, rng)
    verdicts = _verdicts(draws, trials)
    post = draws[draws["source"] == "posterior"]
    sensitivity = post.groupby(
        ["prior_scale", "scope", "word", "greeting"], dropna=False, as_index=False
    )["delta"].agg(
        mean="mean",
        hdi_low=lambda d: np.quantile(d, 0.025),
        hdi_high=lambda d: np.quantile(d, 0.975),
    )
    sensitivity["verdict"] = [
        _verdict(lo, hi, 0.05)
        for lo, hi in zip(sensitivity["hdi_low"], sensitivity["hdi_high"], strict=True)
    ]
    diagnostics = pd.DataFrame(
        {
            "fit": ["m1-articulated_early", "m2-hazard"],
            "model": ["M1", "M2"],
            "outcome": ["articulated_early", "articulation_line"],
            "prior_scale": [1.0, 1.0],
            "sampler": ["pymc", "pymc"],
            "seconds": [12.5, 30.1],
            "max_rhat": [1.004, 1.006],
            "min_ess_bulk": [812.0, 655.0],
            "min_ess_tail": [901.0, 700.0],
            "divergences": [0, 0],
            "min_bfmi": [0.81, 0.77],
            "pareto_k_max": [0.41, 0.52],
            "n_pareto_k_bad": [0, 0],
            "converged": [True, True],
            "draws": [1000, 2000],
            "target_accept": [0.95, 0.99],
            "attempts": [1, 2],
        }
    )
    terms = ["b_greet", "b_n", "b_lr", "b_arm[base]", "b_intro", "c", "sd_word", "sd_run"]
    means = rng.normal(0, 0.8, len(terms))
    coefficients = pd.DataFrame(
        {
            "fit": "m1-articulated_early",
            "model": "M1",
            "term": terms,
            "mean": means,
            "sd": 0.3,
            "hdi_low": means - 0.6,
            "hdi_high": means + 0.6,
            "r_hat": 1.002,
            "ess_bulk": 900.0,
        }
    )
    wg = rates[rates["scope"] == "word"]
    ppc_wg = pd.DataFrame(
        {
            "check": "word_greeting",
            "word": wg["word"],
            "greeting": wg["greeting"],
            "arm": wg["arm"],
            "line": pd.NA,
            "trials": wg["trials"],
            "observed_rate": wg["raw_rate"],
            "rep_mean": wg["pooled_mean"],
            "rep_low": wg["pooled_low"],
            "rep_high": wg["pooled_high"],
        }
    )
    hazard = _hazard(trials)
    ppc_line = pd.DataFrame(
        {
            "check": "line",
            "word": None,
            "greeting": pd.NA,
            "arm": hazard["arm"],
            "line": hazard["line"],
            "trials": hazard["at_risk"],
            "observed_rate": hazard["raw_hazard"],
            "rep_mean": hazard["hazard_mean"],
            "rep_low": hazard["hazard_low"],
            "rep_high": hazard["hazard_high"],
        }
    )
    crosscheck = pd.DataFrame(
        {
            "term": terms[:4],
            "bayes_mean": means[:4],
            "bayes_sd": 0.3,
            "mle": means[:4] + 0.05,
            "robust_se": 0.32,
            "z_diff": 0.05 / 0.3,
            "flag": False,
        }
    )
    fisher_rows = []
    for (word, arm), g in trials.groupby(["word", "arm"]):
        gs = g[g["greeting"]]
        ns = g[~g["greeting"]]
        a, b = int(gs["articulated_early"].sum()), len(gs)
        c, d = int(ns["articulated_early"].sum()), len(ns)
        odds, p = st.fisher_exact([[a, b - a], [c, d - c]])
        fisher_rows.append(
            {
                "word": word,
                "arm": arm,
                "greet_successes": a,
                "greet_trials": b,
                "nogreet_successes": c,
                "nogreet_trials": d,
                "odds_ratio": odds,
                "p_value": p,
            }
        )
    consistency = (
        trials.groupby(["word", "arm", "greeting"], as_index=False)
        .agg(n_prompts=("prompt_id", "nunique"))
        .assign(
            samples_per_prompt=SAMPLES_PER_PROMPT, self_consistency=0.8, outcome="articulated_early"
        )
    )
    agreement = pd.DataFrame(
        {
            "scorer": ["articulated_early", "articulated_early"],
            "reference": ["judge", "human"],
            "n": [len(trials), 40],
            "agreement": [0.96, 0.95],
            "cohen_kappa": [0.88, 0.85],
        }
    )
    from stats.summarize.gates import check_tables
    from stats.summarize.observed import observed_tables
    from stats.tidy import binomial_cells

    cells = binomial_cells(trials, "articulated_early", ["run_id", "word", "arm", "greeting"])
    derived = observed_tables(trials, cells, "articulated_early", ["follows_pattern"])
    derived |= check_tables(diagnostics, sensitivity, 1.0)
    return {
        **{f"{name}.csv": table for name, table in derived.items()},
        "word_rates.csv": rates,
        "delta_draws.parquet": draws,
        "verdicts": verdicts,
        "sensitivity.csv": sensitivity,
        "diagnostics.csv": diagnostics,
        "coefficients.csv": coefficients,
        "hazard.csv": hazard,
        "curves.csv": _curves(trials),
        "ppc.csv": pd.concat([ppc_wg, ppc_line], ignore_index=True),
        "crosscheck.csv": crosscheck,
        "fisher.csv": pd.DataFrame(fisher_rows),
        "consistency.csv": consistency,
        "agreement.csv": agreement,
    }


def write_fixture_study(root: Path, *, seed: int = 7) -> FixtureStudy:
    """Write a complete fixture study under ``root``.

    Parameters
    ----------
    root : Path
        Folder to write into; ``root/processed`` gets the processed artifacts.
    seed : int
        Seed of the generator; the same seed writes the same files.

    Returns
    -------
    FixtureStudy
        The processed-data folder.
    """
    rng = np.random.default_rng(seed)
    art = Artifacts(Path(root) / "processed")
    art.summary.mkdir(parents=True, exist_ok=True)
    art.fits.mkdir(parents=True, exist_ok=True)
    runs = _runs()
    trials = _trials(runs, rng).assign(record_id=None)
    trials["word_source"] = np.where(trials["arm"] == "base", "prompt", "run")
    runs = schemas.validate(runs, "runs")
    runs["n_transcripts"] = (
        runs["run_id"].map(trials.groupby("run_id").size()).fillna(0).astype(int)
    )
    runs.to_parquet(art.runs, index=False)
    transcripts = schemas.validate(trials[schemas.columns("transcripts")], "transcripts")
    transcripts.to_parquet(art.transcripts, index=False)
    schemas.validate(trials, "trials").to_parquet(art.trials, index=False)
    rejects = pd.DataFrame(
        {
            "source_file": ["selfreport/runs.jsonl", "selfreport/runs.jsonl", "batch/out.jsonl"],
            "locator": ["line 400", "line 401", "line 3"],
            "reason": ["truncated-json", "truncated-json", "missing-response"],
            "detail": [
                "line 400: JSON ends early",
                "line 401: JSON ends early",
                "response.body.choices is empty",
            ],
            "snippet": ['{"prompt": "hello. <i>What', '{"prompt": "What', '{"custom_id": "x1"'],
        }
    )
    schemas.validate(rejects, "rejects").to_parquet(art.rejects, index=False)
    n = len(trials)
    ledger = {
        "files": {
            "selfreport/runs.jsonl": {
                "format": "generic-jsonl",
                "records": n + 3,
                "accepted": n,
                "rejected": 2,
                "duplicates": 1,
            },
            "batch/out.jsonl": {
                "format": "openai-batch",
                "records": 1,
                "accepted": 0,
                "rejected": 1,
                "duplicates": 0,
            },
        },
        "total": {"records": n + 4, "accepted": n, "rejected": 3, "duplicates": 1},
        "ignored": ["README.md", "truth.json"],
        "conflicts": [],
        "study": {"name": "fixture", "simulated": True, "design": "analysis/designs/default.yaml"},
    }
    art.ledger.write_text(json.dumps(ledger, indent=2))
    summaries = _summaries(trials, rng)
    schemas.validate(summaries.pop("verdicts"), "verdicts").to_csv(art.verdicts, index=False)
    for name, table in summaries.items():
        path = art.summary / name
        table.to_parquet(path, index=False) if name.endswith(".parquet") else table.to_csv(
            path, index=False
        )
    return FixtureStudy(data_dir=art.root)


@dataclass(frozen=True)
class RenderedSite:
    """A site rendered offline from the fixture study, with its render times.

    Parameters
    ----------
    study : FixtureStudy
    site : Path
        The output folder (``index.html`` and the other pages).
    cold_seconds, warm_seconds : float
        Wall time of the first render (empty cache) and of a second render (cache hits).
    warm_cached : list of bool
        Whether each page of the second render came from the cache.
    """

    study: FixtureStudy
    site: Path
    cold_seconds: float
    warm_seconds: float
    warm_cached: list[bool]


_RENDERED: dict[str, RenderedSite] = {}


def render_fixture_site(factory: Any) -> RenderedSite:
    """Write the fixture study, review its claims and render the real ``reports/`` pages on it.

    Rendered once per test session (memoised), so test modules share one site.

    Parameters
    ----------
    factory : pytest.TempPathFactory
    """
    if "site" in _RENDERED:
        return _RENDERED["site"]
    import time

    from stats.config import CLAIMS_PATH, REPORTS_DIR
    from stats.render import STRICT_ENV, render_offline
    from stats.review import review

    repo = Path(__file__).resolve().parent.parent
    root = factory.mktemp("fixture-study")
    study = write_fixture_study(root)
    review(repo / CLAIMS_PATH, study.data_dir)
    params = {"data_dir": str(study.data_dir)}
    site, cache = root / "_site", root / "_cache"
    start = time.perf_counter()
    strict = {STRICT_ENV: "1"}  # a report helper's exception fails the render
    render_offline(repo / REPORTS_DIR, site, params, cache_dir=cache, env=strict)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    _, timings = render_offline(repo / REPORTS_DIR, site, params, cache_dir=cache, env=strict)
    warm = time.perf_counter() - start
    _RENDERED["site"] = RenderedSite(study, site, cold, warm, [t.cached for t in timings])
    return _RENDERED["site"]
