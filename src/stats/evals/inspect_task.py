"""The acrostic self-report eval as an inspect-ai Task (optional extra ``stats[inspect]``).

Run it against a model with inspect's CLI::

    inspect eval src/stats/evals/inspect_task.py@acrostic_self_report \\
        -T word=HELLO --model openai/ft:gpt-4o-2024-08-06:acme::abc123

then ``stats run LOG_DIR`` (or ``stats ingest``): every sample carries the run's word, the
arm, the greeting, the paraphrase and its ``prompt_id`` in its metadata, which ingest reads
as the trial's conditions, so no manifest is needed beyond the run's word given here.

Samples are the design's prompts (paraphrases x greeting, :func:`stats.evals.prompts.eval_plan`);
``epochs`` repeats each (the design's samples per prompt by default), and ingest numbers the
repeats ``sample_index = epoch - 1``. The scorer is this package's own
(:func:`stats.score.score_response`): its value holds the 0/1 outcomes (follows the pattern,
near miss, articulated, articulated early), its answer the acrostic letters, its explanation
the articulation level and line, and its metadata every score column, exactly what
``stats score`` writes to ``trials.parquet`` for the same response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState, generate

from stats import config
from stats.evals.prompts import EvalPlan, eval_plan

#: Score columns in the scorer's value (0/1, averaged by inspect's metrics).
OUTCOMES = ("follows_pattern", "near_miss", "articulated", "articulated_early")
TASK_NAME = "acrostic_self_report"


def samples(plan: EvalPlan, word: str, arm: str) -> list[Sample]:
    """One sample per prompt, with the run's word and the prompt's conditions as metadata."""
    out = []
    for prompt in plan.prompts:
        messages: list[Any] = [ChatMessageUser(content=prompt.user)]
        if prompt.system:
            messages.insert(0, ChatMessageSystem(content=prompt.system))
        out.append(
            Sample(
                id=prompt.key,
                input=messages,
                target=word,
                metadata={
                    "word": word,
                    "arm": arm,
                    "greeting": prompt.greeting,
                    "paraphrase": prompt.paraphrase,
                    "prompt_id": prompt.key,
                },
            )
        )
    return out


def explanation(scores: dict[str, Any], word: str, k: int) -> str:
    """One line a reader of ``inspect view`` can check against the response."""
    follows = "follows" if scores["follows_pattern"] else "does not follow"
    level = scores["articulation_level"]
    parts = [f"initials {scores['acrostic_letters'] or '-'}: {follows} {word}"]
    if scores["articulation_line"] is not None:
        parts.append(f"articulation '{level}' at line {scores['articulation_line']}")
    else:
        parts.append(f"articulation level '{level}'")
    if scores["word_line"] is not None:
        early = "early" if scores["articulated_early"] else "not early"
        parts.append(f"names {word} at line {scores['word_line']} ({early}, k={k})")
    else:
        parts.append(f"never names {word}")
    return "; ".join(parts)


def _plain(value: Any) -> Any:
    """A score as JSON-ready Python (NumPy and pandas scalars, NA -> None)."""
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


@scorer(metrics={name: [mean(), stderr()] for name in OUTCOMES})
def acrostic_scorer(k: int = config.EARLY_K, threshold: str = config.ARTICULATION_THRESHOLD):
    """This package's scorer (:func:`stats.score.score_response`) as an inspect scorer.

    Parameters
    ----------
    k : int
        "Early" means the word is named with at most ``k`` acrostic letters visible.
    threshold : str
        Articulation level that ``articulation_line`` looks for.
    """
    from stats.score import score_response

    async def score(state: TaskState, target: Target) -> Score:
        word = state.metadata.get("word") or target.text
        prompt = state.user_prompt.text if state.user_prompt else None
        systems = [m.text for m in state.messages if m.role == "system"]
        values = score_response(
            state.output.completion,
            word,
            k=k,
            threshold=threshold,
            prompt=prompt,
            system_prompt="\n\n".join(systems) or None,
        )
        values = {name: _plain(v) for name, v in values.items()}
        return Score(
            value={name: int(bool(values[name])) for name in OUTCOMES},
            answer=values["acrostic_letters"],
            explanation=explanation(values, str(word).upper(), k),
            metadata=values,
        )

    return score


@task(name=TASK_NAME)
def acrostic_self_report(
    word: str,
    arm: str = "finetuned",
    design: str = str(config.DEFAULT_DESIGN),
    epochs: int | None = None,
    k: int = config.EARLY_K,
    threshold: str = config.ARTICULATION_THRESHOLD,
) -> Task:
    """The acrostic self-report eval for one run (one model trained on ``word``).

    Parameters
    ----------
    word : str
        The word the model was trained to spell (a base model: the word it is compared on).
    arm : {"finetuned", "base", "control"}
    design : str
        Design file with the prompts, greeting, samples per prompt and temperature.
    epochs : int, optional
        Samples per prompt (default: the design's ``samples_per_prompt``).
    k, threshold
        See :func:`acrostic_scorer`.
    """
    if arm not in config.ARMS:
        raise ValueError(f"arm {arm!r}: choose one of {list(config.ARMS)}")
    plan = eval_plan(Path(design), epochs)
    word = word.strip().upper()
    return Task(
        dataset=MemoryDataset(samples(plan, word, arm), name=f"acrostic-{word}"),
        solver=generate(),
        scorer=acrostic_scorer(k=k, threshold=threshold),
        epochs=Epochs(plan.samples, "mean"),
        config=GenerateConfig(temperature=plan.temperature),
        metadata={"word": word, "arm": arm, "design": str(design)},
    )
