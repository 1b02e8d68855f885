"""What each command says: which files it used, what went wrong (one line), what to do next.

Issue 18's "silent or unclear steps", each as a test of exit code and text: ``stats fit``
without a study file, ``stats review`` without a claims file, the claims and verdict
tables, a named file that does not exist, ``--out`` at a file, an unreadable folder,
missing trials, and no empty output folder left by a failed command. The commands run
in-process (typer's runner) in a study folder made by ``stats init``; the model stage
is replaced by a stand-in where only the command line's part is under test (sampling
is tested by the model's own tests and by ``test_cli_first_contact``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cli_study import copy_raw, user_manifest, write_design
from stats import config
from stats.cli import app
from stats.cli_args import EXAMPLES
from stats.model.events import FitEvent
from stats.report.reasons import reason_text

VERDICTS = pd.DataFrame(
    {
        "scope": ["word", "pooled"],
        "word": ["HELLO", None],
        "greeting": [False, False],
        "mean": [0.25, 0.12],
        "hdi_low": [0.06, -0.02],
        "hdi_high": [0.46, 0.30],
        "verdict": ["real", "inconclusive"],
        "rope": [0.05, 0.05],
        "reason": ["real", "delta_overlaps_rope"],
    }
)


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert "Traceback" not in result.output
    return result


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("error", "error in"))]


@pytest.fixture(scope="module")
def scored_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study folder (``stats init``) with the tiny study ingested and scored, not fitted."""
    from stats.ingest import ingest
    from stats.score import score_file
    from stats.simulate import simulate
    from stats.study_folder import init_study

    base = tmp_path_factory.mktemp("messages")
    simulate(write_design(base), base / "sim")
    study = base / "study"
    init_study(study)
    copy_raw(base / "sim", study / config.RAW_DIR)
    manifest = user_manifest(base / "sim" / "runs.yaml", study / config.MANIFEST_PATH)
    (study / config.MANIFEST_PATH).write_text(yaml.safe_dump(manifest))
    ingest([study / config.RAW_DIR], study / config.MANIFEST_PATH, study / config.PROCESSED_DIR)
    score_file(study / config.PROCESSED_DIR)
    return study


