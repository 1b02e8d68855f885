"""The fit cache: a fit is stored as a NetCDF file keyed by a hash of what determines it.

The key hashes the cells, the spec, the sampler settings and :data:`MODEL_CODE_VERSION`,
so that a re-run with unchanged inputs loads the file instead of resampling.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stats.model.design import ModelData
from stats.model.sample import SamplerSettings
from stats.model.spec import ModelSpec

#: Bumped when the builder or likelihood changes, so cached fits are not reused.
MODEL_CODE_VERSION = "12"

log = logging.getLogger(__name__)


def cache_key(spec: ModelSpec, data: ModelData, settings: SamplerSettings) -> str:
    """Hash of everything that determines a fit."""
    digest = hashlib.sha256()
    digest.update(MODEL_CODE_VERSION.encode())
    digest.update(json.dumps(spec.to_dict(), sort_keys=True).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(data.digest_frame().to_csv(index=False).encode())
    return digest.hexdigest()


#: Prefix of sample-statistics variables stored beside the posterior in one NetCDF file.
STATS_PREFIX = "sample_stats__"


def load(path: Path) -> Any | None:
    """A cached fit as a Dataset (posterior variables + prefixed sample stats), or None."""
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="scipy") as ds:
            return ds.load()
    except (OSError, ValueError, TypeError) as err:  # a damaged cache file is resampled
        log.warning("ignoring unreadable cached fit %s: %s", path, err)
        return None


def save(
    idata: Any, path: Path, key: str, spec: ModelSpec, diagnostics: dict, sampler: str
) -> None:
    """Write the posterior and sample stats as one NetCDF-3 file (SciPy's writer).

    NetCDF-4 groups would need netCDF4 or h5netcdf, which the locked environment does
    not include; a flat file with prefixed sample-stat names reads anywhere.
    """
    import xarray as xr

    path.parent.mkdir(parents=True, exist_ok=True)
    posterior = idata["posterior"].to_dataset()
    stats = idata["sample_stats"].to_dataset()
    keep = [v for v in ("diverging", "energy", "tree_depth", "step_size", "n_steps") if v in stats]
    stats = stats[keep].rename({v: f"{STATS_PREFIX}{v}" for v in keep})
    ds = xr.merge([posterior, stats], compat="override", join="outer")
    for name in list(ds.data_vars):
        values = ds[name]
        if values.dtype == bool:
            ds[name] = values.astype("int8")
        elif values.dtype.kind in "iu":
            ds[name] = values.astype("int32")
    for name in list(ds.coords):
        if ds[name].dtype.kind in "iu":
            ds = ds.assign_coords({name: ds[name].astype("int32")})
        elif ds[name].dtype.kind in "OU":
            ds = ds.assign_coords({name: ds[name].astype(str)})
    ds.attrs = {
        "cache_key": key,
        "spec": json.dumps(spec.to_dict()),
        "diagnostics": json.dumps(diagnostics),
        "sampler": sampler,
        "model_code_version": MODEL_CODE_VERSION,
    }
    tmp = path.with_name(path.name + ".tmp")
    ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT")
    tmp.replace(path)
    prefix = path.name.rsplit("-", 1)[0]
    for stale in path.parent.glob(f"{prefix}-*.nc"):
        if stale != path and stale.name.rsplit("-", 1)[0] == prefix:
            stale.unlink()
