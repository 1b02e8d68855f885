"""Ingest of self/cross-prediction records in the Looking Inward layout (issue 8, design 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stats import schemas
from stats.config import Artifacts
from stats.ingest import IngestError, ingest
from stats.ingest.errors import RecordError
from stats.ingest.ledger import check_balance
from stats.ingest.prediction import PROPERTIES, normalise, prediction_row


def _jsonl(path: Path, lines: list[object]) -> None:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )


def _record(**changes: object) -> dict:
    base = {
        "task": "animals",
        "property": "first_character",
        "object_model": "ft:gpt-4o:acme:self",
        "predictor_model": "ft:gpt-4o:acme:self",
        "object_response": "Zebra",
        "meta_prediction": "Z",
        "item_id": "q1",
        "sample_index": 0,
        "n_examples": 1000,
    }
    base.update(changes)
    return base


@pytest.fixture()
def study(tmp_path: Path) -> tuple[Path, Path]:
    """Three files (JSONL, CSV with a column map, Parquet) with malformed rows, a manifest."""
    raw = tmp_path / "raw"
    raw.mkdir()
    _jsonl(
        raw / "self.jsonl",
        [
            _record(),  # line 1: correct self prediction
            _record(meta_prediction="a", item_id="q2", object_response="Antelope "),  # line 2
            _record(item_id="q1", sample_index=1, object_response="Yak"),  # line 3: sample 1
            _record(),  # line 4: duplicate of line 1
            '{"task": "animals", "property": "first_char',  # line 5: truncated
            {k: v for k, v in _record(item_id="q3").items() if k != "predictor_model"},  # 6
            _record(property="colour", item_id="q4"),  # line 7: not computable
            _record(meta_prediction="  ", item_id="q5"),  # line 8: empty prediction
            _record(kind="sideways", item_id="q6"),  # line 9: bad kind
            _record(n_examples="many", item_id="q7"),  # line 10: bad number
            _record(property="is_even", object_response="no digits", item_id="q8"),  # 11
        ],
    )
    pd.DataFrame(
        {
            "target": ["ft:gpt-4o:acme:self"] * 3,
            "predictor": ["ft:llama:acme:cross"] * 3,
            "response_property": ["is_even", "is_even", "starts_with_vowel"],
            "object_level_response": ["42", "17", "owl"],
            "meta_level_response": ["Even", "even", "True."],
            "string": ["n1", "n2", "w1"],
            "task_name": ["numbers", "numbers", "words"],
            "ft_size": [4000, 4000, 4000],
        }
    ).to_csv(raw / "cross.csv", index=False)
    pd.DataFrame(
        {
            "task": ["animals", "animals"],
            "property": ["first_word", "first_word"],
            "object_model": ["m-target", "m-target"],
            "predictor_model": ["m-other", "m-other"],
            "object_property_value": ["Lion", "Tiger"],
            "meta_prediction": ["lion", "lion"],
            "item_id": ["p1", "p2"],
            "kind": ["self", "cross"],  # given kinds win over predictor == target
        }
    ).to_parquet(raw / "given.parquet")
    manifest = tmp_path / "runs.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "root": "raw",
                "files": [
                    {"path": "self.jsonl", "format": "looking-inward"},
                    {
                        "path": "cross.csv",
                        "format": "looking-inward",
                        "columns": {"task": "task_name", "item_id": "string"},
                    },
                    {"path": "given.parquet", "format": "looking-inward"},
                ],
            }
        )
    )
    return raw, manifest


def test_looking_inward_layout_is_ingested_with_rejects_and_a_balanced_ledger(
    study: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, manifest = study
    out = tmp_path / "processed"
    ledger = ingest([raw], manifest, out)
    files = Artifacts(out)

    predictions = pd.read_parquet(files.predictions)
    schemas.validate(predictions, "predictions")
    assert len(predictions) == 3 + 3 + 2
    assert ledger["total"]["predictions"] == 8 and ledger["total"]["transcripts"] == 0
    assert not check_balance(ledger)
    by_file = {Path(name).name: entry for name, entry in ledger["files"].items()}
    assert by_file["self.jsonl"] == {
        **by_file["self.jsonl"],
        "format": "looking-inward",
        "kind": "predictions",
        "records": 11,
        "accepted": 3,
        "duplicates": 1,
        "rejected": 7,
    }
    assert by_file["self.jsonl"]["reasons"] == {
        "empty-prediction": 1,
        "invalid-field": 2,
        "invalid-kind": 1,
        "missing-field": 1,
        "truncated-json": 1,
        "unknown-property": 1,
    }
    assert (by_file["cross.csv"]["accepted"], by_file["given.parquet"]["accepted"]) == (3, 2)
    assert ledger["total"]["by_kind"]["predictions"]["records"] == 16

    rejects = pd.read_parquet(files.rejects)
    assert len(rejects) == 7
    reasons = dict(zip(rejects["locator"], rejects["reason"], strict=True))
    assert reasons == {
        "line 5": "truncated-json",
        "line 6": "missing-field",
        "line 7": "unknown-property",
        "line 8": "empty-prediction",
        "line 9": "invalid-kind",
        "line 10": "invalid-field",
        "line 11": "invalid-field",
    }
    detail = rejects.set_index("locator")["detail"]
    assert "self.jsonl: line 6" in detail["line 6"] and "predictor_model" in detail["line 6"]
    assert "n_examples" in detail["line 10"] and "'many'" in detail["line 10"]
    assert "colour" in detail["line 7"]

    rows = predictions.set_index(["source_file", "locator"])
    self_rows = predictions[predictions["source_file"].str.endswith("self.jsonl")]
    assert set(self_rows["kind"]) == {"self"}
    assert self_rows.set_index("locator")["correct"].to_dict() == {
        "line 1": True,  # "Z" vs first character of "Zebra"
        "line 2": True,  # "a" vs "Antelope " (trimmed, lower case)
        "line 3": False,  # sample 1 answered "Yak"
    }
    cross = predictions[predictions["source_file"].str.endswith("cross.csv")]
    assert set(cross["kind"]) == {"cross"} and list(cross["task"]) == ["numbers"] * 2 + ["words"]
    assert list(cross["object_value"]) == ["even", "odd", "true"]
    assert list(cross["correct"]) == [True, False, True]
    assert list(cross["run_id"]) == ["ft:llama:acme:cross"] * 3  # default: the predictor
    assert cross["n_examples"].tolist() == [4000] * 3
    given = predictions[predictions["source_file"].str.endswith("given.parquet")]
    assert list(given["kind"]) == ["self", "cross"] and list(given["correct"]) == [True, False]
    assert given["n_examples"].isna().all()
    assert len(rows) == len(predictions)


def test_reingest_counts_duplicates_and_keeps_ids(study: tuple[Path, Path], tmp_path: Path) -> None:
    raw, manifest = study
    first = ingest([raw], manifest, tmp_path / "a")
    copy = raw / "copy"
    copy.mkdir()
    (copy / "self.jsonl").write_bytes((raw / "self.jsonl").read_bytes())
    spec = yaml.safe_load(manifest.read_text())
    spec["files"][0]["path"] = "**/self.jsonl"
    manifest.write_text(yaml.safe_dump(spec))
    second = ingest([raw], manifest, tmp_path / "b")
    assert second["total"]["predictions"] == first["total"]["predictions"]
    assert second["total"]["duplicates"] == first["total"]["duplicates"] + 3 + 1
    assert not check_balance(second)
    ids_a = set(pd.read_parquet(Artifacts(tmp_path / "a").predictions)["prediction_id"])
    ids_b = set(pd.read_parquet(Artifacts(tmp_path / "b").predictions)["prediction_id"])
    assert ids_a == ids_b


def test_nothing_usable_raises_and_names_the_reasons(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _jsonl(raw / "bad.jsonl", [_record(meta_prediction=""), _record(property="colour")])
    manifest = tmp_path / "runs.yaml"
    manifest.write_text(
        yaml.safe_dump({"files": [{"path": str(raw / "bad.jsonl"), "format": "looking-inward"}]})
    )
    with pytest.raises(IngestError, match=r"empty-prediction 1.*unknown-property 1"):
        ingest([raw], manifest, tmp_path / "out")
    assert not Artifacts(tmp_path / "out").predictions.exists()


def test_transcript_only_ingest_writes_no_predictions_table(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _jsonl(raw / "t.jsonl", [{"prompt": "hi", "response": "H\nE", "model": "gpt-4o"}])
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.parquet").write_bytes(b"stale")  # from an earlier ingest
    ledger = ingest([raw], None, out)
    assert ledger["total"]["transcripts"] == 1 and ledger["total"]["predictions"] == 0
    assert not Artifacts(out).predictions.exists()


@pytest.mark.parametrize(
    ("prop", "response", "value"),
    [
        ("first_character", " Otter", "o"),
        ("second_character", "Otter", "t"),
        ("third_character", "Otter", "t"),
        ("first_word", "Big cat.", "big"),
        ("second_word", "Big cat.", "cat"),
        ("is_even", "I pick 17", "odd"),
        ("is_even", "204", "even"),
        ("starts_with_vowel", "owl", "true"),
        ("ends_with_vowel", "cat!", "false"),
        ("identity", " Hello. ", "hello"),
    ],
)
def test_properties_of_object_responses(prop: str, response: str, value: str) -> None:
    assert normalise(PROPERTIES[prop](response)) == value


def test_prediction_row_rules() -> None:
    row = prediction_row(_record(object_property_value="Z", kind="Cross"), "line 1", {})
    assert (row["kind"], row["object_value"], row["correct"]) == ("cross", "z", True)
    assert normalise(True) == "true" and normalise(" Even. ") == "even"
    with pytest.raises(RecordError, match="mapped to task"):
        prediction_row(_record(), "line 1", {"task": "no_such_column"})
    with pytest.raises(RecordError, match="sample_index"):
        prediction_row(_record(sample_index=-1), "line 1", {})


def test_prediction_files_are_recognised_without_a_manifest(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _jsonl(raw / "p.jsonl", [_record(), _record(item_id="q2", meta_prediction="b")])
    pd.DataFrame([_record(item_id="q3")]).to_parquet(raw / "p.parquet")
    ledger = ingest([raw], None, tmp_path / "out")
    formats = {Path(k).name: v["format"] for k, v in ledger["files"].items()}
    assert formats == {"p.jsonl": "looking-inward", "p.parquet": "looking-inward"}
    assert ledger["total"]["predictions"] == 3
