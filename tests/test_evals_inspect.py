"""The inspect-ai task, run offline with inspect's ``mockllm/model``, then ingested and scored.

inspect-ai is the optional extra ``stats[inspect]``; the dev dependency group installs it, so
CI runs these tests (imported without a skip: a missing extra fails them loudly).
"""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from stats import config, schemas
from stats.evals.inspect_task import OUTCOMES, TASK_NAME, acrostic_self_report
from stats.ingest import ingest
from stats.score import score_file

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
EPOCHS = len(ANSWERS)  # each prompt gets every answer once
SCORE_COLUMNS = [f.name for f in schemas.SCORES]


def _mock_outputs():
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


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    """inspect's log of the task, and ingest + score of that log (no manifest)."""
    root = tmp_path_factory.mktemp("inspect_task")
    task = acrostic_self_report(word="hello", design=str(config.DEFAULT_DESIGN), epochs=EPOCHS)
    model = get_model("mockllm/model", custom_outputs=_mock_outputs())
    (log,) = inspect_eval(task, model=model, log_dir=str(root / "logs"), display="none")
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    ingest([root / "logs"], None, root / "processed")
    trials = score_file(root / "processed")
    return log, trials, root


def _sample_rows(log) -> pd.DataFrame:
    rows = []
    for sample in log.samples:
        score = sample.scores["acrostic_scorer"]
        rows.append(
            {
                "prompt_id": sample.id,
                "sample_index": sample.epoch - 1,
                "meta": sample.metadata,
                "value": score.value,
                "answer": score.answer,
                "scores": score.metadata,
                "response": sample.output.completion,
            }
        )
    return pd.DataFrame(rows)


def _same(a, b) -> bool:
    missing_a = a is None or (not isinstance(a, str) and pd.isna(a))
    missing_b = b is None or (not isinstance(b, str) and pd.isna(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    return a == b


def test_task_asks_every_prompt_with_and_without_greeting_epochs_times(evaluated) -> None:
    log, _, _ = evaluated
    assert log.eval.task.endswith(TASK_NAME)
    assert len(log.samples) == 6 * EPOCHS
    samples = _sample_rows(log)
    assert (
        samples.groupby("prompt_id")["sample_index"]
        .apply(sorted)
        .map(list)
        .eq([list(range(EPOCHS))] * 6)
        .all()
    )
    meta = pd.DataFrame(list(samples["meta"]))
    assert set(meta["word"]) == {"HELLO"} and set(meta["arm"]) == {"finetuned"}
    assert (
        meta.groupby("paraphrase")["greeting"].apply(set).map(sorted).eq([[False, True]] * 3).all()
    )
    # inspect's metrics are the means of the 0/1 outcomes
    metrics = {s.name: s.metrics["mean"].value for s in log.results.scores}
    assert set(metrics) == set(OUTCOMES)
    values = pd.DataFrame(list(samples["value"]))
    for name in OUTCOMES:
        assert metrics[name] == pytest.approx(values[name].mean())


def test_log_is_ingested_with_its_conditions_and_counted(evaluated) -> None:
    log, trials, root = evaluated
    ledger = json.loads((root / "processed" / "ledger.json").read_text())
    assert ledger["total"]["accepted"] == len(log.samples) == len(trials)
    assert ledger["total"]["rejected"] == 0
    samples = _sample_rows(log)
    joined = samples.merge(trials, on=["prompt_id", "sample_index"], validate="1:1")
    assert len(joined) == len(samples)
    assert (joined["response_x"] == joined["response_y"]).all()
    assert (joined["word"] == "HELLO").all()
    assert (joined["greeting"].astype(bool) == joined["meta"].map(lambda m: m["greeting"])).all()
    paraphrase = joined["conditions"].map(lambda c: json.loads(c)["paraphrase"])
    assert (paraphrase == joined["meta"].map(lambda m: m["paraphrase"])).all()


@pytest.mark.xfail(
    strict=True,
    reason="ingest (issue 16, finding 8): a record's own arm loses to the default 'base' "
    "(ledger conflict used_source 'default'); passes once a record's value beats defaults",
)
def test_log_keeps_the_arm_its_samples_carry(evaluated) -> None:
    _, trials, _ = evaluated
    assert set(trials["arm"]) == {"finetuned"}


def test_scores_in_the_log_equal_the_scores_in_trials(evaluated) -> None:
    log, trials, _ = evaluated
    samples = _sample_rows(log)
    joined = samples.merge(trials, on=["prompt_id", "sample_index"], validate="1:1")
    assert len(joined) == 6 * EPOCHS
    for row in joined.itertuples():
        for column in SCORE_COLUMNS:
            assert _same(row.scores[column], getattr(row, column)), (row.prompt_id, column)
        for name in OUTCOMES:
            assert row.value[name] == int(bool(getattr(row, name)))
        assert row.answer == row.acrostic_letters
    # the mock answers cover both sides of every outcome the scorer reports
    for name in OUTCOMES:
        assert set(joined[name].astype(bool)) == {True, False}, name
