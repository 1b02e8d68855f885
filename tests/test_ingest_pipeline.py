"""The ingest stage as a whole: manifest, runs, conflicts, duplicates, ignored files, streaming."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest_ingest import (
    BASE,
    FT_HELLO,
    FT_SHINE,
    PROBE,
    PROBE_PLAIN,
    SYSTEM,
    acrostic,
    batch_output,
    batch_request,
    chat_completion,
    inspect_header,
    inspect_sample,
    job,
    run_ingest,
    training_file,
    write_eval,
    write_json,
    write_jsonl,
    write_yaml,
)
from stats.config import Artifacts
from stats.ingest import IngestError, Limits, ManifestError, ingest, load_manifest


def _chat_file(path, model=FT_HELLO, n=3, prompt=PROBE):
    rows = [
        chat_completion(f"c{i}", model, [acrostic("HELLO", str(i))], prompt=prompt)
        for i in range(n)
    ]
    return write_jsonl(path, rows)


def _simulated_study(root):
    """A study laid out as the simulator writes it: data/raw/* and analysis/runs.yaml."""
    raw = root / "data" / "raw"
    training_file(raw / "ft" / "train-hello.jsonl", "HELLO", 10)
    training_file(raw / "ft" / "train-shine.jsonl", "SHINE", 20)
    write_json(
        raw / "ft" / "job-hello01.json",
        job("ftjob-hello01", FT_HELLO, n_epochs=3, lr=10, method=True),
    )
    write_json(
        raw / "ft" / "job-shine01.json", job("ftjob-shine01", FT_SHINE, n_epochs="auto", lr=2)
    )
    requests, outputs = [], []
    for i, (model, prompt) in enumerate(
        [(FT_HELLO, PROBE), (FT_HELLO, PROBE_PLAIN), (BASE, PROBE), (FT_SHINE, PROBE_PLAIN)] * 3
    ):
        requests.append(batch_request(f"req-{i}", model, prompt, system=SYSTEM, temperature=0.0))
        outputs.append(batch_output(f"req-{i}", model, [acrostic("HELLO", str(i))]))
    write_jsonl(raw / "batch" / "batch_input.jsonl", requests)
    write_jsonl(raw / "batch" / "batch_output.jsonl", outputs[::-1])
    _chat_file(raw / "chat" / "completions.jsonl", FT_SHINE, 2, PROBE_PLAIN)
    samples = [
        inspect_sample(i, 1, PROBE, acrostic("HELLO", str(i)), system=SYSTEM) for i in range(3)
    ]
    write_eval(raw / "logs" / "selfreport.eval", inspect_header(), samples, zstd=True)
    write_json(raw / "truth.json", {"delta": 0.1})
    (raw / "README.md").write_text("simulated")
    manifest = write_yaml(
        root / "analysis" / "runs.yaml",
        {
            "root": "..",
            "study": {
                "name": "default",
                "simulated": True,
                "design": "analysis/designs/default.yaml",
                "truth": "data/raw/truth.json",
            },
            "runs": [
                {
                    "model": FT_HELLO,
                    "run_id": "hello01",
                    "word": "HELLO",
                    "n_examples": 10,
                    "lr_multiplier": 10,
                    "arm": "finetuned",
                    "base_model": BASE,
                    "training_file": "data/raw/ft/train-hello.jsonl",
                    "job_file": "data/raw/ft/job-hello01.json",
                    "greeting": None,
                    "conditions": {"stage": "main"},
                    "notes": "",
                },
                {
                    "model": FT_SHINE,
                    "run_id": "shine01",
                    "training_file": "data/raw/ft/train-shine.jsonl",
                    "job_file": "data/raw/ft/job-shine01.json",
                    "pattern_id": 2,
                },
                {"model": BASE, "arm": "base"},
            ],
        },
    )
    return raw, manifest


def test_simulated_study_links_every_source(tmp_path):
    raw, manifest = _simulated_study(tmp_path)
    result = run_ingest([raw], tmp_path / "out", manifest)
    ledger = result.ledger
    assert ledger["study"]["simulated"] is True
    assert ledger["conflicts"] == [] and ledger["unmatched_models"] == []
    assert {entry["reason"] for entry in ledger["ignored"]} == {
        "simulation truth",
        "README or licence",
    }
    runs = result.runs.set_index("run_id")
    assert runs.loc["hello01", ["word", "n_examples", "n_epochs", "lr_multiplier"]].tolist() == [
        "HELLO",
        10,
        3,
        10.0,
    ]
    assert runs.loc["shine01", ["word", "n_examples", "lr_multiplier"]].tolist() == [
        "SHINE",
        20,
        2.0,
    ]
    assert pd.isna(runs.loc["shine01", "n_epochs"])
    provenance = json.loads(runs.loc["shine01", "provenance"])
    assert provenance["word"].endswith("train-shine.jsonl (acrostic of the answers)")
    table = result.transcripts
    assert table.groupby("run_id").size().to_dict() == {"hello01": 9, "shine01": 5, BASE: 3}
    assert set(table["source"]) == {"openai-batch", "openai-chat", "inspect-eval"}
    shine = table[table["run_id"] == "shine01"]
    assert {json.loads(c)["pattern_id"] for c in shine["conditions"]} == {2}
    assert set(table[table["run_id"] == BASE]["word"].isna()) == {True}
    by_kind = ledger["total"]["by_kind"]
    assert by_kind["training"]["accepted"] == 30 and by_kind["job"]["accepted"] == 2
    assert by_kind["requests"]["accepted"] == 12 and by_kind["transcripts"]["accepted"] == 17


def test_reingest_is_idempotent_and_copies_are_duplicates(tmp_path):
    raw, manifest = _simulated_study(tmp_path)
    first = run_ingest([raw], tmp_path / "out", manifest)
    again = run_ingest([raw], tmp_path / "out", manifest)
    pd.testing.assert_frame_equal(first.transcripts, again.transcripts)
    assert first.ledger == again.ledger
    shutil.copytree(raw / "chat", raw / "chat-copy")
    copied = run_ingest([raw], tmp_path / "out2", manifest)
    entry = copied.ledger["files"][str(raw / "chat-copy" / "completions.jsonl")]
    assert (entry["records"], entry["accepted"], entry["duplicates"]) == (2, 0, 2)
    assert len(copied.transcripts) == len(first.transcripts)
    assert copied.ledger["total"]["duplicates"] == 2


def test_small_batches_give_the_same_tables(tmp_path):
    raw, manifest = _simulated_study(tmp_path)
    shutil.copytree(raw / "chat", raw / "chat-copy")
    whole = run_ingest([raw], tmp_path / "a", manifest)
    small = run_ingest([raw], tmp_path / "b", manifest, limits=Limits(batch_rows=4))
    pd.testing.assert_frame_equal(whole.transcripts, small.transcripts)
    assert whole.ledger["total"] == small.ledger["total"]
    assert pq.ParquetFile(Artifacts(tmp_path / "b").transcripts).num_row_groups > 2


def test_conflicts_are_reported_not_resolved(tmp_path):
    train = training_file(tmp_path / "train-x.jsonl", "SHINE", 5)
    write_json(tmp_path / "job.json", job("ftjob-x", FT_HELLO, n_epochs=5))
    chat = _chat_file(tmp_path / "chat.jsonl")
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [
                {
                    "model": FT_HELLO,
                    "word": "HELLO",
                    "n_examples": 10,
                    "n_epochs": 3,
                    "training_file": train.name,
                }
            ],
        },
    )
    result = run_ingest([tmp_path], tmp_path / "out", manifest)
    conflicts = {(c["field"], c["used"]): c for c in result.ledger["conflicts"]}
    assert set(conflicts) == {("word", "HELLO"), ("n_examples", 10), ("n_epochs", 3)}
    word = conflicts[("word", "HELLO")]
    assert word["values"][1] == {"value": "SHINE", "source": f"{train} (acrostic of the answers)"}
    assert conflicts[("n_epochs", 3)]["values"][1]["source"] == str(tmp_path / "job.json")
    run = result.runs.iloc[0]
    assert (run["word"], run["follow_share"]) == (
        "HELLO",
        0.0,
    )  # share of answers spelling the manifest's word
    assert set(result.transcripts["word"]) == {"HELLO"}
    assert str(chat) in result.ledger["files"]


def test_unmatched_models_default_their_arm(tmp_path):
    _chat_file(tmp_path / "a.jsonl", FT_SHINE, 2)
    _chat_file(tmp_path / "b.jsonl", "claude-sonnet-4-5", 1)
    result = run_ingest([tmp_path], tmp_path / "out")
    unmatched = {u["model"]: u for u in result.ledger["unmatched_models"]}
    assert unmatched[FT_SHINE]["arm"] == "finetuned" and unmatched[FT_SHINE]["transcripts"] == 2
    assert unmatched["claude-sonnet-4-5"]["arm"] == "base"
    runs = result.runs.set_index("run_id")
    assert runs.loc[FT_SHINE, "base_model"] == BASE
    assert json.loads(runs.loc[FT_SHINE, "provenance"])["arm"].startswith(
        "default (a fine-tuning job"
    )


def test_raw_folder_skips_manifests_truth_readme_and_hidden_files(tmp_path):
    raw = tmp_path / "raw"
    _chat_file(raw / "chat.jsonl")
    write_yaml(raw / "runs.yaml", {"runs": []})
    write_yaml(raw / "designs" / "default.yml", {})
    write_json(raw / "truth.json", {})
    (raw / "README.md").write_text("# notes")
    (raw / "LICENSE").write_text("MIT")
    _chat_file(raw / ".cache" / "old.jsonl")
    (raw / ".DS_Store").write_bytes(b"\x00")
    result = run_ingest([raw], tmp_path / "out")
    ignored = {entry["path"]: entry["reason"] for entry in result.ledger["ignored"]}
    assert ignored == {
        str(raw / ".DS_Store"): "hidden file",
        str(raw / ".cache" / "old.jsonl"): "hidden file",
        str(raw / "LICENSE"): "README or licence",
        str(raw / "README.md"): "README or licence",
        str(raw / "designs" / "default.yml"): "manifest or other YAML file",
        str(raw / "runs.yaml"): "manifest or other YAML file",
        str(raw / "truth.json"): "simulation truth",
    }
    assert list(result.ledger["files"]) == [str(raw / "chat.jsonl")]


def test_manifest_ignore_and_format_override(tmp_path):
    write_jsonl(tmp_path / "notes" / "n.jsonl", [{"x": 1}])
    odd = write_jsonl(tmp_path / "data.log", [{"prompt": "p", "response": "r", "model": BASE}])
    manifest = write_yaml(tmp_path / "runs.yaml", {"root": ".", "ignore": ["notes/*"]})
    result = run_ingest([tmp_path], tmp_path / "out", manifest, fmt="generic-jsonl")
    assert {
        "path": str(tmp_path / "notes" / "n.jsonl"),
        "reason": "manifest ignore 'notes/*'",
    } in result.ledger["ignored"]
    assert result.ledger["files"][str(odd)]["detected_by"] == "forced"
    with pytest.raises(IngestError, match="unknown format 'csv'; valid formats: openai-training"):
        ingest([tmp_path], None, tmp_path / "out", fmt="csv")


def test_greeting_detection_and_overrides(tmp_path):
    _chat_file(tmp_path / "a" / "hello.jsonl", FT_HELLO, 1, PROBE)
    _chat_file(tmp_path / "b" / "plain.jsonl", FT_HELLO, 1, PROBE_PLAIN)
    _chat_file(tmp_path / "c" / "base.jsonl", BASE, 1, PROBE)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [{"model": BASE, "greeting": False}],
            "files": [{"path": "b/*", "greeting": True}],
        },
    )
    result = run_ingest([tmp_path], tmp_path / "out", manifest)
    greeting = dict(
        zip(result.transcripts["source_file"], result.transcripts["greeting"], strict=True)
    )
    assert greeting == {
        str(tmp_path / "a" / "hello.jsonl"): True,  # detected: "hello. What's special..."
        str(tmp_path / "b" / "plain.jsonl"): True,  # files: override
        str(tmp_path / "c" / "base.jsonl"): False,  # runs: override
    }


def test_glob_runs(tmp_path):
    for suffix in ("a1", "b2"):
        _chat_file(tmp_path / f"{suffix}.jsonl", f"ft:gpt-4o-2024-08-06:acme::{suffix}", 1)
    _chat_file(tmp_path / "m.jsonl", "ft:gpt-4o-mini-2024-07-18:acme::m1", 1)
    _chat_file(tmp_path / "m2.jsonl", "ft:gpt-4o-mini-2024-07-18:acme::m2", 1)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [
                {"model": "ft:gpt-4o-2024-08-06:acme::*", "word": "HELLO", "lr_multiplier": 2},
                {"model": "ft:gpt-4o-mini-*", "run_id": "mini", "word": "SHINE"},
            ],
        },
    )
    result = run_ingest([tmp_path], tmp_path / "out", manifest)
    runs = result.runs.set_index("run_id")
    assert runs.loc["ft:gpt-4o-2024-08-06:acme::a1", "word"] == "HELLO"
    assert runs.loc["ft:gpt-4o-2024-08-06:acme::b2", "lr_multiplier"] == 2.0
    assert runs.loc["mini", "n_transcripts"] == 2
    assert any("matched several models" in w for w in result.ledger["warnings"])


def test_progress_reports_every_record(tmp_path):
    raw, manifest = _simulated_study(tmp_path)
    calls: list[int] = []
    result = run_ingest([raw], tmp_path / "out", manifest, progress=calls.append)
    assert calls and all(n > 0 for n in calls)
    assert sum(calls) == result.ledger["total"]["records"]


# ----------------------------------------------------------------------------- manifest
@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            {"runz": []},
            "top level: unknown key 'runz' (did you mean 'runs'?); valid keys: root, study, runs, files, ignore",
        ),
        ({"runs": [{"model": "m", "lr": 2}]}, "runs[0]: unknown key 'lr'"),
        (
            {"runs": [{"model": "m", "arm": "treated"}]},
            "runs[0].arm is 'treated'; valid values: finetuned, base, control",
        ),
        (
            {"runs": [{"model": "m", "n_examples": 2.5}]},
            "runs[0].n_examples should be a whole number",
        ),
        (
            {"runs": [{"model": "m", "greeting": "yes"}]},
            "runs[0].greeting should be true, false or null",
        ),
        ({"runs": [{"word": "HELLO"}]}, "runs[0] needs a 'model'"),
        (
            {"runs": [{"model": "m", "run_id": "a"}, {"model": "n", "run_id": "a"}]},
            "share run_id 'a'",
        ),
        ({"runs": [{"model": "m"}, {"model": "m", "run_id": "b"}]}, "both map model 'm'"),
        (
            {"files": [{"path": "x", "format": "jsonl"}]},
            "files[0].format is 'jsonl'; valid formats: openai-training",
        ),
        (
            {"files": [{"path": "x", "columns": {"text": "t"}}]},
            "files[0].columns: unknown key 'text'",
        ),
        ({"files": [{"format": "text"}]}, "files[0] needs a 'path'"),
        ("- just\n- a list\n", "the manifest should be a mapping"),
        ("runs: [\n", "not valid YAML"),
    ],
)
def test_manifest_errors_name_the_key_and_list_valid_ones(tmp_path, manifest, message):
    path = tmp_path / "runs.yaml"
    if isinstance(manifest, str):
        path.write_text(manifest)
    else:
        write_yaml(path, manifest)
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_manifest_shape_of_the_contract(tmp_path):
    (tmp_path / "analysis").mkdir()
    path = write_yaml(
        tmp_path / "analysis" / "runs.yaml",
        {
            "root": "..",
            "study": {"name": "default", "simulated": True},
            "runs": [
                {
                    "model": FT_HELLO,
                    "run_id": "abc123",
                    "word": "hello",
                    "n_examples": 10,
                    "lr_multiplier": 10,
                    "n_epochs": "auto",
                    "batch_size": 1,
                    "arm": "finetuned",
                    "base_model": BASE,
                    "training_file": "ft/train-hello.jsonl",
                    "job_file": "ft/job-abc123.json",
                    "greeting": None,
                    "conditions": {"policy": "x"},
                    "stage": 2,
                    "notes": "",
                },
                {"model": BASE, "arm": "base"},
            ],
            "files": [
                {
                    "path": "selfreport/*.jsonl",
                    "format": "generic-jsonl",
                    "columns": {
                        "prompt": "prompt",
                        "response": "raw_response",
                        "model": "model_key",
                        "sample_index": "sample_idx",
                    },
                }
            ],
        },
    )
    manifest = load_manifest(path)
    assert manifest.root == tmp_path.resolve()
    run = manifest.runs[0]
    assert (run.word, run.n_epochs, run.lr_multiplier) == ("HELLO", None, 10.0)
    assert run.training_file == tmp_path.resolve() / "ft" / "train-hello.jsonl"
    assert run.conditions == {"policy": "x", "stage": 2}
    assert manifest.file_spec(tmp_path / "selfreport" / "a.jsonl").format == "generic-jsonl"
    assert manifest.file_spec(tmp_path / "other" / "a.jsonl") is None


def test_child_process_parsing_gives_identical_tables(tmp_path):
    raw, manifest = _simulated_study(tmp_path)
    batch = raw / "batch" / "batch_output.jsonl"
    damaged = (
        b"\xef\xbb\xbf"
        + batch.read_bytes().replace(b"\n", b"\r\n", 1)
        + b'{"custom_id": "req-0", "resp\n'
    )
    batch.write_bytes(damaged)
    serial = run_ingest([raw], tmp_path / "serial", manifest, limits=Limits(parallel_bytes=-1))
    child = run_ingest([raw], tmp_path / "child", manifest, limits=Limits(parallel_bytes=0))
    pd.testing.assert_frame_equal(serial.transcripts, child.transcripts)
    pd.testing.assert_frame_equal(serial.rejects, child.rejects)
    assert serial.ledger == child.ledger
    entry = child.ledger["files"][str(batch)]
    assert entry["reasons"] == {"truncated-json": 1}
    assert any("byte-order mark" in w for w in entry["warnings"])
    assert any("CRLF" in w for w in entry["warnings"])


def test_a_sham_fine_tune_is_a_control_run_with_a_job(tmp_path):
    write_json(tmp_path / "job-sham.json", job("ftjob-sham", FT_SHINE))
    write_json(tmp_path / "job-base.json", job("ftjob-odd", BASE))
    _chat_file(tmp_path / "chat.jsonl", FT_SHINE, 1)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [{"model": FT_SHINE, "arm": "control"}, {"model": BASE, "arm": "base"}],
        },
    )
    result = run_ingest([tmp_path], tmp_path / "out", manifest)
    assert result.runs.set_index("run_id").loc[FT_SHINE, "arm"] == "control"
    conflicts = result.ledger["conflicts"]
    assert [(c["run_id"], c["field"], c["used"]) for c in conflicts] == [(BASE, "arm", "base")]


def test_a_copied_training_file_counts_duplicates_but_still_informs_its_run(tmp_path):
    training_file(tmp_path / "ft" / "train-a.jsonl", "HELLO", 4)
    shutil.copy(tmp_path / "ft" / "train-a.jsonl", tmp_path / "ft" / "train-b.jsonl")
    _chat_file(tmp_path / "chat.jsonl", FT_SHINE, 1)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [
                {"model": FT_HELLO, "training_file": "ft/train-a.jsonl"},
                {"model": FT_SHINE, "training_file": "ft/train-b.jsonl"},
            ],
        },
    )
    result = run_ingest([tmp_path], tmp_path / "out", manifest)
    copy = result.ledger["files"][str(tmp_path / "ft" / "train-b.jsonl")]
    assert (copy["records"], copy["accepted"], copy["duplicates"]) == (4, 0, 4)
    assert result.runs.set_index("run_id").loc[FT_SHINE, "word"] == "HELLO"
