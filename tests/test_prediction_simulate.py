"""The self/cross-prediction simulator: design checks and the closed forms of its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from stats.simulate.prediction import marginal_accuracy, run_logit, true_ceiling
from stats.simulate.prediction_design import is_prediction_design, load_prediction_design

REPO = Path(__file__).resolve().parent.parent
PRESET = REPO / "analysis/designs/prediction.yaml"


def test_preset_is_an_introspective_world() -> None:
    design = load_prediction_design(PRESET)
    assert is_prediction_design(PRESET)
    assert not is_prediction_design(REPO / "analysis/designs/default.yaml")
    for n, p_self in design.accuracy["self"].items():
        assert p_self > design.accuracy["cross"][n]
    sizes = sorted(design.accuracy["self"])
    assert [design.accuracy["self"][n] for n in sizes] == sorted(design.accuracy["self"].values())


@pytest.mark.parametrize("accuracy", [0.1, 0.45, 0.7, 0.95])
def test_run_logit_makes_the_run_average_equal_the_stated_accuracy(accuracy: float) -> None:
    mu = run_logit(accuracy, 0.8)
    rng = np.random.default_rng(3)
    draws = 1 / (1 + np.exp(-(mu + 0.8 * rng.standard_normal(400_000))))
    assert abs(draws.mean() - accuracy) < 0.003
    assert marginal_accuracy(mu, 0.8) == pytest.approx(accuracy, abs=1e-9)


def test_ceiling_closed_form() -> None:
    values = (0.5, 0.3, 0.2)
    assert true_ceiling(values, 1.0) == pytest.approx(1.0)
    assert true_ceiling(values, 0.0) == pytest.approx(0.25 + 0.09 + 0.04)
    rng = np.random.default_rng(5)
    preferred = rng.choice(3, size=200_000, p=values)

    def sample() -> np.ndarray:
        keep = rng.random(preferred.size) < 0.7
        return np.where(keep, preferred, rng.choice(3, size=preferred.size, p=values))

    assert np.mean(sample() == sample()) == pytest.approx(true_ceiling(values, 0.7), abs=0.005)


def test_bad_designs_name_the_key(tmp_path: Path) -> None:
    raw = yaml.safe_load(PRESET.read_text())
    raw["accuracy"]["cross"] = {1000: 0.4}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=r"bad\.yaml: accuracy: self and cross need the same"):
        load_prediction_design(path)
    raw = yaml.safe_load(PRESET.read_text())
    raw["tasks"]["numbers"]["is_even"]["values"] = [0.5, 0.6]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=r"tasks\.numbers\.is_even\.values"):
        load_prediction_design(path)
