"""Benchmark the SCORE stage: scored trials per second on synthetic responses.

Usage::

    .venv/bin/python benchmarks/bench_score.py [--n 100000] [--seed 1] [--out benchmarks/results/score.md]

Responses are generated from templates (acrostics for several words with
markdown decorations, articulations at random lines, greetings, base-model
style paragraphs) with random filler words, so almost every response is
distinct and articulation lines carry random words, so the per-line cache of
the scorer rarely hits (a worst case: real samples repeat lines). The figure
reported is the throughput of ``stats.score.score_transcripts`` after the
lexicon is loaded (its load time is reported separately).
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
    "The word is \"{lw}\".",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/score.md"))
    args = parser.parse_args()

    from stats.score import score_transcripts
    from stats.score.guess import lexicon

    start = time.perf_counter()
    lexicon()
    load_seconds = time.perf_counter() - start

    transcripts = synthetic_transcripts(args.n, args.seed)
    distinct = transcripts["response"].nunique()
    start = time.perf_counter()
    trials = score_transcripts(transcripts)
    seconds = time.perf_counter() - start
    rate = len(trials) / seconds

    levels = trials["articulation_level"].value_counts().to_dict()
    report = f"""# SCORE benchmark

Command: `.venv/bin/python benchmarks/bench_score.py --n {args.n} --seed {args.seed}`

| quantity | value |
|---|---|
| synthetic responses | {len(trials):,} ({distinct:,} distinct) |
| scoring time (one process) | {seconds:.2f} s |
| **scored trials per second** | **{rate:,.0f}** |
| lexicon load (once per process) | {load_seconds:.2f} s |
| machine | {platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()} |

Articulation levels in the sample: {levels}.
Follows pattern: {trials["follows_pattern"].mean():.3f}; articulated: {trials["articulated"].mean():.3f}.

The throughput is single-process; the machine was shared with other jobs while
it ran, so treat it as a lower bound.
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
