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
    "raw_grid_figure", "ppc_figure", "prior_figure", "sensitivity_figure", "oc_figure", "sbc_figure",
)  # fmt: skip
MARKDOWN_HELPERS = (
    "simulated_banner", "answer", "checks", "verdict_table", "verdict_sentences", "decision_rule",
    "greeting_table", "leak_table", "word_table", "consistency_table", "guessability_table",
    "example_transcripts", "claims_table", "claims_details", "ledger_table", "ledger_notes", "rejects_table",
    "reject_examples", "runs_table",
    "conditions_table", "agreement_table", "diagnostics_table", "gate_summary", "coefficients_table",
    "sensitivity_table", "crosscheck_table", "calibration_note", "artifact_status",
)  # fmt: skip
#: Helpers that read only the calibration results shipped with the package.
SHIPPED = {"oc_figure", "sbc_figure", "calibration_note", "artifact_status"}


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> FixtureStudy:
    from stats.config import CLAIMS_PATH
    from stats.review import review

    study = write_fixture_study(tmp_path_factory.mktemp("study"))
    review(Path(__file__).resolve().parent.parent / CLAIMS_PATH, study.data_dir)
    return study


@pytest.fixture
def study(fixture: FixtureStudy) -> report.ReportData:
    return report.open_data(fixture.data_dir)


@pytest.fixture(autouse=True)
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper's exception raises (strict mode), unless a test switches it off."""
    monkeypatch.setenv(report.STRICT_ENV, "1")


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
def test_figure_helpers_return_figures(study: report.ReportData, name: str) -> None:
    result = getattr(report, name)(study)
    assert isinstance(result, report.Figure), str(result)


@pytest.mark.parametrize("name", MARKDOWN_HELPERS)
def test_markdown_helpers_return_markdown_without_failures(
    study: report.ReportData, name: str
) -> None:
    result = getattr(report, name)(study)
    assert isinstance(result, report.Markdown)
    assert "Could not build" not in result.text and "Not available" not in result.text


def test_verdict_table_lists_headline_first_and_every_word(study: report.ReportData) -> None:
    text = plain(report.verdict_table(study).text)
    rows = [line for line in text.splitlines()[2:] if line.startswith("|")]
    assert rows[0].startswith("| all words (population)") and rows[1].startswith(
        "| a new word (predictive)"
    )
    verdicts = pd.read_csv(study.path("verdicts"))
    assert len(rows) == (~verdicts["greeting"]).sum()
    for word in verdicts["word"].dropna():
        assert any(row.startswith(f"| {word} ") for row in rows)


def test_verdict_table_notes_a_rope_mismatch(fixture: FixtureStudy) -> None:
    other = report.open_data(fixture.data_dir, rope=0.1)
    assert "ROPE differs from this page" in report.verdict_table(other).text


def test_example_transcripts_show_the_earliest_articulation_escaped(
    study: report.ReportData,
) -> None:
    text = report.example_transcripts(study, n=2).text
    assert text.count("````text") + text.count("```text") == 2
    first_block = text.split("```text", 1)[1]
    assert first_block.lstrip("`\n").startswith(
        "1 H | Hi! <script>alert(1)</script>"
    )  # verbatim inside code
    assert "word named at line 1" in text


def test_missing_artifacts_become_plain_not_available_notes(tmp_path: Path) -> None:
    empty = report.open_data(tmp_path)
    for name in FIGURE_HELPERS + MARKDOWN_HELPERS:
        if name in SHIPPED:
            continue
        result = getattr(report, name)(empty)
        assert isinstance(result, report.Markdown), name
        text = result.text
        assert text.startswith(f"::: {{.{report.UNAVAILABLE_CLASS}}}\nNot available: "), name
        assert "in the processed-data folder does not exist (written by" in text, name
        assert str(tmp_path) not in text, f"{name} shows an absolute path"
    assert "`stats fit`" in report.verdict_table(empty).text


def test_shipped_calibration_results_need_no_study(tmp_path: Path) -> None:
    empty = report.open_data(tmp_path)
    assert isinstance(report.oc_figure(empty), report.Figure)
    assert isinstance(report.sbc_figure(empty), report.Figure)
    assert "benchmarks/results" not in report.calibration_note(empty).text


def test_a_broken_artifact_fails_in_strict_mode_and_is_a_box_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pd.DataFrame({"scope": ["word"]}).to_csv(tmp_path / "verdicts.csv", index=False)
    with pytest.raises(KeyError):
        report.verdict_table(report.open_data(tmp_path))
    monkeypatch.setenv(report.STRICT_ENV, "0")
    text = report.verdict_table(report.open_data(tmp_path)).text
    assert text.startswith(
        f'::: {{.callout-warning .{report.FAILED_CLASS} title="Could not build verdict_table"}}'
    )
    assert "KeyError" in text


def test_figures_are_drawn_inside_the_helper_so_draw_errors_are_the_helpers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plotnine import aes, geom_point, ggplot

    @report.block
    def broken(_: object) -> object:
        return ggplot(pd.DataFrame({"a": [1]}), aes("a", "missing")) + geom_point()

    with pytest.raises(Exception, match="missing"):
        broken(None)
    monkeypatch.setenv(report.STRICT_ENV, "0")
    assert "Could not build broken" in broken(None).text


