"""The design file of the self/cross-prediction simulator (:mod:`stats.simulate.prediction`).

:func:`load_prediction_design` reads and checks a ``design: self-cross-prediction`` file
into a :class:`PredictionDesign`; the keys are described in :mod:`stats.simulate.prediction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DESIGN_KEY = "self-cross-prediction"
#: Property values a generator can render as an object-level response.
LETTERS = "abcdefghij"


@dataclass(frozen=True)
class PredictionDesign:
    """A validated self/cross-prediction design.

    Parameters
    ----------
    path : Path
    name, description : str
    seed : int
    properties : dict of (task, property) to tuple of float
        Probabilities of the property values, most common first.
    consistency : float
    accuracy : dict of kind to dict of n_examples to float
    run_sd : float
    runs_per_cell, items, samples : int
    base_model, cross_base_model : str
    """

    path: Path
    name: str
    description: str
    seed: int
    properties: dict[tuple[str, str], tuple[float, ...]]
    consistency: float
    accuracy: dict[str, dict[int, float]]
    run_sd: float
    runs_per_cell: int
    items: int
    samples: int
    base_model: str
    cross_base_model: str


def is_prediction_design(design: Path | dict) -> bool:
    """Whether a design asks for this generator (``design: self-cross-prediction``).

    Parameters
    ----------
    design : Path or dict
        A YAML design file, or its parsed content.

    Returns
    -------
    bool
    """
    from stats.simulate.design import read_design_file

    raw = design if isinstance(design, dict) else read_design_file(design)
    return isinstance(raw, dict) and raw.get("design") == DESIGN_KEY


def load_prediction_design(path: Path) -> PredictionDesign:
    """Read and check a design file.

    Parameters
    ----------
    path : Path

    Returns
    -------
    PredictionDesign

    Raises
    ------
    ValueError
        Naming the file and the key at fault.
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))

    def fail(key: str, message: str) -> ValueError:
        return ValueError(f"{path}: {key}: {message}")

    if not isinstance(raw, dict) or raw.get("design") != DESIGN_KEY:
        raise fail("design", f"expected {DESIGN_KEY!r}")
    properties: dict[tuple[str, str], tuple[float, ...]] = {}
    for task, props in (raw.get("tasks") or {}).items():
        for prop, spec in (props or {}).items():
            values = tuple(float(v) for v in spec["values"])
            kind = "is_even" if prop == "is_even" else "first_character"
            limit = 2 if kind == "is_even" else len(LETTERS)
            if len(values) < 2 or len(values) > limit or abs(sum(values) - 1) > 1e-6:
                raise fail(f"tasks.{task}.{prop}.values", f"2..{limit} probabilities summing to 1")
            if prop not in ("is_even", "first_character"):
                raise fail(f"tasks.{task}.{prop}", "properties: first_character, is_even")
            properties[(str(task), str(prop))] = values
    if not properties:
        raise fail("tasks", "at least one task with one property")
    accuracy = {
        kind: {int(n): float(p) for n, p in (raw.get("accuracy", {}).get(kind) or {}).items()}
        for kind in ("self", "cross")
    }
    if not accuracy["self"] or set(accuracy["self"]) != set(accuracy["cross"]):
        raise fail("accuracy", "self and cross need the same training-set sizes")
    for kind, by_n in accuracy.items():
        for n, p in by_n.items():
            if not 0 < p < 1:
                raise fail(f"accuracy.{kind}.{n}", f"must be in (0, 1), got {p}")
    consistency = float(raw.get("consistency", 1.0))
    if not 0 <= consistency <= 1:
        raise fail("consistency", "must be in [0, 1]")
    return PredictionDesign(
        path=Path(path),
        name=str(raw.get("name", Path(path).stem)),
        description=str(raw.get("description", "")),
        seed=int(raw.get("seed", 0)),
        properties=properties,
        consistency=consistency,
        accuracy=accuracy,
        run_sd=float(raw.get("run_sd", 0.0)),
        runs_per_cell=int(raw.get("runs_per_cell", 3)),
        items=int(raw.get("items", 30)),
        samples=int(raw.get("samples", 3)),
        base_model=str(raw.get("base_model", "gpt-4o-2024-08-06")),
        cross_base_model=str(raw.get("cross_base_model", "llama-3-70b")),
    )
