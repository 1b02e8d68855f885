"""Real Quarto renders the bundled study's site and index PDF like the offline renderer.

Quarto 1.11 comes from the kit next to the repository (``../shared/tools/quarto``;
``.ci/run`` installs it, and :func:`bundled_study.quarto_executable` installs it when
missing). The site is rendered strictly (a report helper's exception fails it) and must:

* exit 0 with no ERROR or WARN line beyond :data:`HARMLESS`;
* hold the same pages, with the same numbered figures and tables per page, as the
  offline renderer's site;
* include ``index.pdf`` (typst) whose first page carries the answer and its table.

Skipped, with the reason, only when there is neither a Quarto nor the kit.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from bundled_study import QUARTO_KIT, bundled_site, quarto_executable

pytestmark = pytest.mark.slow

#: Lines of Quarto's output that say WARN or ERROR but are known to be harmless.
HARMLESS = (
    # the kit has no typst-gather helper (its README): every package is staged instead
    "WARN: typst-gather analyze failed; staging all packages as fallback",
    # Quarto starts its Jupyter kernel on loopback TCP; nothing leaves the machine
    "[IPKernelApp] WARNING | Kernel is running over TCP without encryption",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CAPTION = re.compile(r"(Figure|Table)\u00a0(\d+):")


@pytest.fixture(scope="session")
def quarto() -> str:
    found = quarto_executable()
    if found is None:
        pytest.skip(
            f"no Quarto and no Quarto kit at {QUARTO_KIT}: the Quarto render is not checked"
        )
    return found


@pytest.fixture(scope="session")
def quarto_site(quarto: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_site(tmp_path_factory, quarto=quarto)


@pytest.fixture(scope="session")
def offline_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_site(tmp_path_factory)


def floats(site: Path) -> dict[str, tuple[int, int]]:
    """Numbered figures and tables per page (distinct caption numbers)."""
    out = {}
    for page in sorted(site.glob("*.html")):
        found = set(_CAPTION.findall(html.unescape(page.read_text())))
        out[page.name] = tuple(sum(kind == k for kind, _ in found) for k in ("Figure", "Table"))
    return out


def test_quarto_output_has_no_error_or_warning_beyond_the_known_harmless(quarto_site: Path) -> None:
    log = _ANSI.sub("", (quarto_site.parent / "quarto.log").read_text())
    flagged = [
        line.strip()
        for line in log.splitlines()
        if re.search(r"\b(ERROR|WARN(ING)?)\b", line) and not any(h in line for h in HARMLESS)
    ]
    assert flagged == [], "\n".join(flagged)


def test_quarto_and_offline_build_the_same_pages_figures_and_tables(
    quarto_site: Path, offline_site: Path
) -> None:
    quarto, offline = floats(quarto_site), floats(offline_site)
    assert sorted(quarto) == sorted(offline)
    assert len(quarto) == 12
    assert quarto == offline
    assert quarto["index.html"] == (1, 2) and quarto["heldout.html"] == (0, 0)


def test_quarto_pages_have_no_failure_box_and_no_stale_or_repository_path(
    quarto_site: Path,
) -> None:
    for page in sorted(quarto_site.glob("*.html")):
        text = page.read_text()
        assert "Could not build" not in text and "stats-block-failed" not in text, page.name
        assert "benchmarks/results" not in text, page.name


def test_the_index_pdf_starts_with_the_answer_and_its_table(quarto_site: Path) -> None:
    from pypdf import PdfReader

    pdf = quarto_site / "index.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages]
    first = pages[0]
    # the heading is not stranded: its page carries the answer and the whole first table
    assert "The answer" in first and "Without the greeting (the primary test)" in first
    assert "Table 1:" in first and "SHINE" in first.split("Table 1:", 1)[1]


def test_under_quarto_a_failed_block_is_named_after_the_render(quarto: str, tmp_path: Path) -> None:
    from stats.render import BlockFailures, render_site
    from test_render import FAILING_PAGE

    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\nexecute:\n  echo: false\n")
    (tmp_path / "index.qmd").write_text(FAILING_PAGE)
    with pytest.raises(BlockFailures) as info:
        render_site(tmp_path, tmp_path / "site", use_quarto=True, quarto=quarto, strict=False)
    assert [(f.page, f.block, f.error) for f in info.value.failures] == [
        ("index.html", "broken_block", "ValueError: helper bug")
    ]
