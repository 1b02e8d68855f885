"""Pointwise log-likelihood of the cells and PSIS-LOO over them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaln

from stats import config
from stats.model.design import ModelData
from stats.model.posterior import posterior_arrays, posterior_names
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.spec import ModelSpec

if TYPE_CHECKING:
    pass


def pointwise_loglik(eta: np.ndarray, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood of each cell under each draw (``eta``: ``(S, cells)`` logits)."""
    const = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    return y * eta - n * np.logaddexp(0.0, eta) + const


def loo_diagnostics(idata: Any, spec: ModelSpec, data: ModelData) -> dict[str, Any]:
    """PSIS-LOO over cells: ``elpd_loo, pareto_k_max, n_pareto_k_bad`` (k > PARETO_K_WARN)."""
    import warnings

    import arviz as az
    import xarray as xr

    posterior, chains = posterior_arrays(idata, posterior_names(spec))
    eta = linear_predictor(spec, posterior, data.rows, DRAWS)
    observed = data.n > 0
    ll = pointwise_loglik(eta[:, observed], data.y[observed], data.n[observed])
    ll = ll.reshape(chains, -1, ll.shape[-1])
    tree = xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"dummy": (("chain", "draw"), np.zeros(ll.shape[:2]))}),
            "log_likelihood": xr.Dataset({"y": (("chain", "draw", "cell"), ll)}),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(tree, pointwise=True)
    k = np.asarray(loo.pareto_k.values if hasattr(loo.pareto_k, "values") else loo.pareto_k)
    return {
        "elpd_loo": float(loo.elpd),
        "pareto_k_max": float(np.nanmax(k)),
        "n_pareto_k_bad": int((k > config.PARETO_K_WARN).sum()),
    }
