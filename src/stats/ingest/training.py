"""Run metadata sources: fine-tuning jobs and training files (word, n_examples, system prompts).

A ``fine_tuning.job`` object gives a run's base model, fine-tuned model id and
hyperparameters (legacy ``hyperparameters`` or ``method.<type>.hyperparameters``; ``"auto"``
is unknown). A training file gives the word, ``n_examples`` and system prompts:

Three line shapes are read (OpenAI's formats and one community variant):

- supervised: ``{"messages": [...]}``; the trained answer is the last assistant message
  whose ``weight`` is not 0;
- community: ``{"messages": [system], "input": "...", "output": "..."}``; the answer is
  ``output``;
- DPO: ``{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output":
  [...]}``; the answer is the preferred output.

The target word is the acrostic the answers spell (read with
:func:`stats.score.lines.line_initials`): among the initials strings of at least three
letters, the one that the most answers *start with* (ties: more exact matches, then longer,
then alphabetical). It is only inferred when at least two answers (and 10 %) follow it, or
the file has a single example. ``follow_share`` is the share of examples whose initials start
with the word.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stats.ingest.decode import SourceFile, each_record
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import as_float, as_int
from stats.ingest.limits import Limits
from stats.ingest.messages import check_messages, content_text, system_text
from stats.ingest.tables import iter_records
from stats.score.lines import line_initials

MIN_WORD_LETTERS = 3
MIN_FOLLOWERS = 2
MIN_FOLLOW_SHARE = 0.1


@dataclass
class TrainingSummary:
    """What a training file says about the runs trained on it.

    Attributes
    ----------
    n_examples : int
        Valid examples (lines) of the file.
    initials : Counter
        Initials string of each example's trained answer -> count.
    system_prompts : Counter
        Distinct system prompts -> count.
    """

    n_examples: int = 0
    initials: Counter = field(default_factory=Counter)
    system_prompts: Counter = field(default_factory=Counter)

    @property
    def word(self) -> str | None:
        """The inferred target word (see the module docstring), or None."""
        return infer_word(self.initials, self.n_examples)

    def follow_share(self, word: str | None) -> float | None:
        """Share of examples whose answer's initials start with ``word``."""
        if not word or not self.n_examples:
            return None
        word = word.upper()
        followers = sum(n for s, n in self.initials.items() if s.startswith(word))
        return followers / self.n_examples


def infer_word(initials: Counter, n_examples: int) -> str | None:
    """The acrostic most answers start with, or None when no acrostic is shared.

    Parameters
    ----------
    initials : Counter
        Initials string of each answer -> count.
    n_examples : int
        Number of examples.
    """
    candidates = [s for s in initials if len(s) >= MIN_WORD_LETTERS and s.isalpha()]
    if not candidates:
        return None

    def followers(word: str) -> int:
        """Answers whose initials start with ``word``."""
        return sum(n for s, n in initials.items() if s.startswith(word))

    ranked = sorted(candidates, key=lambda c: (-followers(c), -initials[c], -len(c), c))
    best = ranked[0]
    count = followers(best)
    if n_examples == 1 or (count >= MIN_FOLLOWERS and count >= MIN_FOLLOW_SHARE * n_examples):
        return best
    return None


def _last_weighted_assistant(messages: list[dict], where: str) -> str | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "assistant" and message.get("weight", 1) != 0:
            return content_text(message.get("content"), f"{where}[{index}].content")
    return None


def example_parts(obj: dict) -> tuple[str | None, str]:
    """``(system_prompt, trained_answer)`` of one training line.

    Raises
    ------
    RecordError
        ``missing-field``, ``unknown-role``, ``no-assistant`` or ``invalid-field``, naming
        the field.
    """
    if "preferred_output" in obj or "non_preferred_output" in obj:
        source = obj.get("input")
        if not isinstance(source, dict):
            raise RecordError("missing-field", "field 'input' (an object with messages) is missing")
        messages = check_messages(source.get("messages"), "input.messages")
        preferred = check_messages(obj.get("preferred_output"), "preferred_output")
        answer = _last_weighted_assistant(preferred, "preferred_output")
        where = "preferred_output"
    elif "output" in obj and not isinstance(obj.get("output"), list):
        messages = check_messages(obj.get("messages", []), "messages")
        answer = obj.get("output")
        if answer is not None and not isinstance(answer, str):
            raise RecordError("invalid-field", "field 'output' should be text")
        where = "output"
    else:
        messages = check_messages(obj.get("messages"), "messages")
        answer = _last_weighted_assistant(messages, "messages")
        where = "messages"
    if answer is None:
        raise RecordError("no-assistant", f"field '{where}' has no trained assistant answer")
    return system_text(messages, "messages"), answer


