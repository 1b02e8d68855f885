"""The report on the bundled study: rendered strictly, and every verdict told as its row says.

Runs ``stats run`` on the bundled study once per session (:mod:`bundled_study`), renders
the real pages offline in strict mode (a report helper's exception fails the render) and
checks that no page carries a failure box or a warning callout; then checks, for every row
of ``verdicts.csv``, that the verdict table and the verdict sentence agree with the row's
numbers and its ``reason``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bundled_study import bundled_processed, render_bundled
from stats import report
from stats.model.decision import INTRO_FLOOR, INTRO_PROB, RUNS_GRID, classify_interval
from stats.model.reasons import REASONS, RUNS_NEEDED_REASONS
from stats.report.reasons import reason_of, reason_text
from stats.report.text import VERDICT_SHORT, VERDICT_TEXT, fmt, interval, probability, scope_label
from stats.report.verdicts import verdict_sentence

pytestmark = pytest.mark.slow

PAGES = (
    "index", "greeting", "words", "lines", "claims", "data", "diagnostics", "prediction",
    "planning", "heldout", "confusion", "sequential",
)  # fmt: skip
#: What each reason's sentence says about Delta's HDI against the ROPE.
DELTA_WORDS = {
    "delta_in_rope": r"Delta \[[^]]+\] lies inside the ROPE ±",
    "baseline_above": r"Delta \[[^]]+\] lies entirely below the ROPE ±",
    "delta_below_rope": r"Delta \[[^]]+\] overlaps the ROPE ±[0-9.]+ but ends below \+",
    "intro_below_rope": r"Delta \[[^]]+\] reaches above the ROPE ±",
    "real_m1_only": r"Delta \[[^]]+\] lies entirely above the ROPE ±",
    "real": r"Delta \[[^]]+\] lies entirely above the ROPE ±",
    "intro_uncertain": r"Delta \[[^]]+\] lies entirely above the ROPE ±",
    "delta_overlaps_rope": r"Delta \[[^]]+\] overlaps the ROPE ±[0-9.]+, reaching both below and above",
    "leak_needs_clean_real": r"Delta \[[^]]+\] lies entirely above the ROPE ±",
}
#: Reasons that rest on the introspective share: their sentence quotes its HDI.
INTRO_CODES = {"intro_below_rope", "real", "intro_uncertain"}


@pytest.fixture(scope="session")
def processed() -> Path:
    return bundled_processed()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_bundled(tmp_path_factory.mktemp("bundled-offline"))


@pytest.fixture(autouse=True)
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(report.STRICT_ENV, "1")


# ----------------------------------------------------------------------------- the rendered site
def test_every_page_renders_strictly_without_failure_boxes_or_warnings(site: Path) -> None:
    assert sorted(p.stem for p in site.glob("*.html")) == sorted(PAGES)
    for page in PAGES:
        text = (site / f"{page}.html").read_text()
        assert "Could not build" not in text and report.FAILED_CLASS not in text, page
        assert 'class="callout callout-warning' not in text, f"{page}: a warning callout"
        assert "Traceback" not in text and "Warning:" not in text, page


def test_the_index_states_the_answer_before_the_definitions(site: Path) -> None:
    text = html.unescape((site / "index.html").read_text())
    answer = text.index("Without the greeting (the primary test)")
    assert answer < text.index("Table\u00a01: Verdicts without the greeting")
    assert answer < text.index("How a verdict is decided</h2>")
    assert "Check before relying on these verdicts" in text  # Pareto k > 0.7 in the bundled M2
    assert "All 7 fits pass every convergence gate" not in text.split("</h1>", 1)[0]


def test_follow_up_pages_without_data_say_so_outside_numbered_blocks(site: Path) -> None:
    for page in ("prediction", "planning", "heldout", "confusion", "sequential"):
        text = " ".join((site / f"{page}.html").read_text().split())
        assert text.count("Not available: ") == 1, page
        assert "Figure\u00a0" not in text and "Table\u00a0" not in text, page


def test_the_greeting_and_words_pages_show_one_outcome(processed: Path, site: Path) -> None:
    rates = pd.read_csv(processed / "summary" / "word_rates.csv")
    early = rates[(rates["scope"] == "word") & (rates["outcome"] == "articulated_early")]
    greeting = (site / "greeting.html").read_text()
    table = greeting[greeting.index('id="tbl-greeting"') :]
    table = table[: table.index("</table>")]
    for row in early.itertuples():  # every count of the verdicts' outcome, and only those
        assert f"{int(row.successes)}/{int(row.trials)}" in table, row
    others = rates[(rates["scope"] == "word") & (rates["outcome"] != "articulated_early")]
    assert not any(
        f">{r.successes}/{r.trials}<" in table
        for r in others.itertuples()
        if not ((early["successes"] == r.successes) & (early["trials"] == r.trials)).any()
    )
    words = html.unescape((site / "words.html").read_text())
    table = words[words.index('id="tbl-words"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") - 1 == len(early[early["arm"] == "finetuned"]) + 4  # + headline rows


# ----------------------------------------------------------------------------- sentences and table
def _table_rows(markdown: str) -> dict[str, list[str]]:
    """Verdict table rows by target (unescaped cells)."""
    rows = {}
    for line in markdown.splitlines()[2:]:
        cells = [
            re.sub(r"\\(.)", r"\1", c).strip().strip("*") for c in line.strip("|").split(" | ")
        ]
        rows[cells[0]] = cells
    return rows


def check_rule(row: pd.Series, leaking: set[str]) -> None:
    """The row's verdict and reason follow from its numbers under the decision rule.

    Fluke when Delta's HDI ends below +ROPE or the introspective share's HDI ends below the
    ROPE; real when Delta's HDI lies above the ROPE and the share exceeds INTRO_FLOOR x ROPE
    with probability at least INTRO_PROB (or no share is used); inconclusive otherwise; a leaking condition
    that the rule would call real is inconclusive unless the clean one is real.
    """
    low, high, rope = row["hdi_low"], row["hdi_high"], row["rope"]
    i_low, i_high = row.get("intro_low", np.nan), row.get("intro_high", np.nan)
    p_floor = row.get("intro_p_floor", np.nan)
    share = bool(pd.notna(i_low))
    fluke = high < rope or (share and i_high < rope)
    real = low > rope and (not share or p_floor >= INTRO_PROB)
    code, verdict = row["reason"], row["verdict"]
    if not bool(row["converged"]):
        assert (verdict, code) == ("not-converged", "not_converged")
        return
    assert verdict == ("fluke" if fluke else "real" if real and code != "leak_needs_clean_real"
                       else "inconclusive"), (verdict, code, low, high, i_low, i_high)  # fmt: skip
    position = classify_interval(low, high, rope)
    assert position in reason_of(row).delta, (code, position)
    checks = {
        "delta_in_rope": position == "inside",
        "baseline_above": position == "below",
        "delta_below_rope": low < -rope and high < rope,
        "intro_below_rope": share and i_high < rope and high >= rope,
        "real_m1_only": not share and low > rope,
        "real": share and p_floor >= INTRO_PROB and low > rope,
        "intro_uncertain": share and p_floor < INTRO_PROB and i_high >= rope,
        "delta_overlaps_rope": low <= rope <= high and not (share and i_high < rope),
        "leak_needs_clean_real": real and bool(row["greeting"])
        and (row["scope"] != "word" or row["word"] in leaking),
    }  # fmt: skip
    assert checks[code], (code, row.to_dict())


def check_row_agrees(row: pd.Series, table: dict[str, list[str]], leaking: set[str]) -> None:
    """The sentence and the table row of one verdict agree with its numbers and reason."""
    check_rule(row, leaking)
    sentence = re.sub(r"\\(.)", r"\1", verdict_sentence(row))
    target = scope_label(row["scope"], row["word"])
    cells = table[target]
    short, _ = reason_text(row)
    code = row["reason"]
    # the verdict and its reason, in both
    assert f"**{VERDICT_TEXT[row['verdict']]}**" in sentence, sentence
    assert cells[3] == VERDICT_SHORT[row["verdict"]] and cells[4] == short, cells
    # the numbers: Delta's HDI and the ROPE, and where one lies against the other
    hdi = interval(row["hdi_low"], row["hdi_high"], signed=True)
    assert hdi in cells[1].replace("\u00a0", " "), cells
    if code != "not_converged":  # a verdict was reached: the sentence says from which numbers
        assert hdi in sentence and f"±{fmt(row['rope'])}" in sentence, sentence
        assert re.search(DELTA_WORDS[code], sentence), (code, sentence)
    # the introspective share: the sentence quotes its HDI and the floor it was held to
    if code in INTRO_CODES:
        assert interval(row["intro_low"], row["intro_high"], signed=True) in sentence, sentence
    if code in ("real", "intro_uncertain"):
        assert f"{INTRO_FLOOR * row['rope']:g}" in sentence, sentence
        assert probability(row["intro_p_floor"]) in sentence, sentence
    if code == "leak_needs_clean_real":
        assert "contains the word itself" in sentence
    # every undecided verdict says how many more runs, or why that cannot be computed
    if row["verdict"] in ("inconclusive", "not-converged"):
        needed, why = row["runs_needed"], row.get("runs_needed_reason")
        if pd.notna(needed) and needed > 0:
            assert cells[6] == str(int(needed))
            assert f"About {int(needed)} more runs per word" in sentence
        else:
            words = RUNS_NEEDED_REASONS[why]
            largest = int(RUNS_GRID[-1])
            assert cells[6] == words.cell.format(largest=largest), cells
            assert words.sentence.format(largest=largest) in sentence, sentence
            expected = {
                "not_converged": row["verdict"] == "not-converged",
                "new_word": row["scope"] == "new-word",
                "follows_clean_row": code == "leak_needs_clean_real",
                "beyond_largest_design": pd.isna(needed),
                "no_baseline": pd.isna(needed) and pd.isna(row["mean"]),
            }
            assert expected[why], (why, row.to_dict())
    else:
        assert cells[6] == "–"


def check_every_row(data: report.ReportData) -> int:
    verdicts = data.load("verdicts")
    leaks = (
        data.load("leaks")
        if data.has("leaks")
        else pd.DataFrame(columns=["word", "leaking_trials"])
    )
    leaking = set(leaks.loc[leaks["leaking_trials"] > 0, "word"])
    for greeting in (False, True):
        rows = verdicts[verdicts["greeting"].astype(bool) == greeting]
        if rows.empty:
            continue
        table = _table_rows(report.verdict_table(data, greeting=greeting).text)
        for _, row in rows.iterrows():
            check_row_agrees(row, table, leaking)
    return len(verdicts)


def test_every_bundled_verdict_agrees_with_its_numbers_and_reason(processed: Path) -> None:
    assert check_every_row(report.open_data(processed)) == len(
        pd.read_csv(processed / "verdicts.csv")
    )


def _synthetic_rows() -> pd.DataFrame:
    """One row per reason the rule can give, with numbers that rule would give it for."""
    base = dict(scope="word", greeting=False, rope=0.05, p_above_rope=0.5, n_runs=6, n_trials=144,
                converged=True, max_rhat=1.002, min_ess=900.0, divergences=0, runs_needed=0,
                runs_needed_reason=None, ci_prob=0.95)  # fmt: skip
    cases = {
        "not_converged": dict(verdict="not-converged", hdi=(0.1, 0.2), converged=False,
                              runs_needed=np.nan, runs_needed_reason="not_converged"),
        "delta_in_rope": dict(verdict="fluke", hdi=(-0.01, 0.03)),
        "baseline_above": dict(verdict="fluke", hdi=(-0.3, -0.1)),
        "delta_below_rope": dict(verdict="fluke", hdi=(-0.1, 0.04)),
        "intro_below_rope": dict(verdict="fluke", hdi=(0.1, 0.3), intro=(0.0, 0.03, 0.4)),
        "real_m1_only": dict(verdict="real", hdi=(0.1, 0.3)),
        "real": dict(verdict="real", hdi=(0.1, 0.3), intro=(0.002, 0.2, 0.981)),
        "intro_uncertain": dict(verdict="inconclusive", hdi=(0.1, 0.3), intro=(0.001, 0.2, 0.9),
                                runs_needed=np.nan, runs_needed_reason="beyond_largest_design"),
        "delta_overlaps_rope": dict(verdict="inconclusive", hdi=(0.02, 0.2), runs_needed=24),
        "leak_needs_clean_real": dict(verdict="inconclusive", hdi=(0.1, 0.3),
                                      intro=(0.02, 0.2, 0.99),
                                      greeting=True, runs_needed_reason="follows_clean_row"),
    }  # fmt: skip
    assert set(cases) == set(REASONS), "a reason without a case"
    rows = []
    for i, (code, case) in enumerate(cases.items()):
        case = dict(case)
        low, high = case.pop("hdi")
        intro = case.pop("intro", (np.nan, np.nan, np.nan))
        rows.append({**base, **case, "word": f"W{i}", "reason": code, "hdi_low": low,
                     "hdi_high": high, "mean": (low + high) / 2, "intro_low": intro[0],
                     "intro_high": intro[1], "intro_p_floor": intro[2]})  # fmt: skip
    overlaps = next(r for r in rows if r["reason"] == "delta_overlaps_rope")
    rows.append({**overlaps, "word": None, "scope": "new-word", "runs_needed": np.nan,
                 "runs_needed_reason": "new_word"})  # fmt: skip
    return pd.DataFrame(rows)


def test_every_reason_the_rule_can_give_is_told_as_its_numbers_say(tmp_path: Path) -> None:
    rows = _synthetic_rows()
    rows.to_csv(tmp_path / "verdicts.csv", index=False)
    (tmp_path / "summary").mkdir()
    pd.DataFrame({"word": ["W9"], "leaking_trials": [10]}).to_csv(
        tmp_path / "summary" / "leaks.csv", index=False
    )
    assert check_every_row(report.open_data(tmp_path)) == len(rows)


def test_a_sentence_that_contradicts_its_row_is_caught(tmp_path: Path) -> None:
    rows = _synthetic_rows()
    # the contradiction: an HDI above the ROPE told as "overlaps the ROPE"
    wrong = (
        rows[rows["reason"] == "delta_overlaps_rope"].iloc[[0]].assign(hdi_low=0.08, hdi_high=0.12)
    )
    table = _table_rows(
        report.verdict_table.__wrapped__(_frame_data(tmp_path, wrong), greeting=False).text
    )
    with pytest.raises(AssertionError):
        check_row_agrees(wrong.iloc[0], table, set())


def _frame_data(folder: Path, verdicts: pd.DataFrame) -> report.ReportData:
    verdicts.to_csv(folder / "verdicts.csv", index=False)
    return report.open_data(folder)


def test_the_fit_progress_announces_the_sensitivity_refits(processed: Path) -> None:
    """``fit k of n`` may grow only after a line saying which refits were added and why."""
    log = (processed.parent / "run.log").read_text()
    totals = [int(n) for n in re.findall(r"fit \d+ of (\d+) ", log)]
    assert totals, log[-2000:]
    more = re.findall(
        r"prior sensitivity \((?:power-scaling flags|always refit) [^)]+\): (\d+) more fits", log
    )
    first, last = totals[0], totals[-1]
    assert [first + int(n) for n in more] == ([last] if last != first else [])
    assert sorted(totals) == totals
