"""``stats init``: the study skeleton, its templates, and the manifest page of the docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stats import config
from stats.cli import app
from stats.study_folder import SKELETON, copy_pages, init_study, package_pages, page_data_dir

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert "Traceback" not in result.output
    return result


def test_init_writes_the_skeleton_and_says_what_next(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "my-study")
    assert result.exit_code == 0
    study = tmp_path / "my-study"
    for rel in SKELETON:
        assert (study / rel).is_file()
        assert f"wrote my-study/{rel}" in result.output
    assert (study / config.RAW_DIR).is_dir() and not any((study / config.RAW_DIR).iterdir())
    assert "next: cd my-study && stats run && stats report" in result.output


def test_init_copies_the_package_pages_as_real_files(tmp_path):
    made = init_study(tmp_path / "s")
    reports = tmp_path / "s" / config.REPORTS_DIR
    shipped = {p.name: p.read_bytes() for p in package_pages().iterdir() if p.is_file()}
    assert {"_quarto.yml", "index.qmd"} <= set(shipped)
    for name, content in shipped.items():
        assert not (reports / name).is_symlink() and (reports / name).read_bytes() == content
    assert sorted(p.name for p in made.pages) == sorted(shipped)


def test_the_repository_reports_are_the_package_pages():
    """One set of pages: reports/ of this repository shows the files stats init copies."""
    for page in package_pages().iterdir():
        if page.is_file():
            assert (REPO / config.REPORTS_DIR / page.name).read_bytes() == page.read_bytes()


def test_init_refuses_a_non_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    result = invoke("init", "busy")
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("error")]
    assert "busy is not empty (notes.txt)" in line and "--force" in line
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_init_of_the_current_folder_says_run_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", ".")
    assert result.exit_code == 0
    assert "next: stats run && stats report" in result.output


def test_init_refuses_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    result = invoke("init", "a-file")
    assert result.exit_code == 1
    assert "a-file is a file: name a new folder for the study" in result.output


def test_init_force_keeps_edited_files_and_refreshes_the_pages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    init_study(tmp_path / "s")
    (tmp_path / "s" / config.STUDY_PATH).write_text("rope: 0.1\n")
    (tmp_path / "s" / config.REPORTS_DIR / "index.qmd").write_text("old page")
    result = invoke("init", "s", "--force")
    assert result.exit_code == 0
    assert "kept  s/analysis/study.yaml (exists)" in result.output
    assert (tmp_path / "s" / config.STUDY_PATH).read_text() == "rope: 0.1\n"
    index = package_pages().joinpath("index.qmd").read_bytes()
    assert (tmp_path / "s" / config.REPORTS_DIR / "index.qmd").read_bytes() == index


def test_the_templates_are_valid_as_written(tmp_path):
    from stats.ingest import load_manifest
    from stats.model.study import load_study
    from stats.review import parse_claims

    init_study(tmp_path)
    manifest = load_manifest(tmp_path / config.MANIFEST_PATH)
    assert manifest.root == (tmp_path / config.RAW_DIR).resolve()
    assert manifest.runs == () and manifest.files == ()
    study = load_study(tmp_path / config.STUDY_PATH)
    defaults = load_study(None)
    assert dataclasses.replace(study, source="") == dataclasses.replace(defaults, source="")
    assert [c.claim_id for c in parse_claims(tmp_path / config.CLAIMS_PATH)] == [
        "finetuned-names-word-by-line-2"
    ]


def test_the_commented_template_examples_are_valid_when_uncommented(tmp_path):
    from stats.ingest import load_manifest

    init_study(tmp_path)
    lines = []
    for line in (tmp_path / config.MANIFEST_PATH).read_text().splitlines():
        # "  # - job_file: ..." -> "  - job_file: ..." (example lines, not prose)
        match = re.match(r"^(\s*)# (\s*(- )?[a-z_]+: .*)$", line)
        lines.append(match.group(1) + match.group(2) if match else line)
    (tmp_path / config.MANIFEST_PATH).write_text("\n".join(lines) + "\n")
    manifest = load_manifest(tmp_path / config.MANIFEST_PATH)
    assert len(manifest.runs) == 4 and len(manifest.files) == 1
    assert manifest.files[0].format == "generic-csv"


def test_every_yaml_example_of_the_manifest_page_is_a_valid_manifest(tmp_path):
    from stats.ingest import load_manifest

    page = (REPO / "docs" / "manifest.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        path = tmp_path / f"runs{i}.yaml"
        path.write_text(block)
        assert load_manifest(path).runs


def test_readme_links_the_manifest_page_and_shows_the_quickstart():
    readme = (REPO / "README.md").read_text()
    assert "docs/manifest.md" in readme
    assert "stats init my-study" in readme and "stats run && stats report" in readme


def test_copy_pages_replaces_links_by_files(tmp_path):
    (tmp_path / "index.qmd").symlink_to(REPO / config.REPORTS_DIR / "index.qmd")
    copy_pages(tmp_path)
    assert not (tmp_path / "index.qmd").is_symlink()


@pytest.mark.parametrize(
    ("data", "expected"),
    [("data/processed", None), ("other/processed", "../other/processed")],
)
def test_page_data_dir_is_none_in_the_study_layout(tmp_path, data, expected):
    assert page_data_dir(tmp_path / data, tmp_path / "reports") == expected