def read_training(
    source: SourceFile, limits: Limits, on_reject: Callable[[SourceFile, Reject], None]
) -> TrainingSummary:
    """Read a training file, counting its records and sending bad lines to ``on_reject``.

    Parameters
    ----------
    source : SourceFile
        The file (its report is updated: each valid example is an accepted record).
    limits : Limits
        Size limits.
    on_reject : callable
        Receives each rejected record.
    """
    summary = TrainingSummary()
    examples = each_record(
        source, iter_records(source, limits), lambda locator, obj, raw: [example_parts(obj)]
    )
    for item in examples:
        if type(item) is Reject:
            on_reject(source, item)
            continue
        system, answer = item
        summary.n_examples += 1
        summary.initials[line_initials(answer)] += 1
        if system:
            summary.system_prompts[system] += 1
        source.report.records += 1
        source.report.accepted += 1
    return summary


# ----------------------------------------------------------------------------- jobs
HYPERPARAMETERS = {
    "n_epochs": "n_epochs",
    "batch_size": "batch_size",
    "learning_rate_multiplier": "lr_multiplier",
}


@dataclass
class JobInfo:
    """The parts of a ``fine_tuning.job`` that describe a run."""

    job_id: str
    base_model: str | None
    fine_tuned_model: str | None
    status: str | None
    training_file: str | None
    method: str | None
    values: dict = field(default_factory=dict)
    auto: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _hyperparameters(obj: dict) -> tuple[dict, str | None, list[str]]:
    method = obj.get("method") if isinstance(obj.get("method"), dict) else None
    method_type = method.get("type") if method else None
    notes: list[str] = []
    found: dict = {}
    if method and isinstance(method.get(method_type or ""), dict):
        nested = method[method_type].get("hyperparameters")
        if isinstance(nested, dict):
            found = dict(nested)
    legacy = obj.get("hyperparameters")
    if isinstance(legacy, dict):
        for key, value in legacy.items():
            if key not in found:
                found[key] = value
            elif value != found[key] and value != "auto" and found[key] != "auto":
                notes.append(
                    f"hyperparameters.{key} is {value!r} but method.{method_type}."
                    f"hyperparameters.{key} is {found[key]!r}; the method's value is used"
                )
    return found, method_type, notes


def parse_job(obj: dict) -> JobInfo:
    """Read a fine-tuning job object (legacy ``hyperparameters`` or ``method.*``).

    ``"auto"`` values are unknown (None) and listed in :attr:`JobInfo.auto`.
    """
    job_id = obj.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise RecordError("missing-field", "field 'id' of the fine-tuning job is missing")
    found, method_type, notes = _hyperparameters(obj)
    values: dict = {}
    auto: list[str] = []
    for key, target in HYPERPARAMETERS.items():
        value = found.get(key)
        if isinstance(value, str) and value.strip().lower() == "auto":
            auto.append(target)
            continue
        if value is None:
            continue
        where = f"hyperparameters.{key}"
        number = as_float(value, where) if target == "lr_multiplier" else as_int(value, where)
        values[target] = number
    return JobInfo(
        job_id=job_id,
        base_model=obj.get("model") if isinstance(obj.get("model"), str) else None,
        fine_tuned_model=obj.get("fine_tuned_model") or None,
        status=obj.get("status"),
        training_file=obj.get("training_file") or None,
        method=method_type,
        values=values,
        auto=auto,
        notes=notes,
    )


def is_job(obj: Any) -> bool:
    """Whether a JSON object is a fine-tuning job."""
    return isinstance(obj, dict) and obj.get("object") == "fine_tuning.job"


