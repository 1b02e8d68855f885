"""Simulated self- vs cross-prediction studies (Looking Inward layout) with known truth.

A design file with ``design: self-cross-prediction`` (see
``analysis/designs/prediction.yaml``) describes:

* tasks x response properties, each with a distribution of object-level property values
  (``values``: probabilities of the most to least common value);
* ``consistency``: the chance that a repeated object-level sample repeats the item's
  preferred answer (else it is a fresh draw from the distribution): the non-determinism
  ceiling;
* ``accuracy``: the true population-average accuracy of self and cross prediction per
  training-set size (``n_examples``); each predictor fine-tune (run) has its own accuracy,
  ``expit(mu + u)`` with ``u ~ Normal(0, run_sd)``, and ``mu`` is solved so that the average
  over runs equals the stated value.

Self run *r* at size *n* is a model fine-tuned on its own behaviour: it predicts its own
object-level answers. Cross run *r* at size *n* is another model fine-tuned on self run
*r*'s behaviour, predicting the same answers. A meta prediction is correct (equals the
property of object-level sample 0) with the run's accuracy; otherwise it is another value
drawn from the property distribution. Self records are written as JSONL with the adapter's
own column names, cross records as CSV with Looking Inward names and a ``columns:`` map.
The design file is read and checked by :mod:`stats.simulate.prediction_design`.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.optimize import brentq
from scipy.special import expit

from stats.simulate.prediction_design import (
    DESIGN_KEY,
    LETTERS,
    PredictionDesign,
    load_prediction_design,
)
from stats.simulate.readme import MANIFEST_FILE, README_FILE, TRUTH_FILE

SELF_FILE = "prediction/self.jsonl"
CROSS_FILE = "prediction/cross.csv"
#: Cross records' column names (Looking Inward style) -> adapter targets.
CROSS_COLUMNS = {
    "task": "task",
    "property": "response_property",
    "object_model": "target",
    "predictor_model": "predictor",
    "object_response": "object_level_response",
    "meta_prediction": "meta_level_response",
    "item_id": "string",
    "sample_index": "sample",
    "n_examples": "ft_size",
    "run_id": "ft_job",
}
_HERMITE = np.polynomial.hermite_e.hermegauss(40)


def marginal_accuracy(mu: float, run_sd: float) -> float:
    """Average of ``expit(mu + u)`` over ``u ~ Normal(0, run_sd)`` (Gauss-Hermite).

    Parameters
    ----------
    mu : float
        Logit accuracy of a typical run.
    run_sd : float
        SD of run effects (logit scale).

    Returns
    -------
    float
    """
    nodes, weights = _HERMITE
    return float(np.sum(weights * expit(mu + run_sd * nodes)) / np.sum(weights))


def run_logit(accuracy: float, run_sd: float) -> float:
    """The ``mu`` whose run-averaged accuracy is ``accuracy`` (inverse of
    :func:`marginal_accuracy`).

    Parameters
    ----------
    accuracy : float
        In (0, 1).
    run_sd : float

    Returns
    -------
    float
    """
    return float(brentq(lambda m: marginal_accuracy(m, run_sd) - accuracy, -20, 20))


def true_ceiling(values: tuple[float, ...], consistency: float) -> float:
    """P(two repeated object-level samples of an item share the property value).

    Parameters
    ----------
    values : tuple of float
        Probabilities of the property values.
    consistency : float
        Chance that a sample repeats the item's preferred value.

    Returns
    -------
    float
    """
    p = np.asarray(values)
    total = 0.0
    for preferred, weight in enumerate(p):
        given = (1 - consistency) * p + consistency * (np.arange(len(p)) == preferred)
        total += weight * float(np.sum(given**2))
    return total


def _render(prop: str, value_index: int, rng: np.random.Generator) -> tuple[str, str]:
    """``(value, response)``: a property value and an object-level answer that has it."""
    if prop == "is_even":
        number = int(rng.integers(1, 500)) * 2 + value_index  # 0: even, 1: odd
        return ("even" if value_index == 0 else "odd"), str(number)
    letter = LETTERS[value_index]
    suffix = "".join(rng.choice(list("aeioulmnrst"), size=int(rng.integers(3, 8))))
    return letter, (letter + suffix).capitalize()


def _runs(design: PredictionDesign) -> list[dict[str, Any]]:
    runs = []
    for n in sorted(design.accuracy["self"]):
        for r in range(design.runs_per_cell):
            self_model = f"ft:{design.base_model}:acme:self-n{n}-r{r}"
            runs.append(
                {"kind": "self", "n": n, "model": self_model, "target": self_model, "rep": r}
            )
            runs.append(
                {
                    "kind": "cross",
                    "n": n,
                    "model": f"ft:{design.cross_base_model}:acme:cross-n{n}-r{r}",
                    "target": self_model,
                    "rep": r,
                }
            )
    return runs


def draw_records(
    design: PredictionDesign, rng: np.random.Generator
) -> tuple[list[dict], dict[str, float]]:
    """Every record (one per predictor run x item x object-level sample) and run accuracies.

    Parameters
    ----------
    design : PredictionDesign
    rng : numpy.random.Generator

    Returns
    -------
    records : list of dict
        Adapter-target keys plus ``kind``.
    run_accuracy : dict of str to float
        The drawn accuracy of each predictor model.
    """
    object_level: dict[tuple, list[tuple[str, str]]] = {}
    records: list[dict] = []
    run_accuracy: dict[str, float] = {}
    for run in _runs(design):
        mu = run_logit(design.accuracy[run["kind"]][run["n"]], design.run_sd)
        p_run = float(expit(mu + design.run_sd * rng.standard_normal()))
        run_accuracy[run["model"]] = p_run
        for (task, prop), values in design.properties.items():
            probs = np.asarray(values)
            for i in range(design.items):
                key = (run["target"], task, prop, i)
                if key not in object_level:
                    preferred = int(rng.choice(len(probs), p=probs))
                    samples = []
                    for _ in range(design.samples):
                        keep = rng.random() < design.consistency
                        index = preferred if keep else int(rng.choice(len(probs), p=probs))
                        samples.append(_render(prop, index, rng))
                    object_level[key] = samples
                samples = object_level[key]
                truth_value = samples[0][0]
                if rng.random() < p_run:
                    meta = truth_value
                else:
                    others = [
                        j for j in range(len(probs)) if _render(prop, j, rng)[0] != truth_value
                    ]
                    weights = probs[others] / probs[others].sum()
                    meta = _render(prop, int(rng.choice(others, p=weights)), rng)[0]
                for s, (_, response) in enumerate(samples):
                    records.append(
                        {
                            "task": task,
                            "property": prop,
                            "object_model": run["target"],
                            "predictor_model": run["model"],
                            "object_response": response,
                            "meta_prediction": meta,
                            "item_id": f"{task}-{prop}-{i:03d}",
                            "sample_index": s,
                            "n_examples": run["n"],
                            "run_id": run["model"].rsplit(":", 1)[-1],
                            "kind": run["kind"],
                        }
                    )
    return records, run_accuracy


def _write_self(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for rec in records:
            row = {k: v for k, v in rec.items() if k != "kind"}
            handle.write(json.dumps(row) + "\n")


def _write_cross(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(CROSS_COLUMNS.values()))
        for rec in records:
            writer.writerow([rec[target] for target in CROSS_COLUMNS])


def truth_of(design: PredictionDesign, run_accuracy: dict[str, float]) -> dict[str, Any]:
    """True accuracies (per kind x size and per kind), modal baselines and ceilings.

    Parameters
    ----------
    design : PredictionDesign
    run_accuracy : dict of str to float

    Returns
    -------
    dict
        ``accuracy`` (kind -> size -> value), ``kind_accuracy`` (equal-weight average over
        sizes), ``self_minus_cross``, ``modal_baseline`` and ``ceiling`` (``task/property``
        -> value), ``run_accuracy``, ``run_sd``.
    """
    by_kind = {
        kind: float(np.mean(list(design.accuracy[kind].values()))) for kind in ("self", "cross")
    }
    return {
        "simulated": True,
        "design": DESIGN_KEY,
        "accuracy": {
            kind: {str(n): p for n, p in sorted(design.accuracy[kind].items())}
            for kind in ("self", "cross")
        },
        "kind_accuracy": by_kind,
        "self_minus_cross": by_kind["self"] - by_kind["cross"],
        "modal_baseline": {
            f"{task}/{prop}": max(values) for (task, prop), values in design.properties.items()
        },
        "ceiling": {
            f"{task}/{prop}": true_ceiling(values, design.consistency)
            for (task, prop), values in design.properties.items()
        },
        "run_accuracy": run_accuracy,
        "run_sd": design.run_sd,
    }


def simulate_prediction(
    design_path: Path,
    out_dir: Path,
    seed: int | None = None,
    manifest_out: Path | None = None,
) -> dict[str, Any]:
    """Simulate a self/cross-prediction study into ``out_dir``.

    Parameters
    ----------
    design_path : Path
        A ``design: self-cross-prediction`` file.
    out_dir : Path
        Folder of the raw files (``prediction/self.jsonl``, ``prediction/cross.csv``),
        ``truth.json`` and ``README.md``.
    seed : int, optional
        Overrides the design's seed.
    manifest_out : Path, optional
        Where to write the manifest (default ``out_dir/runs.yaml``).

    Returns
    -------
    dict
        The truth (also written to ``truth.json``).
    """
    design = load_prediction_design(design_path)
    out_dir = Path(out_dir)
    manifest_out = Path(manifest_out) if manifest_out is not None else out_dir / MANIFEST_FILE
    rng = np.random.default_rng(design.seed if seed is None else seed)
    records, run_accuracy = draw_records(design, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_self([r for r in records if r["kind"] == "self"], out_dir / SELF_FILE)
    _write_cross([r for r in records if r["kind"] == "cross"], out_dir / CROSS_FILE)
    truth = truth_of(design, run_accuracy)
    truth["files"] = [SELF_FILE, CROSS_FILE]
    truth["seed"] = design.seed if seed is None else seed
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    (out_dir / README_FILE).write_text(
        f"# Simulated data ({design.name})\n\nSelf- vs cross-prediction records drawn by "
        "`stats.simulate.prediction` with known accuracies; see truth.json.\n",
        encoding="utf-8",
    )
    manifest_out.parent.mkdir(parents=True, exist_ok=True)
    root = os.path.relpath(out_dir.resolve(), manifest_out.resolve().parent)
    manifest = {
        "root": root,
        "study": {
            "name": design.name,
            "simulated": True,
            "design": design.path.as_posix(),
            "truth": (out_dir / TRUTH_FILE).as_posix(),
        },
        "files": [
            {"path": SELF_FILE, "format": "looking-inward"},
            {"path": CROSS_FILE, "format": "looking-inward", "columns": CROSS_COLUMNS},
        ],
    }
    manifest_out.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return truth
