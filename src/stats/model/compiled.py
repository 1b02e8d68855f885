"""One built and compiled model per model structure, reused by every fit of that structure.

A study's fits share structures: M1 on the primary outcome and on an extra outcome (same
cells, other counts), and each model at the prior scales of the sensitivity refits (same
terms, every prior scale multiplied by one factor). :class:`CompiledModels` builds a model
once with its counts in data containers and every prior scale multiplied by the shared
variable :data:`PRIOR_FACTOR`, compiles it once (nutpie: ``compile_pymc_model``; PyMC's
NUTS: the step's log density and gradient) and samples each later fit of the structure by
setting the counts and the factor (nutpie's ``with_data``; ``pm.set_data`` and the shared
variable for PyMC). The draws are those of a model built for the fit alone, up to floating
point (tested: same log density and gradient).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stats.model.design import ModelData
from stats.model.sample import Sampler, SamplerSettings
from stats.model.spec import ModelSpec

#: Name of the shared scalar that multiplies every prior scale of a compiled structure.
PRIOR_FACTOR = "prior_factor"


def design_key(data: ModelData) -> str:
    """Hash of the cells' coding without their counts (what a compiled model holds fixed)."""
    digest = hashlib.sha256(data.model.encode())
    digest.update(json.dumps(data.coords, sort_keys=True, default=str).encode())
    for part in (data.rows.inputs, data.rows.index):
        for name in sorted(part):
            values = part[name]
            digest.update(name.encode())
            digest.update(b"-" if values is None else np.ascontiguousarray(values).tobytes())
    digest.update(data.cells.drop(columns=_count_columns(data)).to_csv(index=False).encode())
    return digest.hexdigest()


def _count_columns(data: ModelData) -> list[str]:
    names = ("successes", "trials") if data.model == "M1" else ("events", "at_risk")
    return [name for name in names if name in data.cells]


@dataclass
class _Entry:
    spec: ModelSpec
    design: str
    backend: str
    sampler: Sampler

    def factor_for(self, spec: ModelSpec) -> float | None:
        """The prior factor that turns this structure into ``spec``, or None if none does."""
        factor = spec.prior_scale / self.spec.prior_scale
        same = replace(self.spec.scaled(factor), outcome=spec.outcome) == spec
        return factor if same else None


class CompiledModels:
    """Compiled models of a stage's fits, one per structure (see the module docstring)."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        #: Models built and compiled (for progress and benchmarks).
        self.compiled = 0

    def sampler(
        self, spec: ModelSpec, data: ModelData, settings: SamplerSettings
    ) -> tuple[Sampler, dict[str, Any]]:
        """A sampler for ``spec`` on ``data`` and the values that :meth:`Sampler.draw` sets."""
        from stats.model.build import N_DATA, Y_DATA

        design = design_key(data)
        values: dict[str, Any] = {
            Y_DATA: np.asarray(data.y, dtype="float64"),
            N_DATA: np.asarray(data.n, dtype="float64"),
        }
        for entry in self.entries:
            if entry.design != design or entry.backend != _backend(settings):
                continue
            factor = entry.factor_for(spec)
            if factor is not None:
                return entry.sampler, values | {PRIOR_FACTOR: np.asarray(factor)}
        entry = _Entry(spec, design, _backend(settings), build_scalable(spec, data, settings))
        self.entries.append(entry)
        self.compiled += 1
        return entry.sampler, values | {PRIOR_FACTOR: np.asarray(1.0)}


def _backend(settings: SamplerSettings) -> str:
    return f"{settings.backend}-{settings.mass_matrix}"


def build_scalable(spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> Sampler:
    """``spec`` built with mutable counts and every prior scale times :data:`PRIOR_FACTOR`."""
    import pytensor

    from stats.model.build import build_model

    factor = pytensor.shared(np.asarray(1.0), name=PRIOR_FACTOR)
    model = build_model(spec.scaled(factor), data, mutable_counts=True)
    return Sampler(model, settings, shared={PRIOR_FACTOR: factor})
