"""Draws from the prior with NumPy: every parameter of a spec, a prior-draw "posterior", log prior.

* :func:`draw_prior` draws every parameter of a spec from its prior, each term drawing its
  own (:meth:`stats.model.terms.Term.draw`): an implementation independent of the PyMC
  builder, which simulation-based calibration checks;
* :func:`prior_idata` stands in for NUTS in unit tests (a sampler-shaped DataTree of iid
  prior draws);
* :func:`prior_log_density` is the log prior that power-scaling sensitivity scales.
"""

from __future__ import annotations

import numpy as np

from stats.model.design import ModelData
from stats.model.spec import ModelSpec


def draw_prior(
    spec: ModelSpec, data: ModelData, rng: np.random.Generator, draws: int = 1
) -> dict[str, np.ndarray]:
    """Draw all parameters of ``spec`` from the prior.

    Parameters
    ----------
    spec : ModelSpec
    data : ModelData
        Supplies the dimension labels (and within-group centring of prompt effects).
    rng : numpy.random.Generator
    draws : int, default 1

    Returns
    -------
    dict of str to ndarray
        Effects by term name (``(draws,)`` or ``(draws, levels)``) plus the standard
        deviations (``sd_word``, ...) and random-walk starts and steps, each term drawn by
        :meth:`stats.model.terms.Term.draw` (group effects are ``sd * z`` with ``z``
        centred over levels when the term is zero-sum, as the PyMC builder defines them).
    """
    out: dict[str, np.ndarray] = {}
    for term in spec.terms:
        out |= term.draw(rng, draws, data)
    return out


def prior_idata(spec: ModelSpec, data: ModelData, chains: int, draws: int, seed: int) -> object:
    """A sampler-shaped DataTree whose "posterior" is iid prior draws (NumPy).

    Lets unit tests run the whole pipeline in seconds by standing in for NUTS (bambi's
    trick of replacing sampling by prior draws): every gate passes (iid draws), and the
    tables have the right shapes and labels.
    """
    import xarray as xr

    from stats.model.build import model_coords

    rng = np.random.default_rng(seed)
    params = draw_prior(spec, data, rng, chains * draws)
    for term in spec.terms:  # raw z's and 'around' levels: every free parameter exists
        params |= term.derived_free(spec, params)
    dims = spec.variable_dims()
    variables = {
        name: (
            ["chain", "draw", *dims.get(name, ())],
            values.reshape(chains, draws, *values.shape[1:]),
        )
        for name, values in params.items()
    }
    coords = model_coords(spec, data)
    posterior = xr.Dataset(
        variables,
        coords={"chain": np.arange(chains), "draw": np.arange(draws)}
        | {k: v for k, v in coords.items() if k != "cell"},
    )
    stats = xr.Dataset(
        {
            "diverging": (["chain", "draw"], np.zeros((chains, draws), dtype=bool)),
            "energy": (["chain", "draw"], rng.normal(size=(chains, draws))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def prior_log_density(spec: ModelSpec, params: dict[str, np.ndarray]) -> np.ndarray:
    """Log density, per draw, of the priors that the spec's scales set.

    Intercept, slopes, contrasts, group standard deviations, locations of positive
    group terms, fixed-scale group effects and random-walk start and steps
    (:meth:`stats.model.terms.Term.add_log_prior`). Standardised ``z`` and group effects
    of a learnt sd are left out: their density depends on parameters, not on the spec,
    so it cancels in a ratio of two specs (prior-sensitivity power-scaling).
    """
    total = np.zeros(len(next(iter(params.values()))))
    for term in spec.terms:
        total = term.add_log_prior(total, params)
    return total
