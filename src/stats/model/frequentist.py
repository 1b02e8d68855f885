"""Frequentist cross-checks reported beside the Bayesian numbers (analysis plan, section 3).

* :func:`exact_interval` - Clopper-Pearson or Jeffreys interval of a binomial proportion;
* :func:`glm_crosscheck` - statsmodels GLM Binomial on the same cells and fixed-effect
  design as M1 (word terms as sum-to-zero fixed effects, matching the zero-sum word
  effects; no run/prompt effects) with cluster-robust standard errors by run, compared
  term by term with the posterior;
* :func:`fisher_greeting` - Fisher's exact test of greeting vs no greeting within word x arm;
* :func:`self_consistency` - probability that two samples of the same prompt (same run)
  agree on the outcome: the non-determinism ceiling on any reproducibility claim.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from stats import config
from stats.model.design import ModelData
from stats.model.spec import ModelSpec
from stats.model.terms.base import label

EXACT_METHODS = ("clopper-pearson", "jeffreys")
#: A posterior mean and an MLE "disagree" when they are more than this many standard
#: errors (the larger of posterior sd and robust SE) apart.
DISAGREEMENT_SE = 1.0


def exact_interval(
    successes: np.ndarray | int,
    trials: np.ndarray | int,
    prob: float = config.CI_PROB,
    method: str = "clopper-pearson",
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) or Jeffreys interval of a binomial proportion.

    Parameters
    ----------
    successes, trials : int or array of int
    prob : float, default config.CI_PROB
    method : {"clopper-pearson", "jeffreys"}

    Returns
    -------
    (low, high) : arrays (NaN where ``trials == 0``)
    """
    if method not in EXACT_METHODS:
        raise ValueError(f"unknown interval method {method!r}; valid: {list(EXACT_METHODS)}")
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    alpha = 1 - prob
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "clopper-pearson":
            low = np.where(x > 0, sps.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
            high = np.where(x < n, sps.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
        else:
            low = np.where(x > 0, sps.beta.ppf(alpha / 2, x + 0.5, n - x + 0.5), 0.0)
            high = np.where(x < n, sps.beta.ppf(1 - alpha / 2, x + 0.5, n - x + 0.5), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def fixed_effect_design(spec: ModelSpec, data: ModelData) -> pd.DataFrame:
    """The fixed-effect design matrix mirroring M1's population terms.

    Columns are named like the posterior terms (``a, b_greet, b_n, b_lr, b_arm[base]``),
    plus sum-coded word columns for each word-level group term (``u_word``, ``d_word``,
    ``g_word``) so that the population terms are estimated conditional on words, as in
    the model. Run and prompt effects are left out (the SEs are cluster-robust by run).
    """
    columns: dict[str, np.ndarray] = {}
    for term in spec.terms:
        if term.population or term.input == "word":
            columns |= term.design_columns(data.rows, data.coords)
    return pd.DataFrame(columns)


def glm_crosscheck(
    spec: ModelSpec, data: ModelData, posterior: dict[str, np.ndarray]
) -> pd.DataFrame:
    """GLM Binomial MLE with cluster-robust SEs by run, beside the posterior.

    Parameters
    ----------
    spec : ModelSpec
        An M1 spec.
    data : ModelData
    posterior : dict of str to ndarray
        Posterior draws (``Fit.posterior``).

    Returns
    -------
    DataFrame
        ``term, bayes_mean, bayes_sd, mle, robust_se, z_diff, flag`` for the population
        terms (intercept, slopes, arm contrasts). ``z_diff = (bayes_mean - mle) /
        max(bayes_sd, robust_se)``; ``flag`` is ``"agree"``, ``"disagree"`` (``|z_diff|
        > DISAGREEMENT_SE``) or ``"mle-unstable"`` (non-finite or separated MLE).
    """
    import statsmodels.api as sm

    design = fixed_effect_design(spec, data)
    endog = np.column_stack([data.y, data.n - data.y])
    groups = data.rows.index["run"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = sm.GLM(endog, design, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": groups}
            )
            mle, se = result.params, result.bse
        except (np.linalg.LinAlgError, ValueError):
            mle = pd.Series(np.nan, index=design.columns)
            se = pd.Series(np.nan, index=design.columns)
    rows = []
    for term in spec.terms:
        if not term.population:
            continue
        draws = posterior[term.name]
        labels = (
            [(term.name, draws)]
            if draws.ndim == 1
            else [
                (label(term.name, term.input, level, k), draws[:, k])
                for k, level in enumerate(data.coords[term.input])
            ]
        )
        for name, values in labels:
            b_mean, b_sd = float(values.mean()), float(values.std())
            m, s = float(mle.get(name, np.nan)), float(se.get(name, np.nan))
            unstable = not (np.isfinite(m) and np.isfinite(s)) or s > 10 or abs(m) > 15
            z = (b_mean - m) / max(b_sd, s) if not unstable else float("nan")
            flag = (
                "mle-unstable" if unstable else "disagree" if abs(z) > DISAGREEMENT_SE else "agree"
            )
            rows.append((name, b_mean, b_sd, m, s, z, flag))
    return pd.DataFrame(
        rows, columns=["term", "bayes_mean", "bayes_sd", "mle", "robust_se", "z_diff", "flag"]
    )


def fisher_greeting(cells: pd.DataFrame) -> pd.DataFrame:
    """Fisher's exact test of greeting vs no greeting within each word x arm.

    Parameters
    ----------
    cells : DataFrame
        Binomial cells with ``word, arm, greeting, successes, trials``.

    Returns
    -------
    DataFrame
        ``word, arm, greet_successes, greet_trials, nogreet_successes, nogreet_trials,
        odds_ratio, p_value`` (only word x arm with both greeting levels).
    """
    totals = cells.groupby(["word", "arm", "greeting"], as_index=False)[
        ["successes", "trials"]
    ].sum()
    rows = []
    for (word, arm), group in totals.groupby(["word", "arm"]):
        greet = group[group["greeting"].astype(bool)]
        plain = group[~group["greeting"].astype(bool)]
        if greet.empty or plain.empty:
            continue
        gs, gt = int(greet["successes"].sum()), int(greet["trials"].sum())
        ns, nt = int(plain["successes"].sum()), int(plain["trials"].sum())
        result = sps.fisher_exact([[gs, gt - gs], [ns, nt - ns]])
        rows.append((word, arm, gs, gt, ns, nt, float(result.statistic), float(result.pvalue)))
    return pd.DataFrame(
        rows,
        columns=[
            "word",
            "arm",
            "greet_successes",
            "greet_trials",
            "nogreet_successes",
            "nogreet_trials",
            "odds_ratio",
            "p_value",
        ],
    )


def self_consistency(cells: pd.DataFrame) -> pd.DataFrame:
    """Agreement of repeated samples of one prompt, per word x arm x greeting.

    Parameters
    ----------
    cells : DataFrame
        Binomial cells at the (run, prompt) level: ``run_id, prompt_id, word, arm,
        greeting, successes, trials`` (``trials`` = samples of that prompt).

    Returns
    -------
    DataFrame
        ``word, arm, greeting, n_prompts, samples_per_prompt, self_consistency``: the
        probability that two distinct samples of the same prompt and run agree on the
        outcome, pooled over prompts (pair-weighted). Prompts sampled once are skipped.
    """
    by = ["word", "arm", "greeting", "run_id", "prompt_id"]
    groups = cells.groupby(by, as_index=False, dropna=False)[["successes", "trials"]].sum()
    groups = groups[groups["trials"] >= 2].copy()
    s, n = groups["successes"].astype(float), groups["trials"].astype(float)
    groups["pairs"] = n * (n - 1) / 2
    groups["agree"] = s * (s - 1) / 2 + (n - s) * (n - s - 1) / 2
    out = groups.groupby(["word", "arm", "greeting"], as_index=False, dropna=False).agg(
        n_prompts=("prompt_id", "size"),
        samples_per_prompt=("trials", "mean"),
        agree=("agree", "sum"),
        pairs=("pairs", "sum"),
    )
    out["self_consistency"] = out["agree"] / out["pairs"]
    return out.drop(columns=["agree", "pairs"])


def cross_terms(trials: pd.DataFrame, prob: float = config.CI_PROB) -> pd.DataFrame:
    """Other-word cross terms: how often runs fine-tuned on *another* word name word W.

    A model trained on SHINE that calls its pattern "HELLO" shows how much naming HELLO
    needs HELLO's training at all (Betley et al. 2025's other-word baseline).

    Parameters
    ----------
    trials : DataFrame
        Scored trials with ``word, arm, named_word``.
    prob : float

    Returns
    -------
    DataFrame
        ``word, source, successes, trials, raw_rate, exact_low, exact_high`` with
        ``source`` = ``"same-word"`` (fine-tuned on W) or ``"other-word"`` (fine-tuned on
        another word), where a success is ``named_word == W`` on any line.
    """
    columns = ["word", "source", "successes", "trials", "raw_rate", "exact_low", "exact_high"]
    if "named_word" not in trials:
        return pd.DataFrame(columns=columns)
    tuned = trials[(trials["arm"] == "finetuned") & trials["word"].notna()]
    trained = tuned["word"].astype(str).str.upper()
    named = tuned["named_word"].astype("string").str.upper()
    rows = []
    for word in sorted(set(trained)):
        hits = (named == word).fillna(False).to_numpy(dtype=bool)
        for source, mask in (("same-word", trained == word), ("other-word", trained != word)):
            mask = mask.to_numpy()
            n, s = int(mask.sum()), int(hits[mask].sum())
            low, high = exact_interval(s, n, prob)
            rows.append((word, source, s, n, s / n if n else np.nan, float(low), float(high)))
    return pd.DataFrame(rows, columns=columns)