def test_banner_only_for_simulated_studies(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text(
        json.dumps({"files": {}, "total": {}, "study": {"simulated": False}})
    )
    assert report.simulated_banner(report.open_data(tmp_path)).text == ""
    (tmp_path / "ledger.json").write_text(
        json.dumps({"study": {"simulated": True, "design": "<d>"}})
    )
    text = report.simulated_banner(report.open_data(tmp_path)).text
    assert "callout-caution" in text and "\\<d\\>" in text


def verdict_row(**changes: object) -> dict[str, object]:
    row = dict(scope="word", word="HELLO", greeting=False, estimand="Delta", mean=0.2, hdi_low=0.1, hdi_high=0.3,
               rope=0.05, p_above_rope=0.99, verdict="real", n_runs=4, n_trials=40, runs_needed=0,
               converged=True, max_rhat=1.0, min_ess=900.0, divergences=0, intro_low=0.02, intro_high=0.2,
               intro_p_floor=0.99,
               reason="real", ci_prob=0.95)  # fmt: skip
    return {**row, **changes}


def test_verdict_sentences_give_each_rows_reason(tmp_path: Path) -> None:
    rows = [
        verdict_row(),
        verdict_row(
            word="SHINE",
            verdict="fluke",
            mean=0.0,
            hdi_low=-0.02,
            hdi_high=0.03,
            reason="delta_in_rope",
        ),
        verdict_row(
            word="PULSE",
            verdict="inconclusive",
            hdi_low=-0.1,
            runs_needed=14,
            reason="delta_overlaps_rope",
        ),
        verdict_row(
            word="ICANSEE",
            verdict="not-converged",
            converged=False,
            max_rhat=1.2,
            runs_needed=None,
            reason="not_converged",
            runs_needed_reason="not_converged",
        ),
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "verdicts.csv", index=False)
    text = plain(report.verdict_sentences(report.open_data(tmp_path)).text)
    assert (
        "**HELLO** (no greeting): **real self-report**, because the 95% HDI of Delta [+0.10, +0.30] lies entirely above the ROPE ±0.05"
        in text
    )
    assert (
        "the line (95% HDI [+0.02, +0.20]), exceeds 0.005 with probability 99.0%: context does "
        "not explain it" in text
    )
    assert (
        "**SHINE** (no greeting): **fluke / explained by context**, because the 95% HDI of Delta [-0.02, +0.03] lies inside the ROPE"
        in text
    )
    assert "About 14 more runs per word (same samples per run) would likely decide it." in text
    assert (
        "**ICANSEE** (no greeting): **not converged (no verdict)**" in text
        and "max R-hat 1.200" in text
    )
    assert "Runs needed cannot be computed: the fit did not converge." in text


def test_an_unknown_reason_fails_loudly(tmp_path: Path) -> None:
    pd.DataFrame([verdict_row(reason="a rule nobody described")]).to_csv(
        tmp_path / "verdicts.csv", index=False
    )
    with pytest.raises(report.reasons.UnknownReason, match="a rule nobody described"):
        report.verdict_sentences(report.open_data(tmp_path))


def test_checks_flag_a_failing_fit_and_high_pareto_k(
    study: report.ReportData, tmp_path: Path
) -> None:
    from stats.summarize.gates import gate_table

    diag = pd.read_csv(study.path("diagnostics"))
    diag.loc[1, ["max_rhat", "divergences", "converged"]] = [1.05, 3, False]
    diag.loc[0, "pareto_k_max"] = 1.3
    (tmp_path / "summary").mkdir()
    gate_table(diag).to_csv(tmp_path / "summary" / "gates.csv", index=False)
    for name in ("verdict_stability", "outcomes"):
        pd.read_csv(study.path(name)).to_csv(tmp_path / "summary" / f"{name}.csv", index=False)
    text = plain(report.checks(report.open_data(tmp_path)).text)
    assert "Check before relying on these verdicts" in text
    assert "fit m2-hazard missed max R-hat 1.050 (limit 1.01), divergences 3.000 (limit 0)" in text
    assert "max Pareto k (PSIS-LOO) above 0.7 in m1-articulated_early (1.30)" in text


def test_ledger_table_flags_a_ledger_that_does_not_add_up(tmp_path: Path) -> None:
    ledger = {"files": {"a.jsonl": {"format": "x", "records": 5, "accepted": 3, "rejected": 1, "duplicates": 0}},
              "total": {"records": 5, "accepted": 3, "rejected": 1, "duplicates": 0}, "ignored": [], "conflicts": []}  # fmt: skip
    (tmp_path / "ledger.json").write_text(json.dumps(ledger))
    data = report.open_data(tmp_path)
    assert report.ledger_table(data).text.count("| NO |") == 2
    assert "The ledger does not add up" in report.ledger_notes(data).text


def test_open_data_takes_no_repository_path() -> None:
    data = report.open_data("data/processed")
    assert data.data_dir == Path("data/processed") and data.path("gates").name == "gates.csv"
    with pytest.raises(KeyError, match="unknown artifact 'nope'; known:"):
        data.path("nope")


def test_an_undecided_row_without_runs_needed_or_its_reason_fails_loudly(tmp_path: Path) -> None:
    row = verdict_row(verdict="inconclusive", reason="delta_overlaps_rope", runs_needed=None)
    pd.DataFrame([row]).to_csv(tmp_path / "verdicts.csv", index=False)
    with pytest.raises(report.reasons.UnknownReason, match="runs_needed_reason"):
        report.verdict_sentences(report.open_data(tmp_path))
    again = {**row, "runs_needed_reason": "beyond_largest_design"}
    pd.DataFrame([again]).to_csv(tmp_path / "verdicts.csv", index=False)
    text = plain(report.verdict_sentences(report.open_data(tmp_path)).text)
    assert "Even 256 more runs per word (the largest design the fit stage tries)" in text


def test_a_posterior_probability_is_printed_without_crossing_its_threshold() -> None:
    from stats.report.text import probability

    assert probability(0.9749) == "97.4%"  # not "97.5%": the rule's threshold is 97.5%
    assert probability(0.975) == "97.5%"
    assert probability(1.0) == "> 99.9%" and probability(0.0) == "< 0.1%"
    assert probability(float("nan")) == "–"
