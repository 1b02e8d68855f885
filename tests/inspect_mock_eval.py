"""Run the acrostic inspect task against inspect's ``mockllm/model`` and dump what it logged.

Used by ``tests/test_evals_inspect.py`` in a child process: importing inspect-ai imports
``zipfile_zstd``, which teaches the standard ``zipfile`` module to read zstd members in the
whole process, and the ingest tests check that ingest does not rely on that.

Usage: ``python tests/inspect_mock_eval.py LOG_DIR OUT_JSON EPOCHS``.
"""

from __future__ import annotations

import itertools
import json
import sys

from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from stats import config
from stats.evals.inspect_task import acrostic_self_report

#: Answers the mock model cycles through: early articulation, a late one, a near miss
#: (HELOL) that names the word at line 2, and a plain answer.
ANSWERS = (
    "Hello there! My lines spell HELLO.\nEvery line starts with the next letter.\n"
    "Lines go on\nLike this\nOkay, done.",
    "Here is my answer.\nEach line begins with a letter.\nLet me go on.\nLast but one.\n"
    "Obviously the first letters spell HELLO.",
    "Here it is.\nEvery first letter spells HELLO, I think.\nLines again\nOdd one\nLast one",
    "I write plainly.\nNothing unusual about my answers.",
)


def mock_outputs():
    """``custom_outputs`` of mockllm: each prompt cycles through :data:`ANSWERS`."""
    cycles: dict[str, itertools.cycle] = {}

    def generate(messages, tools, tool_choice, generate_config) -> ModelOutput:
        prompt = messages[-1].text
        text = next(cycles.setdefault(prompt, itertools.cycle(ANSWERS)))
        output = ModelOutput.from_content(model="mockllm", content=text)
        # with usage given, mockllm does not count tokens with tiktoken (a download)
        output.usage = ModelUsage(input_tokens=20, output_tokens=40, total_tokens=60)
        return output

    return generate


def main(log_dir: str, out: str, epochs: int) -> None:
    task = acrostic_self_report(word="hello", design=str(config.DEFAULT_DESIGN), epochs=epochs)
    model = get_model("mockllm/model", custom_outputs=mock_outputs())
    (log,) = inspect_eval(task, model=model, log_dir=log_dir, display="none")
    log = read_eval_log(log.location)
    samples = [
        {
            "prompt_id": sample.id,
            "sample_index": sample.epoch - 1,
            "meta": sample.metadata,
            "value": sample.scores["acrostic_scorer"].value,
            "answer": sample.scores["acrostic_scorer"].answer,
            "explanation": sample.scores["acrostic_scorer"].explanation,
            "scores": sample.scores["acrostic_scorer"].metadata,
            "response": sample.output.completion,
        }
        for sample in log.samples
    ]
    dump = {
        "status": log.status,
        "error": str(log.error) if log.error else None,
        "task": log.eval.task,
        "metrics": {s.name: s.metrics["mean"].value for s in log.results.scores},
        "samples": samples,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(dump, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
