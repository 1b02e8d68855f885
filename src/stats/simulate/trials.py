"""The trials of a simulated study: each response's outcome and text.

Holds :class:`Trial`, the user prompt and leakage condition of a request
(:func:`user_prompt`, :func:`leaked_words`) and :func:`draw_trials`, the second layer of
:mod:`stats.simulate.study` (outcomes from :mod:`stats.simulate.generative`, text from
:mod:`stats.simulate.textgen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stats.simulate import generative as gen
from stats.simulate import textgen
from stats.simulate.design import LEVELS, Design
from stats.simulate.runs import RunPlan, plan_runs, stream


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
        return request_key(self.prompt_index, self.greeting)


def request_key(prompt_index: int, greeting: bool) -> str:
    """Key of one batch request of a run: ``p<prompt number>-greeting`` or ``-plain``."""
    return f"p{prompt_index + 1}-{'greeting' if greeting else 'plain'}"


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
                key = request_key(p_index, greeting)
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
        (run.number, request_key(p, g))
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
