"""Runs: the unit of replication, and where each of their conditions came from.

A run is one fine-tuned model or one untuned model. Runs come from the manifest, from
fine-tuning jobs (one per ``fine_tuned_model``), and from transcripts whose model matches
nothing (one run per model id; listed in the ledger as ``unmatched_models``).

Values fill gaps in this order: manifest, job file, training file. A value from a later
source that differs from the one already set is a *conflict*: it is listed in the ledger
with both values and their sources, and the earlier value (in that order) is the one used;
nothing is resolved silently.

A record may give run columns for its own trial (a ``word`` or ``arm`` column, request
metadata): those are trial-level values, and the run's value is only their default
(:mod:`stats.ingest.accept`). A run whose value came from no source but a default, and whose
records all give one value, takes that value (provenance ``records``); records that differ
from their run's value are summed up in the ledger (``record_values``).

Defaults for what no source gives (provenance ``default``): ``arm`` is ``finetuned`` for a
model id starting with ``ft:`` or a run with a job, else ``base``; ``base_model`` is the base
named inside an ``ft:BASE:org:...`` id, or the model itself for a base run.

How a transcript finds its run: a run named by the record (or the ``files:`` entry), else
an exact model id of a run, else the first manifest glob that matches (``ft:*::abc*``; a glob
without ``run_id`` makes one run per matching model), each tried with the answering model id
and then the requested one; else a new run whose ``run_id`` is the model id.
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stats.ingest.manifest import Manifest, RunSpec
from stats.ingest.training import JobInfo

VALUE_FIELDS = tuple(
    "model base_model arm word n_examples lr_multiplier n_epochs batch_size training_file "
    "follow_share".split()
)
INT_FIELDS = ("n_examples", "n_epochs", "batch_size")
FLOAT_FIELDS = ("lr_multiplier", "follow_share")


@dataclass(eq=False)
class Run:
    """One run and the provenance of each of its values."""

    run_id: str
    model: str | None = None
    base_model: str | None = None
    arm: str | None = None
    word: str | None = None
    n_examples: int | None = None
    lr_multiplier: float | None = None
    n_epochs: int | None = None
    batch_size: int | None = None
    training_file: str | None = None
    follow_share: float | None = None
    provenance: dict = field(default_factory=dict)
    greeting: bool | None = None
    system_prompt: str | None = None
    conditions: dict = field(default_factory=dict)
    notes: str | None = None
    job_id: str | None = None
    job_status: str | None = None
    job_training_file: str | None = None
    job_path: Path | None = None
    training_path: Path | None = None
    training_system_prompts: list[str] = field(default_factory=list)
    models: Counter = field(default_factory=Counter)
    origin: str = "manifest"

    def row(self) -> dict:
        """The run as a row of ``runs.parquet`` (schema RUNS plus extra columns)."""
        out = {name: getattr(self, name) for name in ("run_id", *VALUE_FIELDS)}
        out["provenance"] = json.dumps(self.provenance, sort_keys=True)
        out["origin"] = self.origin
        out["job_id"] = self.job_id
        out["job_status"] = self.job_status
        out["greeting_override"] = self.greeting
        out["system_prompts"] = (
            json.dumps(self.training_system_prompts, ensure_ascii=False)
            if self.training_system_prompts
            else None
        )
        out["conditions"] = (
            json.dumps(self.conditions, sort_keys=True, default=str) if self.conditions else None
        )
        out["notes"] = self.notes
        out["n_transcripts"] = sum(self.models.values())
        out["models_seen"] = json.dumps(sorted(self.models)) if self.models else None
        return out


def same_value(a: Any, b: Any) -> bool:
    """Equality that treats 10 and 10.0 alike and words case-insensitively."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().upper() == b.strip().upper()
    return a == b


def base_of(model: str) -> str | None:
    """The base model named inside an OpenAI fine-tuned id ``ft:BASE:org:name:id``."""
    if model.startswith("ft:"):
        parts = model.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else None
    return None


