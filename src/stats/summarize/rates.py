"""Word rates: raw counts and partially pooled model rates per word x arm x greeting.

``word_rates``: one row per word, arm and greeting (``scope`` word), the mean over words
(``pooled``) and a new word drawn from the word-level distribution (``new-word``), with
exact binomial intervals of the raw rate and HDIs of the model rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats import config
from stats.model.decision import hdi
from stats.model.fit import Fit
from stats.model.frequentist import exact_interval
from stats.model.marginal import Predictor, m1_rate


def _interval_columns(draws: np.ndarray, ci_prob: float, prefix: str) -> dict[str, float]:
    low, high = hdi(draws, ci_prob)
    return {f"{prefix}_mean": float(np.mean(draws)), f"{prefix}_low": low, f"{prefix}_high": high}


def word_rates_table(
    fit: Fit,
    guess_at_k: dict[str, float],
    ci_prob: float = config.CI_PROB,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Raw and partially pooled rates per word x arm x greeting, pooled and new-word rows.

    ``seed`` draws the new word's effect: the study's sampler seed, as for the verdicts'
    new-word contrast, so that both rows use the same draws.
    """
    pred = Predictor(fit.spec, fit.data, fit.posterior, seed=seed)
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
