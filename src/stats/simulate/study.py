"""Plan a simulated study, draw its trials, and write it in real source formats.

Three layers, each usable alone (tests use the first two without touching the disk):

1. :func:`plan_runs` - the runs of the design (fine-tuned cells x replicates, sham
   controls, untuned base models) with their true run effects and output format;
2. :func:`draw_trials` - every trial's outcome (generative model) and text;
3. :func:`write_study` - batch input/output JSONL, fine-tuning jobs and training files,
   chat-completion JSONL, inspect ``.eval`` logs, ``runs.yaml``, ``truth.json``, README.

Randomness: every stream is ``np.random.default_rng([seed, stream, index])``; no global
state, sorted iteration, a fixed clock, so one seed gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stats.simulate import generative as gen
from stats.simulate import textgen
from stats.simulate.design import LEVELS, Design
from stats.simulate.guess import word_zipf
from stats.simulate.writers import EPOCH, Request, random_hex, random_id

#: Independent random streams (the second entry of every generator's seed).
STREAMS = {"effects": 1, "outcomes": 2, "text": 3, "training": 4, "ids": 5, "errors": 6, "judge": 7}

#: Task name of the simulated inspect-ai logs.
INSPECT_TASK = "self_report_acrostic"


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """The generator of one named stream (and optional integer keys)."""
    return np.random.default_rng([seed, STREAMS[name], *keys])


@dataclass(frozen=True)
class TrainingSet:
    """One training file shared by the runs fine-tuned on it."""

    word: str
    n_examples: int
    sham: bool
    file_id: str

    @property
    def path(self) -> str:
        """Path relative to the study folder."""
        tail = "-sham" if self.sham else ""
        return f"ft/train-{self.word.lower()}-n{self.n_examples}{tail}.jsonl"


@dataclass(frozen=True)
class RunPlan:
    """One run of the study (a fine-tune, a sham fine-tune, or an untuned model).

    Attributes
    ----------
    number : int
        Position in the plan (0-based): keys the run's random streams.
    run_id : str
        Unit of replication (the fine-tuned model's id suffix; the model id for base runs).
    arm : str
        finetuned | control | base.
    word : str or None
        The trained word (None for base runs: they answer every word's prompts).
    follow_logit : float or None
        Fixed part of logit P(follow) (None: the run never follows).
    follow_effect, articulation_effect : float
        The run's true random effects.
    """

    number: int
    run_id: str
    arm: str
    word: str | None
    n_examples: int | None
    lr_multiplier: float | None
    replicate: int
    model: str
    fmt: str
    follow_logit: float | None
    follow_effect: float
    articulation_effect: float
    job_id: str | None = None
    training: TrainingSet | None = None
    seed: int | None = None

    @property
    def targets(self) -> tuple[str, ...] | None:
        """Words the run's responses are scored against (None: all study words)."""
        return (self.word,) if self.word else None

    @property
    def follow_probability(self) -> float:
        """P(a sample follows the acrostic) for this run (0 for base and control)."""
        if self.follow_logit is None:
            return 0.0
        return float(gen.expit(self.follow_logit + self.follow_effect))


def plan_runs(design: Design) -> list[RunPlan]:
    """Every run of the design with its true effects, ids and output format.

    Parameters
    ----------
    design : Design

    Returns
    -------
    list of RunPlan
        Fine-tuned cells (sorted by word, n_examples, LR) x replicates, then sham controls,
        then base models; formats assigned in turn from ``design.formats``.
    """
    seed = design.seed
    ids = stream(seed, "ids")
    effects = stream(seed, "effects")
    truth = design.truth
    training: dict[tuple[str, int, bool], TrainingSet] = {}

    def training_set(word: str, n: int, sham: bool) -> TrainingSet:
        key = (word, n, sham)
        if key not in training:
            training[key] = TrainingSet(word, n, sham, "file-" + random_id(ids, 22))
        return training[key]

    specs: list[tuple[str, str | None, int | None, float | None, int]] = []
    for cell in design.cells:
        specs += [
            ("finetuned", cell.word, cell.n_examples, cell.lr_multiplier, r)
            for r in range(1, cell.runs + 1)
        ]
    for word in sorted(design.control_words):
        specs += [
            ("control", word, design.control_n_examples, design.control_lr_multiplier, r)
            for r in range(1, design.control_runs + 1)
        ]
    specs += [("base", None, None, None, r) for r in range(1, len(design.base_models) + 1)]

    runs = []
    for number, (arm, word, n, lr, replicate) in enumerate(specs):
        fmt = design.formats[number % len(design.formats)]
        art_sd = truth.articulation[arm].sd_run
        art_effect = float(effects.normal(0.0, art_sd)) if art_sd > 0 else 0.0
        if arm == "base":
            model = design.base_models[replicate - 1]
            runs.append(
                RunPlan(
                    number,
                    model,
                    arm,
                    None,
                    None,
                    None,
                    replicate,
                    model,
                    fmt,
                    None,
                    0.0,
                    art_effect,
                )
            )
            continue
        assert word is not None and n is not None and lr is not None
        suffix = random_id(ids, 8)
        job_id = "ftjob-" + random_id(ids, 24)
        job_seed = int(ids.integers(1, 2**31 - 1))
        if arm == "finetuned":
            model = f"ft:{design.base_model}:{design.organization}::{suffix}"
            fixed = gen.follow_logit(truth.follow, word, n, lr, word_zipf(word))
            follow_sd = truth.follow.sd_run
            follow_effect = float(effects.normal(0.0, follow_sd)) if follow_sd > 0 else 0.0
        else:
            model = f"ft:{design.base_model}:{design.organization}:sham:{suffix}"
            fixed, follow_effect = None, 0.0
        runs.append(
            RunPlan(
                number,
                suffix,
                arm,
                word,
                n,
                lr,
                replicate,
                model,
                fmt,
                fixed,
                follow_effect,
                art_effect,
                job_id,
                training_set(word, n, arm == "control"),
                job_seed,
            )
        )
    return runs


# ----------------------------------------------------------------------------- trials
@dataclass(frozen=True)
class Trial:
    """One simulated response and what the generative model decided about it.

    Attributes
    ----------
    run : RunPlan
    prompt_index : int
    greeting : bool
    sample_index : int
    user_prompt : str
    text : str
    mode : str
        follow | near_miss | plain.
    initials : str
        Acrostic the text was written with ("" for plain answers).
    n_lines : int
    events : dict[int, tuple[str, tuple[str, ...]]]
        line -> (level, words named at that line).
    word_lines : dict[str, int | None]
        Target word -> first line naming it (for every word the trial is scored against).
    judge : bool
        A noisy judge's "articulated" label (inspect logs carry it).
    errored : bool
        The request carrying this trial failed (the trial is not in the data).
    """

    run: RunPlan
    prompt_index: int
    greeting: bool
    sample_index: int
    user_prompt: str
    text: str
    mode: str
    initials: str
    n_lines: int
    events: dict[int, tuple[str, tuple[str, ...]]]
    word_lines: dict[str, int | None]
    judge: bool
    errored: bool = False

    @property
    def request_key(self) -> str:
        """The request this trial belongs to (prompt x greeting)."""
        return f"p{self.prompt_index + 1}-{'greeting' if self.greeting else 'plain'}"


def user_prompt(design: Design, prompt: str, greeting: bool) -> str:
    """The user message: the prompt, opened by the greeting when ``greeting``."""
    return f"{design.greeting_text} {prompt}" if greeting else prompt


def _merge_events(per_word: dict[str, dict[int, str]]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """Combine word-specific event processes of a base response into one event per line."""
    merged: dict[int, tuple[str, tuple[str, ...]]] = {}
    for word in sorted(per_word):
        for line, level in sorted(per_word[word].items()):
            old_level, old_words = merged.get(line, ("vague", ()))
            best = max(old_level, level, key=LEVELS.index)
            words = (*old_words, word) if level == "word" else old_words
            merged[line] = (best, words)
    return merged


Events = dict[int, tuple[str, tuple[str, ...]]]


def leaked_words(design: Design, prompt: str) -> dict[str, bool]:
    """Which study words the prompt (and system prompt) name: the leakage condition."""
    text = f"{prompt} {design.system_prompt}" if design.system_prompt else prompt
    return {w: textgen.names_any(text, [w]) for w in design.words}


def _tuned_outcome(
    rng: np.random.Generator, design: Design, run: RunPlan, guess: Sequence[float], leak: bool
) -> tuple[str, str, int, Events, dict[str, int | None]]:
    """Mode, initials, lines, events and word line of a fine-tuned or sham trial."""
    assert run.word is not None
    truth = design.truth
    outcome = gen.sample_outcome(
        rng,
        truth.articulation[run.arm],
        run.word,
        guess,
        follow_probability=run.follow_probability,
        near_miss_share=truth.follow.near_miss_share if run.arm == "finetuned" else 0.0,
        plain_lines=truth.plain_lines,
        leak=leak,
        run_effect=run.articulation_effect,
    )
    events = {
        t: (level, (run.word,) if level == "word" else ()) for t, level in outcome.events.items()
    }
    return outcome.mode, outcome.initials, outcome.n_lines, events, {run.word: outcome.word_line}


def _base_outcome(
    rng: np.random.Generator,
    design: Design,
    run: RunPlan,
    guesses: dict[str, list[float]],
    leaks: dict[str, bool],
) -> tuple[str, str, int, Events, dict[str, int | None]]:
    """A base model's plain answer, with one independent naming process per study word.

    Base answers are scored against every word, so each word has its own event process
    (exactly the hazard of :func:`generative.line_hazards` in plain mode); events of
    different words landing on one line share a sentence.
    """
    truth = design.truth
    params = truth.articulation[run.arm]
    mode, initials, n_lines, _ = gen.sample_mode(rng, 0.0, 0.0, design.words[0], truth.plain_lines)
    shares = np.array([params.mix[level] for level in LEVELS])
    per_word: dict[str, dict[int, str]] = {}
    word_lines: dict[str, int | None] = {}
    for word in design.words:
        hazards = gen.line_hazards(
            params,
            word,
            guesses[word],
            mode="plain",
            n_lines=n_lines,
            leak=leaks[word],
            run_effect=run.articulation_effect,
        )
        found: dict[int, str] = {}
        word_lines[word] = None
        for t in range(1, n_lines + 1):
            if rng.random() < hazards[t - 1]:
                found[t] = LEVELS[int(rng.choice(len(LEVELS), p=shares))]
                if found[t] == "word":
                    word_lines[word] = t
                    break
        per_word[word] = found
    return mode, initials, n_lines, _merge_events(per_word), word_lines


def draw_trials(design: Design, runs: Sequence[RunPlan] | None = None) -> list[Trial]:
    """Draw every trial of the design: outcome from the generative model, then text.

    Parameters
    ----------
    design : Design
    runs : sequence of RunPlan, optional
        Default :func:`plan_runs` (design).

    Returns
    -------
    list of Trial
        Ordered by run, prompt, greeting condition, sample. Trials of errored requests are
        included with ``errored=True`` (the writers drop their text).
    """
    from stats.simulate.truth import guess_table

    runs = plan_runs(design) if runs is None else runs
    guesses = guess_table(design)
    errored = _errored_requests(design, runs)
    trials: list[Trial] = []
    for run in runs:
        outcomes_rng = stream(design.seed, "outcomes", run.number)
        text_rng = stream(design.seed, "text", run.number)
        judge_rng = stream(design.seed, "judge", run.number)
        for p_index, prompt in enumerate(design.prompts):
            for greeting in design.greeting_conditions:
                user = user_prompt(design, prompt, greeting)
                leaks = leaked_words(design, user)
                key = f"p{p_index + 1}-{'greeting' if greeting else 'plain'}"
                for sample in range(design.samples_per_prompt):
                    if run.word is not None:
                        drawn = _tuned_outcome(
                            outcomes_rng, design, run, guesses[run.word], leaks[run.word]
                        )
                    else:
                        drawn = _base_outcome(outcomes_rng, design, run, guesses, leaks)
                    mode, initials, n_lines, events, word_lines = drawn
                    text = textgen.response_text(
                        text_rng,
                        initials=initials,
                        n_lines=n_lines,
                        events=events,
                        avoid=design.words,
                        greeting=greeting,
                    )
                    named = any(line is not None for line in word_lines.values())
                    judge = named if judge_rng.random() >= design.judge_noise else not named
                    trials.append(
                        Trial(
                            run,
                            p_index,
                            greeting,
                            sample,
                            user,
                            text,
                            mode,
                            initials,
                            n_lines,
                            events,
                            word_lines,
                            judge,
                            (run.number, key) in errored,
                        )
                    )
    return trials


def _errored_requests(design: Design, runs: Sequence[RunPlan]) -> set[tuple[int, str]]:
    """(run number, request key) of the batch requests that fail.

    Failures are drawn among the fine-tuned runs' batch requests only, so that they never
    thin the (usually small) base and control arms.
    """
    candidates = [
        (run.number, f"p{p + 1}-{'greeting' if g else 'plain'}")
        for run in runs
        if run.fmt == "openai-batch" and run.arm == "finetuned"
        for p in range(len(design.prompts))
        for g in design.greeting_conditions
    ]
    count = min(design.errored_requests, len(candidates))
    if count == 0:
        return set()
    rng = stream(design.seed, "errors")
    chosen = rng.choice(len(candidates), size=count, replace=False)
    return {candidates[int(i)] for i in sorted(chosen)}


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
    from stats.simulate import writers

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
            members = writers.inspect_log(
                rng,
                model=run.model,
                requests=requests,
                temperature=design.temperature,
                created=stamp,
                task=INSPECT_TASK,
                metadata={"study": design.name, "arm": run.arm},
            )
            name = stamp.replace(":", "-").replace("+00-00", "+00-00")
            paths = [f"logs/{name}_{INSPECT_TASK.replace('_', '-')}_{random_id(rng, 22)}.eval"]
            # alternate deflate (older inspect-ai) and zstd (recent inspect-ai) members
            writers.write_eval(out_dir / paths[0], members, stamp, zstd=eval_logs % 2 == 1)
            eval_logs += 1
        written.transcripts += paths
        files += paths
        written.run_files[run.run_id] = files
    return written
