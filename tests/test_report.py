"""Report helpers: escaping, tables, callouts, and every helper on the fixture study and on nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pypandoc
import pytest

from report_fixture import FixtureStudy, write_fixture_study
from stats import report

FIGURE_HELPERS = (
    "delta_figure", "greeting_figure", "forest_figure", "curves_figure", "hazard_figure", "claims_figure",
    "raw_grid_figure", "ppc_figure", "sensitivity_figure", "oc_figure", "sbc_figure",
)  # fmt: skip
MARKDOWN_HELPERS = (
    "simulated_banner", "verdict_table", "verdict_sentences", "gates_status", "greeting_table", "leak_table",
    "word_table", "consistency_table", "guessability_table", "example_transcripts", "claims_table",
    "claims_details", "ledger_table", "rejects_table", "runs_table", "conditions_table", "agreement_table",
    "diagnostics_table", "coefficients_table", "sensitivity_table", "crosscheck_table", "artifact_status",
)  # fmt: skip


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> FixtureStudy:
    from stats.config import CLAIMS_PATH
    from stats.review import review

    study = write_fixture_study(tmp_path_factory.mktemp("study"))
    review(Path(__file__).resolve().parent.parent / CLAIMS_PATH, study.data_dir)
    return study


@pytest.fixture
def study(fixture: FixtureStudy) -> report.Study:
    return report.load_study(fixture.data_dir, benchmarks_dir=fixture.benchmarks_dir)


def plain(markdown: str) -> str:
    """Markdown source without backslash escapes (what a reader sees)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def to_html(markdown: str) -> str:
    return pypandoc.convert_text(markdown, "html5", format="markdown")


# ----------------------------------------------------------------------------- escaping and blocks
def test_escaped_text_renders_as_literal_text() -> None:
    hostile = (
        "<script>alert(1)</script> <b>html</b> @fig-x *no* [link](http://x) {{< var >}} `tick`"
    )
    html = to_html(report.escape_markdown(hostile))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;html&lt;/b&gt;" in html
    assert "<script" not in html and "<b>" not in html and "<em>" not in html and "<a " not in html
    assert "<code>" not in html


def test_escape_markdown_handles_missing_and_newlines() -> None:
    assert report.escape_markdown(None) == "" and report.escape_markdown(np.nan) == ""
    assert report.escape_markdown("a\nb") == "a b"


def test_code_block_keeps_untrusted_text_inside() -> None:
    text = "line\n```\n<script>x</script>\n{{< include secret >}}"
    block = report.code_block(text)
    assert block.startswith("````text\n") and block.endswith("\n````")
    html = to_html(block)
    assert "&lt;script&gt;x&lt;/script&gt;" in html and html.count("<pre") == 1
    assert "{{<" not in block


def test_code_span_survives_backticks() -> None:
    assert report.code_span("a`b") == "``a`b``"
    assert "<code>a`b</code>" in to_html(report.code_span("a`b"))


def test_callout_kinds_are_validated() -> None:
    assert str(report.callout("note", 'A "title"', "body")).startswith(
        "::: {.callout-note title=\"A 'title'\"}"
    )
    with pytest.raises(ValueError, match="unknown callout kind 'danger'; valid: note, tip"):
        report.callout("danger", "t", "b")


def test_md_table_escapes_cells_sizes_columns_and_bolds() -> None:
    frame = pd.DataFrame({"word": ["<b>x</b>", "HELLO"], "verdict": ["real", ""], "n": [1, 22]})
    table = str(report.md_table(frame, bold=["verdict"]))
    lines = table.splitlines()
    assert lines[0] == "| word | verdict | n |"
    assert lines[1] == "|:------------|:--------|---:|"  # dashes = widest escaped cell
    assert "**real**" in lines[2] and lines[3].endswith("|  | 22 |")
    html = to_html(table)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<strong>real</strong>" in html
    assert str(report.md_table(frame.iloc[:0])) == "*No rows.*"


# ----------------------------------------------------------------------------- helpers on the fixture
@pytest.mark.parametrize("name", FIGURE_HELPERS)
def test_figure_helpers_return_figures(study: report.Study, name: str) -> None:
    result = getattr(report, name)(study)
    assert isinstance(result, report.Figure), str(result)


@pytest.mark.parametrize("name", MARKDOWN_HELPERS)
def test_markdown_helpers_return_markdown_without_failures(study: report.Study, name: str) -> None:
    result = getattr(report, name)(study)
    assert isinstance(result, report.Markdown)
    assert "Could not build" not in result.text and "Not available yet" not in result.text


def test_verdict_table_lists_headline_first_and_every_word(study: report.Study) -> None:
    text = plain(report.verdict_table(study).text)
    rows = [line for line in text.splitlines()[2:] if line.startswith("|")]
    assert rows[0].startswith("| all words (population)") and rows[1].startswith(
        "| a new word (predictive)"
    )
    verdicts = pd.read_csv(study.path("verdicts"))
    assert len(rows) == len(verdicts)
    for word in verdicts["word"].dropna():
        assert any(row.startswith(f"| {word} ") for row in rows)


def test_verdict_table_notes_a_rope_mismatch(fixture: FixtureStudy) -> None:
    other = report.load_study(fixture.data_dir, rope=0.1)
    assert "ROPE differs from this page" in report.verdict_table(other).text


def test_example_transcripts_show_the_earliest_articulation_escaped(study: report.Study) -> None:
    text = report.example_transcripts(study, n=2).text
    assert text.count("````text") + text.count("```text") == 2
    first_block = text.split("```text", 1)[1]
    assert first_block.lstrip("`\n").startswith(
        "1 H | Hi! <script>alert(1)</script>"
    )  # verbatim inside code
    assert "word named at line 1" in text


