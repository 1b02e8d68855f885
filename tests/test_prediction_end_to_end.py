"""Self- vs cross-prediction end to end: simulate the preset -> ingest -> analyse -> page.

The study is ``analysis/designs/prediction.yaml`` drawn with seed 1 (an introspective world:
self 0.55/0.63/0.70 and cross 0.45/0.48/0.52 at 1000/4000/16000 examples). Intervals are
95%, so a fixed seed can miss a truth by chance: the design's own seed does for the cross
average (0.483 vs HDI [0.485, 0.588]); coverage over seeds 1-10 is measured by
``benchmarks/prediction_coverage.py`` (``benchmarks/results/prediction_coverage.csv``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from stats import plots, render
from stats.config import Artifacts
from stats.followups.prediction import TABLES, run_prediction
from stats.ingest import ingest
from stats.ingest.ledger import check_balance
from stats.simulate import simulate

REPO = Path(__file__).resolve().parent.parent
DESIGN = REPO / "analysis/designs/prediction.yaml"
SEED = 1


@dataclass
class Pipeline:
    raw: Path
    processed: Path
    truth: dict
    ledger: dict
    tables: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("prediction")
    raw, processed = root / "raw", root / "processed"
    truth = simulate(DESIGN, raw, seed=SEED)  # dispatches on `design: self-cross-prediction`
    ledger = ingest([raw], raw / "runs.yaml", processed)
    tables = run_prediction(processed)
    assert tables is not None
    return Pipeline(raw, processed, truth, ledger, tables)


def test_simulated_records_are_ingested_without_loss(pipeline: Pipeline) -> None:
    total = pipeline.ledger["total"]
    # 3 sizes x 3 runs x 2 kinds x 2 properties x 40 items x 3 samples
    assert total["records"] == total["accepted"] == total["predictions"] == 4320
    assert total["rejected"] == 0 and not check_balance(pipeline.ledger)
    assert pipeline.ledger["study"]["simulated"] is True
    predictions = pd.read_parquet(Artifacts(pipeline.processed).predictions)
    assert predictions.groupby("kind")["run_id"].nunique().to_dict() == {"cross": 9, "self": 9}
    for name in TABLES:
        assert Artifacts(pipeline.processed).path(name).exists()


def test_true_accuracies_lie_inside_the_intervals_and_self_beats_cross(pipeline: Pipeline) -> None:
    acc = pipeline.tables["prediction_accuracy"]
    assert acc["converged"].all()
    assert bool(pipeline.tables["prediction_diagnostics"]["converged"].iloc[0])
    cells = acc[acc["scope"] == "cell"]
    assert len(cells) == 6
    for row in cells.itertuples():
        true = pipeline.truth["accuracy"][row.prediction][str(row.n_examples)]
        assert row.hdi_low <= true <= row.hdi_high, (row.prediction, row.n_examples, true)
        assert row.exact_low <= row.raw_rate <= row.exact_high
    kinds = acc[acc["scope"] == "kind"].set_index("prediction")
    for kind in ("self", "cross"):
        true = pipeline.truth["kind_accuracy"][kind]
        assert kinds.loc[kind, "hdi_low"] <= true <= kinds.loc[kind, "hdi_high"], kind
    diff = acc[acc["scope"] == "difference"].iloc[0]
    assert diff["hdi_low"] > 0  # self > cross detected
    assert diff["hdi_low"] <= pipeline.truth["self_minus_cross"] <= diff["hdi_high"]
    assert diff["p_self_above_cross"] > 0.975


def test_modal_baseline_ceiling_and_calibration_match_the_design(pipeline: Pipeline) -> None:
    base = pipeline.tables["prediction_baseline"].set_index(["task", "property"])
    for key, true in pipeline.truth["modal_baseline"].items():
        task, prop = key.split("/")
        row = base.loc[(task, prop)]
        assert row["baseline_low"] <= true <= row["baseline_high"], key
        # 360 items x 3 samples: the agreement rate is within 0.05 of its expectation
        assert abs(row["ceiling"] - pipeline.truth["ceiling"][key]) < 0.05, key
    assert base.loc[("animals", "first_character"), "mode"] == "a"
    cal = pipeline.tables["prediction_calibration"]
    assert set(cal["rank"]) == {1, 2, 3}
    assert cal.groupby(["prediction", "task", "property"]).size().to_dict() == {
        ("cross", "animals", "first_character"): 3,
        ("cross", "numbers", "is_even"): 2,
        ("self", "animals", "first_character"): 3,
        ("self", "numbers", "is_even"): 2,
    }
    assert (cal["observed"].diff().fillna(-1)[cal["rank"] > 1] <= 0).all()  # ranked by share
    assert cal["tv_distance"].between(0, 1).all()


def test_the_figures_are_built_from_the_tables(pipeline: Pipeline) -> None:
    from stats import report

    study = report.open_data(pipeline.processed)
    for helper in (
        report.prediction_accuracy_figure,
        report.prediction_curves_figure,
        report.prediction_calibration_figure,
    ):
        figure = helper(study)
        assert isinstance(figure, report.Figure), helper.__name__
    curves = report.prediction_curves_figure.__wrapped__(study)  # the ggplot, before drawing
    assert set(curves.data["prediction"]) == {"self", "cross"}  # a line for each
    with pytest.raises(ValueError, match="prediction_accuracy_plot: missing columns"):
        plots.prediction_accuracy_plot(pd.DataFrame({"x": [1]}), pd.DataFrame())


def _project(tmp: Path) -> Path:
    reports = tmp / "reports"
    reports.mkdir()
    shutil.copy(REPO / "reports/prediction.qmd", reports / "prediction.qmd")
    shutil.copy(REPO / "reports/styles.css", reports / "styles.css")
    shutil.copy(REPO / "reports/unavailable.lua", reports / "unavailable.lua")
    config = (REPO / "reports/_quarto.yml").read_text()
    start = config.index("  render:")
    end = config.index("\n\n", start)
    config = config[:start] + "  render:\n    - index.qmd\n    - prediction.qmd" + config[end:]
    (reports / "_quarto.yml").write_text(config)
    (reports / "index.qmd").write_text('---\ntitle: "Home"\n---\n\nStart here.\n')
    return reports


def test_the_page_renders_with_three_figures(pipeline: Pipeline, tmp_path: Path) -> None:
    reports = _project(tmp_path)
    params = {"data_dir": str(pipeline.processed)}
    render.render_offline(reports, tmp_path / "site", params, cache_dir=tmp_path / "cache")
    html = (tmp_path / "site" / "prediction.html").read_text()
    assert html.count("<img") >= 3 and "data:image/png;base64" in html
    for label in ("fig-prediction-accuracy", "fig-prediction-curves", "fig-prediction-calibration"):
        assert f'id="{label}"' in html, label
    assert "Simulated data" in html and "Convergence gates passed" in html
    assert "Could not" not in html and "Not available" not in html
    assert json.dumps(pipeline.truth["design"]) and "self - cross" in html


def test_without_predictions_nothing_is_analysed_and_stale_tables_go(tmp_path: Path) -> None:
    summary = Artifacts(tmp_path).summary
    summary.mkdir(parents=True)
    for name in TABLES:
        Artifacts(tmp_path).path(name).write_text("stale\n")
    (summary / "curves.csv").write_text("kept\n")
    assert run_prediction(tmp_path) is None
    assert sorted(p.name for p in summary.iterdir()) == ["curves.csv"]


def test_without_prediction_data_the_page_says_so_once(tmp_path: Path) -> None:
    reports = _project(tmp_path)
    empty = tmp_path / "processed"
    empty.mkdir()
    params = {"data_dir": str(empty)}
    render.render_offline(reports, tmp_path / "site", params, cache_dir=tmp_path / "cache")
    assert "prediction.html" in (tmp_path / "site" / "index.html").read_text()
    page = " ".join((tmp_path / "site" / "prediction.html").read_text().split())
    assert page.count("Not available: this study has no self- or cross-prediction records") == 1
    assert "Figure\u00a0" not in page and "Table\u00a0" not in page
