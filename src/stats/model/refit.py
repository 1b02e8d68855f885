"""Refits of one spec on new counts of the same cells, for simulation studies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from stats.model.design import ModelData
from stats.model.diagnostics import Gates
from stats.model.fit import Fit
from stats.model.posterior import posterior_arrays, posterior_names
from stats.model.sample import Sampler, SamplerSettings, sample_gated
from stats.model.spec import ModelSpec


class Refitter:
    """Sample one spec again and again on new counts of the same cells.

    For simulation studies (operating characteristics, SBC): the model is built once with
    mutable counts and, with nutpie, compiled once (``with_data`` swaps the counts); with
    PyMC's NUTS the counts are set with ``pm.set_data``. Every fit gets the same gates.

    Parameters
    ----------
    spec : ModelSpec
        Fixed for all refits (including its centred/non-centred choices).
    data : ModelData
        The cells' coding; counts are replaced per fit.
    settings : SamplerSettings
    """

    def __init__(self, spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> None:
        from stats.model.build import build_model

        self.spec, self.data, self.settings = spec, data, settings
        self.model = build_model(spec, data, mutable_counts=True)
        self.sampler = Sampler(self.model, settings)

    def fit(
        self,
        y: np.ndarray,
        n: np.ndarray,
        seed: int,
        name: str | None = None,
        gates: Gates = Gates(),
    ) -> Fit:
        """Sample on counts ``y`` of ``n`` (first attempt seeded ``seed``) and gate the fit."""
        from stats.model.build import N_DATA, Y_DATA
        from stats.model.synthetic import with_counts

        data = with_counts(self.data, y, n)
        counts = {Y_DATA: np.asarray(y, dtype="float64"), N_DATA: np.asarray(n, dtype="float64")}
        idata, diagnostics = sample_gated(
            lambda s: self.sampler.draw(s, s.seed, counts),
            self.spec,
            data,
            replace(self.settings, seed=seed),
            gates,
        )
        diagnostics["sampler"] = self.sampler.name
        posterior, chains = posterior_arrays(idata, posterior_names(self.spec))
        return Fit(
            name or self.spec.name,
            self.spec,
            data,
            posterior,
            chains,
            diagnostics,
            f"refit-{seed}",
            sampler=self.sampler.name,
        )
