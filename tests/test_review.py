"""Claims review: parsing and validation, intervals against reference values, verdicts, claims.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from report_fixture import FixtureStudy, write_fixture_study
from stats import review as rv
from stats import schemas
from stats.config import CLAIMS_PATH

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> FixtureStudy:
    return write_fixture_study(tmp_path_factory.mktemp("study"))


def write_claims(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "claims.yaml"
    path.write_text(body)
    return path


GOOD = """claims:
  - id: c1
    text: HELLO early
    filter: {word: HELLO, arm: finetuned}
    outcome: articulated_early
    compare: {rate: 0.05}
"""


# ----------------------------------------------------------------------------- parsing
def test_the_seeded_claims_file_covers_the_analysis_plan() -> None:
    claims = rv.parse_claims(REPO / CLAIMS_PATH)
    ids = [c.claim_id for c in claims]
    assert ids == [
        "hello-line2-greeting",
        "hello-line2-no-greeting",
        "hello-greeting-no-difference",
        "rare-words-not-articulated",
        "lr10-makes-learnable",
        "icansee-200-250-not-enough",
        "held-out-fifth-pattern",
    ]
    first = claims[0]
    assert first.filter == {"word": "HELLO", "arm": "finetuned", "greeting": True}
    assert first.outcome == {"column": "articulated", "max_line": 2, "line_column": "word_line"}
    assert first.compare == {"baseline": "base", "direction": "greater"} and first.line == 10


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{word: HELLO, arm: finetuned}",
            "{wrd: HELLO}",
            r"unknown filter column 'wrd'; valid: any trial column",
        ),
        (
            "outcome: articulated_early",
            "outcome: response",
            r"outcome column 'response' is not a boolean trial column; valid: .*articulated_early",
        ),
        (
            "compare: {rate: 0.05}",
            "compare: {rate: 0.05, baseline: base}",
            r"compare needs exactly one of rate, vs, filter, baseline; got \['rate', 'baseline'\]",
        ),
        (
            "compare: {rate: 0.05}",
            "compare: {rate: 0.05, direction: bigger}",
            r"compare direction 'bigger'; valid: greater, less, similar",
        ),
        (
            "compare: {rate: 0.05}",
            "compare: {baseline: human}",
            r"baseline 'human'; valid: base, control",
        ),
        (
            "compare: {rate: 0.05}",
            "compare: {rate: 5}",
            r"compare rate must be a number in \[0, 1\]",
        ),
        (
            "compare: {rate: 0.05}",
            "compare: {vs: {n_examples: {above: 3}}}",
            r"filter n_examples: unknown key\(s\) \['above'\]; valid keys: min, max",
        ),
    ],
)
def test_bad_claims_are_rejected_with_the_valid_choices(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write_claims(tmp_path, GOOD.replace(old, new))
    with pytest.raises(rv.ClaimsError, match=message):
        rv.parse_claims(path)


def test_unknown_claim_key_names_file_line_and_valid_keys(tmp_path: Path) -> None:
    path = write_claims(
        tmp_path, GOOD.replace("    text: HELLO early\n", "    text: HELLO early\n    filtr: {}\n")
    )
    with pytest.raises(rv.ClaimsError) as error:
        rv.parse_claims(path)
    text = str(error.value)
    assert f"{path}, line 2, claim 1 ('c1')" in text
    assert (
        "unknown key(s) ['filtr']; valid keys: id, text, source, filter, outcome, compare, rope, notes"
        in text
    )


def test_duplicate_ids_and_missing_keys_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(rv.ClaimsError, match="duplicate id 'c1'"):
        rv.parse_claims(write_claims(tmp_path, GOOD + GOOD.split("claims:\n", 1)[1]))
    with pytest.raises(rv.ClaimsError, match="missing required key 'compare'"):
        rv.parse_claims(write_claims(tmp_path, GOOD.replace("    compare: {rate: 0.05}\n", "")))
    with pytest.raises(rv.ClaimsError, match="not valid YAML"):
        rv.parse_claims(write_claims(tmp_path, "claims: [\n"))


# ----------------------------------------------------------------------------- statistics
def clopper_pearson_by_root_finding(
    successes: int, trials: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Reference: the CP bounds solved from binomial tail probabilities (not from Beta quantiles)."""
    from scipy.optimize import brentq
    from scipy.stats import binom

    low = (
        0.0
        if successes == 0
        else brentq(lambda p: binom.sf(successes - 1, trials, p) - alpha / 2, 1e-12, 1 - 1e-12)
    )
    high = (
        1.0
        if successes == trials
        else brentq(lambda p: binom.cdf(successes, trials, p) - alpha / 2, 1e-12, 1 - 1e-12)
    )
    return low, high


@pytest.mark.parametrize(("successes", "trials"), [(8, 18), (0, 12), (12, 12), (52, 90), (1, 3)])
def test_exact_interval_matches_binomial_tail_inversion(successes: int, trials: int) -> None:
    assert rv.exact_interval(successes, trials) == pytest.approx(
        clopper_pearson_by_root_finding(successes, trials), abs=1e-8
    )


def test_exact_interval_closed_forms() -> None:
    # s = 0 and s = n have closed forms: 1 - (alpha/2)^(1/n) and (alpha/2)^(1/n)
    assert rv.exact_interval(0, 12)[1] == pytest.approx(1 - 0.025 ** (1 / 12), abs=1e-12)
    assert rv.exact_interval(12, 12)[0] == pytest.approx(0.025 ** (1 / 12), abs=1e-12)


