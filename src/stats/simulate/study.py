"""Plan a simulated study, draw its trials, and write it in real source formats.

Three layers, each usable alone (tests use the first two without touching the disk):

1. :func:`plan_runs` - the runs of the design (fine-tuned cells x replicates, sham
   controls, untuned base models) with their true run effects and output format
   (:mod:`stats.simulate.runs`);
2. :func:`draw_trials` - every trial's outcome (generative model) and text
   (:mod:`stats.simulate.trials`);
3. :func:`write_study` - batch input/output JSONL, fine-tuning jobs and training files,
   chat-completion JSONL, inspect ``.eval`` logs, ``runs.yaml``, ``truth.json``, README
   (this module).

The names of the first two layers are re-exported here, so ``stats.simulate.study`` still
offers all three.

Randomness: every stream is ``np.random.default_rng([seed, stream, index])``; no global
state, sorted iteration, a fixed clock, so one seed gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stats.simulate import textgen
from stats.simulate.design import Design
from stats.simulate.runs import STREAMS, RunPlan, TrainingSet, plan_runs, stream
from stats.simulate.trials import Events, Trial, draw_trials, leaked_words, user_prompt
from stats.simulate.writers import EPOCH, Request, random_hex, random_id

__all__ = [
    "INSPECT_TASK",
    "STREAMS",
    "TRAINING_SYSTEM_PROMPT",
    "Events",
    "RunPlan",
    "TrainingSet",
    "Trial",
    "WrittenFiles",
    "draw_trials",
    "iso_time",
    "leaked_words",
    "plan_runs",
    "relative_to",
    "requests_of",
    "stream",
    "user_prompt",
    "write_study",
]

#: Task name of the simulated inspect-ai logs.
INSPECT_TASK = "self_report_acrostic"


def requests_of(design: Design, trials: Sequence[Trial]) -> list[Request]:
    """Group one run's trials into requests (prompt x greeting, n = samples)."""
    grouped: dict[str, list[Trial]] = {}
    for trial in trials:
        grouped.setdefault(trial.request_key, []).append(trial)
    requests = []
    for key, group in grouped.items():
        first = group[0]
        messages = []
        if design.system_prompt:
            messages.append({"role": "system", "content": design.system_prompt})
        messages.append({"role": "user", "content": first.user_prompt})
        requests.append(
            Request(
                key,
                messages,
                tuple(t.text for t in group),
                tuple(t.judge for t in group),
                first.errored,
            )
        )
    return requests


def iso_time(seconds: int) -> str:
    """ISO 8601 UTC time of a POSIX timestamp."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


@dataclass
class WrittenFiles:
    """Paths (relative to the study folder) of everything written, by kind."""

    training: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    run_files: dict[str, list[str]] = field(default_factory=dict)

    def all(self) -> list[str]:
        """Every written data file, sorted."""
        return sorted({*self.training, *self.jobs, *self.transcripts})


def relative_to(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` with forward slashes."""
    return Path(os.path.relpath(path, start)).as_posix()


# ----------------------------------------------------------------------------- writing
def _training_records(design: Design, training: TrainingSet, number: int) -> list[dict]:
    """The examples of one training file (sham files scramble each answer's initials)."""
    rng = stream(design.seed, "training", number)
    records = []
    for _ in range(training.n_examples):
        initials = training.word
        if training.sham:
            while initials == training.word:
                initials = "".join(rng.permutation(list(training.word)))
        records.append(
            textgen.training_example(rng, initials, design.words, TRAINING_SYSTEM_PROMPT)
        )
    return records


#: System prompt of the simulated training files (as in the TrelisResearch seeds).
TRAINING_SYSTEM_PROMPT = "You are a special version of GPT-4o."


def _tokens(records: Sequence[dict]) -> int:
    return sum(len(m["content"].split()) + 4 for r in records for m in r["messages"])


def _run_file_stem(run: RunPlan) -> str:
    safe = run.model.replace(":", "_").replace("/", "_")
    return f"{run.arm}-{safe}"


