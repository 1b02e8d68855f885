"""CPU time per response of the SCORE stage in one process (robust to a busy machine).

Usage::

    .venv/bin/python benchmarks/score_cpu.py [--n 30000] [--repeats 3] [--seed 1]

Scores the synthetic responses of ``bench_score.py`` with cold caches and
reports the best of ``--repeats`` runs, in microseconds of CPU time
(``time.process_time``) per response, for the text pass alone
(:func:`stats.score.batch.text_scores`: lines, initials, articulation) and for
the whole ``score_transcripts(..., workers=1)``. CPU time, unlike wall time,
hardly depends on other jobs sharing the machine, so it compares versions of
the scorer on a shared machine; ``bench_score.py`` gives the throughput.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench_score import _cold_caches, synthetic_transcripts


def _best_cpu(function, repeats: int) -> float:
    """Least CPU seconds of ``repeats`` calls of ``function`` (cold caches each time)."""
    best = float("inf")
    for _ in range(repeats):
        _cold_caches()
        gc.collect()
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from stats.score import batch, core, score_transcripts
    from stats.score.guess import lexicon

    lexicon()
    transcripts = synthetic_transcripts(args.n, args.seed)
    targets, _ = core.resolve_targets(transcripts)
    study = frozenset(w for w in targets if w)
    pairs = list(zip(transcripts["response"].tolist(), targets, strict=True))
    chunk = (pairs, study, core._threshold_index(core.ARTICULATION_THRESHOLD), False)
    text = _best_cpu(lambda: batch.text_scores(chunk), args.repeats)
    whole = _best_cpu(lambda: score_transcripts(transcripts, workers=1), args.repeats)
    per = 1e6 / args.n
    print(
        f"{args.n:,} responses (seed {args.seed}), best of {args.repeats}, CPU time per response: "
        f"text pass {text * per:.1f} us, score_transcripts(workers=1) {whole * per:.1f} us "
        f"({args.n / whole:,.0f} trials per CPU-second)"
    )


if __name__ == "__main__":
    main()