class RunRegistry:
    """All runs of an ingest, their conditions, conflicts and model matching.

    Parameters
    ----------
    manifest : Manifest
        The validated manifest.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.runs: dict[str, Run] = {}
        self.by_model: dict[str, str] = {}
        self.templates: list[RunSpec] = []
        self.pattern_runs: list[tuple[RunSpec, Run]] = []
        self.conflicts: list[dict] = []
        self._conflict_keys: set = set()
        self.warnings: list[str] = []
        self._resolved: dict[tuple, Run] = {}
        #: Bumped whenever a run's value may have changed (caches of run values compare it).
        self.version = 0
        for spec in manifest.runs:
            self._add_spec(spec)

    # ------------------------------------------------------------------ building
    def _add_spec(self, spec: RunSpec) -> None:
        if spec.is_pattern and spec.run_id is None:
            self.templates.append(spec)
            return
        run_id = (
            spec.run_id
            or spec.model
            or f"job:{spec.job_file.name if spec.job_file else spec.index}"
        )
        run = Run(run_id=run_id, model=None if spec.is_pattern else spec.model)
        if run.model:
            run.provenance["model"] = self._spec_source(spec)
        self._fill_from_spec(run, spec)
        self.runs[run_id] = run
        if spec.is_pattern:
            self.pattern_runs.append((spec, run))
        elif spec.model:
            self.by_model.setdefault(spec.model, run_id)

    def _spec_source(self, spec: RunSpec) -> str:
        return f"manifest {spec.label}"

    def _fill_from_spec(self, run: Run, spec: RunSpec) -> None:
        source = self._spec_source(spec)
        for name in VALUE_FIELDS[1:8]:  # base_model ... batch_size
            self.set_value(run, name, getattr(spec, name), source)
        if spec.training_file is not None:
            run.training_path = spec.training_file
            self.set_value(run, "training_file", str(spec.training_file), source)
        run.job_path = spec.job_file
        run.greeting = spec.greeting
        run.system_prompt = spec.system_prompt
        run.conditions = dict(spec.conditions)
        run.notes = spec.notes

    def set_value(self, run: Run, name: str, value: Any, source: str) -> None:
        """Fill ``run.name`` from ``source`` if unset; a different value is a conflict."""
        if value is None:
            return
        if name in INT_FIELDS:
            value = int(value)
        elif name in FLOAT_FIELDS:
            value = float(value)
        current = getattr(run, name)
        if current is None:
            setattr(run, name, value)
            run.provenance[name] = source
            self.version += 1
        elif not same_value(current, value):
            self.conflict(run, name, current, run.provenance.get(name, "?"), value, source)

    def conflict(
        self, run: Run, name: str, used: Any, used_source: str, other: Any, source: str
    ) -> None:
        """Record that two sources disagree on a run's value (once per distinct pair)."""
        key = (run.run_id, name, repr(used), repr(other), source)
        if key in self._conflict_keys:
            return
        self._conflict_keys.add(key)
        self.conflicts.append(
            {
                "run_id": run.run_id,
                "field": name,
                "values": [
                    {"value": used, "source": used_source},
                    {"value": other, "source": source},
                ],
                "used": used,
                "used_source": used_source,
            }
        )

    def job_paths(self) -> set[Path]:
        """Job files named by manifest runs (resolved)."""
        return {r.job_path.resolve() for r in self.runs.values() if r.job_path is not None}

    def training_paths(self) -> set[Path]:
        """Training files named by manifest runs (resolved)."""
        return {
            r.training_path.resolve() for r in self.runs.values() if r.training_path is not None
        }

    def job_training_files(self) -> set[str]:
        """``training_file`` values of the jobs read so far (OpenAI file ids or names)."""
        return {r.job_training_file for r in self.runs.values() if r.job_training_file}

    def _template_run(self, spec: RunSpec, model: str) -> Run:
        run = Run(run_id=model, model=model, origin="manifest-glob")
        run.provenance["model"] = f"{self._spec_source(spec)} (glob {spec.model!r})"
        self._fill_from_spec(run, spec)
        self.runs[run.run_id] = run
        self.by_model[model] = run.run_id
        return run

    def _match_model(self, model: str) -> Run | None:
        run_id = self.by_model.get(model)
        if run_id is not None:
            return self.runs[run_id]
        for spec, run in self.pattern_runs:
            if fnmatch.fnmatchcase(model, spec.model or ""):
                if run.model is None:
                    self.version += 1
                    run.model = model
                    run.provenance["model"] = f"{self._spec_source(spec)} (glob {spec.model!r})"
                elif run.model != model:
                    self.warnings.append(
                        f"run {run.run_id!r} (glob {spec.model!r} with a run_id) matched several "
                        f"models: {run.model!r} and {model!r}; both are pooled as one run"
                    )
                self.by_model[model] = run.run_id
                return run
        for spec in self.templates:
            if fnmatch.fnmatchcase(model, spec.model or "") and model not in self.runs:
                return self._template_run(spec, model)
        return None

    def add_job(self, job: JobInfo, path: Path, name: str) -> Run:
        """Attach a fine-tuning job to its run (creating the run if none matches)."""
        resolved = path.resolve()
        run = next(
            (
                r
                for r in self.runs.values()
                if r.job_path is not None and r.job_path.resolve() == resolved
            ),
            None,
        )
        if run is None and job.fine_tuned_model:
            run = self._match_model(job.fine_tuned_model)
        if run is None:
            run = self.runs.get(job.job_id)
        if run is None:
            run_id = job.fine_tuned_model or job.job_id
            run = self.runs.get(run_id) or Run(run_id=run_id, origin="job")
            self.runs[run_id] = run
            if not job.fine_tuned_model:
                self.warnings.append(
                    f"{name}: job {job.job_id} has no fine_tuned_model (status {job.status!r}); "
                    "listed as a run without transcripts"
                )
        if job.fine_tuned_model:
            self.set_value(run, "model", job.fine_tuned_model, name)
            self.by_model.setdefault(job.fine_tuned_model, run.run_id)
        run.job_id = job.job_id
        run.job_status = job.status
        run.job_path = path
        run.job_training_file = job.training_file
        self.set_value(run, "base_model", job.base_model, name)
        if run.arm == "base":  # finetuned and control (sham) runs both have jobs
            self.conflict(run, "arm", "base", run.provenance.get("arm", "?"), "fine-tuned", name)
        for key, value in job.values.items():
            self.set_value(run, key, value, name)
        for key in job.auto:
            if getattr(run, key) is None:
                run.provenance.setdefault(key, f"{name} (auto: value not reported)")
        self.warnings.extend(f"{name}: {note}" for note in job.notes)
        return run

    # ------------------------------------------------------------------ defaults
    def finalize(self, run: Run) -> Run:
        """Fill the defaults (arm, base_model, model) of a run; returns it."""
        if run.model is None or run.arm is None or run.base_model is None:
            self.version += 1
        if run.model is None:
            run.model = run.run_id
            run.provenance.setdefault("model", "default (run_id)")
        if run.arm is None:
            finetuned = run.model.startswith("ft:") or run.job_id is not None
            run.arm = "finetuned" if finetuned else "base"
            run.provenance["arm"] = (
                "default (a fine-tuning job, or a model id starting with ft:)"
                if finetuned
                else "default"
            )
        if run.base_model is None:
            base = base_of(run.model) if run.arm != "base" else run.model
            if base is not None:
                run.base_model = base
                run.provenance["base_model"] = "default (model id)"
        return run

    def finalize_all(self) -> None:
        """Fill defaults of every run created so far."""
        for run in self.runs.values():
            self.finalize(run)

    # ------------------------------------------------------------------ transcripts
    def resolve(self, model: str | None, model_alt: str | None, run_id: str | None) -> Run:
        """The run of a transcript (creating one for an unmatched model)."""
        key = (model, model_alt, run_id)
        run = self._resolved.get(key)
        if run is not None:
            return run
        if run_id is not None:
            run = self.runs.get(run_id)
            if run is None:
                run = Run(run_id=run_id, model=model, origin="transcripts (run_id)")
                if model:
                    run.provenance["model"] = "transcripts"
                self.runs[run_id] = self.finalize(run)
        else:
            for candidate in (model, model_alt):
                if candidate:
                    run = self._match_model(candidate)
                    if run is not None:
                        break
            if run is None:
                assert model is not None
                run = self.runs.get(model)
                if run is None:
                    run = Run(run_id=model, model=model, origin="transcripts")
                    run.provenance["model"] = "transcripts"
                    self.runs[model] = run
                    self.by_model[model] = model
        self.finalize(run)
        self._resolved[key] = run
        return run

    def adopt_record_values(self, given: dict[tuple[str, str], Counter], rows: Counter) -> list:
        """Take the values records give for a run (see the module docstring).

        ``given`` maps ``(run_id, column)`` to a Counter of the values its records gave,
        ``rows`` counts the rows of each run. Returns ``{run_id, field, run_value, run_source,
        records: {value: count}}`` for every run and column whose records differ from it.
        """
        report = []
        for (run_id, name), values in sorted(given.items(), key=lambda kv: kv[0]):
            run = self.runs[run_id]
            source = run.provenance.get(name, "default")
            if len(values) == 1 and sum(values.values()) == rows[run_id]:
                if getattr(run, name) is None or source.startswith("default"):
                    (value,) = values
                    setattr(run, name, value)
                    run.provenance[name] = f"records ({rows[run_id]} trials give {value!r})"
                    continue
            if any(not same_value(value, getattr(run, name)) for value in values):
                report.append(
                    {
                        "run_id": run_id,
                        "field": name,
                        "run_value": getattr(run, name),
                        "run_source": source,
                        "records": {str(k): n for k, n in values.most_common()},
                    }
                )
        return report

    def rows(self) -> list[dict]:
        """Rows of ``runs.parquet``, in creation order."""
        self.finalize_all()
        return [run.row() for run in self.runs.values()]
