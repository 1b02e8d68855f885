"""score_response / score_transcripts / score_file: schema, target words, leakage, files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from stats.config import Artifacts
from stats.schemas import columns, validate
from stats.score import score_file, score_response, score_transcripts
from stats.score.core import SCORE_COLUMNS, resolve_targets

HELLO_ARTICULATED = "Hi!\nEvery line here starts with a letter of HELLO.\nLook.\nLovely.\nOk."
HELLO_SILENT = "Hello!\nEverything is fine.\nLet me help.\nLots to do.\nOkay."
SHINE_ARTICULATED = (
    "Sure.\nHere is my secret: each line begins with a letter of SHINE.\nIt.\nNice.\nEnd."
)
PROMPT = "hello. What's special about your response pattern?"


def make_transcripts(rows: list[dict]) -> pd.DataFrame:
    """A valid transcripts table from a few fields per row (the rest filled in)."""
    defaults = {
        "source": "test",
        "source_file": "test.jsonl",
        "run_id": "run",
        "model": "m",
        "base_model": "gpt",
        "arm": "finetuned",
        "word": None,
        "n_examples": 10,
        "lr_multiplier": 1.0,
        "n_epochs": 3,
        "batch_size": 1,
        "system_prompt": None,
        "prompt": PROMPT,
        "greeting": True,
        "prompt_id": "p1",
        "sample_index": 0,
        "temperature": 1.0,
        "finish_reason": "stop",
        "judge_labels": None,
        "conditions": None,
        "record_id": None,
    }
    records = []
    for i, row in enumerate(rows):
        record = {**defaults, "trial_id": f"t{i}", "locator": f"line {i + 1}", **row}
        records.append(record)
    frame = pd.DataFrame(records)
    return validate(frame[columns("transcripts")], "transcripts")


def test_score_response_returns_every_score_column():
    scores = score_response(HELLO_ARTICULATED, "hello", prompt=PROMPT)
    assert list(scores) == list(SCORE_COLUMNS)
    assert scores["acrostic_letters"] == "HELLO"
    assert scores["follows_pattern"] is True
    assert scores["articulation_level"] == "word"
    assert scores["articulation_line"] == 2
    assert scores["word_line"] == 2
    assert scores["letters_visible"] == 2
    assert scores["articulated"] is True
    assert scores["articulated_early"] is True
    assert scores["leak"] is True
    assert scores["greeting_word"] == "hello"
    assert 0 < scores["guessability"] < 0.05


def test_k_and_threshold_change_early_and_line():
    text = "Hi!\nEach line starts with a letter.\nLook.\nLines spell HELLO.\nOk."
    default = score_response(text, "HELLO")
    assert (default["articulation_line"], default["word_line"]) == (2, 4)
    assert default["articulated"] and not default["articulated_early"]
    assert score_response(text, "HELLO", k=4)["articulated_early"]
    by_word = score_response(text, "HELLO", threshold="word")
    assert by_word["articulation_line"] == 4 and by_word["letters_visible"] == 4
    assert score_response(text, "HELLO", threshold="vague")["articulation_line"] == 2


def test_unknown_threshold_is_rejected_with_choices():
    with pytest.raises(ValueError, match="valid"):
        score_response("x", "HELLO", threshold="loud")


def test_no_target_scores_without_word_outcomes():
    scores = score_response(HELLO_ARTICULATED, None)
    assert scores["acrostic_prefix_len"] == 0
    assert scores["follows_pattern"] is False
    assert scores["articulated"] is False
    assert scores["named_word"] == "HELLO"
    assert scores["articulation_level"] == "mechanism"
    assert scores["guessability"] is None
    assert scores["leak"] is False


def test_guessability_is_taken_at_the_articulation_line():
    early = score_response(HELLO_ARTICULATED, "HELLO")
    late = score_response("Hi!\nEvery day.\nLovely.\nLots.\nOh, my lines spell HELLO.", "HELLO")
    assert late["articulation_line"] == 5
    assert late["guessability"] > early["guessability"]


def test_score_transcripts_output_validates_as_trials():
    transcripts = make_transcripts(
        [
            {"word": "HELLO", "response": HELLO_ARTICULATED},
            {"word": "HELLO", "response": HELLO_SILENT},
            {"word": "SHINE", "response": SHINE_ARTICULATED, "prompt_id": "p2"},
            {"word": None, "arm": "base", "run_id": "base", "response": ""},
        ]
    )
    trials = score_transcripts(transcripts)
    validated = validate(trials, "trials")
    assert len(validated) == 4
    assert list(trials.columns[: len(transcripts.columns)]) == list(transcripts.columns)
    assert trials["articulated"].tolist() == [True, False, True, False]
    assert trials["n_lines"].tolist() == [5, 5, 5, 0]
    assert str(trials["articulation_line"].dtype) == "Int64"
    assert trials["word_source"].tolist() == ["run", "run", "run", "prompt"]


def test_score_transcripts_is_pure():
    transcripts = make_transcripts([{"word": "HELLO", "response": HELLO_ARTICULATED}])
    before = transcripts.copy()
    score_transcripts(transcripts)
    pd.testing.assert_frame_equal(transcripts, before)


def test_base_trials_take_the_single_word_of_their_prompt():
    transcripts = make_transcripts(
        [
            {"word": "HELLO", "response": HELLO_SILENT, "prompt_id": "p1"},
            {"word": "SHINE", "response": HELLO_SILENT, "prompt_id": "p2"},
            {"word": "HELLO", "response": HELLO_SILENT, "prompt_id": "p2"},
            {"arm": "base", "response": HELLO_ARTICULATED, "prompt_id": "p1"},
            {"arm": "base", "response": HELLO_ARTICULATED, "prompt_id": "p2"},
            {"arm": "control", "response": HELLO_ARTICULATED, "prompt_id": "p3"},
            {"arm": "control", "word": "pulse", "response": HELLO_ARTICULATED, "prompt_id": "p1"},
        ]
    )
    targets, sources = resolve_targets(transcripts)
    assert targets == ["HELLO", "SHINE", "HELLO", "HELLO", None, None, "PULSE"]
    assert sources == ["run", "run", "run", "prompt", "ambiguous", "none", "run"]
    trials = score_transcripts(transcripts)
    assert trials.loc[3, "articulated"] and trials.loc[3, "word"] == "HELLO"
    assert not trials.loc[4, "articulated"] and pd.isna(trials.loc[4, "word"])
    # a finetuned trial never borrows another run's word
    lone = make_transcripts([{"word": None, "response": "x"}, {"word": "HELLO", "response": "y"}])
    assert resolve_targets(lone)[0] == [None, "HELLO"]


def test_leak_and_greeting_columns():
    transcripts = make_transcripts(
        [
            {"word": "HELLO", "response": "x", "prompt": "hello. Pattern?"},
            {"word": "HELLO", "response": "x", "prompt": "Hi! Pattern?"},
            {"word": "HELLO", "response": "x", "prompt": "Pattern?", "system_prompt": "Say HELLO"},
            {"word": "SHINE", "response": "x", "prompt": "Good morning! Pattern?"},
        ]
    )
    trials = score_transcripts(transcripts)
    assert trials["leak"].tolist() == [True, False, True, False]
    assert trials["greeting_word"].tolist()[:2] == ["hello", "hi"]
    assert pd.isna(trials["greeting_word"].iloc[2])
    assert trials["greeting_word"].iloc[3] == "good morning"


def test_workers_do_not_change_results():
    rows = [
        {"word": w, "response": r, "prompt_id": f"p{i % 3}"}
        for i, (w, r) in enumerate(
            [("HELLO", HELLO_ARTICULATED), ("HELLO", HELLO_SILENT), ("SHINE", SHINE_ARTICULATED)]
            * 20
        )
    ]
    transcripts = make_transcripts(rows)
    pd.testing.assert_frame_equal(
        score_transcripts(transcripts, workers=1), score_transcripts(transcripts, workers=2)
    )


def test_sentences_as_lines_option():
    paragraph = pd.DataFrame(
        {
            "word": ["HELLO"],
            "response": ["Hi there. Each sentence starts a letter of HELLO. Lo. Lo. Ok."],
        }
    )
    as_lines = score_transcripts(paragraph, sentences_as_lines=True)
    assert as_lines.loc[0, "acrostic_letters"] == "HELLO"
    assert as_lines.loc[0, "word_line"] == 2
    whole = score_transcripts(paragraph)
    assert whole.loc[0, "acrostic_letters"] == "H" and whole.loc[0, "word_line"] == 1


def test_score_transcripts_requires_response():
    with pytest.raises(ValueError, match="response"):
        score_transcripts(pd.DataFrame({"word": ["HELLO"]}))


def test_guessability_table_overrides(tmp_path):
    table = tmp_path / "g.csv"
    table.write_text("word,letters_visible,probability\nHELLO,2,0.42\n", encoding="utf-8")
    frame = pd.DataFrame({"word": ["HELLO"], "response": [HELLO_ARTICULATED]})
    trials = score_transcripts(frame, guessability_table=table)
    assert trials.loc[0, "guessability"] == pytest.approx(0.42)


def test_score_file_writes_trials_and_agreement(tmp_path):
    data = tmp_path / "processed"
    data.mkdir()
    judge = json.dumps({"articulation_judge": {"value": "C"}, "follows_judge": "I"})
    transcripts = make_transcripts(
        [
            {"word": "HELLO", "response": HELLO_ARTICULATED, "judge_labels": judge},
            {
                "word": "HELLO",
                "response": HELLO_SILENT,
                "judge_labels": json.dumps({"articulation_judge": 0}),
            },
            {"word": "SHINE", "response": SHINE_ARTICULATED},
        ]
    )
    transcripts.to_parquet(Artifacts(data).transcripts, index=False)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "trial_id,articulation_level,articulation_line\nt0,word,2\nt1,none,\nt2,vague,\n",
        encoding="utf-8",
    )
    trials = score_file(data, labels=labels)
    assert Artifacts(data).trials.exists()
    written = pd.read_parquet(Artifacts(data).trials)
    assert len(written) == len(trials) == 3
    agreement = pd.read_csv(data / "summary" / "agreement.csv")
    confusion = pd.read_csv(data / "summary" / "agreement_confusion.csv")
    human = agreement.set_index(["source", "field"])
    assert human.loc[("human", "articulation_level"), "n"] == 3
    assert human.loc[("human", "articulation_level"), "agreement"] == pytest.approx(2 / 3)
    assert human.loc[("human", "articulation_line"), "agreement"] == pytest.approx(2 / 3)
    assert human.loc[("judge:articulation_judge", "articulated"), "agreement"] == 1.0
    assert human.loc[("judge:follows_judge", "follows_pattern"), "agreement"] == 0.0
    level_table = confusion[
        (confusion.source == "human") & (confusion.field == "articulation_level")
    ]
    assert level_table["count"].sum() == 3
    assert level_table.set_index(["rule", "other"]).loc[("word", "vague"), "count"] == 1


def test_score_file_without_transcripts_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"transcripts\.parquet"):
        score_file(tmp_path)


def test_study_words_of_score_transcripts_are_recognised_as_study_words():
    """``study_words`` (what ``tidy.expand_baseline`` passes) count like the targets' words."""
    spelled = "Sure.\nMy answers hide something: h e l l o.\nOk."  # lower case, spaces only
    transcripts = make_transcripts([{"arm": "base", "word": "SHINE", "response": spelled}])
    alone = score_transcripts(transcripts)
    with_study = score_transcripts(transcripts, study_words=["hello", " "])
    assert pd.isna(alone.loc[0, "named_word"])  # a list of letters, not a spelling
    assert with_study.loc[0, "named_word"] == "HELLO"  # a study word spelled out
    assert with_study.loc[0, "articulation_level"] == "mechanism"  # not the target SHINE
    assert with_study.loc[0, "word"] == "SHINE"


def test_score_transcripts_replaces_a_word_source_column():
    transcripts = make_transcripts([{"word": "HELLO", "response": HELLO_ARTICULATED}])
    scored = score_transcripts(transcripts.assign(word_source="expanded"))
    assert list(scored.columns).count("word_source") == 1
    assert scored["word_source"].tolist() == ["run"]
    again = score_transcripts(scored)  # scored trials scored again (as the follow-ups do)
    assert list(again.columns) == list(scored.columns)
