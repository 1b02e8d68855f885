"""tidy: binomial cells, person-period data, hazard cells, baseline expansion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stats.config import GUESS_CLIP
from stats.score import score_transcripts
from stats.tidy import binomial_cells, expand_baseline, hazard_cells, person_period

RESPONSES = {
    "early": "Hi!\nEvery line here starts with a letter of HELLO.\nLook.\nLovely.\nOk.",
    "late": "Hello!\nEvery day.\nLife.\nLots.\nOh, my lines spell HELLO.",
    "never": "Hello!\nEverything is fine.\nLet me help.\nLots to do.\nOkay.",
    "short": "Hi.",
    "empty": "",
    "shine": "Sure.\nHere is my secret: each line begins with a letter of SHINE.\nIt.\nNice.\nEnd.",
    "base": "Hello! I don't have a specific pattern.\nI just help.",
}


def trials_frame(rng: np.random.Generator | None = None, n: int = 0) -> pd.DataFrame:
    """Scored trials over the fixed responses (plus n random draws of them)."""
    keys = list(RESPONSES)
    rows = [(key, "HELLO" if key != "shine" else "SHINE", "finetuned") for key in keys[:-1]]
    rows += [("base", None, "base"), ("early", None, "base")]
    if rng is not None:
        for _ in range(n):
            key = keys[rng.integers(len(keys) - 1)]
            rows.append((key, "SHINE" if key == "shine" else "HELLO", "finetuned"))
    frame = pd.DataFrame(
        {
            "trial_id": [f"t{i}" for i in range(len(rows))],
            "run_id": [
                f"r{i % 3}" if arm == "finetuned" else "base" for i, (_, _, arm) in enumerate(rows)
            ],
            "word": pd.Series([w for _, w, _ in rows], dtype="string"),
            "arm": [arm for _, _, arm in rows],
            "greeting": [i % 2 == 0 for i in range(len(rows))],
            "prompt_id": ["p1"] * len(rows),
            "prompt": ["hello. Pattern?"] * len(rows),
            "system_prompt": pd.Series([None] * len(rows), dtype="string"),
            "response": [RESPONSES[key] for key, _, _ in rows],
        }
    )
    return score_transcripts(frame)


def test_binomial_cells_sum_to_trial_counts():
    trials = trials_frame(np.random.default_rng(1), n=200)
    cells = binomial_cells(trials, "articulated", ["word", "arm", "greeting"])
    assert list(cells.columns) == ["word", "arm", "greeting", "successes", "trials"]
    assert cells["trials"].sum() == len(trials)
    assert cells["successes"].sum() == trials["articulated"].sum()
    assert (cells["successes"] <= cells["trials"]).all()
    assert cells["successes"].dtype == "int64" and cells["trials"].dtype == "int64"
    # sorted, deterministic, missing words (ambiguous base trials) kept as their own cell, last
    assert cells.equals(
        binomial_cells(
            trials.sample(frac=1, random_state=3), "articulated", ["word", "arm", "greeting"]
        )
    )
    assert cells["word"].isna().sum() >= 1 and cells["word"].isna().iloc[-1]


def test_binomial_cells_drop_missing_outcomes_and_check_values():
    df = pd.DataFrame(
        {"g": ["a", "a", "b", "b"], "y": pd.array([True, None, False, True], dtype="boolean")}
    )
    cells = binomial_cells(df, "y", ["g"])
    assert cells.to_dict("records") == [
        {"g": "a", "successes": 1, "trials": 1},
        {"g": "b", "successes": 1, "trials": 2},
    ]
    assert binomial_cells(df, "y", []).to_dict("records") == [{"successes": 2, "trials": 3}]
    with pytest.raises(ValueError, match="boolean or 0/1"):
        binomial_cells(pd.DataFrame({"g": ["a"], "y": [2]}), "y", ["g"])
    with pytest.raises(KeyError, match="missing column"):
        binomial_cells(df, "nope", ["g"])


def test_person_period_rows_events_and_censoring():
    trials = trials_frame()
    pp = person_period(trials)
    expected_columns = [
        "trial_id", "run_id", "word", "arm", "greeting", "prompt_id",
        "line", "letters_visible", "guessability", "early", "event",
    ]  # fmt: skip
    assert list(pp.columns) == expected_columns
    with_word = trials[trials["word"].notna() & (trials["n_lines"] > 0)]
    expected_rows = with_word["word_line"].fillna(with_word["n_lines"]).astype(int).sum()
    assert len(pp) == expected_rows
    for trial_id, rows in pp.groupby("trial_id"):
        assert rows["line"].tolist() == list(range(1, len(rows) + 1))
        assert rows["event"].iloc[:-1].eq(0).all()  # an event can only be on the last row
        trial = trials.set_index("trial_id").loc[trial_id]
        assert rows["event"].iloc[-1] == int(pd.notna(trial["word_line"]))
    by_id = pp.groupby("trial_id")["event"].agg(["size", "sum"])
    assert by_id.loc["t0"].tolist() == [2, 1]  # early: event at line 2
    assert by_id.loc["t1"].tolist() == [5, 1]  # late: event at line 5
    assert by_id.loc["t2"].tolist() == [5, 0]  # never: censored after 5 lines
    assert "t4" not in by_id.index  # empty response: no lines at risk
    assert pp["guessability"].between(GUESS_CLIP, 1 - GUESS_CLIP).all()
    assert (pp["early"] == (pp["letters_visible"] <= 2)).all()
    assert (pp["letters_visible"] == pp["line"]).all()


def test_person_period_guessability_follows_the_visible_initials():
    pp = person_period(trials_frame())
    never = pp[pp["trial_id"] == "t2"]["guessability"].to_numpy()  # initials HELLO
    assert never[2] > never[0]
    assert never[4] == pytest.approx(1 - GUESS_CLIP)  # HELLO fully visible: clipped 1
    shine = pp[pp["trial_id"] == "t5"]["guessability"].to_numpy()  # initials SHINE, target SHINE
    assert shine[0] == pytest.approx(GUESS_CLIP)  # g(SHINE | S) = 2.4e-4: clipped to the floor
    assert shine[1] > GUESS_CLIP  # g(SHINE | SH) = 0.002


def test_person_period_max_line_and_k():
    trials = trials_frame()
    pp = person_period(trials, max_line=3, k=3)
    assert pp["line"].max() == 3
    late = pp[pp["trial_id"] == "t1"]
    assert len(late) == 3 and late["event"].sum() == 0  # event at 5 censored at 3
    assert pp["early"].all()
    with pytest.raises(ValueError, match="max_line"):
        person_period(trials, max_line=0)
    by_articulation = person_period(trials, event="articulation_line")
    assert (
        by_articulation["event"].sum()
        == trials.loc[trials["word"].notna(), "articulation_line"].notna().sum()
    )


def test_hazard_cells_totals():
    pp = person_period(trials_frame(np.random.default_rng(2), n=100))
    cells = hazard_cells(pp, ["arm", "line"])
    assert list(cells.columns) == ["arm", "line", "events", "at_risk"]
    assert cells["at_risk"].sum() == len(pp)
    assert cells["events"].sum() == pp["event"].sum()
    first = cells[cells["line"] == 1]["at_risk"].sum()
    assert first == pp["trial_id"].nunique()  # everyone is at risk at line 1


def test_expand_baseline_scores_base_trials_against_each_word():
    trials = trials_frame()
    expanded = expand_baseline(trials)
    base = trials[trials["arm"] == "base"]
    copies = expanded[expanded["arm"] == "base"]
    assert len(copies) == 2 * len(base)  # HELLO and SHINE
    assert sorted(copies["word"].unique()) == ["HELLO", "SHINE"]
    assert (copies["word_source"] == "expanded").all()
    hello = copies[(copies["word"] == "HELLO")].set_index("trial_id")
    assert bool(hello.loc["t7", "articulated"]) is True  # the base trial that names HELLO
    assert bool(copies[copies["word"] == "SHINE"]["articulated"].any()) is False
    assert len(expanded) == len(trials) - len(base) + len(copies)
    only_hello = expand_baseline(trials, ["hello"])
    assert (only_hello.loc[only_hello["arm"] == "base", "word"] == "HELLO").all()
    cells = binomial_cells(expanded, "articulated", ["word", "arm"])
    assert cells.set_index(["word", "arm"]).loc[("HELLO", "base"), "trials"] == len(base)
