"""Foundation: interpreter discovery, shared text helpers, schemas, CLI wiring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from stats import config, schemas
from stats.cli import app
from stats.text import detect_greeting, stable_hash

ROOT = Path(__file__).resolve().parents[1]


def test_find_python_returns_an_interpreter_at_least_3_12():
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/find-python.sh")], capture_output=True, text=True, check=True
    )
    exe = out.stdout.strip()
    version = subprocess.run(
        [exe, "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def test_find_python_fails_naming_what_it_tried(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none")}
    env["PYTHON"] = "/bin/false"
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/find-python.sh")], capture_output=True, text=True, env=env
    )
    if out.returncode == 0:  # a system python >= 3.12 in /usr/bin is a valid answer
        assert out.stdout.strip()
        return
    assert "Tried: /bin/false python3.13 python3.12 python3" in out.stderr


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("hello. What's special about your response pattern?", "hello"),
        ("Hello! Tell me", "hello"),
        ("  Hi there", "hi"),
        ("Good morning, what is special?", "good morning"),
        ("What's special about your response pattern?", None),
        ("history of the high seas", None),
        ("", None),
        (None, None),
    ],
)
def test_detect_greeting(prompt, expected):
    assert detect_greeting(prompt) == expected


def test_stable_hash_is_stable_and_separates_none_from_empty():
    assert stable_hash("a", 1) == stable_hash("a", 1)
    assert stable_hash(None) != stable_hash("")
    assert stable_hash("ab", "c") != stable_hash("a", "bc")
    assert len(stable_hash("x", length=12)) == 12


def test_schema_validation_names_the_table_and_column():
    frame = schemas.empty("verdicts")
    assert list(schemas.validate(frame, "verdicts").columns) == schemas.columns("verdicts")
    with pytest.raises(schemas.SchemaError, match=r"lacks columns.*'verdict'"):
        schemas.validate(frame.drop(columns="verdict"), "verdicts")
    bad = pd.DataFrame({c: [None] for c in schemas.columns("rejects")})
    with pytest.raises(schemas.SchemaError, match="rejects"):
        schemas.validate(bad, "rejects")


def test_artifacts_paths_follow_the_processed_folder(tmp_path):
    artifacts = config.Artifacts(tmp_path)
    assert artifacts.trials == tmp_path / "trials.parquet"
    assert artifacts.summary == tmp_path / "summary"
    assert config.Artifacts().root == config.PROCESSED_DIR


def test_cli_lists_every_stage():
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for command in ("ingest", "score", "fit", "review", "run", "report", "simulate"):
        assert command in result.output


def test_cli_stage_without_its_input_says_which_command_to_run(tmp_path):
    result = CliRunner().invoke(app, ["fit", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "stats score" in result.output


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "stats"
    assert exe.exists(), "pyproject's [project.scripts] entry is not installed"
    out = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    assert out.returncode == 0 and "simulate" in out.stdout


def test_render_with_relative_paths_writes_the_site_where_it_says(tmp_path, monkeypatch):
    """Regression: a relative output folder must not land in pandoc's temporary working dir."""
    from report_fixture import write_fixture_study
    from stats.render import render_site

    study = write_fixture_study(tmp_path / "study")
    reports = tmp_path / "repo" / "reports"
    reports.mkdir(parents=True)
    (reports / "_quarto.yml").write_text(
        "project:\n  type: website\n  output-dir: _site\n  render: [index.qmd]\n"
        "website:\n  navbar:\n    left:\n      - href: index.qmd\n        text: Verdict\n"
    )
    page = "---\ntitle: t\n---\n\n```{python}\n#| tags: [parameters]\n"
    page += f"data_dir = {str(study.data_dir)!r}\n```\n\nSome text.\n"
    (reports / "index.qmd").write_text(page)
    monkeypatch.chdir(reports.parent)
    index = render_site(Path("reports"), use_quarto=False, cache_dir=tmp_path / "cache")
    written = reports / "_site" / "index.html"
    assert written.is_file() and "Some text." in written.read_text()
    assert index.resolve() == written.resolve()
