"""Running a planning design: simulated studies on a process pool, cached on disk, resumable.

Every simulated study is one task: the worker builds (once per setting, see
:class:`~stats.plan.simulation.SimulatedSetting`) both models and refits them on the study's
counts. A finished study's verdicts are written at once (temporary file, then rename) to
``cache_dir/<setting key>/study-<seed>.parquet``; a run that is stopped (Ctrl-C, a crash, a
full disk) keeps every finished study, and the same command resumes where it stopped. The
key hashes everything that decides a study's verdicts (world, words, setting, seeds, rule,
sampler settings, and the source of the model, summarize and plan packages), so a changed
design or model never reuses a study.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from stats.plan.design import PlanDesign, Setting, setting_key

#: A study analyser: ``(design, setting, study spec, seed) -> verdicts``.
Analyse = Callable[[PlanDesign, Setting, Any, int], pd.DataFrame]


@dataclass(frozen=True)
class StudyDone:
    """Progress event: one simulated study finished (or was found in the cache)."""

    setting: Setting
    seed: int
    cached: bool
    seconds: float
    verdicts: dict[str, int]


@dataclass
class PlanRun:
    """What :func:`run_plan` did.

    Attributes
    ----------
    verdicts : DataFrame
        Every verdict of every simulated study (with ``world``, ``runs_per_word``,
        ``samples_per_run`` and ``setting_key``).
    seconds : float
        Wall time of this run.
    computed, cached : int
        Studies simulated now / read from the cache.
    settings : list of Setting
    """

    verdicts: pd.DataFrame
    seconds: float
    computed: int
    cached: int
    settings: list[Setting] = field(default_factory=list)


# ----------------------------------------------------------------------------- workers
#: Loggers whose per-fit notes ("Multiprocess sampling ...") would bury the progress.
CHATTY_LOGGERS = ("pymc", "pymc.sampling.mcmc")


def quiet_sampling() -> None:
    """Keep the samplers' per-fit notes out of the output (warnings still show)."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


#: The settings a worker process has built, by key (the last one only: memory).
_BUILT: dict[str, Any] = {}


def simulated_study(design: PlanDesign, setting: Setting, study: Any, seed: int) -> pd.DataFrame:
    """The verdicts of one simulated study (models of the setting built once per process)."""
    from stats.plan.simulation import SimulatedSetting

    key = setting_key(design, setting, study)
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = SimulatedSetting(design, setting, study)
    return _BUILT[key].one_study(seed)


def _run_task(
    analyse: Analyse, design: PlanDesign, setting: Setting, study: Any, seed: int, path: Path
) -> tuple[float, dict[str, int]]:
    """Analyse one study and store its verdicts at ``path`` (atomically)."""
    start = time.perf_counter()
    verdicts = analyse(design, setting, study, seed)
    seconds = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    verdicts.to_parquet(tmp, index=False)
    tmp.replace(path)
    return seconds, verdicts["verdict"].value_counts().to_dict()


# ----------------------------------------------------------------------------- cache
def study_path(cache_dir: Path, key: str, seed: int) -> Path:
    """Where one study's verdicts are cached."""
    return Path(cache_dir) / key / f"study-{seed}.parquet"


def _describe(cache_dir: Path, key: str, design: PlanDesign, setting: Setting) -> None:
    """Create the setting's cache folder, say what it holds, drop a stopped run's partial files."""
    folder = Path(cache_dir) / key
    folder.mkdir(parents=True, exist_ok=True)
    for partial in folder.glob(".study-*.tmp"):
        partial.unlink(missing_ok=True)
    about = {"design": design.source, "setting": setting.__dict__, "key": key}
    (folder / "setting.json").write_text(json.dumps(about, indent=1, default=str))


def _read(path: Path, setting: Setting, key: str) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    return frame.assign(
        world=setting.world,
        runs_per_word=setting.runs_per_word,
        samples_per_run=setting.samples_per_run,
        setting_key=key,
    )


