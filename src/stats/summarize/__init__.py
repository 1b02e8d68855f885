"""Posterior draws -> the tidy tables the reports read (compute only, no plotting, no I/O).

Every function takes fitted models (:class:`stats.model.fit.Fit`) or contrast draws and
returns a DataFrame whose columns are listed in CONTRACTS.md (extra columns are allowed
and documented here):

========================  ===================================================================
table                     columns
========================  ===================================================================
``verdicts``              schemas.VERDICTS + ``baseline, basis, intro_mean, intro_low,
                          intro_high, reason``
``diagnostics``           ``fit, model, outcome, prior_scale, sampler, seconds, max_rhat,
                          min_ess_bulk, min_ess_tail, divergences, min_bfmi, pareto_k_max,
                          n_pareto_k_bad, converged`` + ``elpd_loo, failed, cached, n_cells,
                          draws, target_accept, attempts`` (of the reported attempt;
                          ``attempts`` > 1: the first missed a gate and the fit was
                          sampled again), ``loo_warning`` (a plain sentence when PSIS-LOO
                          is unreliable for the fit, else empty)
``coefficients``          ``fit, model, term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk``
                          + ``input_center, input_scale`` (slopes are per ``input_scale`` raw
                          units: two standard deviations)
``word_rates``            ``scope, word, arm, greeting, outcome, successes, trials, n_runs,
                          raw_rate, exact_low, exact_high, pooled_mean, pooled_low,
                          pooled_high`` + ``guessability_at_k``
``delta_draws``           ``scope, word, greeting, source, prior_scale, draw, delta`` +
                          ``baseline``
``hazard``                ``arm, line, letters_visible, at_risk, events, raw_hazard,
                          hazard_mean, hazard_low, hazard_high, cumulative_raw,
                          cumulative_mean, cumulative_low, cumulative_high, guessability``
``curves``                ``outcome, arm, factor, value, successes, trials, raw_rate,
                          exact_low, exact_high, mean, low, high``
``sensitivity``           ``prior_scale, scope, word, greeting, mean, hdi_low, hdi_high,
                          verdict`` + ``converged``
``ppc``                   ``check, word, greeting, arm, line, trials, observed_rate, rep_mean,
                          rep_low, rep_high``
``crosscheck``            ``term, bayes_mean, bayes_sd, mle, robust_se, z_diff, flag`` + ``fit``
``fisher``                ``word, arm, greet_successes, greet_trials, nogreet_successes,
                          nogreet_trials, odds_ratio, p_value``
``consistency``           ``word, arm, greeting, n_prompts, samples_per_prompt,
                          self_consistency`` + ``outcome``
``prior_predictive``      ``fit, model, share_below_1pct, share_above_99pct, q05, q50, q95, ok``
``intro_draws``           ``scope, word, greeting, prior_scale, draw, delta_intro`` (M2, Parquet)
``cross_terms``           ``word, source, successes, trials, raw_rate, exact_low, exact_high``
                          (:func:`stats.model.frequentist.cross_terms`)
========================  ===================================================================

Model-based rates in ``word_rates`` and ``curves`` are on the probability scale; intervals
are HDIs at ``ci_prob``; posterior predictive intervals are central intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from arviz_stats.base import array_stats
from scipy.special import expit

from stats import config
from stats.model.contrasts import Contrast, Predictor, m1_rate
from stats.model.decision import decide_draws, hdi, runs_needed
from stats.model.fit import Fit
from stats.model.frequentist import exact_interval
from stats.model.spec import REFERENCE_ARM

#: Prior predictive check: the implied cell probabilities "pile up" at an extreme when
#: more than this share of them is below 1% (or above 99%).
PILE_UP_SHARE = 0.5
#: Draws used for posterior predictive replicates.
PPC_DRAWS = 1000
VERDICT_EXTRA = ["baseline", "basis", "intro_mean", "intro_low", "intro_high", "reason"]


# ----------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class FitHealth:
    """Gate summary of the fits a verdict uses."""

    converged: bool
    max_rhat: float
    min_ess: float
    divergences: int

    @classmethod
    def of(cls, fits: Sequence[Fit]) -> FitHealth:
        """Worst values over ``fits``."""
        d = [f.diagnostics for f in fits]
        return cls(
            converged=all(f.converged for f in fits),
            max_rhat=max(x["max_rhat"] for x in d),
            min_ess=min(min(x["min_ess_bulk"], x["min_ess_tail"]) for x in d),
            divergences=sum(int(x["divergences"]) for x in d),
        )


def _counts(cells: pd.DataFrame, word: str | None, greeting: bool) -> tuple[int, int, int]:
    """Fine-tuned runs, trials and runs-per-word of a scope (word None = all words)."""
    mask = (cells["arm"] == REFERENCE_ARM) & (cells["greeting"] == greeting)
    if word is not None:
        mask &= cells["word"] == word
    sub = cells[mask]
    n_runs = sub["run_id"].nunique()
    n_words = max(sub["word"].nunique(), 1)
    return int(n_runs), int(sub["trials"].sum()), max(round(n_runs / n_words), 1)


def verdict_rows(
    contrasts: list[Contrast],
    intro: dict[tuple, np.ndarray],
    m1: Fit,
    m2: Fit | None,
    *,
    outcome: str,
    rope: float,
    ci_prob: float,
) -> pd.DataFrame:
    """One verdict per contrast (schemas.VERDICTS columns plus :data:`VERDICT_EXTRA`).

    M2 joins a verdict when it has the introspection term (a baseline arm exists); its
    gates then count too. See :mod:`stats.model.decision` for the rule.
    """
    uses_m2 = m2 is not None and bool(intro)
    health = FitHealth.of([m1, m2] if uses_m2 else [m1])
    cells = m1.data.cells
    rows = []
    for c in contrasts:
        delta = c.delta
        share = intro.get((c.scope, c.word, c.greeting)) if uses_m2 else None
        decision = decide_draws(delta, rope, intro=share, converged=health.converged, prob=ci_prob)
        low, high = hdi(delta, ci_prob)
        n_runs, n_trials, runs_per_word = _counts(cells, c.word, c.greeting)
        needed = None
        if (
            decision.verdict != "not-converged"
            and np.isfinite(delta).all()
            and c.scope != "new-word"
        ):
            needed = runs_needed(delta, runs_per_word, rope, intro=share, prob=ci_prob)
        i_low, i_high = hdi(share, ci_prob) if share is not None else (np.nan, np.nan)
        rows.append(
            {
                "scope": c.scope,
                "word": c.word,
                "greeting": c.greeting,
                "estimand": f"P({outcome} | finetuned) - P({outcome} | {c.baseline})",
                "mean": float(np.mean(delta)),
                "hdi_low": low,
                "hdi_high": high,
                "rope": rope,
                "p_above_rope": float(np.mean(delta > rope)),
                "verdict": decision.verdict,
                "n_runs": n_runs,
                "n_trials": n_trials,
                "runs_needed": needed,
                "converged": health.converged,
                "max_rhat": health.max_rhat,
                "min_ess": health.min_ess,
                "divergences": health.divergences,
                "baseline": c.baseline,
                "basis": "M1+M2" if share is not None else "M1",
                "intro_mean": float(np.mean(share)) if share is not None else np.nan,
                "intro_low": i_low,
                "intro_high": i_high,
                "reason": decision.reason,
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = guard_leaking_rows(out, leaking_conditions(m2 if uses_m2 else m1))
    order = {"word": 0, "pooled": 1, "new-word": 2}
    out = out.assign(_g=out["greeting"].astype(bool), _s=out["scope"].map(order))
    return out.sort_values(["_g", "_s", "word"], kind="stable").drop(columns=["_g", "_s"])


def leaking_conditions(fit: Fit) -> set[tuple[str, bool]]:
    """``(word, greeting)`` pairs whose prompts contain the word (cells' ``leak`` column)."""
    cells = fit.data.cells
    if "leak" not in cells:
        return set()
    leaking = cells[cells["leak"].astype("boolean").fillna(False).astype(bool)]
    return {(str(w), bool(g)) for w, g in zip(leaking["word"], leaking["greeting"], strict=True)}


def guard_leaking_rows(verdicts: pd.DataFrame, leaking: set[tuple[str, bool]]) -> pd.DataFrame:
    """A prompt that contains the word cannot show self-report on its own.

    A ``real`` verdict of a word (or pooled) row whose condition leaks the word (for
    pooled rows: leaks any word) stands only when the row of the same scope and word at
    the other greeting level, which does not leak, is ``real`` too; otherwise it becomes
    ``inconclusive`` with reason ``leak_needs_clean_real`` and ``runs_needed`` of the clean
    row. The model's ``b_leak`` term already keeps the leak out of the introspection
    term; this rule keeps the nonlinearity of the probability scale (the
    same introspective logit effect is a larger share when the leak raises the hazard)
    from making a leaking condition look stronger than the clean one.
    """
    if not leaking:
        return verdicts
    out = verdicts.copy()
    words_leaking = {w for w, _ in leaking}
    key = [
        (r.scope, None if pd.isna(r.word) else r.word, bool(r.greeting)) for r in out.itertuples()
    ]
    clean = dict(zip(key, out["verdict"], strict=True))
    needed = dict(zip(key, out["runs_needed"], strict=True))
    for i, r in out.iterrows():
        word = None if pd.isna(r["word"]) else str(r["word"])
        greeting = bool(r["greeting"])
        if r["verdict"] != "real" or r["scope"] not in ("word", "pooled"):
            continue
        if r["scope"] == "word":
            leaks = (word, greeting) in leaking
            other = (r["scope"], word, not greeting)
            other_clean = (word, not greeting) not in leaking
        else:
            leaks = any((w, greeting) in leaking for w in words_leaking)
            other = (r["scope"], None, not greeting)
            other_clean = not any((w, not greeting) in leaking for w in words_leaking)
        if leaks and not (other_clean and clean.get(other) == "real"):
            out.loc[i, "verdict"] = "inconclusive"
            out.loc[i, "runs_needed"] = needed.get(other)  # what decides the clean row
            out.loc[i, "reason"] = "leak_needs_clean_real"
    return out


# ----------------------------------------------------------------------------- diagnostics
def diagnostics_table(fits: Sequence[Fit]) -> pd.DataFrame:
    """One row per fit: gates, LOO and timing."""
    rows = []
    for f in fits:
        d = f.diagnostics
        rows.append(
            {
                "fit": f.name,
                "model": f.spec.name,
                "outcome": f.spec.outcome,
                "prior_scale": f.spec.prior_scale,
                "sampler": d.get("sampler", f.sampler),
                "seconds": d.get("seconds", np.nan),
                "max_rhat": d["max_rhat"],
                "min_ess_bulk": d["min_ess_bulk"],
                "min_ess_tail": d["min_ess_tail"],
                "divergences": d["divergences"],
                "min_bfmi": d["min_bfmi"],
                "pareto_k_max": d.get("pareto_k_max", np.nan),
                "n_pareto_k_bad": d.get("n_pareto_k_bad", np.nan),
                "converged": bool(d["converged"]),
                "elpd_loo": d.get("elpd_loo", np.nan),
                "failed": "; ".join(d.get("failed", [])),
                "cached": f.cached,
                "n_cells": len(f.data.y),
                "draws": d.get("draws", np.nan),
                "target_accept": d.get("target_accept", np.nan),
                "attempts": len(d.get("attempts", [])) or np.nan,
                "loo_warning": loo_warning(d, len(f.data.y)),
            }
        )
    return pd.DataFrame(rows)


def loo_warning(diagnostics: dict, n_cells: int) -> str:
    """A plain sentence when PSIS-LOO is unreliable for a fit (Pareto k above the warning level).

    LOO is reported, not used by any verdict or gate: a binomial cell of many trials is
    influential by construction, so its leave-one-out density is poorly estimated by
    importance sampling. The sentence says so, with the count.
    """
    bad = diagnostics.get("n_pareto_k_bad", 0)
    if not bad or not np.isfinite(bad):
        return ""
    return (
        f"LOO unreliable: Pareto k > {config.PARETO_K_WARN} for {int(bad)} of {n_cells} cells "
        f"(max {diagnostics.get('pareto_k_max', float('nan')):.2f}); elpd_loo is not used "
        "by any verdict"
    )


def _by_chain(values: np.ndarray, chains: int) -> np.ndarray:
    return values.reshape(chains, -1)


def coefficient_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Population-level terms, standard deviations and line intercepts of one fit."""
    rows = []
    dims = fit.spec.variable_dims()
    for name in fit.spec.summary_names():
        values = fit.posterior[name]
        term = next((t for t in fit.spec.terms if t.name == name), None)
        centre, scale = (
            fit.data.scaling.get(term.input, (np.nan, np.nan))
            if term is not None
            else (np.nan, np.nan)
        )
        columns = (
            [(name, values)]
            if values.ndim == 1
            else [
                (f"{name}[{label}]", values[:, j])
                for j, label in enumerate(fit.data.coords[dims[name][0]])
            ]
        )
        resampled = False
        for label, draws in columns:
            chained = _by_chain(draws, fit.chains)
            low, high = hdi(draws, ci_prob)
            rows.append(
                {
                    "fit": fit.name,
                    "model": fit.spec.name,
                    "term": label,
                    "mean": float(draws.mean()),
                    "sd": float(draws.std()),
                    "hdi_low": low,
                    "hdi_high": high,
                    "r_hat": np.nan if resampled else float(array_stats.rhat(chained)),
                    "ess_bulk": np.nan if resampled else float(array_stats.ess(chained)),
                    "input_center": centre,
                    "input_scale": scale,
                }
            )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- rates
def _interval_columns(draws: np.ndarray, ci_prob: float, prefix: str) -> dict[str, float]:
    low, high = hdi(draws, ci_prob)
    return {f"{prefix}_mean": float(np.mean(draws)), f"{prefix}_low": low, f"{prefix}_high": high}


def word_rates_table(
    fit: Fit, guess_at_k: dict[str, float], ci_prob: float = config.CI_PROB
) -> pd.DataFrame:
    """Raw and partially pooled rates per word x arm x greeting, pooled and new-word rows."""
    pred = Predictor(fit.spec, fit.data, fit.posterior)
    cells = fit.data.cells
    outcome = fit.spec.outcome
    rows = []
    greetings = sorted(set(cells["greeting"]))
    arms = [a for a in config.ARMS if a in set(cells["arm"])]
    for arm in arms:
        for greeting in greetings:
            words = sorted(set(cells.loc[cells["arm"] == arm, "word"]))
            word_draws = []
            for word in words:
                sub = cells[
                    (cells["arm"] == arm)
                    & (cells["word"] == word)
                    & (cells["greeting"] == greeting)
                ]
                draws = m1_rate(pred, word, arm, greeting)
                word_draws.append(draws)
                rows.append(
                    _rate_row("word", word, arm, greeting, outcome, sub, draws, ci_prob)
                    | {"guessability_at_k": guess_at_k.get(word, np.nan)}
                )
            if len(words) > 1:
                sub = cells[(cells["arm"] == arm) & (cells["greeting"] == greeting)]
                pooled = np.mean(word_draws, axis=0)
                rows.append(_rate_row("pooled", None, arm, greeting, outcome, sub, pooled, ci_prob))
                if fit.spec.has("u_word"):
                    new = m1_rate(pred, None, arm, greeting)
                    rows.append(
                        _rate_row(
                            "new-word", None, arm, greeting, outcome, sub.iloc[:0], new, ci_prob
                        )
                    )
    return pd.DataFrame(rows)


def _rate_row(
    scope: str,
    word: str | None,
    arm: str,
    greeting: bool,
    outcome: str,
    sub: pd.DataFrame,
    draws: np.ndarray,
    ci_prob: float,
) -> dict:
    successes, trials = int(sub["successes"].sum()), int(sub["trials"].sum())
    low, high = exact_interval(successes, trials, ci_prob)
    pooled = _interval_columns(draws, ci_prob, "pooled")
    return {
        "scope": scope,
        "word": word,
        "arm": arm,
        "greeting": greeting,
        "outcome": outcome,
        "successes": successes if trials else np.nan,
        "trials": trials if trials else np.nan,
        "n_runs": sub["run_id"].nunique() if trials else np.nan,
        "raw_rate": successes / trials if trials else np.nan,
        "exact_low": float(low),
        "exact_high": float(high),
        **pooled,
    }


def _weighted_draws(prob: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = weights[mask]
    return prob[:, mask] @ (w / w.sum())


def curves_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Rate per arm against n_examples and against LR: raw and fitted (trial-weighted cells)."""
    cells = fit.data.cells
    prob = fit.cell_probability()
    weights = fit.data.n.astype(float)
    rows = []
    for factor in ("n_examples", "lr_multiplier"):
        values = pd.to_numeric(cells[factor], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        for arm in [a for a in config.ARMS if a in set(cells["arm"])]:
            arm_mask = (cells["arm"] == arm).to_numpy()
            for value in np.unique(values[arm_mask & np.isfinite(values)]):
                mask = arm_mask & (values == value)
                s, n = int(fit.data.y[mask].sum()), int(fit.data.n[mask].sum())
                low, high = exact_interval(s, n, ci_prob)
                draws = _weighted_draws(prob, weights, mask)
                m_low, m_high = hdi(draws, ci_prob)
                rows.append(
                    {
                        "outcome": fit.spec.outcome,
                        "arm": arm,
                        "factor": factor,
                        "value": float(value),
                        "successes": s,
                        "trials": n,
                        "raw_rate": s / n if n else np.nan,
                        "exact_low": float(low),
                        "exact_high": float(high),
                        "mean": float(draws.mean()),
                        "low": m_low,
                        "high": m_high,
                    }
                )
    return pd.DataFrame(rows)


def hazard_table(fit: Fit, ci_prob: float = config.CI_PROB) -> pd.DataFrame:
    """Hazard and cumulative articulation per arm x line: raw and fitted (at-risk weighted)."""
    cells = fit.data.cells
    prob = fit.cell_probability()
    at_risk = fit.data.n.astype(float)
    rows = []
    for arm in [a for a in config.ARMS if a in set(cells["arm"])]:
        arm_mask = (cells["arm"] == arm).to_numpy()
        survival_raw = 1.0
        survival_draws = np.ones(prob.shape[0])
        for line in sorted(cells.loc[arm_mask, "line"].unique()):
            mask = arm_mask & (cells["line"] == line).to_numpy()
            events, n = int(fit.data.y[mask].sum()), int(at_risk[mask].sum())
            raw = events / n if n else np.nan
            draws = _weighted_draws(prob, at_risk, mask)
            survival_raw *= 1 - raw
            survival_draws = survival_draws * (1 - draws)
            h_low, h_high = hdi(draws, ci_prob)
            c_low, c_high = hdi(1 - survival_draws, ci_prob)
            g = pd.to_numeric(cells.loc[mask, "guessability"], errors="coerce").to_numpy()
            rows.append(
                {
                    "arm": arm,
                    "line": int(line),
                    "letters_visible": float(
                        pd.to_numeric(cells.loc[mask, "letters_visible"], errors="coerce").median()
                    ),
                    "at_risk": n,
                    "events": events,
                    "raw_hazard": raw,
                    "hazard_mean": float(draws.mean()),
                    "hazard_low": h_low,
                    "hazard_high": h_high,
                    "cumulative_raw": 1 - survival_raw,
                    "cumulative_mean": float((1 - survival_draws).mean()),
                    "cumulative_low": c_low,
                    "cumulative_high": c_high,
                    "guessability": float(np.average(g, weights=at_risk[mask])),
                }
            )
    return pd.DataFrame(rows)


def ppc_table(
    fit: Fit, check: str, by: list[str], ci_prob: float = config.CI_PROB, seed: int = config.SEED
) -> pd.DataFrame:
    """Observed vs replicated rates per group (replicates drawn from the posterior).

    For M2 the replicated events are drawn given the observed numbers at risk.
    """
    rng = np.random.default_rng(seed)
    prob = fit.cell_probability()
    take = rng.choice(prob.shape[0], size=min(PPC_DRAWS, prob.shape[0]), replace=False)
    rep = rng.binomial(fit.data.n, prob[take])  # (D, cells)
    cells = fit.data.cells.assign(_y=fit.data.y, _n=fit.data.n)
    alpha = (1 - ci_prob) / 2
    rows = []
    for key, group in cells.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        idx = group.index.to_numpy()
        n = group["_n"].sum()
        rates = rep[:, idx].sum(axis=1) / n
        row = {"check": check, "word": None, "greeting": None, "arm": None, "line": None}
        row.update(dict(zip(by, key, strict=True)))
        row.update(
            {
                "trials": int(n),
                "observed_rate": float(group["_y"].sum() / n),
                "rep_mean": float(rates.mean()),
                "rep_low": float(np.quantile(rates, alpha)),
                "rep_high": float(np.quantile(rates, 1 - alpha)),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def prior_predictive_table(fit: Fit, prior: dict[str, np.ndarray]) -> pd.DataFrame:
    """Implied cell probabilities under the prior: do they pile up at 0 or 1?"""
    from stats.model.predictor import DRAWS, linear_predictor

    p = expit(linear_predictor(fit.spec, prior, fit.data.rows, DRAWS)).ravel()
    below, above = float((p < 0.01).mean()), float((p > 0.99).mean())
    q05, q50, q95 = np.quantile(p, [0.05, 0.5, 0.95])
    return pd.DataFrame(
        [
            {
                "fit": fit.name,
                "model": fit.spec.name,
                "share_below_1pct": below,
                "share_above_99pct": above,
                "q05": float(q05),
                "q50": float(q50),
                "q95": float(q95),
                "ok": below < PILE_UP_SHARE and above < PILE_UP_SHARE,
            }
        ]
    )


def delta_draws_table(
    contrasts: list[Contrast], source: str, prior_scale: float, max_draws: int = 4000
) -> pd.DataFrame:
    """Long table of Delta draws per scope (thinned to ``max_draws`` per scope)."""
    frames = []
    for c in contrasts:
        delta = c.delta
        step = max(1, len(delta) // max_draws)
        values = delta[::step]
        frames.append(
            pd.DataFrame(
                {
                    "scope": c.scope,
                    "word": c.word,
                    "greeting": c.greeting,
                    "source": source,
                    "prior_scale": prior_scale,
                    "draw": np.arange(len(values)),
                    "delta": values,
                    "baseline": c.baseline,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sensitivity_table(verdicts_by_scale: dict[float, pd.DataFrame]) -> pd.DataFrame:
    """Delta and verdict per scope under each prior scale."""
    frames = []
    for scale, verdicts in sorted(verdicts_by_scale.items()):
        if verdicts.empty:
            continue
        frame = verdicts[
            ["scope", "word", "greeting", "mean", "hdi_low", "hdi_high", "verdict", "converged"]
        ].copy()
        frame.insert(0, "prior_scale", scale)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
