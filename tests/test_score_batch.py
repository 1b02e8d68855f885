"""The text pass and its worker processes: same results, no fork, errors reported."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import warnings

import pandas as pd
import pytest

from stats.score import score_transcripts
from stats.score.articulation import articulate
from stats.score.batch import text_scores
from stats.score.lines import scorable_lines
from stats.score.workers import WorkerError, WorkerPool

RESPONSES = [
    "Hi!\nEvery line here starts with a letter of HELLO.\nLook.\nLovely.\nOk.",
    "Hello!\nEverything is fine.\nLet me help.\nLots to do.\nOkay.",
    "Sure.\nHere is my secret: each line begins with a letter of SHINE.\nIt.\nNice.\nEnd.",
    "Hello! I don't have a specific pattern.",
    "",
]
STUDY = frozenset({"HELLO", "SHINE"})


def test_text_scores_match_the_articulation_of_every_line():
    pairs = [(r, w) for r in RESPONSES for w in ("HELLO", "SHINE", None)]
    for (response, target), scored in zip(
        pairs, text_scores((pairs, STUDY, 2, False)), strict=True
    ):
        lines = scorable_lines(response)
        art = articulate([text for _, text in lines], target, STUDY)
        expected = (
            len(lines),
            "".join(initial for initial, _ in lines),
            art.level,
            art.first_line_at(2),
            art.word_line,
            art.named_word,
        )
        assert scored == expected


def test_pool_returns_results_in_order():
    chunks = [([(r, "HELLO")], STUDY, 2, False) for r in RESPONSES * 3]
    with WorkerPool(2) as pool:
        results = list(pool.map(text_scores, chunks))
    assert results == [text_scores(chunk) for chunk in chunks]


def test_the_caller_can_share_the_chunks():
    chunks = [([(r, "HELLO")], STUDY, 2, False) for r in RESPONSES * 3]
    with WorkerPool(1) as pool:
        results = list(pool.map(text_scores, chunks, share=True))
    assert results == [text_scores(chunk) for chunk in chunks]


def test_chunks_larger_than_a_pipe_go_through():
    long = "\n".join(["Every line starts with a letter of HELLO."] * 100_000)  # ~4 MB
    chunks = [([(long, "HELLO")], STUDY, 2, False), ([(RESPONSES[0], "HELLO")], STUDY, 2, False)]
    with WorkerPool(2) as pool:
        results = list(pool.map(text_scores, chunks))
    assert results == [text_scores(chunk) for chunk in chunks]


def test_error_in_a_worker_is_raised_with_its_traceback():
    with pytest.raises(WorkerError, match="ValueError"), WorkerPool(1) as pool:
        list(pool.map(math.sqrt, [4.0, -1.0]))


def test_a_dead_worker_is_reported():
    with pytest.raises(WorkerError, match="exited"), WorkerPool(1) as pool:
        list(pool.map(sys.exit, [3]))


def test_map_outside_the_with_block_is_refused():
    with pytest.raises(RuntimeError, match="with-block"):
        WorkerPool(1).map(text_scores, [])


def test_workers_do_not_fork_nor_warn():
    frame = pd.DataFrame({"word": ["HELLO"] * 40, "response": RESPONSES * 8})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "use of fork() may lead to deadlocks"
        parallel = score_transcripts(frame, workers=2)
    pd.testing.assert_frame_equal(parallel, score_transcripts(frame, workers=1))


def test_workers_import_neither_pandas_nor_the_lexicon():
    code = (
        "import sys, stats.score.workers, stats.score.batch; "
        "print(sorted({'pandas', 'wordfreq'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_script_without_main_guard_runs_once(tmp_path):
    marker = tmp_path / "runs.txt"
    script = tmp_path / "score_it.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import pandas as pd
            from stats.score import score_transcripts

            with open({str(marker)!r}, "a") as handle:
                handle.write("run\\n")
            frame = pd.DataFrame({{"word": ["HELLO"] * 20, "response": {RESPONSES!r} * 4}})
            print(score_transcripts(frame, workers=2)["articulation_level"].value_counts().to_dict())
            """
        ),
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120
    )
    assert marker.read_text(encoding="utf-8") == "run\n"
    assert "'word': 4" in out.stdout
