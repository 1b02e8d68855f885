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
#: Pages whose data the fixture study does not have: they render with a "Not available" note.
FOLLOW_UP_PAGES = ("prediction", "planning", "heldout", "confusion", "sequential")
#: What each of them says, once, when its data are absent.
ABSENT_NOTE = {
    "prediction": "Not available: this study has no self- or cross-prediction records",
    "planning": "Not available: no planning results in this study yet",
    "heldout": "Not available: this study has no trials of this design",
    "confusion": "Not available: this study has no trials of this design",
    "sequential": "Not available: this study has no trials of this design",
}
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
    for page in PAGES + FOLLOW_UP_PAGES:
        text = html(rendered, page)
        assert '<nav class="site-nav">' in text
        for other in PAGES:
            assert f'href="{other}.html"' in text, f"{page}.html lacks a link to {other}.html"
        assert 'class="active"' in text


def test_index_shows_the_verdict_table_sentences_banner_and_gates(rendered: RenderedSite) -> None:
    text = html(rendered, "index")
    assert 'id="tbl-verdicts"' in text and "Table\u00a01: Verdicts without the greeting" in text
    table = text[text.index('id="tbl-verdicts"') :]
    table = table[: table.index("</table>")]
    for label in ("all words (population)", "a new word (predictive)", "HELLO", "ICANSEE", "HELOL"):
        assert label in table
    assert "<strong>real</strong>" in table
    assert "callout-caution" in text and "Simulated data" in text
    assert "All 2 fits pass every convergence gate" in text
    assert re.search(
        r"<strong>HELLO</strong>\s+\(no\s+greeting\):\s+<strong>real\s+self-report</strong>,"
        r"\s+because\s+the\s+95%\s+HDI\s+of\s+Delta\s+\[\+0\.\d\d",
        text,
    )


def test_figures_are_embedded_numbered_and_cross_referenced(rendered: RenderedSite) -> None:
    text = html(rendered, "index")
    assert re.search(r'<figure id="fig-delta">\s*<img[^>]*src="data:image/png;base64,', text)
    assert "Figure\u00a01: Posterior of Delta" in text
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
    for page in PAGES + FOLLOW_UP_PAGES:
        text = html(rendered, page)
        assert "Could not build" not in text and 'class="callout callout-warning' not in text, page
        assert "Warning:" not in text and "Traceback" not in text, page
    # every artifact of the core pages exists in the fixture, so no "not available" note
    assert all("Not available" not in html(rendered, p) for p in PAGES)
    for page in FOLLOW_UP_PAGES:  # no data: one plain note, no numbered figure or table
        text = html(rendered, page)
        assert " ".join(text.split()).count(ABSENT_NOTE[page]) == 1, page
        assert "Figure\u00a0" not in text and "Table\u00a0" not in text, page


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
        reports, tmp_path / "site", {"data_dir": str(empty)}, use_quarto=False, strict=True
    )
    text = index.read_text()
    assert "Not available: " in text and "verdicts.csv" in text and "stats fit" in text
    assert "(not available) shows the posterior" in text  # the reference to the absent figure
    for page in PAGES:
        page_text = (tmp_path / "site" / f"{page}.html").read_text()
        assert "Not available: " in page_text and "Could not build" not in page_text, page
        # a missing block is a plain note, never the content of a numbered figure or table;
        # only the calibration results shipped with the package remain (diagnostics page)
        shipped = 2 if page == "diagnostics" else 0
        assert len(set(re.findall("Figure\u00a0(\\d+):", page_text))) == shipped, page
        assert "Table\u00a0" not in page_text, page
        assert str(empty) not in page_text, f"{page} shows the data folder's absolute path"


# ----------------------------------------------------------------------------- engine pieces
def test_project_pages_follow_the_navbar() -> None:
    project = render.load_project(REPO / REPORTS_DIR)
    stems = [p.stem for p in project.pages]
    assert stems[: len(PAGES)] == list(PAGES), "the core pages come first, in navbar order"
    assert stems[len(PAGES) :] == list(FOLLOW_UP_PAGES)
    for page in project.pages:  # one mechanism for absent data in both renderers, no `requires:`
        front, _ = render.read_page(page)
        assert "requires" not in front, page.name
    assert project.config["filters"] == [{"at": "pre-ast", "path": "unavailable.lua"}]
    assert project.output_dir == REPO / REPORTS_DIR / "_site"
    # Quarto's freeze keys on the page source only: frozen pages would show stale data
    assert project.execute["freeze"] is False and project.execute["echo"] is False
    assert project.html_options["embed-resources"] is True
    nav = project.navbar({})
    assert nav[0] == render.NavItem("Verdict", "index.html")
    hrefs = [item.href for item in nav]
    assert len(hrefs) == len(set(hrefs)) == len(project.pages), "one navbar link per page"


