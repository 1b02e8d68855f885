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
    sensitivity_method: auto      # auto: refit at the sensitivity scales only the models
                                  # whose verdict estimands power-scaling flags as prior-
                                  # sensitive (stats.model.sensitivity); refit: always
    sampler: {draws: 2000, tune: 500, chains: 4, target_accept: 0.95, seed: 20261122,
              backend: auto, retries: 1, mass_matrix: diag,
              per_model: {}}
                                           # retries: refits after a missed gate, each with
                                           # twice the draws (target_accept 0.99 after
                                           # divergences); every attempt is reported.
                                           # per_model: changes for every fit of one model
                                           # (main, extra outcomes, sensitivity refits), e.g.
                                           # {M1: {mass_matrix: dense, tune: 500}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stats import config
from stats.model.sample import BACKENDS, MASS_MATRICES, SamplerSettings
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
        "per_model": {},
    },
}


SENSITIVITY_METHODS = ("auto", "refit")
#: Keys a ``sampler.per_model`` entry may change (all sampler keys but ``per_model``).
_SETTING_KEYS = {k: v for k, v in DEFAULTS["sampler"].items() if k != "per_model"}


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
    per_model: dict[str, SamplerSettings] = field(default_factory=dict)

    def sampler_for(self, model: str) -> SamplerSettings:
        """Settings of every fit of ``model`` (``"M1"``, ``"M2"``): ``sampler`` with the
        changes of ``sampler.per_model[model]``."""
        if model not in MODEL_NAMES:
            raise ValueError(f"unknown model {model!r}; valid: {list(MODEL_NAMES)}")
        return self.per_model.get(model, self.sampler)


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
    settings = _sampler_settings(source, "sampler", sampler)
    per_model_raw = sampler["per_model"] or {}
    if not isinstance(per_model_raw, dict):
        raise _fail(source, "sampler.per_model", "must be a mapping of model name to settings")
    per_model = {}
    for model, changes in per_model_raw.items():
        key = f"sampler.per_model.{model}"
        if model not in MODEL_NAMES:
            raise _fail(source, key, f"{model!r} is not one of {list(MODEL_NAMES)}")
        if not isinstance(changes, dict):
            raise _fail(source, key, "must be a mapping of sampler settings")
        _unknown(source, key, changes, _SETTING_KEYS)
        per_model[model] = _sampler_settings(source, key, {**sampler, **changes})
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
        per_model=per_model,
    )


def _sampler_settings(source: str, key: str, values: dict[str, Any]) -> SamplerSettings:
    """Validated sampler settings; ``key`` (``sampler`` or ``sampler.per_model.M1``) names
    them in errors."""
    if values["backend"] not in BACKENDS:
        raise _fail(
            source, f"{key}.backend", f"{values['backend']!r} is not one of {list(BACKENDS)}"
        )
    if values["mass_matrix"] not in MASS_MATRICES:
        raise _fail(
            source,
            f"{key}.mass_matrix",
            f"{values['mass_matrix']!r} is not one of {list(MASS_MATRICES)}",
        )
    return SamplerSettings(
        draws=_number(source, f"{key}.draws", values["draws"], 1, 1e6, integer=True),
        tune=_number(source, f"{key}.tune", values["tune"], 1, 1e6, integer=True),
        chains=_number(source, f"{key}.chains", values["chains"], 1, 64, integer=True),
        target_accept=_number(source, f"{key}.target_accept", values["target_accept"], 0.5, 0.999),
        seed=_number(source, f"{key}.seed", values["seed"], 0, 2**32 - 1, integer=True),
        backend=values["backend"],
        retries=_number(source, f"{key}.retries", values["retries"], 0, 5, integer=True),
        mass_matrix=values["mass_matrix"],
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
