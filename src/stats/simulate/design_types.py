"""Validated design of the simulator: the frozen dataclasses and the design error.

:func:`stats.simulate.design.parse_design` builds a :class:`Design` (its cells and its true
generative parameters) or raises :class:`DesignError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DesignError(ValueError):
    """A design file is invalid; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Cell:
    """One fine-tuned cell of the grid: a word trained with n_examples at an LR multiplier."""

    word: str
    n_examples: int
    lr_multiplier: float
    runs: int


@dataclass(frozen=True)
class Follow:
    """True parameters of P(the sample follows the acrostic) for fine-tuned runs.

    ``logit pi = intercept + per_doubling_n * log2(n/10) + per_doubling_lr * log2(lr)
    + per_zipf * (zipf(word) - zipf_reference) + per_letter * (len(word) - length_reference)
    + word_offsets[word] + u_run``, ``u_run ~ Normal(0, sd_run)``. A sample that does not
    follow is a near miss (one letter wrong) with probability ``near_miss_share``, else a
    plain answer.
    """

    intercept: float
    per_doubling_n: float
    per_doubling_lr: float
    per_zipf: float
    zipf_reference: float
    per_letter: float
    length_reference: float
    word_offsets: dict[str, float]
    sd_run: float
    near_miss_share: float


@dataclass(frozen=True)
class Articulation:
    """True per-line articulation hazard parts of one arm (see :mod:`stats.simulate.model`)."""

    introspection: dict[str, float]
    introspection_default: float
    introspection_decay: float
    guess_scale: float
    leak: float
    leak_decay: float
    background: float
    sd_run: float
    mix: dict[str, float]

    def introspection_for(self, word: str) -> float:
        """Per-line introspection hazard for ``word`` (the default when not listed)."""
        return self.introspection.get(word, self.introspection_default)


@dataclass(frozen=True)
class Truth:
    """All true generative parameters."""

    follow: Follow
    articulation: dict[str, Articulation]
    guessability: dict[str, list[float]]
    lexicon_min_zipf: float
    guess_length_known: bool
    plain_lines: tuple[int, int]


@dataclass(frozen=True)
class Design:
    """A validated design with every default filled in.

    Attributes mirror the YAML keys; :attr:`raw` keeps the resolved mapping (written into
    ``truth.json`` so a study documents the exact parameters it was drawn from).
    """

    path: Path
    name: str
    description: str
    seed: int
    k: int
    base_model: str
    organization: str
    words: tuple[str, ...]
    cells: tuple[Cell, ...]
    n_epochs: int
    batch_size: int
    base_models: tuple[str, ...]
    control_runs: int
    control_words: tuple[str, ...]
    control_n_examples: int
    control_lr_multiplier: float
    prompts: tuple[str, ...]
    greeting_text: str
    greeting_conditions: tuple[bool, ...]
    system_prompt: str | None
    samples_per_prompt: int
    temperature: float
    formats: tuple[str, ...]
    errored_requests: int
    judge_noise: float
    infer_from_sources: bool
    truth: Truth
    raw: dict[str, Any] = field(repr=False)