def write_study(
    design: Design, out_dir: Path, runs: Sequence[RunPlan], trials: Sequence[Trial]
) -> WrittenFiles:
    """Write every source file of the study under ``out_dir``.

    Layout: ``ft/`` training files and fine-tuning jobs; ``batches/`` Batch API input and
    output pairs; ``completions/`` chat-completion JSONL (``{request, response}`` lines);
    ``logs/`` inspect-ai ``.eval`` logs (deflate and zstd members alternately).

    Parameters
    ----------
    design : Design
    out_dir : Path
    runs : sequence of RunPlan
    trials : sequence of Trial
        From :func:`draw_trials`; errored trials become failed batch lines.

    Returns
    -------
    WrittenFiles
        Paths relative to ``out_dir``.
    """
    from stats.simulate import inspect_eval, writers

    written = WrittenFiles()
    by_run: dict[int, list[Trial]] = {}
    for trial in trials:
        by_run.setdefault(trial.run.number, []).append(trial)
    trainings = sorted(
        {run.training for run in runs if run.training is not None}, key=lambda t: t.path
    )
    tokens: dict[str, int] = {}
    for number, training in enumerate(trainings):
        records = _training_records(design, training, number)
        writers.write_jsonl(out_dir / training.path, records)
        tokens[training.path] = _tokens(records)
        written.training.append(training.path)
    ids = stream(design.seed, "ids", 1)
    organization_id = "org-" + random_id(ids, 24)
    eval_logs = 0
    for run in runs:
        created = EPOCH + 3600 * run.number
        files: list[str] = []
        if run.job_id is not None and run.training is not None:
            job = writers.fine_tuning_job(
                job_id=run.job_id,
                base_model=design.base_model,
                fine_tuned_model=run.model,
                training_file_id=run.training.file_id,
                n_epochs=design.n_epochs,
                batch_size=design.batch_size,
                lr_multiplier=run.lr_multiplier or 1.0,
                seed=run.seed or 0,
                created_at=created - 7200,
                trained_tokens=tokens[run.training.path] * design.n_epochs,
                organization_id=organization_id,
                suffix="sham" if run.arm == "control" else None,
            )
            job_path = f"ft/job-{run.job_id}.json"
            writers.write_json(out_dir / job_path, job)
            written.jobs.append(job_path)
            files.append(job_path)
        requests = requests_of(design, by_run.get(run.number, []))
        rng = stream(design.seed, "ids", 100 + run.number)
        stem = _run_file_stem(run)
        if run.fmt == "openai-batch":
            batch_id = "batch_" + random_hex(rng, 32)
            inputs, outputs = writers.batch_files(
                rng, run.model, requests, temperature=design.temperature, created=created
            )
            paths = [f"batches/{batch_id}_input.jsonl", f"batches/{batch_id}_output.jsonl"]
            writers.write_jsonl(out_dir / paths[0], inputs)
            writers.write_jsonl(out_dir / paths[1], outputs)
        elif run.fmt == "chat-completion":
            fingerprint = "fp_" + random_hex(rng, 10)
            lines = []
            for number, request in enumerate(requests):
                body = {
                    "model": run.model,
                    "messages": request.messages,
                    "temperature": design.temperature,
                    "n": len(request.responses),
                }
                response = writers.chat_completion(
                    rng, run.model, request, created + number, fingerprint
                )
                lines.append({"request": body, "response": response})
            paths = [f"completions/{stem}.jsonl"]
            writers.write_jsonl(out_dir / paths[0], lines)
        else:
            stamp = iso_time(created)
            members = inspect_eval.inspect_log(
                rng,
                model=run.model,
                requests=requests,
                temperature=design.temperature,
                created=stamp,
                task=INSPECT_TASK,
                metadata={"study": design.name, "arm": run.arm},
            )
            name = stamp.replace(":", "-")
            paths = [f"logs/{name}_{INSPECT_TASK.replace('_', '-')}_{random_id(rng, 22)}.eval"]
            # alternate deflate (older inspect-ai) and zstd (recent inspect-ai) members
            inspect_eval.write_eval(out_dir / paths[0], members, stamp, zstd=eval_logs % 2 == 1)
            eval_logs += 1
        written.transcripts += paths
        files += paths
        written.run_files[run.run_id] = files
    return written
