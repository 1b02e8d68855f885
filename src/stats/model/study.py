"""The study spec (``analysis/study.yaml``): model choices as data, validated early.

Every key is optional; :data:`DEFAULTS` lists them with their defaults (from
:mod:`stats.config`). Unknown keys fail with the list of valid ones.

.. code-block:: yaml

    outcome: articulated_early    # primary outcome of M1 and the verdicts
    extra_outcomes: [follows_pattern, articulated]   # further M1 fits (curves, rates)
    k: 2                          # "early" = letters_visible <= k (M2 and person-period)
    rope: 0.05                    # |Delta| below this is practically zero
    ci_prob: 0.95                 # HDI probability of the verdicts
    prior_scale: 1.0              # multiplier of every prior scale
    models: [M1, M2]              # M2 joins the verdict when it can be identified
    sensitivity: [0.5, 2.0]       # prior scales reported in sensitivity.csv
    sensitivity_method: auto      # auto: PSIS-reweight the posterior when Pareto k <= 0.7,
                                  # refit otherwise; refit: always refit
    sampler: {draws: 1000, tune: 1000, chains: 4, target_accept: 0.95, seed: 20261122,
              backend: auto, retries: 1, mass_matrix: diag}
                                           # retries: refits after a missed gate, each with
                                           # twice the draws (target_accept 0.99 after
                                           # divergences); every attempt is reported
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stats import config
from stats.model.fit import BACKENDS, MASS_MATRICES, SamplerSettings
from stats.model.spec import MODEL_NAMES, OUTCOMES

DEFAULTS: dict[str, Any] = {
    "outcome": "articulated_early",
    "extra_outcomes": ["follows_pattern"],
    "k": config.EARLY_K,
    "rope": config.ROPE,
    "ci_prob": config.CI_PROB,
    "prior_scale": 1.0,
    "models": ["M1", "M2"],
    "sensitivity": [0.5, 2.0],
    "sensitivity_method": "auto",
    "sampler": {
        "draws": config.DRAWS,
        "tune": config.TUNE,
        "chains": config.CHAINS,
        "target_accept": config.TARGET_ACCEPT,
        "seed": config.SEED,
        "backend": "auto",
        "retries": config.RETRIES,
        "mass_matrix": config.MASS_MATRIX,
    },
}


SENSITIVITY_METHODS = ("auto", "refit")


class StudyError(ValueError):
    """The study spec is invalid; the message names the file, the key and the valid values."""


@dataclass(frozen=True)
class Study:
    """A validated study spec (see the module docstring for the keys)."""

    outcome: str
    extra_outcomes: tuple[str, ...]
    k: int
    rope: float
    ci_prob: float
    prior_scale: float
    models: tuple[str, ...]
    sensitivity: tuple[float, ...]
    sampler: SamplerSettings
    sensitivity_method: str = "auto"
    source: str = "(defaults)"


def _fail(source: str, key: str, message: str) -> StudyError:
    return StudyError(f"{source}: {key}: {message}")


def _unknown(source: str, where: str, given: dict, valid: dict) -> None:
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise _fail(source, where, f"unknown key(s) {unknown}; valid keys: {sorted(valid)}")


def _number(source: str, key: str, value: Any, low: float, high: float, *, integer=False):
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise _fail(source, key, f"must be {kind} in [{low}, {high}], got {value!r}")
    return int(value) if integer else float(value)


def parse_study(raw: dict[str, Any] | None, source: str = "(dict)") -> Study:
    """Validate a study mapping and fill defaults.

    Parameters
    ----------
    raw : dict or None
        Parsed YAML (``None`` = all defaults).
    source : str
        Name used in error messages (the file path).

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        Naming the file, the key and the valid keys or values.
    """
    raw = dict(raw or {})
    if not isinstance(raw, dict):
        raise StudyError(f"{source}: the study spec must be a mapping, got {type(raw).__name__}")
    _unknown(source, "(top level)", raw, DEFAULTS)
    merged = {**DEFAULTS, **raw}
    sampler_raw = raw.get("sampler") or {}
    if not isinstance(sampler_raw, dict):
        raise _fail(source, "sampler", "must be a mapping")
    _unknown(source, "sampler", sampler_raw, DEFAULTS["sampler"])
    sampler = {**DEFAULTS["sampler"], **sampler_raw}

    outcome = merged["outcome"]
    if outcome not in OUTCOMES:
        raise _fail(source, "outcome", f"{outcome!r} is not one of {list(OUTCOMES)}")
    extra = merged["extra_outcomes"] or []
    if not isinstance(extra, list) or any(o not in OUTCOMES for o in extra):
        raise _fail(source, "extra_outcomes", f"must be a list of {list(OUTCOMES)}, got {extra!r}")
    models = merged["models"]
    if not isinstance(models, list) or not models or any(m not in MODEL_NAMES for m in models):
        raise _fail(source, "models", f"must be a non-empty list of {list(MODEL_NAMES)}")
    if "M1" not in models:
        raise _fail(source, "models", "M1 is required (the verdicts' Delta comes from it)")
    scales = merged["sensitivity"] or []
    if not isinstance(scales, list):
        raise _fail(
            source, "sensitivity", f"must be a list of prior-scale multipliers, got {scales!r}"
        )
    scales = [_number(source, "sensitivity", s, 0.01, 100) for s in scales]
    method = merged["sensitivity_method"]
    if method not in SENSITIVITY_METHODS:
        raise _fail(
            source, "sensitivity_method", f"{method!r} is not one of {list(SENSITIVITY_METHODS)}"
        )
    if sampler["backend"] not in BACKENDS:
        raise _fail(
            source, "sampler.backend", f"{sampler['backend']!r} is not one of {list(BACKENDS)}"
        )
    if sampler["mass_matrix"] not in MASS_MATRICES:
        raise _fail(
            source,
            "sampler.mass_matrix",
            f"{sampler['mass_matrix']!r} is not one of {list(MASS_MATRICES)}",
        )
    settings = SamplerSettings(
        draws=_number(source, "sampler.draws", sampler["draws"], 1, 1e6, integer=True),
        tune=_number(source, "sampler.tune", sampler["tune"], 1, 1e6, integer=True),
        chains=_number(source, "sampler.chains", sampler["chains"], 1, 64, integer=True),
        target_accept=_number(
            source, "sampler.target_accept", sampler["target_accept"], 0.5, 0.999
        ),
        seed=_number(source, "sampler.seed", sampler["seed"], 0, 2**32 - 1, integer=True),
        backend=sampler["backend"],
        retries=_number(source, "sampler.retries", sampler["retries"], 0, 5, integer=True),
        mass_matrix=sampler["mass_matrix"],
    )
    return Study(
        outcome=outcome,
        extra_outcomes=tuple(o for o in dict.fromkeys(extra) if o != outcome),
        k=_number(source, "k", merged["k"], 1, 100, integer=True),
        rope=_number(source, "rope", merged["rope"], 0.0, 1.0),
        ci_prob=_number(source, "ci_prob", merged["ci_prob"], 0.5, 0.999),
        prior_scale=_number(source, "prior_scale", merged["prior_scale"], 0.01, 100),
        models=tuple(dict.fromkeys(models)),
        sensitivity=tuple(scales),
        sampler=settings,
        sensitivity_method=method,
        source=source,
    )


def load_study(path: Path | None) -> Study:
    """Read and validate a study YAML file (``None``: the defaults)."""
    if path is None:
        return parse_study(None)
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise StudyError(f"{path}: not valid YAML: {err}") from err
    if raw is not None and not isinstance(raw, dict):
        raise StudyError(f"{path}: the study spec must be a mapping, got {type(raw).__name__}")
    return parse_study(raw, str(path))
