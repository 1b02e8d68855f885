"""PyMC backend: a :class:`~stats.model.spec.ModelSpec` plus coded cells -> ``pm.Model``.

Every dimension is named (``word``, ``run``, ``prompt``, ``arm``, ``line``, ``cell``).
Each term builds its own variables (:meth:`stats.model.terms.Term.build`) through the
:class:`Builder` it is handed, which holds PyMC, the data and the variables built so far;
the terms themselves never import PyMC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from stats.model.design import ModelData
from stats.model.predictor import GRAPH, linear_predictor
from stats.model.spec import ModelSpec
from stats.model.terms.base import PYMC_DISTRIBUTIONS, Prior

#: Name of the likelihood potential in the PyMC model.
LOGLIK = "loglik"
#: Names of the count containers of a model built with ``mutable_counts``.
Y_DATA, N_DATA = "y_cells", "n_cells"


@dataclass
class Builder:
    """What a term needs to build its PyMC variables (inside the model's context).

    Attributes
    ----------
    spec : ModelSpec
    data : ModelData
    params : dict
        Variables built so far, by name (a term reads those of earlier terms).
    pm, pt : module
        PyMC and ``pytensor.tensor``.
    """

    spec: ModelSpec
    data: ModelData
    params: dict[str, Any] = field(default_factory=dict)
    pm: Any = pm
    pt: Any = pt

    def prior(self, name: str, prior: Prior, dims: str | None = None) -> Any:
        """A PyMC random variable called ``name`` with the distribution ``prior``."""
        distribution = getattr(pm, PYMC_DISTRIBUTIONS[prior.kind])
        return distribution(name, **prior.pymc_arguments(), dims=dims)

    def levels(self, dim: str) -> int:
        """Number of levels of a dimension."""
        return len(self.data.coords[dim])


def model_coords(spec: ModelSpec, data: ModelData) -> dict[str, list]:
    """Coordinates the model needs (only dimensions used by its terms, plus ``cell``)."""
    coords = {"cell": data.coords["cell"]}
    for term in spec.terms:
        coords |= term.coords(data.coords)
    return coords


def build_model(spec: ModelSpec, data: ModelData, *, mutable_counts: bool = False) -> pm.Model:
    """The PyMC model of ``spec`` on ``data``.

    Parameters
    ----------
    spec : ModelSpec
    data : ModelData
        Cells coded by :func:`stats.model.design.m1_data` / :func:`~stats.model.design.m2_data`.
    mutable_counts : bool, default False
        Hold the counts in ``pm.Data`` containers :data:`Y_DATA`, :data:`N_DATA`, so that
        simulation studies swap in new counts without rebuilding (nutpie's ``with_data``).

    Returns
    -------
    pm.Model
        The binomial likelihood of the cells enters as the potential ``loglik``; the
        linear predictor is not stored (NumPy code recomputes any prediction, the
        pointwise log-likelihood and replicated data from the parameters).
    """
    if spec.name != data.model:
        raise ValueError(f"spec {spec.name} does not match data coded for {data.model}")
    y = np.asarray(data.y, dtype="float64")
    n = np.asarray(data.n, dtype="float64")
    with pm.Model(coords=model_coords(spec, data)) as model:
        if mutable_counts:
            y = pm.Data(Y_DATA, y, dims="cell")
            n = pm.Data(N_DATA, n, dims="cell")
        builder = Builder(spec, data)
        absorbed = spec.absorbed()
        for term in spec.terms:
            if term.name not in absorbed:  # built by the term that absorbs it
                builder.params |= term.build(builder)
        eta = linear_predictor(spec, builder.params, data.rows, GRAPH)
        # Binomial log-likelihood up to a constant, written directly: PyMC's Binomial
        # logp carries bound checks and log-binomial terms that made each gradient
        # 3-4x slower here (measured); LOO adds the constant back in NumPy.
        pm.Potential(LOGLIK, pt.sum(y * eta - n * pt.softplus(eta)))
    return model
