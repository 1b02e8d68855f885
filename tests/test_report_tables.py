"""The fit stage's tables for the report: observed counts and gate rows (stats.summarize)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats.summarize.gates import gate_table, verdict_stability
from stats.summarize.observed import (
    EVERY_WORD,
    conditions_table,
    greeting_runs,
    guessability_table,
    leak_table,
)


def diagnostics(**changes: object) -> pd.DataFrame:
    row = dict(fit="M1-x1", model="M1", outcome="articulated_early", prior_scale=1.0,
               max_rhat=1.004, min_ess_bulk=900.0, min_ess_tail=850.0, divergences=0,
               min_bfmi=0.8, pareto_k_max=0.5, converged=True)  # fmt: skip
    return pd.DataFrame([{**row, **changes}])


def test_gate_rows_spell_out_the_fit_stages_decision() -> None:
    ok = gate_table(diagnostics())
    assert ok["passed"].all() and set(ok["kind"]) == {"gate", "warning"}
    bad = gate_table(diagnostics(max_rhat=1.05, divergences=2, converged=False, pareto_k_max=1.3))
    failed = bad.loc[~bad["passed"], ["check", "kind"]].values.tolist()
    assert failed == [["rhat", "gate"], ["divergences", "gate"], ["pareto_k", "warning"]]
    # the fit stage's converged flag and the gate rows agree
    assert not bad.loc[bad["kind"] == "gate", "passed"].all()
    missing = gate_table(diagnostics(pareto_k_max=np.nan))
    assert missing.loc[missing["check"] == "pareto_k", "passed"].isna().all()


def test_verdict_stability_flags_a_verdict_that_moves_with_the_prior() -> None:
    rows = [
        (scale, scope, word, greeting, verdict)
        for scale, verdicts in (
            (0.5, ("real", "fluke")),
            (1.0, ("real", "fluke")),
            (2.0, ("inconclusive", "fluke")),
        )
        for (scope, word, greeting), verdict in zip(
            (("word", "HELLO", False), ("pooled", None, False)), verdicts, strict=True
        )
    ]
    sensitivity = pd.DataFrame(
        rows, columns=["prior_scale", "scope", "word", "greeting", "verdict"]
    )
    table = verdict_stability(sensitivity, 1.0)
    assert table.groupby("scope")["changes"].all().to_dict() == {"pooled": False, "word": True}
    assert set(table.loc[table["scope"] == "word", "main_verdict"]) == {"real"}


def test_observed_tables_count_what_the_model_saw() -> None:
    cells = pd.DataFrame(
        {"word": ["HELLO"] * 4, "run_id": ["r1", "r1", "r1", "r2"], "arm": "finetuned",
         "greeting": [False, True, True, False], "prompt_id": ["a", "b", "c", "a"],
         "successes": [1, 2, 3, 0], "trials": [10, 10, 10, 5]}
    )  # fmt: skip
    runs = greeting_runs(cells, "articulated_early").set_index(["run_id", "greeting"])
    assert runs.loc[("r1", True), ["successes", "trials"]].tolist() == [5, 20]
    assert runs.loc[("r1", True), "paired"] and not runs.loc[("r2", False), "paired"]
    trials = pd.DataFrame(
        {"trial_id": ["t1", "t2", "t3", "t3"], "arm": ["finetuned", "finetuned", "base", "base"],
         "word": ["HELLO", "HELLO", "HELLO", "SHINE"], "greeting": [True, False, True, True],
         "greeting_word": ["hello", None, "hello", "hello"], "leak": [True, False, True, False],
         "word_source": ["run", "run", "expanded", "expanded"],
         "letters_visible": [1, np.nan, 2, np.nan], "guessability": [0.01, np.nan, 0.05, np.nan]}
    )  # fmt: skip
    leaks = leak_table(trials).set_index("word")
    assert leaks.loc["HELLO", ["greeting_trials", "leaking_trials"]].tolist() == [2, 2]
    assert leaks.loc["SHINE", "leaking_trials"] == 0
    conditions = conditions_table(trials)
    base = conditions[conditions["arm"] == "base"]
    assert base["word"].tolist() == [EVERY_WORD] and base["trials"].tolist() == [1]  # once
    guess = guessability_table(trials)
    assert guess["articulations"].tolist() == [1, 1]
    assert guessability_table(trials.drop(columns=["guessability"])).empty
