"""A dense mass matrix for PyMC's NUTS whose estimate is shrunk toward its diagonal.

Imported only when PyMC samples (it imports PyMC).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pymc.step_methods.hmc.quadpotential import QuadPotentialFullAdapt
from scipy import linalg


class ShrunkFullAdapt(QuadPotentialFullAdapt):
    """PyMC's dense mass-matrix adaptation, each estimate shrunk toward its diagonal.

    PyMC takes the raw covariance of the current window's draws. While a window holds
    fewer draws than there are parameters (its first window has 101 draws; M1 with 32
    runs per word has about 170 parameters) that estimate is singular or nearly so: some
    directions get a tiny scale, the sampler creeps along them and the next windows
    learn the same error (measured: 140-200 s against 9-12 s with a diagonal mass
    matrix). Shrinking by ``p / (n + p)`` toward the diagonal of the same estimate
    (:func:`shrunk`) keeps every variance and keeps the strong correlations that a
    dense matrix is for (those between group SDs and their effects) once ``n >> p``.
    Parameters are those of :class:`pymc.step_methods.hmc.quadpotential.QuadPotentialFullAdapt`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            # "experimental feature": the adaptation is PyMC's own and every fit is gated
            warnings.filterwarnings("ignore", "QuadPotentialFullAdapt", UserWarning)
            super().__init__(*args, **kwargs)

    def _update_from_weightvar(self, weightvar: Any) -> None:
        weightvar.current_covariance(out=self._cov)
        self._cov[:] = shrunk(self._cov, float(weightvar.n_samples))
        try:
            self._chol = linalg.cholesky(self._cov, lower=True)
        except (linalg.LinAlgError, ValueError) as error:
            self._chol_error = error


def shrunk(cov: np.ndarray, n: float) -> np.ndarray:
    """``(1 - w) * cov + w * diag(cov)`` with ``w = p / (n + p)``, for ``n`` draws of ``p`` values.

    Positive definite whenever the variances are positive, whatever ``n``; the
    correlations are scaled by ``1 - w``.
    """
    p = cov.shape[0]
    weight = p / (n + p)
    out = cov * (1.0 - weight)
    out[np.diag_indices_from(out)] = np.diag(cov)
    return out
