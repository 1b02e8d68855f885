"""Issue 16, finding 12: stale downstream tables and mixed ingest outputs are refused.

Every stage records what it was computed from (:mod:`stats.provenance`); a stage whose
input changed since is refused with the command to run, and ingest outputs that are not
all from one ingest are refused by the stages that read them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest_ingest import BASE, FT_HELLO, PROBE, PROBE_PLAIN, acrostic, run_ingest, write_jsonl
from stats import provenance
from stats.config import Artifacts
from stats.provenance import StaleError


def _rows(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "prompt": PROBE if i % 2 else PROBE_PLAIN,
            "response": acrostic("HELLO", str(i)),
            "model": FT_HELLO if i % 3 else BASE,
            "word": "HELLO" if i % 3 else None,
            "sample_index": i,
        }
        for i in range(start, start + n)
    ]


@pytest.fixture()
def scored(tmp_path):
    """An ingested and scored folder, and a second input file not ingested yet."""
    from stats.score import score_file

    first = write_jsonl(tmp_path / "raw" / "a.jsonl", _rows(12))
    later = write_jsonl(tmp_path / "more" / "b.jsonl", _rows(4, start=12))
    out = tmp_path / "out"
    run_ingest([first], out)
    score_file(out)
    return out, first, later


def test_a_stage_after_a_reingest_is_refused_with_the_command_to_run(scored):
    from stats.model import fit_study
    from stats.score import score_file

    out, first, later = scored
    provenance.require_current(out, "fit")  # current: nothing to say
    run_ingest([first, later], out)  # one more file: the trials are stale now
    with pytest.raises(
        StaleError,
        match=r"trials\.parquet was computed from an earlier "
        r"transcripts\.parquet .* run `stats score` first",
    ):
        fit_study(out, None)
    score_file(out)
    provenance.require_current(out, "fit")


def test_review_refuses_verdicts_fitted_before_the_last_scoring(scored, tmp_path):
    from stats.review import review
    from stats.score import score_file

    out, first, later = scored
    artifacts = Artifacts(out)
    artifacts.verdicts.write_text("scope,word\n")  # a fit's output, recorded as one
    provenance.record(out, "fit")
    claims = tmp_path / "claims.yaml"
    claims.write_text("claims: []\n")
    review(claims, out)  # current
    run_ingest([first, later], out)
    score_file(out)
    with pytest.raises(
        StaleError,
        match=r"verdicts\.csv was computed from an earlier "
        r"trials\.parquet .* run `stats fit` first",
    ):
        review(claims, out)


def test_ingest_outputs_mixed_by_hand_are_refused(tmp_path):
    from stats.score import score_file

    a = run_ingest([write_jsonl(tmp_path / "a.jsonl", _rows(3))], tmp_path / "a")
    run_ingest([write_jsonl(tmp_path / "b.jsonl", _rows(5))], tmp_path / "b")
    ledger = Artifacts(tmp_path / "a").ledger
    ledger.unlink()  # a link to this ingest's ledger: put another ingest's in its place
    shutil.copy(Artifacts(tmp_path / "b").ledger, ledger)
    with pytest.raises(StaleError, match="do not come from one ingest"):
        score_file(tmp_path / "a")
    env = {**os.environ, "COLUMNS": "1000"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from stats.cli import app; app()",
            "score",
            "--data",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and "run `stats ingest` again" in done.stderr
    assert "Traceback" not in done.stderr
    assert a.ledger["ingest_id"] != json.loads(ledger.read_text())["ingest_id"]


def test_a_table_written_by_hand_is_taken_as_it_is(scored):
    import pandas as pd

    out, first, later = scored
    trials = Artifacts(out).trials
    pd.read_parquet(trials).head(3).to_parquet(trials)  # no record of this file
    run_ingest([first, later], out)
    provenance.require_current(out, "fit")  # nothing known about it: not refused