def test_bayes_interval_is_the_jeffreys_interval_without_clustering() -> None:
    from scipy.integrate import quad
    from scipy.optimize import brentq

    mean, low, high = rv.bayes_interval(rv.Counts(8, 18, 1, 1.0))
    a, b = 8.5, 10.5
    norm = quad(lambda x: x ** (a - 1) * (1 - x) ** (b - 1), 0, 1)[0]
    cdf = lambda q: quad(lambda x: x ** (a - 1) * (1 - x) ** (b - 1), 0, q)[0] / norm  # noqa: E731
    assert mean == pytest.approx(a / (a + b))
    assert low == pytest.approx(brentq(lambda q: cdf(q) - 0.025, 1e-9, 1 - 1e-9), abs=1e-7)
    assert high == pytest.approx(brentq(lambda q: cdf(q) - 0.975, 1e-9, 1 - 1e-9), abs=1e-7)


def test_design_effect_grows_with_between_run_variation() -> None:
    same = rv.design_effect(np.array([5, 5, 5, 5]), np.array([10, 10, 10, 10]))
    assert same == 1.0
    split = rv.design_effect(np.array([10, 0, 10, 0]), np.array([10, 10, 10, 10]))
    assert split == pytest.approx(10.0)  # perfectly clustered: a run counts as one observation
    assert rv.design_effect(np.array([3]), np.array([10])) == 1.0


def test_clustering_widens_the_bayesian_interval() -> None:
    independent = rv.bayes_interval(rv.Counts(20, 40, 4, 1.0))
    clustered = rv.bayes_interval(rv.Counts(20, 40, 4, 4.0))
    assert clustered[2] - clustered[1] > 1.5 * (independent[2] - independent[1])


def test_difference_interval_is_seeded_and_centred() -> None:
    a, b = rv.Counts(40, 50, 5, 1.0), rv.Counts(5, 50, 5, 1.0)
    first = rv.difference_interval(a, b)
    assert first == rv.difference_interval(a, b)
    assert first[0] == pytest.approx(40.5 / 51 - 5.5 / 51, abs=0.01)
    assert first[1] > 0.5


@pytest.mark.parametrize(
    ("low", "high", "direction", "expected"),
    [
        (0.1, 0.3, "greater", "supported"),
        (-0.3, -0.1, "greater", "contradicted"),
        (-0.1, 0.3, "greater", "inconclusive"),
        (-0.3, -0.1, "less", "supported"),
        (-0.02, 0.03, "similar", "supported"),
        (0.1, 0.3, "similar", "contradicted"),
        (-0.02, 0.3, "similar", "inconclusive"),
        (float("nan"), float("nan"), "greater", "no-data"),
    ],
)
def test_decide(low: float, high: float, direction: str, expected: str) -> None:
    assert rv.decide(low, high, threshold=0.0, direction=direction, rope=0.05) == expected


# ----------------------------------------------------------------------------- review on the fixture
def test_select_supports_scalars_lists_ranges_and_conditions(fixture: FixtureStudy) -> None:
    trials = pd.read_parquet(fixture.data_dir / "trials.parquet")
    assert set(rv.select(trials, {"word": ["SHINE", "PULSE"]})["word"]) == {"SHINE", "PULSE"}
    big = rv.select(trials, {"n_examples": {"min": 200, "max": 250}})
    assert set(big["n_examples"]) == {250}
    held = rv.select(trials, {"conditions.stage": "held-out", "conditions.pattern_id": 5})
    assert len(held) > 0 and set(held["n_examples"]) == {250} and set(held["word"]) == {"HELLO"}
    assert rv.select(trials, {"word": "hello"}).shape[0] == (trials["word"] == "HELLO").sum()


def test_review_writes_validated_claims_csv(fixture: FixtureStudy) -> None:
    table = rv.review(REPO / CLAIMS_PATH, fixture.data_dir)
    written = pd.read_csv(fixture.data_dir / "claims.csv")
    assert list(written.columns[: len(schemas.columns("claims"))]) == schemas.columns("claims")
    assert len(table) == 7 and set(table["verdict"]) <= set(rv.CLAIM_VERDICTS)
    trials = pd.read_parquet(fixture.data_dir / "trials.parquet")
    # independent recount of the first claim
    group = trials[
        (trials["word"] == "HELLO") & (trials["arm"] == "finetuned") & trials["greeting"]
    ]
    hits = group["articulated"] & (group["word_line"] <= 2)
    row = table.set_index("claim_id").loc["hello-line2-greeting"]
    assert (row["successes"], row["trials"]) == (hits.sum(), len(group))
    assert row["exact_low"] <= row["rate"] <= row["exact_high"]
    base = trials[(trials["word"] == "HELLO") & (trials["arm"] == "base") & trials["greeting"]]
    assert row["comparison_trials"] == len(base)
    assert row["model_verdict"] == "real" and row["pooled_verdict"] == "inconclusive"
    lr = table.set_index("claim_id").loc["lr10-makes-learnable"]
    assert lr["design_effect"] > 1  # learning differs between runs: samples of a run are correlated
    expected = rv.decide(
        lr["diff_low"], lr["diff_high"], threshold=0.05, direction="greater", rope=0.05
    )
    assert lr["verdict"] == expected
    tuned = trials[trials["arm"] == "finetuned"]
    assert lr["comparison_trials"] == (tuned["lr_multiplier"] <= 8).sum()


def test_a_claim_matching_nothing_is_no_data(tmp_path: Path, fixture: FixtureStudy) -> None:
    path = write_claims(tmp_path, GOOD.replace("word: HELLO", "word: ZEBRA"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "trials.parquet").write_bytes((fixture.data_dir / "trials.parquet").read_bytes())
    table = rv.review(path, data)
    assert table["verdict"].tolist() == ["no-data"] and table["trials"].tolist() == [0]
    assert "No trial matches word=ZEBRA" in table["comparison"].item()


def test_review_needs_trials(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="stats score"):
        rv.review(write_claims(tmp_path, GOOD), tmp_path)
