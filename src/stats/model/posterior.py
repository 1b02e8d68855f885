"""Posterior draws as arrays: which quantities a fit keeps, stacked over chains."""

from __future__ import annotations

from typing import Any

import numpy as np

from stats.model.spec import ModelSpec


def posterior_arrays(idata: Any, names: list[str]) -> tuple[dict[str, np.ndarray], int]:
    """Draws stacked over chains from a DataTree's ``posterior`` group."""
    posterior = idata["posterior"]
    out = {}
    chains = 0
    for name in names:
        values = np.asarray(posterior[name].values)
        chains = values.shape[0]
        out[name] = values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])
    return out, chains


def posterior_names(spec: ModelSpec) -> list[str]:
    """Every named quantity kept from a posterior: free parameters and effects."""
    return spec.posterior_names()
