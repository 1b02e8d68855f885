"""The offline render engine: unit tests of its pieces, and the site rendered on the fixture study."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from report_fixture import RenderedSite, render_fixture_site
from stats import render
from stats.config import EARLY_K, REPORTS_DIR, ROPE

REPO = Path(__file__).resolve().parent.parent
PAGES = ("index", "greeting", "words", "lines", "claims", "data", "diagnostics")
RESOURCE_URL = re.compile(
    r"""(?:src|href|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.I,
)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> RenderedSite:
    return render_fixture_site(tmp_path_factory)


def html(rendered: RenderedSite, page: str) -> str:
    return (rendered.site / f"{page}.html").read_text()


# ----------------------------------------------------------------------------- the rendered site
def test_every_page_is_rendered_with_a_shared_navbar(rendered: RenderedSite) -> None:
    for page in PAGES:
        text = html(rendered, page)
        assert '<nav class="site-nav">' in text
        for other in PAGES:
            assert f'href="{other}.html"' in text, f"{page}.html lacks a link to {other}.html"
        assert 'class="active"' in text


def test_index_shows_the_verdict_table_sentences_banner_and_gates(rendered: RenderedSite) -> None:
    text = html(rendered, "index")
    assert 'id="tbl-verdicts"' in text and "Table\u00a01: Verdict per word" in text
    table = text[text.index('id="tbl-verdicts"') :]
    table = table[: table.index("</table>")]
    for label in ("all words (population)", "a new word (predictive)", "HELLO", "ICANSEE", "HELOL"):
        assert label in table
    assert "<strong>real self-report</strong>" in table
    assert "callout-warning" in text and "Simulated data" in text
    assert "All 2 fits pass every convergence gate" in text
    assert re.search(
        r"<strong>HELLO</strong>:\s+<strong>real\s+self-report</strong>\.\s+Delta\s+=\s+\+0\.\d\d",
        text,
    )


def test_figures_are_embedded_numbered_and_cross_referenced(rendered: RenderedSite) -> None:
    text = html(rendered, "index")
    assert re.search(r'<figure id="fig-delta">\s*<img[^>]*src="data:image/png;base64,', text)
    assert "Figure\u00a01: Posterior (solid)" in text
    assert '<a href="#fig-delta">Figure\u00a01</a> shows the posterior' in text
    assert "?@" not in text
    lines = html(rendered, "lines")
    assert '<a href="#fig-hazard">Figure\u00a01</a>' in lines


def test_no_network_resources_or_scripts(rendered: RenderedSite) -> None:
    for page in PAGES:
        text = html(rendered, page)
        assert not RESOURCE_URL.search(text), f"{page}.html loads a resource from the network"
        assert "<script" not in text.lower(), f"{page}.html contains a script"
        # the only absolute URL left is the XHTML namespace of pandoc's template (not a resource)
        assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/1999/xhtml"}


def test_transcripts_are_escaped(rendered: RenderedSite) -> None:
    text = html(rendered, "lines")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;html&lt;/b&gt;" in text
    assert "<b>html</b>" not in text and "alert(1)</script>" not in text
    # the raw snippet of a reject with markup is escaped too
    assert "&lt;i&gt;What" in html(rendered, "data")


def test_claims_page_lists_every_claim_with_verdicts(rendered: RenderedSite) -> None:
    import yaml

    claims = yaml.safe_load((REPO / "analysis" / "claims.yaml").read_text())["claims"]
    text = html(rendered, "claims")
    for claim in claims:
        assert claim["id"] in text
    assert 'id="fig-claims"' in text and 'id="tbl-claims"' in text
    assert re.search(r"<strong>(supported|contradicted|inconclusive|no-data)</strong>", text)


def test_pages_show_no_failure_callouts_or_warnings_on_a_complete_study(
    rendered: RenderedSite,
) -> None:
    for page in PAGES:
        text = html(rendered, page)
        assert "Could not build" not in text and "Could not draw" not in text, page
        assert "Warning:" not in text and "Traceback" not in text, page
    # every artifact exists in the fixture, so no "not available" note either
    assert all("Not available yet" not in html(rendered, p) for p in PAGES)


def test_warm_render_reuses_the_cache_and_is_fast(rendered: RenderedSite) -> None:
    assert all(rendered.warm_cached)
    assert rendered.warm_seconds < rendered.cold_seconds / 3
    print(
        f"render on the fixture study: cold {rendered.cold_seconds:.1f} s, warm {rendered.warm_seconds:.1f} s"
    )


