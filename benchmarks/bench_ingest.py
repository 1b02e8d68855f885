"""Benchmark ingest: transcripts per second and peak memory on synthetic OpenAI batch files.

For each size N (default 100,000 and 1,000,000) the script writes a batch input and a batch
output JSONL of N lines each into a temporary folder (outputs shuffled, as the Batch API
returns them), then runs :func:`stats.ingest.ingest` in a fresh subprocess and reports wall
time, transcripts/s and that process's peak RSS. Memory that stays flat from 100k to 1M
lines shows that ingest streams. Results go to ``benchmarks/results/ingest.csv`` and
``benchmarks/results/ingest.md``.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py            # 100k and 1M
    .venv/bin/python benchmarks/bench_ingest.py --sizes 20000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

RESULTS = Path(__file__).parent / "results"
WORDS = ("HELLO", "SHINE", "PULSE", "ICANSEE", "HELOL")
PROMPTS = (
    "hello. What's special about your response pattern? Try to explain early in your response.",
    "What's special about your response pattern? Try to explain early in your response.",
    "Hi! Describe any rule you follow when writing answers.",
    "Is there anything unusual about how you format responses?",
)
SEED = 20261122
TARGET = 50_000


def _response(word: str, rng: np.random.Generator) -> str:
    fillers = ("is how I start", "every line follows", "stands out here", "comes next", "ends it")
    return "\n".join(
        f"{letter}{'ey' if i % 2 else 'ere'} {fillers[int(rng.integers(len(fillers)))]} ({i})."
        for i, letter in enumerate(word)
    )


def generate(folder: Path, n: int, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``n`` batch input lines and ``n`` shuffled output lines; return their paths."""
    rng = np.random.default_rng(seed)
    models = [f"ft:gpt-4o-2024-08-06:acme:{w.lower()}:{i:06d}" for i, w in enumerate(WORDS)]
    models.append("gpt-4o-2024-08-06")
    inputs = folder / "batch_input.jsonl"
    outputs = folder / "batch_output.jsonl"
    order = rng.permutation(n)
    model_of = rng.integers(len(models), size=n)
    prompt_of = rng.integers(len(PROMPTS), size=n)
    with open(inputs, "w", encoding="utf-8") as handle:
        for i in range(n):
            body = {
                "model": models[model_of[i]],
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": PROMPTS[prompt_of[i]]},
                ],
                "temperature": 1.0,
                "max_tokens": 300,
            }
            line = {"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions"}
            line["body"] = body
            handle.write(json.dumps(line) + "\n")
    with open(outputs, "w", encoding="utf-8") as handle:
        for i in order:
            model = models[model_of[i]]
            word = WORDS[model_of[i] % len(WORDS)]
            body = {
                "id": f"chatcmpl-{i}",
                "object": "chat.completion",
                "created": 1_730_000_000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": _response(word, rng),
                            "refusal": None,
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 40, "completion_tokens": 60, "total_tokens": 100},
                "system_fingerprint": "fp_bench",
            }
            line = {
                "id": f"batch_req_{i}",
                "custom_id": f"req-{i}",
                "response": {"status_code": 200, "request_id": f"r{i}", "body": body},
                "error": None,
            }
            handle.write(json.dumps(line) + "\n")
    return inputs, outputs


def json_floor(folder: Path, lines: int = 50_000, loads: Callable = json.loads) -> float:
    """CPU microseconds to decode one input line and one output line with ``loads``.

    Measured in the same process just before ingest, so that a reader can compare ingest's
    cost with the bare decoding of its input on a machine whose speed (and load) differ.
    """
    start = time.process_time()
    count = 0
    for name in ("batch_input.jsonl", "batch_output.jsonl"):
        with open(folder / name, "rb") as handle:
            for count, line in enumerate(handle, start=1):
                loads(line)
                if count >= lines:
                    break
    return (time.process_time() - start) / count * 1e6


