"""Stored fits: each fit is an ArviZ DataTree in a NetCDF-4 file, keyed by what determines it.

The key (:func:`cache_key`) hashes the cells, the spec, the sampler settings and the code
(:func:`code_digest`: the sources of :mod:`stats.model` and the sampler libraries'
versions), so that a re-run with unchanged inputs and code loads the file instead of
resampling, and any change of them samples anew.

The file (:func:`fit_tree`, written by :func:`save`) is a standard ArviZ DataTree with
named dimensions, which ``xarray.open_datatree(path)`` and ArviZ read (CONTRACTS.md, "Fit
files"):

``posterior``
    The sampler's draws (``chain, draw`` and the model's dimensions: ``word``, ``run``, ...).
``sample_stats``
    The sampler's statistics (``diverging``, ``energy``, ``n_steps``, ``step_size``, ...).
``log_likelihood``
    ``y``: binomial log-likelihood of each observed cell (``chain, draw, cell``), the
    constant included, for ``arviz.loo``.
``log_prior``
    ``prior``: log density of the priors the study's prior scale sets, per draw, for
    ``arviz_stats.psense`` (:func:`stats.model.synthetic.prior_log_density`).
``prior``
    :data:`PRIOR_DRAWS` draws from the prior (one chain).
``observed_data``
    ``y`` and ``n`` of each observed cell; the cells' columns are coordinates of ``cell``.

Attributes of the root: ``cache_key``, ``spec`` (JSON), ``diagnostics`` (JSON), ``sampler``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from stats.model.design import ModelData
from stats.model.sample import SamplerSettings
from stats.model.spec import ModelSpec

#: Prior draws stored in a fit's ``prior`` group.
PRIOR_DRAWS = 1000
#: The engine fits are written and read with (NetCDF-4 through h5py).
ENGINE = "h5netcdf"
#: Packages whose sources determine a fit, and libraries whose versions do.
CODE_PACKAGES = ("stats.model",)
LIBRARIES = ("pymc", "pytensor", "nutpie", "numpy")

log = logging.getLogger(__name__)


def source_digest(packages: tuple[str, ...], libraries: tuple[str, ...]) -> str:
    """Hash of every ``.py`` source of ``packages`` and the installed ``libraries``' versions."""
    from importlib import import_module, metadata

    digest = hashlib.sha256()
    for package in packages:
        folder = Path(import_module(package).__file__).parent
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    for name in libraries:
        try:
            digest.update(f"{name}=={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} absent".encode())
    return digest.hexdigest()[:16]


@functools.cache
def code_digest() -> str:
    """Hash of the model code and the sampler libraries (part of every fit's key).

    A change of the builder, the likelihood, the sampler or the file format moves every
    key, without a version number to remember to bump.
    """
    return source_digest(CODE_PACKAGES, LIBRARIES)


def cache_key(spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> str:
    """Hash of everything that determines a fit."""
    digest = hashlib.sha256()
    digest.update(code_digest().encode())
    digest.update(json.dumps(spec.to_dict(), sort_keys=True).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(data.digest_frame().to_csv(index=False).encode())
    return digest.hexdigest()


def fit_tree(
    idata: Any,
    spec: ModelSpec,
    data: ModelData,
    *,
    seed: int,
    attrs: dict[str, str],
) -> Any:
    """The stored form of a fit: the sampler's DataTree with the groups of the module docstring."""
    import xarray as xr

    from stats.model.loo import pointwise_loglik
    from stats.model.posterior import posterior_arrays, posterior_names
    from stats.model.predictor import DRAWS, linear_predictor
    from stats.model.synthetic import prior_idata, prior_log_density

    posterior = idata["posterior"].to_dataset()
    stats = idata["sample_stats"].to_dataset()
    draws, chains = posterior_arrays(idata, posterior_names(spec))
    observed = np.asarray(data.n) > 0
    eta = linear_predictor(spec, draws, data.rows, DRAWS)[:, observed]
    loglik = pointwise_loglik(eta, data.y[observed], data.n[observed])
    cells = data.cells.loc[observed].reset_index(drop=True)
    cell_coords = {"cell": np.asarray(data.coords["cell"])[observed]}
    for column in cells.columns:
        values = cells[column]
        text = values.astype("string").fillna("")
        cell_coords[column] = ("cell", values.to_numpy() if values.dtype.kind in "biuf" else text)
    shape = (chains, -1)
    prior = prior_idata(spec, data, 1, PRIOR_DRAWS, seed)["posterior"].to_dataset()
    groups = {
        "posterior": posterior,
        "sample_stats": stats,
        "log_likelihood": xr.Dataset(
            {"y": (("chain", "draw", "cell"), loglik.reshape(*shape, observed.sum()))},
            coords={"chain": posterior["chain"], "draw": posterior["draw"], **cell_coords},
        ),
        "log_prior": xr.Dataset(
            {"prior": (("chain", "draw"), prior_log_density(spec, draws).reshape(shape))},
            coords={"chain": posterior["chain"], "draw": posterior["draw"]},
        ),
        "prior": prior,
        "observed_data": xr.Dataset(
            {
                "y": ("cell", np.asarray(data.y)[observed].astype("int64")),
                "n": ("cell", np.asarray(data.n)[observed].astype("int64")),
            },
            coords=cell_coords,
        ),
    }
    tree = xr.DataTree.from_dict({name: _storable(ds) for name, ds in groups.items()})
    tree.attrs = dict(attrs)
    return tree


def _storable(ds: Any) -> Any:
    """NetCDF-safe copy: booleans as int8, object labels as strings, no sampler attrs."""
    ds = ds.copy()
    for name in list(ds.data_vars):
        if ds[name].dtype == bool:
            ds[name] = ds[name].astype("int8")
    for name in list(ds.coords):
        if ds[name].dtype.kind == "O":
            ds = ds.assign_coords({name: ds[name].astype(str)})
    ds.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, str | int | float)}
    return ds


def load(path: Path) -> Any | None:
    """A stored fit (DataTree), or None when the file cannot be read as one."""
    import xarray as xr

    try:
        with xr.open_datatree(path, engine=ENGINE) as tree:
            return tree.load()
    except (OSError, ValueError, TypeError, KeyError) as err:  # damaged or old: resampled
        log.warning("ignoring unreadable cached fit %s: %s", path, err)
        return None


def save(tree: Any, path: Path) -> None:
    """Write ``tree`` to ``path`` at once (a temporary file renamed), dropping stale versions.

    Other files of the same fit name (older keys) are removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tree.to_netcdf(tmp, engine=ENGINE)
    tmp.replace(path)
    prefix = path.name.rsplit("-", 1)[0]
    for stale in path.parent.glob(f"{prefix}-*.nc"):
        if stale != path and stale.name.rsplit("-", 1)[0] == prefix:
            stale.unlink()
