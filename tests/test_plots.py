"""Plot builders: structure (layers, mappings, facets, labels) and pixel baselines of three key figures.

Builders are tested on small hand-made tidy frames, so a change in the fixture
study cannot move a baseline. Baselines (tests/baseline_images/*.png) are drawn
with the project theme's pinned size, dpi (100) and font (DejaVu Sans, bundled
with matplotlib) and compared by the RMS of the pixel difference. To redraw them
after an intended change: ``STATS_UPDATE_BASELINES=1 .venv/bin/pytest tests/test_plots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from plotnine import ggplot

from stats import plots

BASELINES = Path(__file__).parent / "baseline_images"
RMS_TOLERANCE = 1.0  # on the 0-255 scale; same pinned stack: identical drawings give 0


def data_of(layer) -> pd.DataFrame | None:
    return layer._data  # plotnine keeps a layer's own data here


def geoms(plot: ggplot) -> list[str]:
    return [type(layer.geom).__name__ for layer in plot.layers]


def layer_mapping(plot: ggplot, geom: str) -> dict[str, str]:
    layer = next(layer for layer in plot.layers if type(layer.geom).__name__ == geom)
    return (
        {**dict(plot.mapping), **dict(layer.mapping)} if layer.inherit_aes else dict(layer.mapping)
    )


# ----------------------------------------------------------------------------- tidy inputs
def hazard_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for arm, level in (("finetuned", 0.12), ("base", 0.02), ("control", 0.04)):
        for measure in ("1. hazard", "2. cumulative"):
            for line in range(1, 7):
                mean = level if measure == "1. hazard" else 1 - (1 - level) ** line
                rows.append(
                    {
                        "measure": measure,
                        "arm": arm,
                        "arm_label": f"{arm} (n=100)",
                        "line": line,
                        "mean": mean,
                        "low": max(mean - 0.04, 0),
                        "high": mean + 0.04,
                        "raw": mean + 0.01 * (-1) ** line,
                    }
                )
    guess = pd.DataFrame(
        [
            {"measure": m, "arm_label": f"{arm} (n=100)", "line": line, "guessability": g * scale}
            for m in ("1. hazard", "2. cumulative")
            for arm, scale in (("finetuned", 1.0), ("base", 0.5))
            for line, g in enumerate((0.01, 0.04, 0.35, 0.8, 0.97, 0.99), 1)
        ]
    )
    return pd.DataFrame(rows), guess


def forest_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    order = ["a new word (predictive)", "all words (population)", "SHINE", "HELLO"]
    for greeting in ("no greeting", "with greeting"):
        for word, raw, pooled in (("HELLO", 0.4, 0.33), ("SHINE", 0.05, 0.08)):
            rows.append(
                dict(
                    row=word,
                    greeting_label=greeting,
                    kind="raw (exact 95% CI)",
                    estimate=raw,
                    low=raw - 0.15,
                    high=raw + 0.2,
                    label="8/20",
                    label_y=1.03,
                )
            )
            rows.append(
                dict(
                    row=word,
                    greeting_label=greeting,
                    kind="partially pooled (95% interval)",
                    estimate=pooled,
                    low=pooled - 0.1,
                    high=pooled + 0.12,
                    label="",
                    label_y=1.03,
                )
            )
        rows.append(
            dict(
                row="all words (population)",
                greeting_label=greeting,
                kind="population (95% interval)",
                estimate=0.2,
                low=0.1,
                high=0.3,
                label="9/40",
                label_y=1.03,
            )
        )
        rows.append(
            dict(
                row="a new word (predictive)",
                greeting_label=greeting,
                kind="new word (95% predictive)",
                estimate=0.2,
                low=0.0,
                high=0.6,
                label="",
                label_y=1.03,
            )
        )
    rates = pd.DataFrame(rows)
    rates["row"] = pd.Categorical(rates["row"], categories=order)
    population = pd.DataFrame(
        {"greeting_label": ["no greeting", "with greeting"], "estimate": [0.2, 0.2]}
    )
    return rates, population


def delta_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    draws = pd.concat(
        [
            pd.DataFrame(
                {
                    "panel": panel,
                    "condition": condition,
                    "delta": rng.normal(centre + shift, 0.03, 2000),
                }
            )
            for panel, centre in (("all words (population)", 0.08), ("HELLO", 0.25))
            for condition, shift in (("no greeting", 0.0), ("with greeting", 0.1))
        ],
        ignore_index=True,
    )
    intervals = pd.DataFrame(
        {
            "panel": ["all words (population)"] * 2 + ["HELLO"] * 2,
            "condition": ["no greeting", "with greeting"] * 2,
            "low": [0.02, 0.12, 0.19, 0.29],
            "high": [0.14, 0.24, 0.31, 0.41],
            "mean": [0.08, 0.18, 0.25, 0.35],
            "y": [-0.2, -0.48] * 2,
            "label": ["no greeting: inconclusive", "with greeting: real self-report"] * 2,
        }
    )
    return draws, intervals


# ----------------------------------------------------------------------------- structure
def test_theme_pins_size_dpi_and_font() -> None:
    theme = plots.theme_stats((5.0, 3.0))
    assert theme.getp("figure_size") == (5.0, 3.0)
    assert theme.getp("dpi") == plots.DPI == 100
    assert plots.FONT_FAMILY == "DejaVu Sans"
    with pytest.raises(ValueError, match="would not fit"):
        plots.theme_stats((plots.MAX_WIDTH + 1, 3.0))


def test_raw_grid_plot_structure() -> None:
    points = pd.DataFrame(
        {
            "word": ["HELLO", "HELLO"],
            "greeting_label": ["no greeting", "with greeting"],
            "condition": ["base", "ft n=10 lr=2"],
            "line_label": ["1", "never"],
            "follows_label": ["spells the word", "does not spell it"],
        }
    )
    plot = plots.raw_grid_plot(points)
    assert geoms(plot) == ["geom_point"]
    assert layer_mapping(plot, "geom_point") == {
        "x": "condition",
        "y": "line_label",
        "color": "follows_label",
        "shape": "follows_label",
    }
    assert (plot.facet.rows, plot.facet.cols) == (["word"], ["greeting_label"])
    assert "articulation" in plot.labels.y


def test_hazard_plot_structure() -> None:
    bands, guess = hazard_frames()
    plot = plots.hazard_plot(bands, guess, k=2)
    assert geoms(plot) == ["geom_rect", "geom_ribbon", "geom_line", "geom_point", "geom_line"]
    assert layer_mapping(plot, "geom_ribbon") == {
        "x": "line",
        "ymin": "low",
        "ymax": "high",
        "fill": "arm_label",
    }
    guess_layer = plot.layers[-1]
    assert dict(guess_layer.mapping)["y"] == "guessability" and data_of(guess_layer) is not None
    assert dict(guess_layer.mapping)["color"] == "arm_label"  # one guessability curve per arm
    early = data_of(plot.layers[0])
    assert (early["xmin"].item(), early["xmax"].item()) == (0.5, 2.5)
    assert plot.facet.vars == ["measure"]
    assert "k = 2" in plot.labels.x


def test_forest_plot_structure() -> None:
    rates, population = forest_frames()
    plot = plots.forest_plot(rates, population)
    assert geoms(plot) == ["geom_hline", "geom_pointrange", "geom_text"]
    assert layer_mapping(plot, "geom_pointrange") == {
        "x": "row",
        "y": "estimate",
        "color": "kind",
        "ymin": "low",
        "ymax": "high",
    }
    assert data_of(plot.layers[0]) is population
    assert plot.facet.vars == ["greeting_label"]
    assert type(plot.coordinates).__name__ == "coord_flip"
    assert plot.coordinates.limits.y == (0, 1.25)  # zoom, not a scale limit that drops intervals


def test_delta_plot_structure() -> None:
    draws, intervals = delta_frames()
    plot = plots.delta_plot(draws, intervals, rope=0.05)
    assert geoms(plot) == [
        "geom_rect",
        "geom_vline",
        "geom_density",
        "geom_segment",
        "geom_point",
        "geom_text",
    ]
    rope = data_of(plot.layers[0])
    assert (rope["xmin"].item(), rope["xmax"].item()) == (-0.05, 0.05)
    assert layer_mapping(plot, "geom_density")["color"] == "condition"  # one curve per prompt
    assert data_of(plot.layers[3]) is intervals  # one HDI bar per panel and prompt
    assert plot.facet.vars == ["panel"] and plot.facet.free["x"]  # each panel zooms on its data
    assert "ROPE ±0.05" in plot.labels.x


def test_prior_plot_spans_the_whole_range() -> None:
    draws = pd.DataFrame(
        {"panel": "HELLO", "source": ["posterior", "prior"] * 50, "delta": np.linspace(-1, 1, 100)}
    )
    plot = plots.prior_plot(draws, rope=0.05)
    assert plot.coordinates.limits.x == (-1, 1)


def test_sensitivity_plot_structure() -> None:
    frame = pd.DataFrame(
        {
            "panel": ["HELLO"] * 3,
            "prior_label": ["x0.5", "x1", "x2"],
            "mean": [0.2, 0.21, 0.22],
            "low": [0.05, 0.06, 0.04],
            "high": [0.4] * 3,
            "verdict": ["real", "real", "inconclusive"],
        }
    )
    plot = plots.sensitivity_plot(frame, rope=0.05)
    assert geoms(plot) == ["geom_hline", "geom_hline", "geom_pointrange"]
    assert layer_mapping(plot, "geom_pointrange")["color"] == "verdict"
    assert plot.facet.vars == ["panel"]


def test_oc_plot_structure() -> None:
    oc = pd.DataFrame(
        {
            "runs_per_word": [2, 4, 2, 4],
            "p_real": [0.01, 0.02, 0.3, 0.6],
            "world": ["null", "null", "intro", "intro"],
            "samples_label": ["5 samples per run"] * 4,
            "n_sims": 200,
        }
    )
    plot = plots.oc_plot(oc, max_false_real=0.05)
    assert geoms(plot) == ["geom_hline", "geom_line", "geom_point"]
    assert data_of(plot.layers[0])["yintercept"].tolist() == [0.05]
    assert dict(plot.mapping) == {"x": "runs_per_word", "y": "p_real", "color": "world"}
    assert plot.facet.vars == ["samples_label"]


def test_curves_plot_structure() -> None:
    curves = pd.DataFrame(
        {
            "factor_label": ["data"] * 2,
            "outcome_label": ["early"] * 2,
            "arm": ["finetuned", "control"],
            "value": [10.0, 50.0],
            "mean": [0.1, 0.2],
            "low": [0.0, 0.1],
            "high": [0.2, 0.3],
            "raw_rate": [0.1, 0.2],
            "exact_low": [0.0, 0.1],
            "exact_high": [0.3, 0.3],
        }
    )
    plot = plots.curves_plot(curves)
    assert geoms(plot) == ["geom_ribbon", "geom_line", "geom_errorbar", "geom_pointrange"]
    reference = pd.DataFrame(
        {"outcome_label": ["early"], "factor_label": ["data"], "arm": ["base"],
         "greeting_label": ["no greeting"], "mean": [0.05], "low": [0.0], "high": [0.1],
         "xmin": [10.0], "xmax": [50.0]}
    )  # fmt: skip
    with_base = plots.curves_plot(curves, reference)
    assert geoms(with_base)[-2:] == ["geom_rect", "geom_segment"]
    assert data_of(with_base.layers[-1]) is reference
    assert (plot.facet.rows, plot.facet.cols) == (["outcome_label"], ["factor_label"])
    assert layer_mapping(plot, "geom_pointrange")["y"] == "raw_rate"


def test_greeting_plot_structure() -> None:
    runs = pd.DataFrame(
        {
            "word": ["HELLO"] * 2,
            "run_id": ["r1"] * 2,
            "greeting_label": ["no greeting", "with greeting"],
            "rate": [0.2, 0.5],
        }
    )
    words = runs.assign(label=["1/5", "2/4"])
    plot = plots.greeting_plot(runs, words)
    assert geoms(plot) == ["geom_line", "geom_point", "geom_line", "geom_point", "geom_text"]
    assert dict(plot.layers[0].mapping)["group"] == "run_id"
    assert data_of(plot.layers[2]) is words and plot.facet.vars == ["word"]


def test_claims_and_ppc_plot_structure() -> None:
    claims = pd.DataFrame(
        {
            "claim_id": ["c1", "c1"],
            "kind": ["exact", "Bayes"],
            "estimate": [0.4, 0.41],
            "low": [0.2, 0.25],
            "high": [0.6, 0.58],
            "verdict": ["supported"] * 2,
            "reference": [0.05, 0.05],
        }
    )
    plot = plots.claims_plot(claims)
    assert geoms(plot) == ["geom_pointrange", "geom_point"]
    assert len(data_of(plot.layers[1])) == 1  # one reference mark per claim
    ppc = pd.DataFrame(
        {
            "cell": ["a"],
            "panel": ["p"],
            "observed_rate": [0.1],
            "rep_mean": [0.12],
            "rep_low": [0.05],
            "rep_high": [0.2],
        }
    )
    plot = plots.ppc_plot(ppc)
    # geom_blank: every panel's rate axis starts at 0
    assert geoms(plot) == ["geom_pointrange", "geom_point", "geom_blank"]
    assert plot.facet.vars == ["panel"]
    # each panel on its own rate scale: near-zero rates are not squeezed onto 0-1
    assert plot.facet.free == {"x": True, "y": True}


def test_builders_name_missing_columns() -> None:
    with pytest.raises(ValueError, match=r"forest_plot: missing columns \['label', 'label_y'\]"):
        plots.forest_plot(forest_frames()[0].drop(columns=["label", "label_y"]), forest_frames()[1])


def test_builders_are_pure() -> None:
    rates, population = forest_frames()
    before = rates.copy()
    plots.forest_plot(rates, population)
    pd.testing.assert_frame_equal(rates, before)


# ----------------------------------------------------------------------------- pixels
def rms_difference(png_a: Path, png_b: Path) -> float:
    a = np.asarray(Image.open(png_a).convert("RGB"), dtype=float)
    b = np.asarray(Image.open(png_b).convert("RGB"), dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("forest", lambda: plots.forest_plot(*forest_frames())),
        ("hazard", lambda: plots.hazard_plot(*hazard_frames(), k=2)),
        ("delta", lambda: plots.delta_plot(*delta_frames(), rope=0.05)),
    ],
)
def test_key_figures_match_their_baselines(name: str, build, tmp_path: Path) -> None:
    drawn = tmp_path / f"{name}.png"
    plot = build()
    plot.save(drawn, verbose=False)
    baseline = BASELINES / f"{name}.png"
    if os.environ.get("STATS_UPDATE_BASELINES"):
        BASELINES.mkdir(exist_ok=True)
        drawn.replace(baseline)
        pytest.fail(f"baseline {baseline.name} rewritten; rerun without STATS_UPDATE_BASELINES")
    assert baseline.exists(), f"missing {baseline}; create it with STATS_UPDATE_BASELINES=1"
    width, height = plot.theme.getp("figure_size")
    with Image.open(drawn) as image:
        assert image.size == (round(width * plots.DPI), round(height * plots.DPI))
    rms = rms_difference(drawn, baseline)
    assert rms < RMS_TOLERANCE, f"{name}: RMS pixel difference {rms:.2f} >= {RMS_TOLERANCE}"


def test_pixel_comparison_detects_a_changed_figure(tmp_path: Path) -> None:
    rates, population = forest_frames()
    rates.loc[rates["row"] == "HELLO", "estimate"] = 0.9
    changed = tmp_path / "changed.png"
    plots.forest_plot(rates, population).save(changed, verbose=False)
    assert rms_difference(changed, BASELINES / "forest.png") > RMS_TOLERANCE