def test_every_page_has_a_parameters_cell_with_the_config_defaults() -> None:
    for page in PAGES + FOLLOW_UP_PAGES:
        _, notebook = render.read_page(REPO / REPORTS_DIR / f"{page}.qmd")
        values = render.parameter_defaults(notebook)
        # no path into this repository: a study folder has the same layout
        assert values == {
            "data_dir": "../data/processed",
            "word": "HELLO",
            "rope": ROPE,
            "k": EARLY_K,
        }, page


def test_page_cells_stay_short_and_logic_free() -> None:
    for page in PAGES + FOLLOW_UP_PAGES:
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
    fenced = render.markdown._fence(text)
    assert fenced.startswith("````\n") and fenced.endswith("\n````")


def test_unavailable_blocks_get_no_number_and_references_say_so() -> None:
    note = {
        "output_type": "display_data",
        "data": {"text/markdown": f"::: {{.{render.UNAVAILABLE_CLASS}}}\nNot available: x\n:::"},
    }
    table = {"output_type": "display_data", "data": {"text/markdown": "| a |\n|---|\n| 1 |"}}
    absent = render.Cell(0, "", {"label": "fig-a", "fig-cap": "A"}, [note])
    present = render.Cell(1, "", {"label": "tbl-b", "tbl-cap": "B"}, [table])
    numbers = render.markdown.number_floats([absent, present])
    assert numbers == {"fig-a": render.ABSENT, "tbl-b": "Table\u00a01"}
    md = render.cell_markdown(absent, {"echo": False}, numbers)
    assert md == note["data"]["text/markdown"]  # no float, no caption
    assert render.resolve_crossrefs("see @fig-a and @tbl-b", numbers) == (
        "see (not available) and [Table\u00a01](#tbl-b)"
    )


def test_render_site_requires_quarto_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "quarto_path", lambda: None)
    with pytest.raises(render.RenderError, match="quarto"):
        render.render_site(REPO / REPORTS_DIR, use_quarto=True)


def test_render_site_calls_quarto_with_parameters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = []

    class Done:
        returncode, stdout, stderr = 0, "", ""

    monkeypatch.setattr(render, "quarto_path", lambda: "/usr/bin/quarto")
    monkeypatch.setattr(
        render.quarto.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or Done()
    )
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


FAILING_PAGE = """---
title: "Failing"
---

```{python}
#| label: tbl-broken
#| tbl-cap: "A block whose helper raises"
from stats import report

@report.block
def broken_block():
    raise ValueError("helper bug")

broken_block()
```
"""


@pytest.mark.parametrize("strict", [True, False])
def test_a_failing_helper_fails_the_render_or_is_named_after_it(
    tmp_path: Path, strict: bool
) -> None:
    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\nexecute:\n  echo: false\n")
    (tmp_path / "index.qmd").write_text(FAILING_PAGE)
    site = tmp_path / "site"
    if strict:  # tests and CI: the helper's exception fails the page's cell
        with pytest.raises(
            render.RenderError, match=r"index\.qmd: cell tbl-broken failed(.|\n)*helper bug"
        ):
            render.render_site(tmp_path, site, use_quarto=False, strict=True)
        return
    # a user's render: the site is written with the box, then every failed block is named
    with pytest.raises(
        render.BlockFailures, match=r"index\.html: broken_block: ValueError: helper bug"
    ) as info:
        render.render_site(tmp_path, site, use_quarto=False, strict=False)
    assert [(f.page, f.block) for f in info.value.failures] == [("index.html", "broken_block")]
    assert "Could not build broken_block" in (site / "index.html").read_text()


def test_stats_report_exits_non_zero_naming_each_failed_block(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stats.cli import app

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_quarto.yml").write_text("project:\n  type: website\nexecute:\n  echo: false\n")
    (reports / "index.qmd").write_text(FAILING_PAGE)
    data = tmp_path / "processed"
    data.mkdir()
    (data / "verdicts.csv").write_text("scope\n")
    args = ["report", "--reports", str(reports), "--data", str(data), "--no-quarto"]
    result = CliRunner().invoke(app, args, env={render.STRICT_ENV: "0"})
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "1 report block(s) failed: index.html: broken_block: ValueError: helper bug" in output
    assert "Traceback" not in result.output


def test_reports_links_every_page_file_of_the_package() -> None:
    from stats.report import SITE

    shipped = sorted(p.name for p in Path(str(SITE)).iterdir() if p.is_file())
    assert {"_quarto.yml", "index.qmd", "styles.css", "unavailable.lua"} <= set(shipped)
    for name in shipped:  # quarto render reports/ and the offline renderer read one set of pages
        assert (REPO / REPORTS_DIR / name).resolve() == (Path(str(SITE)) / name).resolve(), name
