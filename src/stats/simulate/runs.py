"""The runs of a simulated study: who is fine-tuned on what, with which true effects.

Holds the seeded random streams (:func:`stream`), the training files (:class:`TrainingSet`),
one run's plan (:class:`RunPlan`) and :func:`plan_runs`, the first layer of
:mod:`stats.simulate.study`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stats.simulate import generative as gen
from stats.simulate.design import Design
from stats.simulate.guess import word_zipf
from stats.simulate.writers import random_id

#: Independent random streams (the second entry of every generator's seed).
STREAMS = {"effects": 1, "outcomes": 2, "text": 3, "training": 4, "ids": 5, "errors": 6, "judge": 7}


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
