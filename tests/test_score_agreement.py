"""Cohen's kappa and label files."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from stats.score.agreement import cohen_kappa, confusion_table, judge_table, load_labels


def test_kappa_matches_textbook_example():
    # Wikipedia "Cohen's kappa" worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_matches_hand_computed_three_categories():
    # 3x3 table (rows: rater A) [[25, 2, 5], [3, 26, 5], [15, 3, 16]]: p_o = 67/100,
    # row sums 32, 34, 34; column sums 43, 31, 26; p_e = (1376 + 1054 + 884) / 100^2
    table = [[25, 2, 5], [3, 26, 5], [15, 3, 16]]
    cats = ["x", "y", "z"]
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [cats[i]] * count
            b += [cats[j]] * count
    assert cohen_kappa(a, b) == pytest.approx((0.67 - 0.3314) / (1 - 0.3314))


def test_kappa_edge_cases():
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])


def test_confusion_table_counts_and_order():
    table = confusion_table(
        ["none", "word", "word"], ["none", "vague", "word"], ["none", "vague", "word"]
    )
    assert table.loc["word", "vague"] == 1
    assert table.to_numpy().sum() == 3
    assert list(table.index) == ["none", "vague", "word"]


def test_load_labels_reports_file_line_and_field(tmp_path):
    good = tmp_path / "labels.csv"
    good.write_text(
        "trial_id,articulation_level,articulation_line\na,word,2\nb,none,\n", encoding="utf-8"
    )
    labels = load_labels(good)
    assert labels["articulation_line"].tolist()[0] == 2 and pd.isna(labels["articulation_line"][1])
    bad = tmp_path / "bad.csv"
    bad.write_text("trial_id,articulation_level,articulation_line\na,loud,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv: line 2: field 'articulation_level'"):
        load_labels(bad)
    bad.write_text("trial_id,articulation_level,articulation_line\na,word,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: field 'articulation_line'"):
        load_labels(bad)
    bad.write_text("trial_id,level\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        load_labels(bad)


def test_judge_table_parses_inspect_scores():
    trials = pd.DataFrame(
        {
            "trial_id": ["a", "b", "c", "d"],
            "judge_labels": [
                '{"j": {"value": "C", "explanation": "ok"}, "lvl": "mechanism"}',
                '{"j": "I", "n": 0.7}',
                None,
                "not json",
            ],
        }
    )
    table = judge_table(trials)
    assert table.to_dict("records") == [
        {"trial_id": "a", "scorer": "j", "value": 1.0},
        {"trial_id": "a", "scorer": "lvl", "value": "mechanism"},
        {"trial_id": "b", "scorer": "j", "value": 0.0},
        {"trial_id": "b", "scorer": "n", "value": 0.7},
    ]
