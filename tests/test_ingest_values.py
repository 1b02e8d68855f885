"""Issue 16, findings 8-11: a record's own values, which manifest applies, private files.

8. a value the data or the manifest gives beats a default; 9. a word (or any run column) a
record gives is its trial's value, the run's only the default; 10. the bundled study's
manifest does not leak into a user's ingest, and a named manifest that does not exist is an
error; 11. the content of files named as training or job files is never copied to rejects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest_ingest import (
    BASE,
    FT_HELLO,
    PROBE,
    acrostic,
    batch_output,
    batch_request,
    good_generic,
    run_ingest,
    write_jsonl,
    write_yaml,
)
from stats.config import Artifacts

REPO = Path(__file__).parents[1]


def _generic(tmp_path: Path, rows: list[dict]) -> tuple[Path, Path]:
    path = write_jsonl(tmp_path / "records.jsonl", rows)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "files": [
                {
                    "path": "records.jsonl",
                    "columns": {
                        "prompt": "question",
                        "response": "answer",
                        "model": "model",
                        "word": "word",
                        "arm": "arm",
                    },
                }
            ],
        },
    )
    return path, manifest


# ============================================================================ 8. values beat defaults
def test_a_records_arm_beats_the_default(tmp_path):
    rows = [
        {
            "question": f"q{i}",
            "answer": acrostic("HELLO", str(i)),
            "model": "llama-ft",
            "word": "HELLO",
            "arm": "finetuned",
        }
        for i in range(6)
    ]
    path, manifest = _generic(tmp_path, rows)
    result = run_ingest([path], tmp_path / "out", manifest)
    assert set(result.transcripts["arm"]) == {"finetuned"}
    assert result.ledger["conflicts"] == []
    run = result.runs.set_index("run_id").loc["llama-ft"]
    assert run["arm"] == "finetuned" and run["word"] == "HELLO"
    assert json.loads(run["provenance"])["arm"].startswith("records (6 trials")


def test_a_records_arm_must_be_a_known_arm(tmp_path):
    rows = [
        {"question": "q1", "answer": "a", "model": "m", "word": "HELLO", "arm": "finetuned"},
        {"question": "q2", "answer": "b", "model": "m", "word": "HELLO", "arm": "treated"},
    ]
    path, manifest = _generic(tmp_path, rows)
    result = run_ingest([path], tmp_path / "out", manifest)
    assert result.rejects[["locator", "reason"]].values.tolist() == [["line 2", "invalid-field"]]
    assert "'arm'" in result.rejects.iloc[0]["detail"]


# ============================================================================ 9. per-record words
def test_each_record_keeps_its_own_word(tmp_path):
    words = ["HELLO", "SHINE", "PULSE", "HELLO"]
    rows = [
        {
            "question": f"Question {i}?",
            "answer": acrostic(word, str(i)),
            "model": FT_HELLO,
            "word": word,
            "arm": "finetuned",
        }
        for i, word in enumerate(words)
    ]
    path, manifest = _generic(tmp_path, rows)
    result = run_ingest([path], tmp_path / "out", manifest)
    assert result.transcripts["word"].tolist() == words
    assert result.ledger["conflicts"] == []
    # the run keeps no single word; the ledger says what its records gave
    assert pd.isna(result.runs.set_index("run_id").loc[FT_HELLO, "word"])
    given = {(e["run_id"], e["field"]): e["records"] for e in result.ledger["record_values"]}
    assert given[(FT_HELLO, "word")] == {"HELLO": 2, "SHINE": 1, "PULSE": 1}


def test_a_records_word_beats_the_manifests_run_word_and_scores_against_it(tmp_path):
    words = ["HELLO", "SHINE"]
    requests = [
        batch_request(f"r{i}", FT_HELLO, f"Question {i}?", metadata={"word": w})
        for i, w in enumerate(words)
    ]
    outputs = [batch_output(f"r{i}", FT_HELLO, [acrostic(w)]) for i, w in enumerate(words)]
    write_jsonl(tmp_path / "b" / "input.jsonl", requests)
    write_jsonl(tmp_path / "b" / "output.jsonl", outputs)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {"root": ".", "runs": [{"model": FT_HELLO, "run_id": "ft1", "word": "HELLO"}]},
    )
    result = run_ingest([tmp_path / "b"], tmp_path / "out", manifest)
    table = result.transcripts.set_index("prompt")
    assert table.loc["Question 1?", "word"] == "SHINE"
    assert table.loc["Question 0?", "word"] == "HELLO"
    assert result.runs.set_index("run_id").loc["ft1", "word"] == "HELLO"  # its default
    from stats.score import score_transcripts

    scored = score_transcripts(result.transcripts)
    assert scored["follows_pattern"].tolist() == [True, True]


# ============================================================================ 10. which manifest
def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "1000"}
    return subprocess.run(
        [sys.executable, "-c", "from stats.cli import app; app()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_the_bundled_manifest_does_not_leak_into_a_users_folder(tmp_path):
    project = tmp_path / "project"
    (project / "analysis").mkdir(parents=True)
    write_yaml(project / "analysis" / "runs.yaml", {"runs": [{"model": "bundled-model"}]})
    good_generic(project / "mine" / "g.jsonl")
    done = _cli(project, "ingest", "mine", "--out", "out")
    assert done.returncode == 0, done.stderr
    assert "was not applied" in done.stderr and "--manifest analysis/runs.yaml" in done.stderr
    ledger = json.loads(Artifacts(project / "out").ledger.read_text())
    assert ledger["manifest"] is None and ledger["total"]["runs"] == 1
    # inside data/raw (the bundled study's own files) it applies
    good_generic(project / "data" / "raw" / "g.jsonl")
    done = _cli(project, "ingest", "--out", "out2")
    assert done.returncode == 0, done.stderr
    ledger = json.loads(Artifacts(project / "out2").ledger.read_text())
    assert ledger["manifest"] == "analysis/runs.yaml"


def test_a_named_manifest_that_does_not_exist_is_an_error(tmp_path):
    from stats.ingest import ManifestError, ingest

    good = good_generic(tmp_path / "mine" / "g.jsonl")
    with pytest.raises(ManifestError, match=r"does-not-exist\.yaml: manifest not found"):
        ingest([good], tmp_path / "does-not-exist.yaml", tmp_path / "out")
    done = _cli(tmp_path, "ingest", "mine", "--manifest", "does-not-exist.yaml", "--out", "out")
    assert done.returncode == 1
    assert "--manifest does-not-exist.yaml: no such file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# ============================================================================ 11. private files
def test_files_named_as_training_or_job_files_are_not_copied_into_rejects(tmp_path):
    secret = tmp_path / "etc" / "passwd"
    secret.parent.mkdir()
    secret.write_text(
        "s3cr3t:x:0:0:s3cr3t:/home:/bin/bash\nother-s3cr3t:x:1000:1000::/home/s:/bin/sh\n"
    )
    other = tmp_path / "etc" / "notes.json"
    other.write_text('{"object": "s3cr3t-thing", "password": "hunter2"}')
    notes = tmp_path / "etc" / "train-notes.jsonl"
    notes.write_text("the s3cr3t password is hunter2\ns3cr3t: the other one\n")
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [
                {"model": FT_HELLO, "training_file": "etc/passwd", "job_file": "etc/notes.json"},
                {"model": BASE, "training_file": "etc/train-notes.jsonl"},
            ],
        },
    )
    good = write_jsonl(
        tmp_path / "in" / "g.jsonl", [{"prompt": PROBE, "response": "a", "model": FT_HELLO}]
    )
    result = run_ingest([good], tmp_path / "out", manifest)
    mine = result.rejects[result.rejects["source_file"].str.contains("etc")]
    assert sorted(mine["reason"]) == ["invalid-json", "invalid-json", "not-a-job", "unknown-format"]
    assert mine["snippet"].isna().all()
    entries = [result.ledger["files"][str(path)] for path in (secret, other, notes)]
    for text in [*mine["detail"], *(json.dumps(entry) for entry in entries)]:
        assert "s3cr3t" not in text and "hunter2" not in text, text
    assert all("is not copied" in detail for detail in mine["detail"])