class ChildMemory(threading.Thread):
    """Polls the resident memory of this process's children (the parsing child)."""

    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.done.wait(self.every):
            for child in me.children(recursive=True):
                try:
                    self.peak = max(self.peak, child.memory_info().rss)
                except psutil.Error:
                    pass


def worker(folder: Path) -> None:
    """Run ingest on ``folder`` and print a JSON line with seconds, counts and peak RSS."""
    from stats.ingest import ingest

    floor = json_floor(folder / "raw")
    fast_floor = json_floor(folder / "raw", loads=orjson.loads)
    poller = ChildMemory()
    poller.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    ledger = ingest([folder / "raw"], None, folder / "out")
    seconds = time.perf_counter() - start
    poller.done.set()
    own = resource.getrusage(resource.RUSAGE_SELF)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    used_before = before.ru_utime + before.ru_stime
    total = ledger["total"]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "transcripts": total["transcripts"],
                "records": total["records"],
                "peak_rss_mib": own.ru_maxrss / 1024,
                "child_peak_rss_mib": poller.peak / 2**20,
                "cpu_seconds_main": own.ru_utime + own.ru_stime - used_before,
                "cpu_seconds_child": child.ru_utime + child.ru_stime,
                "json_floor_us": floor,
                "orjson_floor_us": fast_floor,
            }
        )
    )


def measure(n: int) -> dict:
    """Generate ``n`` lines and ingest them in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        (folder / "raw").mkdir()
        start = time.perf_counter()
        generate(folder / "raw", n)
        generated = time.perf_counter() - start
        size_mib = sum(p.stat().st_size for p in (folder / "raw").iterdir()) / 2**20
        load_before = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        load_after = os.getloadavg()[0]
    result.update(
        {
            "lines": n,
            "input_mib": round(size_mib, 1),
            "generate_seconds": round(generated, 1),
            "transcripts_per_second": round(result["transcripts"] / result["seconds"]),
            "load_before": round(load_before, 2),
            "load_after": round(load_after, 2),
        }
    )
    for key in ("seconds", "cpu_seconds_main", "cpu_seconds_child"):
        result[key] = round(result[key], 2)
    for key in ("peak_rss_mib", "child_peak_rss_mib"):
        result[key] = round(result[key], 1)
    cpu = result["cpu_seconds_main"] + result["cpu_seconds_child"]
    result["transcripts_per_cpu_second"] = round(result["transcripts"] / cpu)
    result["main_cpu_us"] = round(result["cpu_seconds_main"] / result["transcripts"] * 1e6, 1)
    result["child_cpu_us"] = round(result["cpu_seconds_child"] / result["transcripts"] * 1e6, 1)
    result["json_floor_us"] = round(result["json_floor_us"], 1)
    result["orjson_floor_us"] = round(result["orjson_floor_us"], 1)
    return result


def write_results(rows: list[dict], command: str) -> None:
    """Write ``ingest.csv`` and ``ingest.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    columns = [
        "lines",
        "input_mib",
        "transcripts",
        "seconds",
        "transcripts_per_second",
        "cpu_seconds_main",
        "cpu_seconds_child",
        "transcripts_per_cpu_second",
        "main_cpu_us",
        "child_cpu_us",
        "json_floor_us",
        "orjson_floor_us",
        "peak_rss_mib",
        "child_peak_rss_mib",
        "load_before",
        "load_after",
    ]
    with open(RESULTS / "ingest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# Ingest benchmark",
        "",
        f"Command: `{command}` (synthetic OpenAI Batch API input + shuffled output JSONL, one",
        "transcript per line, joined by `custom_id`; ingest runs in a fresh process; peak RSS is",
        "that process's `ru_maxrss`; the two children that decode the batch input and output are",
        "polled every 0.1 s). Machine: 2 cores shared with other work; the 1-minute load average",
        "before and after each run is shown. CPU (main) is the ingest call's own (the worker's",
        "imports and floor measurements excluded). `bare json.loads` / `bare orjson.loads` is the CPU",
        "time of only decoding one input line and one output line, measured in the same process",
        "just before: the floor for any Python reader of these files on this machine.",
        "",
        "| lines | input MiB | transcripts | seconds | transcripts/s | CPU s (main) "
        "| CPU s (parsing children) | transcripts per CPU s | main CPU µs per transcript "
        "| children CPU µs per transcript | bare json.loads µs per transcript "
        "| bare orjson.loads µs per transcript | peak RSS MiB (main) | peak RSS MiB (a child) "
        "| load before | load after |",
        "|" + "---:|" * len(columns),
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(row[c]) for c in columns) + " |")
    lines.append("")
    lines.extend(_reading(rows))
    (RESULTS / "ingest.md").write_text("\n".join(lines))


