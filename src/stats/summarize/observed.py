"""Observed tables: counts of the data the model saw, shown by the report beside the model.

Every number a report page prints comes from a stored table; these are the descriptive
ones (no model), computed once by the fit stage from the trials it modelled
(:func:`stats.model.pipeline.prepare_trials`: base trials scored against every word) and
the M1 cells:

=================  ==================================================================
table              columns
=================  ==================================================================
``outcomes``       ``outcome, role, prior_scale`` (``primary``: the verdicts' outcome;
                   ``extra``; ``prior_scale``: the prior scale of the verdicts' fits)
``greeting_runs``  ``word, run_id, arm, greeting, outcome, successes, trials, raw_rate,
                   paired`` (the run was asked with and without the greeting)
``leaks``          ``word, greetings, greeting_trials, leaking_trials`` (trials whose
                   prompt contains the target word)
``guessability``   ``word, letters_visible, articulations, mean_guessability`` (at the
                   line where the word was named)
``conditions``     ``arm, word, greeting, trials`` (distinct trials; base trials, scored
                   against every word, appear once under ``word = "(every word)"``)
=================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

#: ``word`` of base-arm trials in ``conditions`` (they are scored against every word).
EVERY_WORD = "(every word)"


def outcome_table(
    primary: str, extra: Sequence[str] = (), prior_scale: float = 1.0
) -> pd.DataFrame:
    """The study's outcomes: the verdicts' (``primary``) and the further M1 fits' (``extra``)."""
    rows = [{"outcome": primary, "role": "primary"}]
    rows += [{"outcome": o, "role": "extra"} for o in extra if o != primary]
    return pd.DataFrame(rows, columns=["outcome", "role"]).assign(prior_scale=float(prior_scale))


def greeting_runs(cells: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Per run and greeting level: successes and trials of ``outcome`` (M1 cells summed).

    Parameters
    ----------
    cells : DataFrame
        M1 cells (:data:`stats.model.design.M1_BY` + ``successes, trials``).
    outcome : str
        The outcome the cells count (written to the ``outcome`` column).
    """
    keys = ["word", "run_id", "arm", "greeting"]
    runs = cells.groupby(keys, as_index=False, observed=True)[["successes", "trials"]].sum()
    runs["outcome"] = outcome
    runs["raw_rate"] = runs["successes"] / runs["trials"]
    runs["paired"] = runs.groupby("run_id")["greeting"].transform("nunique") == 2
    return runs[[*keys, "outcome", "successes", "trials", "raw_rate", "paired"]]


def leak_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Per word: which greetings its prompts carry, and how many prompts contain the word."""
    columns = ["word", "greetings", "greeting_trials", "leaking_trials"]
    greeted = trials[trials["greeting"].astype("boolean").fillna(False).astype(bool)]
    if greeted.empty or "trial_id" not in greeted:
        return pd.DataFrame(columns=columns)
    greeted = greeted.assign(
        leak=greeted["leak"].astype("boolean").fillna(False).astype(bool)
        if "leak" in greeted
        else False,
        greeting_word=greeted["greeting_word"] if "greeting_word" in greeted else None,
    )
    table = greeted.groupby("word", as_index=False).agg(
        greetings=("greeting_word", lambda s: ", ".join(sorted(set(s.dropna().astype(str))))),
        greeting_trials=("trial_id", "nunique"),
        leaking_trials=("leak", "sum"),
    )
    return table[columns]


def guessability_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Mean guessability P(word | letters visible) at the line where the word was named."""
    columns = ["word", "letters_visible", "articulations", "mean_guessability"]
    if not {"letters_visible", "guessability"} <= set(trials.columns):
        return pd.DataFrame(columns=columns)  # trials scored without guessability
    named = trials.dropna(subset=["letters_visible", "guessability"])
    table = named.groupby(["word", "letters_visible"], as_index=False).agg(
        articulations=("guessability", "size"), mean_guessability=("guessability", "mean")
    )
    table["letters_visible"] = table["letters_visible"].astype(int)
    return table[columns]


def conditions_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Distinct trials per arm, word and greeting level (the design as modelled)."""
    expanded = trials.get("word_source", pd.Series("", index=trials.index)) == "expanded"
    word = trials["word"].astype(object).where(~expanded, EVERY_WORD)
    frame = trials.assign(
        word=word, _id=trials.get("trial_id", pd.Series(trials.index, index=trials.index))
    )
    table = frame.groupby(["arm", "word", "greeting"], as_index=False, dropna=False).agg(
        trials=("_id", "nunique")
    )
    return table[["arm", "word", "greeting", "trials"]]


def observed_tables(
    trials: pd.DataFrame,
    cells: pd.DataFrame,
    outcome: str,
    extra: Sequence[str] = (),
    prior_scale: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """Every observed table of the module docstring.

    Parameters
    ----------
    trials : DataFrame
        The modelled trials (:func:`stats.model.pipeline.prepare_trials`).
    cells : DataFrame
        The main M1 fit's cells (primary outcome).
    outcome : str
        The primary outcome.
    extra : sequence of str
        The further outcomes fitted.
    prior_scale : float
        The prior scale of the verdicts' fits.
    """
    return {
        "outcomes": outcome_table(outcome, extra, prior_scale),
        "greeting_runs": greeting_runs(cells, outcome),
        "leaks": leak_table(trials),
        "guessability": guessability_table(trials),
        "conditions": conditions_table(trials),
    }