# ----------------------------------------------------------------------------- run
def run_plan(
    design: PlanDesign,
    cache_dir: Path,
    *,
    quick: bool = False,
    workers: int | None = None,
    only: Iterable[str] | None = None,
    progress: Callable[[StudyDone], None] | None = None,
    start: Callable[[int, int], None] | None = None,
    analyse: Analyse = simulated_study,
) -> PlanRun:
    """Simulate and judge every study of ``design`` that is not cached yet.

    Parameters
    ----------
    design : PlanDesign
    cache_dir : Path
        Folder of the per-study cache.
    quick : bool
        Use the design's ``quick`` preset.
    workers : int, optional
        Processes (default: the CPU count). ``1`` runs in this process.
    only : iterable of str, optional
        Settings to run, as ``world:runs`` or ``world:runsxsamples``.
    progress : callable, optional
        Called with a :class:`StudyDone` after each study (cached ones first).
    start : callable, optional
        Called once with ``(studies in all, studies cached)`` before any work.
    analyse : callable
        The study analyser (tests stand in a cheap one).

    Returns
    -------
    PlanRun
    """
    from stats.plan.simulation import plan_study

    began = time.perf_counter()
    study = plan_study(design, quick)
    settings = design.settings(quick)
    if only:
        wanted = set(only)
        unknown = wanted - {s.label for s in settings} - {s.label.split("x")[0] for s in settings}
        if unknown:
            labels = ", ".join(s.label for s in settings)
            raise ValueError(f"--only {sorted(unknown)}: not settings of this design ({labels})")
        settings = [s for s in settings if s.label in wanted or s.label.split("x")[0] in wanted]
    tasks, cached = [], []
    for setting in settings:
        key = setting_key(design, setting, study)
        _describe(cache_dir, key, design, setting)
        for index in range(setting.sims):
            seed = setting.study_seed(index)
            path = study_path(cache_dir, key, seed)
            (cached if path.exists() else tasks).append((setting, key, seed, path))
    if start is not None:
        start(len(cached) + len(tasks), len(cached))
    frames = []
    for setting, key, seed, path in cached:
        frames.append(_read(path, setting, key))
        if progress is not None:
            counts = frames[-1]["verdict"].value_counts().to_dict()
            progress(StudyDone(setting, seed, True, 0.0, counts))
    for setting, key, seed, path, seconds, counts in _execute(
        tasks, design, study, analyse, workers
    ):
        frames.append(_read(path, setting, key))
        if progress is not None:
            progress(StudyDone(setting, seed, False, seconds, counts))
    verdicts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order = {s.label: i for i, s in enumerate(settings)}
    if len(verdicts):
        labels = (
            verdicts["world"]
            + ":"
            + verdicts["runs_per_word"].astype(str)
            + "x"
            + verdicts["samples_per_run"].astype(str)
        )
        verdicts = (
            verdicts.assign(_order=labels.map(order))
            .sort_values(["_order", "seed"], kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    return PlanRun(verdicts, time.perf_counter() - began, len(tasks), len(cached), settings)


def _execute(
    tasks: list[tuple[Setting, str, int, Path]],
    design: PlanDesign,
    study: Any,
    analyse: Analyse,
    workers: int | None,
):
    """Run the tasks (in this process or on a pool); yield each as it finishes."""
    workers = min(workers or os.cpu_count() or 1, max(len(tasks), 1))
    if workers <= 1:
        for setting, key, seed, path in tasks:
            seconds, counts = _run_task(analyse, design, setting, study, seed, path)
            yield setting, key, seed, path, seconds, counts
        return
    # spawn, not fork: the parent runs threads (Rich's display, Arrow's pool) that a forked
    # child would inherit half-copied; a spawned worker imports the analyser by name
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=quiet_sampling
    )
    pending: dict[Future, tuple[Setting, str, int, Path]] = {}
    try:
        for task in tasks:
            setting, key, seed, path = task
            future = pool.submit(_run_task, analyse, design, setting, study, seed, path)
            pending[future] = task
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                setting, key, seed, path = pending.pop(future)
                seconds, counts = future.result()
                yield setting, key, seed, path, seconds, counts
    finally:
        # on Ctrl-C or an error: drop what has not started; finished studies are cached
        pool.shutdown(wait=False, cancel_futures=True)