@pytest.fixture
def study(scored_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the scored study folder, as the current directory."""
    folder = tmp_path / "study"
    shutil.copytree(scored_study, folder)
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def fake_fit(monkeypatch: pytest.MonkeyPatch) -> list:
    """Replace the model stage: record its calls, emit progress, return ``VERDICTS``."""
    calls: list = []

    def fit_study(data_dir, study=None, *, progress=None):
        calls.append(study)
        if progress is not None:
            progress("M1 articulated_early (prior x1)")
            progress(FitEvent("start", 1, 2, "M1-articulated_early-x1"))
            progress(FitEvent("retry", 1, 2, "M1-articulated_early-x1", attempt=2, elapsed=3.0))
            progress(FitEvent("done", 1, 2, "M1-articulated_early-x1", 2, 7.5, True))
            progress(FitEvent("cached", 2, 2, "M2-word_line-x1", converged=True))
        VERDICTS.to_csv(config.Artifacts(Path(data_dir)).verdicts, index=False)
        return VERDICTS

    monkeypatch.setattr("stats.model.pipeline.fit_study", fit_study)
    monkeypatch.setattr("stats.followups.run_followups", lambda *a, **k: {})
    return calls


# ----------------------------------------------------------------------------- which file was used
def test_fit_without_a_study_file_says_it_uses_the_defaults(study, fake_fit):
    (study / config.STUDY_PATH).unlink()
    result = invoke("fit")
    assert result.exit_code == 0
    assert "study: the built-in defaults (no analysis/study.yaml here" in result.output
    assert fake_fit == [None]


def test_fit_names_the_study_file_it_uses(study, fake_fit):
    result = invoke("fit")
    assert result.exit_code == 0
    assert "study: analysis/study.yaml" in result.output
    assert fake_fit == [config.STUDY_PATH]


def test_fit_shows_every_verdict_with_its_reason_and_what_next(study, fake_fit):
    result = invoke("fit")
    lines = result.output.splitlines()
    for row in VERDICTS.itertuples():
        label = "all words" if row.scope == "pooled" else row.word
        assert any(
            line.strip().startswith(label)
            and row.verdict in line
            and reason_text(pd.Series(row._asdict()))[0] in line  # words, not the code
            and row.reason not in line.split(row.verdict, 1)[1]
            for line in lines
        )
    assert "next: stats review" in result.output


def test_fit_progress_shows_fit_k_of_n_retries_and_the_total(study, fake_fit):
    out = invoke("fit").output
    # a status string (all the model stage sent before events), with the time since the start
    assert re.search(r"^  \[ +\d+\.\d s\] M1 articulated_early \(prior x1\)$", out, re.M)
    assert "fit 1 of 2 M1-articulated_early-x1: missed a convergence gate after 3.0 s" in out
    assert "fit 1 of 2 M1-articulated_early-x1: converged (7.5 s, 2 attempts)" in out
    assert "fit 2 of 2 M2-word_line-x1: converged (read from the fit cache)" in out
    assert "2 fits in " in out and "1 retry, 1 from the cache, all converged" in out


def test_review_without_a_claims_file_names_the_option(study):
    (study / config.CLAIMS_PATH).unlink()
    result = invoke("review")
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "analysis/claims.yaml does not exist here" in line and "--claims FILE" in line
    assert "writing analysis/claims.yaml" not in result.output


def test_review_shows_each_claim_with_its_verdict(study):
    result = invoke("review")
    assert result.exit_code == 0
    assert "claims: analysis/claims.yaml" in result.output
    claims = pd.read_csv(study / config.PROCESSED_DIR / "claims.csv")
    assert len(claims) >= 1
    for row in claims.itertuples():
        assert any(
            row.claim_id in line and row.verdict in line for line in result.output.splitlines()
        )
    assert f"{len(claims)} claims -> data/processed/claims.csv" in result.output


def test_run_without_claims_says_review_was_skipped(study, fake_fit):
    (study / config.CLAIMS_PATH).unlink()
    result = invoke("run")
    assert result.exit_code == 0
    assert "review skipped: no analysis/claims.yaml here" in result.output
    assert "next: stats report" in result.output


# ----------------------------------------------------------------------------- named files must exist
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("fit", "--study", "nope.yaml"), "--study nope.yaml"),
        (("run", "--study", "nope.yaml"), "--study nope.yaml"),
        (("review", "--claims", "nope.yaml"), "--claims nope.yaml"),
        (("run", "--claims", "nope.yaml"), "--claims nope.yaml"),
        (("score", "--labels", "nope.csv"), "--labels nope.csv"),
        (("score", "--guessability-table", "nope.csv"), "--guessability-table nope.csv"),
    ],
)
def test_a_named_file_that_does_not_exist_is_an_error(study, fake_fit, args, option):
    before = sorted(p.name for p in (study / config.PROCESSED_DIR).iterdir())
    result = invoke(*args)
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert f"{option}: no such file: check the path" in line
    assert fake_fit == []
    assert sorted(p.name for p in (study / config.PROCESSED_DIR).iterdir()) == before


def test_a_named_raw_path_that_does_not_exist_is_an_error(study):
    result = invoke("ingest", "nope/")
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "nope: no such file or folder" in line


def test_a_named_study_folder_instead_of_a_file_is_an_error(study, fake_fit):
    result = invoke("fit", "--study", "analysis")
    assert result.exit_code == 1
    assert "--study analysis is a folder: name a file" in result.output


# ----------------------------------------------------------------------------- one line, no traceback
@pytest.mark.parametrize(
    "args",
    [
        ("report", "--out", "afile"),
        ("report", "--data", "data/processed", "--out", "afile"),
        ("ingest", "--out", "afile"),
        ("run", "--out", "afile"),
        ("simulate", "design.yaml", "--out", "afile"),
    ],
)
def test_out_at_a_file_is_one_line_naming_it(study, args):
    (study / "afile").write_text("not a folder")
    write_design(study).rename(study / "design.yaml")
    result = invoke(*args)
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert line == "error: --out afile is a file: name a folder (it is made if missing)"
    assert (study / "afile").read_text() == "not a folder"


def test_an_unreadable_folder_is_one_line_naming_it(study, monkeypatch):
    # the tests run as root, whom chmod does not stop: the OS error is raised by a stand-in
    def unreadable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "data/raw/locked")

    monkeypatch.setattr("stats.ingest.ingest", unreadable)
    result = invoke("ingest")
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert line == (
        "error in ingest: data/raw/locked: Permission denied: make it readable and writable "
        "(chmod/chown) or choose another path"
    )


def test_missing_trials_name_the_command_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "claims.yaml").write_text("claims: []\n")
    for args in (("fit",), ("review", "--claims", "claims.yaml")):
        result = invoke(*args)
        assert result.exit_code == 1
        [line] = error_lines(result.output)
        assert "data/processed/trials.parquet does not exist: run `stats score` first" in line


def test_outside_a_study_folder_the_commands_say_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run")
    assert result.exit_code == 1
    assert "data/raw/ does not exist in" in result.output and "stats init DIR" in result.output
    result = invoke("report")
    assert result.exit_code == 1
    assert "no report pages here" in result.output and "--out DIR" in result.output
    assert list(tmp_path.iterdir()) == []


def test_report_needs_the_verdicts_and_names_the_data_option(study):
    result = invoke("report", "--data", "elsewhere", "--out", "site")
    assert result.exit_code == 1
    assert "elsewhere/verdicts.csv does not exist: run `stats run` first" in result.output


def test_interrupted_stage_exits_130_without_traceback(study, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("stats.ingest.ingest", interrupted)
    result = invoke("ingest")
    assert result.exit_code == 130 and "ingest interrupted" in result.output


# ----------------------------------------------------------------------------- nothing left behind
def test_a_failed_run_leaves_no_empty_output_folder(study):
    shutil.rmtree(study / config.PROCESSED_DIR)
    for entry in (study / config.RAW_DIR).iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    result = invoke("run")
    assert result.exit_code == 1
    assert not (study / config.PROCESSED_DIR).exists()


def test_a_failed_fit_leaves_no_empty_fit_folders(study, monkeypatch):
    def failing(data_dir, study=None, *, progress=None):
        (Path(data_dir) / "fits").mkdir()
        raise ValueError("a fit could not start")

    monkeypatch.setattr("stats.model.pipeline.fit_study", failing)
    monkeypatch.setattr("stats.followups.run_followups", lambda *a, **k: {})
    result = invoke("fit")
    assert result.exit_code == 1
    assert "error in fit: a fit could not start" in result.output
    assert not (study / config.PROCESSED_DIR / "fits").exists()


def test_a_failed_report_leaves_no_half_rendered_site(study, fake_fit, monkeypatch):
    from stats.render import RenderError

    assert invoke("fit").exit_code == 0

    def failing(reports_dir, out_dir=None, *args, **kwargs):
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "index.html").write_text("half")
        raise RenderError("greeting.qmd, cell 3: it broke")

    monkeypatch.setattr("stats.render.render_site", failing)
    result = invoke("report", "--out", "site")
    assert result.exit_code == 1
    assert "error in report: greeting.qmd, cell 3: it broke" in result.output
    assert not (study / "site").exists()


# ----------------------------------------------------------------------------- help
def test_every_command_has_an_example():
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    assert names == set(EXAMPLES)


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_every_help_shows_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and f"stats {command}" in result.output


def test_top_level_help_says_where_to_start():
    result = invoke("--help")
    assert "stats init my-study" in result.output
    for command in EXAMPLES:
        assert command in result.output
