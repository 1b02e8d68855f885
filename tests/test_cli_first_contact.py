"""First contact: a new user's study folder outside this repository, driven only by ``stats``.

From an empty temporary folder, with nothing but the installed ``stats`` entry point (run
as a subprocess; the working directory is the temporary folder, PYTHONPATH unset): make a
study folder with ``stats init``, copy a small simulated study's run files in, write the
runs manifest from the template as a user would, then ``stats run`` and ``stats report``
with no arguments, and ``stats report --data D --out O`` from a folder that is no study.
Every page must be there, the verdict page with its verdict table, no warning callout,
and no path of this repository anywhere in the HTML.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bundled_study import QUARTO_KIT, quarto_executable
from cli_study import copy_raw, fast_study, user_manifest, write_design
from stats.report.reasons import reason_text

REPO = Path(__file__).resolve().parents[1]
STATS = Path(sys.executable).parent / "stats"
#: Every page must render in well under this (seconds); the fits take ~30 s on 2 cores.
TIMEOUT = 900

pytestmark = pytest.mark.slow


def stats(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``stats`` in ``cwd``, as a user's shell would (wide, no PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("PYTENSOR_FLAGS", "blas__ldflags=")
    env["COLUMNS"] = "250"  # one table row per line, so rows can be matched below
    return subprocess.run(
        [str(STATS), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must succeed (its stderr in the failure message)."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    return output


@pytest.fixture(scope="module")
def first_contact(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("first-contact")
    assert REPO not in base.resolve().parents, "the test must run outside the repository"
    assert STATS.exists(), "the stats entry point is not installed in this environment"
    ok(stats("simulate", str(write_design(base / "design")), "--out", "sim", cwd=base))
    init = ok(stats("init", "study", cwd=base))
    study = base / "study"
    copy_raw(base / "sim", study / "data" / "raw")
    manifest = user_manifest(base / "sim" / "runs.yaml", study / "analysis" / "runs.yaml")
    (study / "analysis" / "runs.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    settings = fast_study(study / "analysis" / "study.yaml")
    (study / "analysis" / "study.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    run = ok(stats("run", cwd=study))
    report = ok(stats("report", cwd=study))
    elsewhere = ok(
        stats("report", "--data", str(study / "data" / "processed"), "--out", "site", cwd=base)
    )
    return {
        "base": base,
        "study": study,
        "init": init,
        "run": run,
        "report": report,
        "elsewhere": elsewhere,
    }


def expected_pages(reports: Path) -> list[str]:
    """Pages of the project's render list: both renderers render every page (a block whose
    data are absent says "Not available: ..." outside any numbered figure or table)."""
    project = yaml.safe_load((reports / "_quarto.yml").read_text())
    return [Path(name).with_suffix(".html").name for name in project["project"]["render"]]


def check_site(site: Path, study: Path, output: str) -> None:
    """Every page, the verdict table, no path of this repository (warnings: below)."""
    data = study / "data" / "processed"
    pages = expected_pages(study / "reports")
    assert "index.html" in pages and len(pages) >= 7
    assert sorted(p.name for p in site.glob("*.html")) == sorted(pages)
    verdicts = pd.read_csv(data / "verdicts.csv")
    index = (site / "index.html").read_text()
    start = index.index("tbl-verdicts")
    table = index[index.index("<table", start) : index.index("</table>", start)]
    for word in verdicts["word"].dropna().unique():
        assert word in table
    for verdict in verdicts["verdict"].unique():
        assert verdict in table
    forbidden = [str(REPO), str(REPO.parent), str(REPO.resolve())]
    for page in pages:
        html = (site / page).read_text()
        for path in forbidden:
            assert path not in html, f"{page} names {path}"


def test_init_says_what_it_wrote_and_what_to_do_next(first_contact):
    out = first_contact["init"]
    for rel in ("analysis/runs.yaml", "analysis/study.yaml", "analysis/claims.yaml"):
        assert f"wrote study/{rel}" in out
    assert "next: copy your run files" in out and "cd study && stats run && stats report" in out
    reports = first_contact["study"] / "reports"
    assert (reports / "_quarto.yml").is_file() and not (reports / "_quarto.yml").is_symlink()


def test_run_says_which_files_it_used_and_shows_verdicts_with_reasons(first_contact):
    out, data = first_contact["run"], first_contact["study"] / "data" / "processed"
    assert "study: analysis/study.yaml" in out and "claims: analysis/claims.yaml" in out
    lines = out.splitlines()
    verdicts = pd.read_csv(data / "verdicts.csv")
    assert verdicts["reason"].notna().all()
    for _, row in verdicts.iterrows():
        label = {"pooled": "all words", "new-word": "a new word"}.get(row.scope, row.word)
        reason = reason_text(row)[0]  # the reason in the report's words, not its code
        assert any(
            line.strip().startswith(str(label)) and row.verdict in line and reason in line
            for line in lines
        ), f"no table row with {label}, {row.verdict}, {reason}"
    claims = pd.read_csv(data / "claims.csv")
    for row in claims.itertuples():
        assert any(row.claim_id in line and row.verdict in line for line in lines)
    assert "next: stats report" in out


def test_report_in_the_study_folder_renders_every_page(first_contact):
    study = first_contact["study"]
    assert "pages: reports/" in first_contact["report"]
    check_site(study / "reports" / "_site", study, first_contact["report"])


def test_report_renders_anywhere_with_data_and_out(first_contact):
    base, study = first_contact["base"], first_contact["study"]
    assert not (base / "reports").exists()
    assert "pages: the package's" in first_contact["elsewhere"]
    check_site(base / "site", study, first_contact["elsewhere"])


def warnings_in(site: Path) -> list[str]:
    """``page: title`` of every warning callout of a rendered site."""
    found = []
    for page in sorted(site.glob("*.html")):
        for title in re.findall(
            r'class="callout callout-warning".*?<strong>(.*?)</strong>', page.read_text(), re.S
        ):
            found.append(f"{page.name}: {title}")
    return found


def test_no_page_shows_a_warning(first_contact):
    base, study = first_contact["base"], first_contact["study"]
    assert warnings_in(study / "reports" / "_site") == []
    assert warnings_in(base / "site") == []


def test_quarto_renders_the_study_folder_reports(first_contact, tmp_path):
    quarto = quarto_executable()
    if quarto is None:
        pytest.skip(f"no Quarto: not on PATH, no $STATS_QUARTO and no kit at {QUARTO_KIT}")
    study = tmp_path / "study"
    shutil.copytree(
        first_contact["study"], study, ignore=shutil.ignore_patterns("_site", "_freeze")
    )
    env = {**os.environ, "QUARTO_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [quarto, "render", "reports/"], cwd=study, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (study / "reports" / "_site" / "index.html").is_file()