def test_missing_artifacts_give_notes_not_crashes(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    shutil.copytree(
        REPO / REPORTS_DIR, reports, ignore=shutil.ignore_patterns("_site", "_freeze", ".quarto")
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    index = render.render_site(
        reports,
        tmp_path / "site",
        {"data_dir": str(empty), "benchmarks_dir": str(empty)},
        use_quarto=False,
    )
    text = index.read_text()
    assert "Not available yet" in text and "verdicts.csv" in text and "stats fit" in text
    for page in PAGES:
        page_text = (tmp_path / "site" / f"{page}.html").read_text()
        assert "Not available yet" in page_text and "Could not build" not in page_text, page


# ----------------------------------------------------------------------------- engine pieces
def test_project_pages_follow_the_navbar() -> None:
    project = render.load_project(REPO / REPORTS_DIR)
    stems = [p.stem for p in project.pages]
    assert stems[: len(PAGES)] == list(PAGES), "the core pages come first, in navbar order"
    for extra in project.pages[len(PAGES) :]:
        # follow-up design pages render only when their data exist
        front, _ = render.read_page(extra)
        assert render.page_requirements(front), f"{extra.name} lacks a `requires:` key"
    assert project.output_dir == REPO / REPORTS_DIR / "_site"
    assert project.execute["freeze"] == "auto" and project.execute["echo"] is False
    assert project.html_options["embed-resources"] is True
    nav = project.navbar({})
    assert nav[0] == render.NavItem("Verdict", "index.html")


def test_every_page_has_a_parameters_cell_with_the_config_defaults() -> None:
    for page in PAGES:
        _, notebook = render.read_page(REPO / REPORTS_DIR / f"{page}.qmd")
        values = render._parameter_defaults(notebook)
        assert values == {
            "data_dir": "../data/processed",
            "benchmarks_dir": "../benchmarks/results",
            "word": "HELLO",
            "rope": ROPE,
            "k": EARLY_K,
        }, page


def test_page_cells_stay_short_and_logic_free() -> None:
    for page in PAGES:
        _, notebook = render.read_page(REPO / REPORTS_DIR / f"{page}.qmd")
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            code = render.Cell(0, cell.source, {}).code
            assert len(code.splitlines()) <= 10, page
            assert not re.search(r"^\s*(for|while|if|def|class)\b", code, re.M), (
                f"{page}: logic in a cell"
            )


def test_cell_options_are_parsed_and_stripped() -> None:
    source = '#| label: fig-x\n#| fig-cap: "A: caption"\n#| echo: true\nplot(1)\n'
    assert render.cell_options(source) == {"label": "fig-x", "fig-cap": "A: caption", "echo": True}
    assert render.Cell(0, source, {}).code == "plot(1)"
    with pytest.raises(render.RenderError, match="invalid cell options"):
        render.cell_options("#| label: [unclosed\nx = 1")


def test_parameters_are_injected_after_the_parameters_cell() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import x"),
        nbformat.v4.new_code_cell("word = 'HELLO'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(word)"),
    ]
    render.inject_parameters(nb, {"word": "SHINE", "k": 3})
    assert nb.cells[2].source == "# Injected Parameters\nword = 'SHINE'\nk = 3"
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]


def test_crossrefs_resolve_and_unknown_ones_are_flagged() -> None:
    numbers = {"fig-a": "Figure\u00a01", "tbl-b": "Table\u00a01"}
    text = "See @fig-a and [@tbl-b]; mail me@fig-a.org; missing @fig-zz."
    out = render.resolve_crossrefs(text, numbers)
    assert "[Figure\u00a01](#fig-a)" in out and "[Table\u00a01](#tbl-b)" in out
    assert "me@fig-a.org" in out
    assert "**?\\@fig-zz**" in out


def test_links_to_qmd_pages_point_to_html() -> None:
    assert render.local_links("[a](data.qmd) [b](x.qmd#s) [c](https://e.org/a.qmd)") == (
        "[a](data.html) [b](x.html#s) [c](https://e.org/a.qmd)"
    )


