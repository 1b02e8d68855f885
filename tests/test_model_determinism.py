"""Same inputs + seed => same numbers, across processes (string hashing, threads, forks)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: Simulates a small study, fits M2 (the model seen to differ between identical runs) with
#: the default sampler and prints a digest of every stored draw and sample statistic.
FIT_AND_DIGEST = """
import hashlib
import numpy as np
from stats.model import design, fit, sample, spec, synthetic

groups = synthetic.design_grid(["HELLO", "SHINE"], runs_per_cell=2, samples_per_prompt=6,
                               base_runs=1)
_, m2_cells = synthetic.simulate_world(synthetic.World(b_intro=1.0), groups,
                                       np.random.default_rng(11))
data = design.m2_data(m2_cells)
settings = sample.SamplerSettings(draws=100, tune=100, chains=2, seed=5, retries=0,
                                  backend="{backend}")
result = fit.fit_model(spec.m2_spec(data.layout), data, settings)
clocks = {{"perf_counter_diff", "perf_counter_start", "process_time_diff"}}  # PyMC's timings
digest = hashlib.sha256()
for group in ("posterior", "sample_stats", "log_likelihood"):
    ds = result.tree[group].to_dataset()
    for name in sorted(set(ds.data_vars) - clocks):
        digest.update(name.encode())
        values = ds[name].values  # text (nutpie's divergence messages) by its characters
        digest.update(values.astype(str).tobytes() if values.dtype.kind == "O" else values.tobytes())
print(result.sampler, digest.hexdigest())
"""


def _fit_in_process(backend: str, hash_seed: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONHASHSEED": hash_seed}
    return subprocess.Popen(
        [sys.executable, "-c", FIT_AND_DIGEST.format(backend=backend)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("backend", ["nutpie", "pymc"])
def test_two_processes_with_one_seed_store_identical_fits(backend):
    """Two processes (other string-hash seeds, so other set and dict orders) fit one model
    on one data set with one seed: the stored draws, sample statistics and log-likelihood
    are equal bit for bit (all but PyMC's wall-clock timings of each draw)."""
    runs = [_fit_in_process(backend, seed) for seed in ("1", "2")]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-3000:]
        outputs.append(stdout.strip().splitlines()[-1])
    assert outputs[0].split()[0] == ("nutpie" if backend == "nutpie" else "pymc-diag")
    assert outputs[0] == outputs[1]