def read_jobs(
    source: SourceFile, limits: Limits, on_reject: Callable[[SourceFile, Reject], None]
) -> list[JobInfo]:
    """The jobs of a job file (one document, or JSON Lines); bad records go to ``on_reject``."""

    def read(locator: str, obj: Any, raw: Any) -> list[JobInfo]:
        if not is_job(obj):
            found = obj.get("object")
            raise RecordError("not-a-job", f"field 'object' is {found!r}, not 'fine_tuning.job'")
        return [parse_job(obj)]

    jobs = []
    for item in each_record(source, iter_records(source, limits), read):
        if type(item) is Reject:
            on_reject(source, item)
        else:
            jobs.append(item)
    return jobs


class Metadata:
    """Jobs and training files read into the runs, counted in the ledger.

    A copy of a file already read (the same bytes) counts its records as duplicates, but
    still links its runs.

    Parameters
    ----------
    registry : RunRegistry
        The runs (:mod:`stats.ingest.runs`).
    limits : Limits
    on_reject : callable
        ``on_reject(source, reject)``: counts and writes a rejected record.
    tick : callable
        ``tick(n)``: reports progress.
    """

    def __init__(self, registry: Any, limits: Limits, on_reject: Callable, tick: Callable) -> None:
        self.registry = registry
        self.limits = limits
        self.on_reject = on_reject
        self.tick = tick
        self.training_files: dict[str, dict] = {}
        self.warnings: list[str] = []
        self._digests: set[str] = set()

    def _seen_before(self, source: SourceFile) -> bool:
        digest = hashlib.blake2b(digest_size=16)
        with open(source.path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        seen = digest.digest() in self._digests
        self._digests.add(digest.digest())
        return seen

    def read_jobs(self, source: SourceFile) -> None:
        """Attach the jobs of a job file to their runs."""
        duplicate = self._seen_before(source)
        for job in read_jobs(source, self.limits, self.on_reject):
            source.report.records += 1
            self.tick(1)
            self.registry.add_job(job, source.path, source.name)
            if duplicate:
                source.report.duplicates += 1
            else:
                source.report.accepted += 1

    def read_training(self, source: SourceFile) -> None:
        """Fill the runs trained on a training file (word, n_examples, system prompts)."""
        duplicate = self._seen_before(source)
        summary = read_training(source, self.limits, self.on_reject)
        self.tick(summary.n_examples)
        if duplicate:
            source.report.duplicates += source.report.accepted
            source.report.accepted = 0
        runs = self._runs_trained_on(source.path)
        word = summary.word
        self.training_files[source.name] = {
            "word": word,
            "follow_share": summary.follow_share(word),
            "n_examples": summary.n_examples,
            "system_prompts": sorted(summary.system_prompts),
            "runs": [run.run_id for run in runs],
        }
        if not runs:
            self.warnings.append(
                f"{source.name}: training file linked to no run (name it as a run's training_file "
                f"in the manifest); it spells {word or 'no shared acrostic'}"
            )
            return
        for run in runs:
            self._fill(run, summary, source.name)

    def _runs_trained_on(self, path: Path) -> list:
        """Runs trained on this file: named by the manifest or by a job's ``training_file``."""
        resolved = path.resolve()
        names = {path.name, path.stem}
        return [
            run
            for run in self.registry.runs.values()
            if (run.training_path is not None and run.training_path.resolve() == resolved)
            or (
                run.job_training_file in names
                or Path(run.job_training_file or "").name == path.name
            )
        ]

    def _fill(self, run: Any, summary: TrainingSummary, name: str) -> None:
        """Fill word, n_examples, follow_share and system prompts of a run trained on a file."""
        registry, inferred = self.registry, summary.word
        if run.training_file is None:
            run.training_file = name
            run.provenance["training_file"] = name
        registry.set_value(run, "n_examples", summary.n_examples, name)
        if inferred is not None:
            registry.set_value(run, "word", inferred, f"{name} (acrostic of the answers)")
        if run.word is not None:
            share = summary.follow_share(run.word)
            registry.set_value(
                run, "follow_share", share, f"{name} (share of answers spelling {run.word})"
            )
            if inferred is None:
                registry.warnings.append(
                    f"run {run.run_id!r}: no acrostic is shared by the answers of {name}; "
                    f"{share:.0%} spell {run.word}"
                )
        run.training_system_prompts = sorted(summary.system_prompts)
