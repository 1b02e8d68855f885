"""Calibration results shipped with the package: what the report's calibration section shows.

The verdict rule's operating characteristics and the simulation-based calibration of M1
are properties of the *method*, not of a study, and take hours to compute. The benchmark
scripts compute them (``benchmarks/operating_characteristics.py``, ``benchmarks/sbc.py``;
they write ``benchmarks/results/``) and their results are copied here, so that a report
rendered from any study folder shows them. Files are read through
:mod:`importlib.resources`, so they are found in an installed wheel too.

========================  ===========================================================
name                      file
========================  ===========================================================
``oc``                    ``oc.csv``: world, runs_per_word, samples_per_run, greeting,
                          scope, n_sims, n_verdicts, p_real, p_fluke, p_inconclusive,
                          p_not_converged, mc_se_real, ... (one row per simulated design)
``oc_run``                ``oc_run.json``: the benchmark's settings and time
``sbc_ranks``             ``sbc_ranks.csv``: quantity, sim, rank, max_rank, truth
``sbc_run``               ``sbc_run.json``: the SBC run's command, design and settings
``sbc_ecdf``              ``sbc.png``: ECDF minus uniform CDF of the ranks, with 95%
                          simultaneous bands (the SBC figure the report shows)
``sbc_hist``              ``sbc_hist.png``: rank histograms with the pointwise 99% band
========================  ===========================================================
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

#: name -> file in this package folder (see the module docstring).
FILES: dict[str, str] = {
    "oc": "oc.csv",
    "oc_run": "oc_run.json",
    "sbc_ranks": "sbc_ranks.csv",
    "sbc_run": "sbc_run.json",
    "sbc_ecdf": "sbc.png",
    "sbc_hist": "sbc_hist.png",
}
#: The benchmark script that writes each file (shown when a file is absent).
MADE_BY: dict[str, str] = {
    "oc": "benchmarks/operating_characteristics.py",
    "oc_run": "benchmarks/operating_characteristics.py",
    "sbc_ranks": "benchmarks/sbc.py",
    "sbc_run": "benchmarks/sbc.py",
    "sbc_ecdf": "benchmarks/sbc.py",
    "sbc_hist": "benchmarks/sbc.py",
}


def path(name: str) -> Traversable:
    """The shipped calibration file ``name`` (a :class:`~importlib.resources.abc.Traversable`).

    Raises
    ------
    KeyError
        Naming the known files, when ``name`` is not one of :data:`FILES`.
    """
    if name not in FILES:
        raise KeyError(f"unknown calibration file {name!r}; known: {sorted(FILES)}")
    return resources.files(__name__) / FILES[name]