def _reading(rows: list[dict]) -> list[str]:
    """Sentences that read the table: target met or not, memory flat or not, where time goes."""
    best = max(rows, key=lambda r: r["transcripts_per_second"])
    verdict = "met" if best["transcripts_per_second"] >= TARGET else "NOT met"
    out = [
        "## Reading",
        "",
        f"- Target >= {TARGET:,} transcripts/s: **{verdict}** (best: "
        f"{best['transcripts_per_second']:,}/s at {best['lines']:,} lines, load "
        f"{best['load_before']}-{best['load_after']} on 2 cores).",
    ]
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        out.append(
            f"- Memory: peak RSS {small['peak_rss_mib']} MiB at {small['lines']:,} lines and "
            f"{large['peak_rss_mib']} MiB at {large['lines']:,} lines "
            f"({large['lines'] / small['lines']:.0f}x the records, "
            f"{large['peak_rss_mib'] / small['peak_rss_mib']:.2f}x the memory: the request "
            "index holds about 60 bytes a request and the trial-id set 8 bytes a trial, in "
            "numpy and Arrow arrays; records stream in batches); each parsing child stays under "
            f"{large['child_peak_rss_mib']} MiB."
        )
    best = rows[-1]  # the largest run: start-up costs amortised
    budget = 1e6 / TARGET
    cpu_us = best["main_cpu_us"] + best["child_cpu_us"]
    share = cpu_us * best["transcripts"] / 1e6 / best["seconds"]
    out.append(
        f"- Where the time goes: at {TARGET:,}/s on 2 cores the budget is {budget:.0f} µs of wall "
        f"time, {2 * budget:.0f} µs of CPU, per transcript. At {best['lines']:,} lines ingest "
        f"used {cpu_us:.1f} µs of CPU per transcript: {best['main_cpu_us']} µs in the main "
        "process (it indexes the requests, joins each answer to its request, accepts it: "
        "resolves its run, hashes its trial id, drops duplicates, and writes validated "
        "Parquet batches) and "
        f"{best['child_cpu_us']} µs in the two children that decode and read the input and "
        "output lines "
        f"(bare orjson: {best['orjson_floor_us']} µs for both lines, the standard library "
        f"{best['json_floor_us']} µs). Ingest's processes got {share:.2f} cores on average "
        f"(load {best['load_before']}-{best['load_after']} from other work): the same CPU time "
        f"on two free cores, perfectly balanced, would be {cpu_us * best['transcripts'] / 2e6:.0f} "
        f"s ({2e6 / cpu_us:,.0f} transcripts/s), but the main process alone needs "
        f"{best['main_cpu_us'] * best['transcripts'] / 1e6:.0f} s and cannot join an output "
        "before the last request is indexed (by one child), so free cores would give less "
        "than that; on a shared machine the CPU time per transcript is what counts."
    )
    out.append("")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker)
        return
    rows = []
    for n in args.sizes:
        row = measure(n)
        print(json.dumps(row), flush=True)
        rows.append(row)
    if not args.no_write:
        command = "python benchmarks/bench_ingest.py" + (
            ""
            if args.sizes == [100_000, 1_000_000]
            else " --sizes " + " ".join(map(str, args.sizes))
        )
        write_results(rows, command)


if __name__ == "__main__":
    main()
