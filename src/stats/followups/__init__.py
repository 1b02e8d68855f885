"""Follow-up designs of issue 8 ("Beyond HELLO"), analysed after the main fit.

:func:`run_followups` is called by ``stats fit`` after :func:`stats.model.fit_study`. It
runs every design whose data are present in ``trials.parquet`` and writes one tidy
table per design into ``summary/``:

=================  ===================================  ==================================
design             detected by (trial ``conditions``)   table
=================  ===================================  ==================================
held-out (1)       ``pattern_id``                       ``summary/heldout.csv``
confusion (2)      ``confusor``                         ``summary/confusion.csv``
sequential (3)     ``stage``                            ``summary/sequential.csv``
self vs cross (4)  ``predictions.parquet`` exists       ``summary/prediction_*.csv``
=================  ===================================  ==================================

Design 4 is :func:`stats.followups.prediction.run_prediction` (its own module and tables).

Modules: :mod:`~stats.followups.conditions` (conditions, rescoring against per-trial
targets), :mod:`~stats.followups.common` (the level model fitted with
:func:`stats.model.fit.fit_model`, the rows of the tables),
:mod:`~stats.followups.heldout`, :mod:`~stats.followups.confusion`,
:mod:`~stats.followups.sequential` (each documents its columns) and
:mod:`~stats.simulate.followups` (simulated presets in ``analysis/designs/``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from stats import config

#: The designs analysed by :func:`run_followups`; each writes the artifact of the same name
#: (:attr:`stats.config.Artifacts.FILES`, ``summary/<design>.csv``).
DESIGNS = ("heldout", "confusion", "sequential")

__all__ = ["DESIGNS", "run_followups"]


def run_followups(
    data_dir: Path,
    study: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Analyse every follow-up design present in ``trials.parquet`` and write its table.

    Parameters
    ----------
    data_dir : Path
        Processed-data folder (:class:`stats.config.Artifacts`) holding ``trials.parquet``.
    study : Path, optional
        Study spec (``analysis/study.yaml``): outcome, ``k``, ``rope``, ``ci_prob`` and
        sampler settings; None uses the defaults.
    progress : callable, optional
        Called with a short message before each design.

    Returns
    -------
    dict of str to DataFrame
        Design name -> its table (also written to ``summary/<name>.csv``), plus the
        tables of design 4 when ``predictions.parquet`` exists; ``{}`` when no follow-up
        data are present. A table of a design whose data are no longer present
        is removed, so that the report never shows stale results.
    """
    from stats.followups.confusion import analyse_confusion
    from stats.followups.heldout import analyse_heldout
    from stats.followups.sequential import analyse_sequential
    from stats.model.study import load_study

    artifacts = config.Artifacts(Path(data_dir))
    if not artifacts.trials.exists():
        raise FileNotFoundError(f"{artifacts.trials} does not exist: run `stats score` first")
    spec = load_study(study)
    trials = pd.read_parquet(artifacts.trials)
    common = {
        "k": spec.k,
        "rope": spec.rope,
        "ci_prob": spec.ci_prob,
        "settings": spec.sampler,
        "cache_dir": artifacts.fits,
    }
    runners = {
        "heldout": lambda: analyse_heldout(trials, outcome=spec.outcome, **common),
        "confusion": lambda: analyse_confusion(trials, **common),
        "sequential": lambda: analyse_sequential(trials, outcome=spec.outcome, **common),
    }
    out: dict[str, pd.DataFrame] = {}
    for name, run in runners.items():
        path = artifacts.path(name)
        if progress is not None:
            progress(f"follow-up {name}")
        table = run()
        if table.empty:
            path.unlink(missing_ok=True)
            continue
        artifacts.summary.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
        out[name] = table
    from stats.followups.prediction import run_prediction

    prediction = run_prediction(artifacts.root, settings=spec.sampler, progress=progress)
    out.update(prediction or {})
    return out