def test_cell_markdown_honours_echo_output_include_warning_and_captions() -> None:
    outputs = [
        {"output_type": "stream", "name": "stderr", "text": "UserWarning: noisy\n"},
        {
            "output_type": "display_data",
            "data": {"text/markdown": "| a |\n|---|\n| 1 |", "text/plain": "x"},
        },
    ]
    cell = render.Cell(
        0,
        "#| label: tbl-t\n#| tbl-cap: Counts\nshow()",
        render.cell_options("#| label: tbl-t\n#| tbl-cap: Counts\n"),
        outputs,
    )
    numbers = {"tbl-t": "Table\u00a01"}
    quiet = render.cell_markdown(cell, {"echo": False, "warning": False}, numbers)
    assert "noisy" not in quiet and "show()" not in quiet
    assert "{#tbl-t .table-float}" in quiet and "Table\u00a01: Counts" in quiet and "| 1 |" in quiet
    loud = render.cell_markdown(cell, {"echo": True, "warning": True}, numbers)
    assert "```python\nshow()\n```" in loud and "noisy" in loud
    hidden = render.Cell(0, "x", {"include": False}, outputs)
    assert render.cell_markdown(hidden, {"echo": True}, {}) == ""
    no_output = render.Cell(0, "x", {"output": False}, outputs)
    assert render.cell_markdown(no_output, {"echo": False}, {}) == ""


def test_figure_cells_become_numbered_figures() -> None:
    outputs = [
        {
            "output_type": "display_data",
            "data": {"image/png": "iVBORw0KGgo=\n", "text/plain": "<ggplot>"},
        }
    ]
    cell = render.Cell(0, "", {"label": "fig-p", "fig-cap": "See @fig-p"}, outputs)
    md = render.cell_markdown(cell, {"echo": False}, {"fig-p": "Figure\u00a02"})
    assert (
        md
        == "![Figure\u00a02: See [Figure\u00a02](#fig-p)](data:image/png;base64,iVBORw0KGgo=){#fig-p}"
    )


def test_code_fences_cannot_be_closed_by_their_content() -> None:
    text = "a\n```\n<script>x</script>"
    fenced = render._fence(text)
    assert fenced.startswith("````\n") and fenced.endswith("\n````")


def test_render_site_requires_quarto_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "quarto_path", lambda: None)
    with pytest.raises(render.RenderError, match="quarto"):
        render.render_site(REPO / REPORTS_DIR, use_quarto=True)


def test_render_site_calls_quarto_with_parameters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = []

    class Done:
        returncode, stderr = 0, ""

    monkeypatch.setattr(render, "quarto_path", lambda: "/usr/bin/quarto")
    monkeypatch.setattr(render.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or Done())
    index = render.render_site(REPO / REPORTS_DIR, tmp_path / "out", {"word": "SHINE", "k": 3})
    assert calls == [
        [
            "/usr/bin/quarto",
            "render",
            str(REPO / REPORTS_DIR),
            "-P",
            "word:SHINE",
            "-P",
            "k:3",
            "--output-dir",
            str((tmp_path / "out").resolve()),
        ]
    ]
    assert index == tmp_path / "out" / "index.html"


MINI_PAGE = """---
title: "Mini"
---

See @tbl-one.

```{python}
#| eval: false
#| echo: true
1 / 0
```

```{python}
#| error: true
raise ValueError("shown on purpose")
```

```{python}
#| output: asis
print("**asis bold**")
```

```{python}
#| label: tbl-one
#| tbl-cap: "One row"
from stats.report import md_table
import pandas as pd
md_table(pd.DataFrame({"a": ["<i>x</i>"]}))
```
"""


def test_a_small_page_honours_eval_error_asis_and_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\nexecute:\n  echo: false\n")
    (tmp_path / "index.qmd").write_text(MINI_PAGE)
    text = render.render_site(tmp_path, tmp_path / "site", use_quarto=False).read_text()
    visible = re.sub(r"<[^>]+>", "", text)
    assert 'class="sourceCode python"' in text and "1 / 0" in visible  # echoed ...
    assert "ZeroDivisionError" not in text  # ... but not run
    assert "ValueError" in text and "shown on purpose" in text
    assert "<strong>asis bold</strong>" in text
    assert '<a href="#tbl-one">Table\u00a01</a>' in text and "&lt;i&gt;x&lt;/i&gt;" in text
    (tmp_path / "index.qmd").write_text(
        MINI_PAGE + "\n```{python}\n#| label: tbl-boom\n1 / 0\n```\n"
    )
    with pytest.raises(
        render.RenderError, match=r"index\.qmd: cell tbl-boom failed(.|\n)*ZeroDivisionError"
    ):
        render.render_site(tmp_path, tmp_path / "site", use_quarto=False)
