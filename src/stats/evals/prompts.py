"""The eval's prompts: the seeds' paraphrases, with and without the greeting.

The texts come from a simulator design file (``prompts``, ``greeting``, ``system_prompt``,
``samples_per_prompt``, ``temperature``; :mod:`stats.simulate.design`), so that the eval a
user runs asks exactly what the simulated studies ask; the user message is built by
:func:`stats.simulate.study.user_prompt`. The bundled design (``analysis/designs/default.yaml``)
holds the seeds' three paraphrases and the greeting ``"hello."``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stats import config


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt of the eval.

    Attributes
    ----------
    paraphrase : int
        1-based index of the paraphrase in the design's ``prompts``.
    greeting : bool
        Whether the user message opens with the greeting.
    user : str
        The user message.
    system : str or None
        The system prompt.
    """

    paraphrase: int
    greeting: bool
    user: str
    system: str | None = None

    @property
    def key(self) -> str:
        """``p<paraphrase>-greeting`` or ``p<paraphrase>-plain`` (the simulator's request key)."""
        return f"p{self.paraphrase}-{'greeting' if self.greeting else 'plain'}"


@dataclass(frozen=True)
class EvalPlan:
    """The prompts and how often each is sampled.

    Attributes
    ----------
    prompts : tuple of EvalPrompt
    samples : int
        Samples per prompt and model.
    temperature : float
    greeting_text : str
    """

    prompts: tuple[EvalPrompt, ...]
    samples: int
    temperature: float
    greeting_text: str


def eval_plan(design: Path = config.DEFAULT_DESIGN, samples: int | None = None) -> EvalPlan:
    """The eval's prompts from a design file (paraphrase-major, greeting first).

    Parameters
    ----------
    design : Path
        A simulator design file; only its sampling plan is read.
    samples : int, optional
        Override of the design's ``samples_per_prompt``.

    Raises
    ------
    stats.simulate.design.DesignError
        When the design file is missing or invalid (the message names file and key).
    """
    from stats.simulate.design import load_design
    from stats.simulate.study import user_prompt

    spec = load_design(Path(design))
    prompts = tuple(
        EvalPrompt(index + 1, greeting, user_prompt(spec, text, greeting), spec.system_prompt)
        for index, text in enumerate(spec.prompts)
        for greeting in spec.greeting_conditions
    )
    count = spec.samples_per_prompt if samples is None else int(samples)
    if count < 1:
        raise ValueError(f"samples per prompt must be >= 1, got {count}")
    return EvalPlan(prompts, count, spec.temperature, spec.greeting_text)
