"""PyMC backend: a :class:`~stats.model.spec.ModelSpec` plus coded cells -> ``pm.Model``.

Every dimension is named (``word``, ``run``, ``prompt``, ``arm``, ``line``, ``cell``);
group effects are non-centred (``sd * z``) with zero-sum ``z`` for word-level terms,
except terms the spec marks ``centred`` (every level pinned by its own data, where the
non-centred form makes a curved ridge); the line intercepts of M2 are a Gaussian random
walk with a fixed step scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from stats.model.design import ModelData
from stats.model.predictor import GRAPH, linear_predictor
from stats.model.spec import ModelSpec, Prior, Term, level_name, z_name

#: Name of the likelihood potential in the PyMC model.
LOGLIK = "loglik"
#: Names of the count containers of a model built with ``mutable_counts``.
Y_DATA, N_DATA = "y_cells", "n_cells"


def _prior(name: str, prior: Prior, dims: str | None = None) -> Any:
    if prior.kind == "normal":
        return pm.Normal(name, mu=prior.mu, sigma=prior.sigma, dims=dims)
    if prior.kind == "halfnormal":
        return pm.HalfNormal(name, sigma=prior.sigma, dims=dims)
    raise ValueError(f"unknown prior kind {prior.kind!r}; valid: ['normal', 'halfnormal']")


def _term_value(term: Term, data: ModelData) -> Any:
    if term.kind in ("intercept", "slope"):
        return _prior(term.name, term.prior)
    if term.kind == "contrast":
        return _prior(term.name, term.prior, dims=term.input)
    if term.kind == "group" and term.link == "softplus":
        return _softplus_group(term, data)
    if term.kind == "group" and term.sd_fixed is not None:
        if term.zero_sum:
            return pm.ZeroSumNormal(term.name, sigma=term.sd_fixed, dims=term.input)
        return pm.Normal(term.name, 0.0, term.sd_fixed, dims=term.input)
    if term.kind == "group":
        sd = _prior(term.sd_name, term.sd_prior)
        if term.centred:
            if term.zero_sum:
                return pm.ZeroSumNormal(term.name, sigma=sd, dims=term.input)
            return pm.Normal(term.name, 0.0, sd, dims=term.input)
        if term.zero_sum:
            z = pm.ZeroSumNormal(z_name(term), sigma=1.0, dims=term.input)
        else:
            z = pm.Normal(z_name(term), 0.0, 1.0, dims=term.input)
        if term.zero_sum_within:
            # iid effects centred within groups; the removed directions of z are pure prior
            z = pt.dot(data.centring_matrix(term.input, term.zero_sum_within), z)
        return pm.Deterministic(term.name, sd * z, dims=term.input)
    if term.kind == "random_walk":
        raise ValueError("random walks are built by _random_walk")
    raise ValueError(f"unknown term kind {term.kind!r}")


def _softplus_group(term: Term, data: ModelData) -> Any:
    """Positive effects ``softplus(loc + sd * z)`` (non-centred; ``z`` zero-sum when set).

    With a fixed ``sd_fixed`` of 0 (one level) the effect is ``softplus(loc)``.
    """
    loc = _prior(term.loc_name, term.loc_prior)
    levels = len(data.coords[term.input])
    if term.sd_free:
        sd = _prior(term.sd_name, term.sd_prior)
        if term.zero_sum:
            z = pm.ZeroSumNormal(z_name(term), sigma=1.0, dims=term.input)
        else:
            z = pm.Normal(z_name(term), 0.0, 1.0, dims=term.input)
        inner = loc + sd * z
    else:
        inner = loc + pt.zeros(levels)
    return pm.Deterministic(term.name, pt.softplus(inner), dims=term.input)


def _is_around(spec: ModelSpec, term: Term) -> bool:
    """Whether ``term`` is the slope some group term deviates around (sampled with it)."""
    return any(t.around == term.name for t in spec.terms)


def level_base(spec: ModelSpec, term: Term, params: dict[str, Any], draws: bool = False) -> Any:
    """What a term with ``around`` adds its totals to: intercept + plain effect over its input.

    ``params`` are PyMC variables, or NumPy draws with ``draws=True`` (``(S,)`` intercepts,
    ``(S, levels)`` effects).
    """
    base: Any = 0.0
    for other in spec.terms:
        if other.kind == "intercept":
            value = params[other.name]
            base = base + (value[:, None] if draws else value)
        elif other.kind == "group" and other.input == term.input and other.multiplier is None:
            base = base + params[other.name]
    return base


def _levels(
    spec: ModelSpec, term: Term, slope: Term, data: ModelData, params: dict
) -> dict[str, Any]:
    """Slope + zero-sum effects sampled as per-level levels (see ``Term.around``).

    With ``b ~ Normal(mu, sb)`` and ``g ~ ZeroSumNormal(sg)`` over ``W`` levels, the
    totals ``t = b + g`` are ``MvNormal(mu, sb^2 J + sg^2 (I - J / W))`` (``J`` all
    ones); the levels are ``base + t`` given the base, and ``b = mean(t)``,
    ``g = t - mean(t)`` recover both exactly.
    """
    if not (term.zero_sum and term.sd_fixed is not None and slope.kind == "slope"):
        raise ValueError(f"{term.name}: 'around' needs a zero-sum fixed-sd term and a slope")
    if slope.prior.kind != "normal":
        raise ValueError(f"{slope.name}: 'around' needs a normal prior")
    levels = len(data.coords[term.input])
    ones = np.ones((levels, levels))
    cov = slope.prior.sigma**2 * ones + term.sd_fixed**2 * (np.eye(levels) - ones / levels)
    base = level_base(spec, term, params) + pt.zeros(levels)
    level = pm.MvNormal(level_name(term), mu=base + slope.prior.mu, cov=cov, dims=term.input)
    total = level - base
    mean = total.mean()
    return {
        slope.name: pm.Deterministic(slope.name, mean),
        term.name: pm.Deterministic(term.name, total - mean, dims=term.input),
    }


def _random_walk(term: Term, data: ModelData) -> Any:
    """The Gaussian random walk over lines: a start and fixed-scale steps."""
    lines = len(data.coords[term.input])
    start = _prior(f"{term.name}_start", term.prior)
    if lines == 1:
        return pm.Deterministic(term.name, pt.stack([start]), dims=term.input)
    steps = _prior(f"{term.name}_step", term.step, dims=f"{term.input}_step")
    walk = pt.concatenate([pt.stack([start]), start + pt.cumsum(steps)])
    return pm.Deterministic(term.name, walk, dims=term.input)


def model_coords(spec: ModelSpec, data: ModelData) -> dict[str, list]:
    """Coordinates the model needs (only dimensions used by its terms, plus ``cell``)."""
    coords = {"cell": data.coords["cell"]}
    for term in spec.terms:
        if term.kind in ("contrast", "group", "random_walk"):
            coords[term.input] = data.coords[term.input]
        if term.kind == "random_walk" and len(data.coords[term.input]) > 1:
            coords[f"{term.input}_step"] = data.coords[term.input][1:]
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
        params: dict[str, Any] = {}
        for term in spec.terms:
            if term.around:
                params |= _levels(spec, term, spec.term(term.around), data, params)
            elif term.kind == "random_walk":
                params[term.name] = _random_walk(term, data)
            elif not _is_around(spec, term):
                params[term.name] = _term_value(term, data)
        eta = linear_predictor(spec, params, data.rows, GRAPH)
        # Binomial log-likelihood up to a constant, written directly: PyMC's Binomial
        # logp carries bound checks and log-binomial terms that made each gradient
        # 3-4x slower here (measured); LOO adds the constant back in NumPy.
        pm.Potential(LOGLIK, pt.sum(y * eta - n * pt.softplus(eta)))
    return model


def free_parameter_names(spec: ModelSpec) -> list[str]:
    """Names of the sampled (free) variables of ``spec``, as in the posterior."""
    names: list[str] = []
    for term in spec.terms:
        if _is_around(spec, term):
            continue
        if term.kind in ("intercept", "slope", "contrast"):
            names.append(term.name)
        elif term.around:
            names.append(level_name(term))
        elif term.kind == "group" and term.link == "softplus":
            names += [term.loc_name] + ([term.sd_name, z_name(term)] if term.sd_free else [])
        elif term.kind == "group" and not term.sd_free:
            names.append(term.name)
        elif term.kind == "group":
            names += [term.sd_name, term.name if term.centred else z_name(term)]
        elif term.kind == "random_walk":
            names += [f"{term.name}_start", f"{term.name}_step"]
    return names


def summary_parameter_names(spec: ModelSpec) -> list[str]:
    """Interpretable parameters reported in coefficient tables (no raw ``z``)."""
    names: list[str] = []
    for term in spec.terms:
        if term.kind in ("intercept", "slope", "contrast"):
            names.append(term.name)
        elif term.kind == "group" and term.link == "softplus":
            names += [term.loc_name] + ([term.sd_name] if term.sd_free else []) + [term.name]
        elif term.kind == "group" and term.sd_free:
            names.append(term.sd_name)
        elif term.kind == "random_walk":
            names.append(term.name)
    return names