def test_missing_artifacts_become_notes_with_the_command(tmp_path: Path) -> None:
    empty = report.load_study(tmp_path, benchmarks_dir=tmp_path)
    for name in FIGURE_HELPERS + MARKDOWN_HELPERS:
        if name == "artifact_status":
            continue
        result = getattr(report, name)(empty)
        assert isinstance(result, report.Markdown), name
        assert "Not available yet" in result.text and "made by:" in result.text, name
    assert "`stats fit`" in report.verdict_table(empty).text


def test_a_broken_artifact_becomes_a_visible_warning(tmp_path: Path) -> None:
    pd.DataFrame({"scope": ["word"]}).to_csv(tmp_path / "verdicts.csv", index=False)
    text = report.verdict_table(report.load_study(tmp_path)).text
    assert text.startswith('::: {.callout-warning title="Could not build verdict_table"}')
    assert "KeyError" in text


def test_figure_wrapper_turns_draw_errors_into_callouts() -> None:
    from plotnine import aes, geom_point, ggplot

    broken = report.Figure(ggplot(pd.DataFrame({"a": [1]}), aes("a", "missing")) + geom_point())
    bundle, _ = broken._repr_mimebundle_()
    assert "Could not draw this figure" in bundle["text/markdown"]


def test_banner_only_for_simulated_studies(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text(
        json.dumps({"files": {}, "total": {}, "study": {"simulated": False}})
    )
    assert report.simulated_banner(report.load_study(tmp_path)).text == ""
    (tmp_path / "ledger.json").write_text(
        json.dumps({"study": {"simulated": True, "design": "<d>"}})
    )
    text = report.simulated_banner(report.load_study(tmp_path)).text
    assert "callout-warning" in text and "\\<d\\>" in text


def verdict_row(**changes: object) -> dict[str, object]:
    row = dict(scope="word", word="HELLO", greeting=False, estimand="Delta", mean=0.2, hdi_low=0.1, hdi_high=0.3,
               rope=0.05, p_above_rope=0.99, verdict="real", n_runs=4, n_trials=40, runs_needed=pd.NA,
               converged=True, max_rhat=1.0, min_ess=900.0, divergences=0)  # fmt: skip
    return {**row, **changes}


def test_verdict_sentences_say_what_each_verdict_means(tmp_path: Path) -> None:
    rows = [
        verdict_row(),
        verdict_row(word="SHINE", verdict="fluke", mean=0.0, hdi_low=-0.02, hdi_high=0.03),
        verdict_row(word="PULSE", verdict="inconclusive", hdi_low=-0.1, runs_needed=14),
        verdict_row(word="ICANSEE", verdict="not-converged", converged=False, max_rhat=1.2),
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "verdicts.csv", index=False)
    text = report.verdict_sentences(report.load_study(tmp_path)).text
    assert "**HELLO**: **real self-report**" in text and "entirely above the ROPE ±0.05" in text
    assert "**SHINE**: **fluke / explained by context**" in text and "inside the ROPE" in text
    assert "About 14 runs per word would likely decide it." in text
    assert "**ICANSEE**: **no verdict**" in text and "max R-hat 1.200" in text


def test_gates_status_flags_a_failing_fit(study: report.Study, tmp_path: Path) -> None:
    diag = pd.read_csv(study.path("diagnostics"))
    diag.loc[1, ["max_rhat", "divergences"]] = [1.05, 3]
    (tmp_path / "summary").mkdir()
    diag.to_csv(tmp_path / "summary" / "diagnostics.csv", index=False)
    text = plain(report.gates_status(report.load_study(tmp_path)).text)
    assert "Convergence gates failed" in text and "m2-hazard" in text
    assert text.count("FAIL") == 2


def test_ledger_table_flags_a_ledger_that_does_not_add_up(tmp_path: Path) -> None:
    ledger = {"files": {"a.jsonl": {"format": "x", "records": 5, "accepted": 3, "rejected": 1, "duplicates": 0}},
              "total": {"records": 5, "accepted": 3, "rejected": 1, "duplicates": 0}, "ignored": [], "conflicts": []}  # fmt: skip
    (tmp_path / "ledger.json").write_text(json.dumps(ledger))
    text = report.ledger_table(report.load_study(tmp_path)).text
    assert "The ledger does not add up" in text and text.count("| NO |") == 2


def test_density_curves_integrate_to_one() -> None:
    rng = np.random.default_rng(3)
    draws = pd.DataFrame(
        {
            "g": ["a"] * 2000 + ["b"] * 2000,
            "delta": np.r_[rng.normal(0, 0.1, 2000), rng.normal(0.3, 0.05, 2000)],
        }
    )
    curves = report.density_curves(draws, ["g"])
    for _, curve in curves.groupby("g"):
        area = np.trapezoid(curve["density"], curve["delta"])
        assert 0.95 < area <= 1.0


def test_sbc_rank_counts_cover_every_simulation() -> None:
    rng = np.random.default_rng(4)
    ranks = pd.DataFrame(
        {"parameter": "a", "sim": range(400), "rank": rng.integers(0, 100, 400), "max_rank": 99}
    )
    counts, band = report.sbc_rank_counts(ranks, bins=20)
    assert counts["count"].sum() == 400 and len(counts) == 20
    assert band["expected"].item() == 20 and band["low"].item() < 20 < band["high"].item()


def test_load_study_defaults_benchmarks_next_to_data() -> None:
    study = report.load_study("data/processed")
    assert study.benchmarks_dir == Path("benchmarks/results")
    with pytest.raises(KeyError, match="unknown artifact 'nope'; known:"):
        study.path("nope")
