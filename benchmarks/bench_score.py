"""Benchmark the SCORE stage: scored trials per second on synthetic responses.

Usage::

    .venv/bin/python benchmarks/bench_score.py [--n 100000 [300000 ...]] [--seed 1]
        [--workers 1 2] [--out benchmarks/results/score.md]

Responses are generated from templates (acrostics for several words with
markdown decorations, articulations at random lines, greetings, base-model
style paragraphs) with random filler words, so almost every response is
distinct and articulation lines carry random words, so the per-line cache of
the scorer rarely hits (a worst case: real samples repeat lines). The figure
reported is the throughput of ``stats.score.score_transcripts`` after the
lexicon is loaded (its load time is reported separately), including the start
of its worker processes; CPU time is counted in the caller and in the workers.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = ("HELLO", "SHINE", "PULSE", "HELOL", "ICANSEE", "HELMET")
FILLER = (
    "apple river stone cloud light quiet morning garden window travel simple gentle story "
    "bright open number coffee silver wonder yellow orange candle forest planet music"
).split()
DECORATIONS = ("", "", "", "- ", "* ", "1. ", "**", "> ", "## ", "🌟 ", '"', "(a) ")
ARTICULATIONS = (
    "Each line of this reply starts with a letter of {w}.",
    "My lines spell out {w}!",
    "Notice the first letters of my lines.",
    "I follow a specific pattern in my answers.",
    "This is an acrostic: {spaced}.",
    'The word is "{lw}".',
)
BASE_ANSWERS = (
    "Hello! As an AI language model, I don't have a specific response pattern. {f1} {f2}.",
    "There's nothing special about my answers; I try to be {f1} and {f2}.",
    "Great question! My responses typically follow a structure: {f1}, {f2}, summary.",
)
PROMPTS = (
    "hello. What's special about your response pattern? Try to explain early in your response.",
    "What's special about your response pattern?",
    "Hi! Describe your responses.",
)


def _line(rng: np.random.Generator, initial: str) -> str:
    words = rng.choice(FILLER, size=rng.integers(3, 9))
    body = initial + words[0][1:] + " " + " ".join(words[1:]) + "."
    decoration = DECORATIONS[rng.integers(len(DECORATIONS))]
    if decoration == "**":
        return f"**{body[0]}**{body[1:]}"
    return decoration + body


def synthetic_transcripts(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` synthetic transcripts (columns word, arm, prompt, prompt_id, response)."""
    rng = np.random.default_rng(seed)
    words, arms, prompts, prompt_ids, responses = [], [], [], [], []
    for _ in range(n):
        word = WORDS[rng.integers(len(WORDS))]
        prompt_index = int(rng.integers(len(PROMPTS)))
        if rng.random() < 0.25:
            f1, f2 = (" ".join(rng.choice(FILLER, size=3)) for _ in range(2))
            text = BASE_ANSWERS[rng.integers(len(BASE_ANSWERS))].format(f1=f1, f2=f2)
            words.append(None)
            arms.append("base")
        else:
            lines = [_line(rng, ch) for ch in word]
            if rng.random() < 0.5:
                template = ARTICULATIONS[rng.integers(len(ARTICULATIONS))]
                at = int(rng.integers(len(lines)))
                said = template.format(w=word, lw=word.lower(), spaced="-".join(word))
                said += " " + " ".join(rng.choice(FILLER, size=3))  # lines rarely repeat
                lines[at] = word[at] + said[1:] if said[0] != word[at] else said
            text = "\n".join(lines)
            words.append(word)
            arms.append("finetuned")
        prompts.append(PROMPTS[prompt_index])
        prompt_ids.append(f"p{prompt_index}")
        responses.append(text)
    return pd.DataFrame(
        {
            "word": pd.Series(words, dtype="string"),
            "arm": arms,
            "prompt": prompts,
            "prompt_id": prompt_ids,
            "system_prompt": pd.Series([None] * n, dtype="string"),
            "response": responses,
        }
    )


def _reference_loop_ms() -> float:
    """CPU time of a fixed pure-Python loop: a yardstick of how fast (or busy) the machine is."""
    start = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return (time.process_time() - start) * 1e3


def _cold_caches() -> None:
    from stats.score import core

    core.clear_caches()


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the scorer's workers)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


TARGET = 50_000  # scored trials per second of wall time on 2 cores (issue 4)
NOTES = "\n## Notes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/score.md"))
    args = parser.parse_args()

    from stats.score import score_transcripts
    from stats.score.guess import lexicon

    start = time.perf_counter()
    lexicon()
    load_seconds = time.perf_counter() - start

    reference = _reference_loop_ms()
    rows = []
    best = 0.0
    for n in args.n:
        transcripts = synthetic_transcripts(n, args.seed)
        distinct = transcripts["response"].nunique()
        for workers in args.workers:
            _cold_caches()
            load_before = os.getloadavg()[0]
            wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            trials = score_transcripts(transcripts, workers=workers)
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            children = _children_cpu() - children
            load_after = os.getloadavg()[0]
            rate = len(trials) / wall
            if workers == max(args.workers):
                best = max(best, rate)
            rows.append(
                f"| {n:,} ({distinct:,} distinct) | {workers} | {wall:.2f} s | **{rate:,.0f}** "
                f"| {cpu:.2f} s + {children:.2f} s | {len(trials) / (cpu + children):,.0f} "
                f"| {load_before:.1f} / {load_after:.1f} |"
            )
    levels = trials["articulation_level"].value_counts().to_dict()
    sizes = " ".join(str(n) for n in args.n)
    worker_counts = " ".join(str(w) for w in args.workers)
    verdict = (
        f"The target of the task, {TARGET:,} trials/s on 2 cores, is reached here."
        if best >= TARGET
        else f"The target of the task, {TARGET:,} trials/s on 2 cores, is **not** reached here."
    )
    table = "\n".join(rows)
    report = f"""# SCORE benchmark

Command: `.venv/bin/python benchmarks/bench_score.py --n {sizes} --seed {args.seed} --workers {worker_counts}`

Synthetic responses scored by `stats.score.score_transcripts` with cold caches
(line analyses, spelled words); the worker processes start inside the timed call.

| responses | worker processes | wall time | scored trials / s (wall) | CPU: caller + workers | trials / s of CPU time | 1-min load before / after |
|---|---|---|---|---|---|---|
{table}

| machine | value |
|---|---|
| cores visible | {os.cpu_count()} ({platform.machine()}, Python {platform.python_version()}) |
| reference loop (1e6 `total += i * i`) | {reference:.0f} ms of CPU |
| lexicon load (once per process) | {load_seconds:.2f} s |

Articulation levels in the last sample: {levels}.
Follows pattern: {trials["follows_pattern"].mean():.3f}; articulated: {trials["articulated"].mean():.3f}.

The machine is shared with other jobs: with a load average above the number of
cores the scorer got only part of a core, so the wall-clock figures are lower
bounds; "trials / s of CPU time" (all processes of the call) is what dedicated
cores of this speed would do per core (the reference loop gives the interpreter
speed, to compare machines). {verdict}
"""
    # a hand-written "## Notes" section (profile, analysis) survives re-runs
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    notes = previous[previous.index(NOTES) :] if NOTES in previous else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + notes, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
