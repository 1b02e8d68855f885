"""Wall and CPU time of `stats fit` on the bundled study, cold (no cached fit), and its verdicts.

Usage::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/fit_stage.py
        [--runs 2] [--reference VERDICTS.csv] [--out benchmarks/results/fit_stage.md] [--note TEXT]

Copies the scored tables of ``data/processed`` (``stats run`` first) into a fresh folder per
run, runs ``/usr/bin/time -v .venv/bin/stats fit --data FOLDER --study analysis/study.yaml``
there, and writes a short Markdown record: wall and CPU seconds, the load before and after
(other jobs share the cores: compare CPU seconds), whether the runs' ``verdicts.csv`` and
``summary/coefficients.csv`` are equal byte for byte (same inputs + seed => same numbers),
and, with ``--reference``, whether verdict and reason of every row equal the reference's.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

TABLES = ("ledger.json", "rejects.parquet", "runs.parquet", "transcripts.parquet", "trials.parquet")
KEYS = ["scope", "word", "greeting"]


def fit_once(source: Path, folder: Path) -> dict[str, object]:
    """Run `stats fit` into ``folder`` (a copy of the tables) under /usr/bin/time -v."""
    folder.mkdir(parents=True)
    for name in TABLES:
        shutil.copy2(source / name, folder / name)
    command = [
        "/usr/bin/time", "-v", ".venv/bin/stats", "fit",
        "--data", str(folder), "--study", "analysis/study.yaml",
    ]  # fmt: skip
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start

    def field(name: str) -> float:
        return float(re.search(rf"{name}: ([\d.]+)", done.stderr).group(1))

    # "fit 2 of 3 M2-word_line-x1: converged (16.0 s)" or "... NOT converged (21.8 s, 2 attempts)"
    fits = re.findall(r"fit \d+ of \d+ (\S+): ([^(]+) \(([^)]+)\)", done.stdout + done.stderr)
    return {
        "command": " ".join(command[2:]),
        "wall": wall,
        "user": field(r"User time \(seconds\)"),
        "system": field(r"System time \(seconds\)"),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "fits": [f"{name} {state.strip()} ({detail})" for name, state, detail in fits],
    }


def same_verdicts(got: Path, reference: Path) -> bool:
    """Whether verdict and reason of every (scope, word, greeting) equal the reference's."""
    columns = [*KEYS, "verdict", "reason"]
    a = pd.read_csv(got)[columns].sort_values(KEYS).reset_index(drop=True)
    b = pd.read_csv(reference)[columns].sort_values(KEYS).reset_index(drop=True)
    return a.equals(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--reference", type=Path, default=None, help="verdicts.csv to match")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit_stage.md"))
    parser.add_argument("--note", default="", help="a paragraph added to the record")
    args = parser.parse_args()

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [Path(tmp) / f"run{i + 1}" for i in range(args.runs)]
        runs = [fit_once(args.data, folder) for folder in folders]
        identical = all(
            filecmp.cmp(folders[0] / name, folder / name, shallow=False)
            for folder in folders[1:]
            for name in ("verdicts.csv", "summary/coefficients.csv")
        )
        matches = (
            same_verdicts(folders[0] / "verdicts.csv", args.reference)
            if args.reference is not None
            else None
        )
    lines = [
        "# `stats fit` on the bundled study, cold",
        "",
        f"Written by `benchmarks/fit_stage.py` at commit {commit}, {time.strftime('%Y-%m-%d %H:%M')}"
        f", {os.cpu_count()} cores shared with other jobs (the load says how busy).",
        "",
        "| run | wall s | user CPU s | system CPU s | load before | load after |",
        "|---|---|---|---|---|---|",
    ]
    for i, run in enumerate(runs, 1):
        lines.append(
            f"| {i} | {run['wall']:.1f} | {run['user']:.1f} | {run['system']:.1f} | "
            f"{run['load_before']:.2f} | {run['load_after']:.2f} |"
        )
    lines += [
        "",
        f"Command: `PYTENSOR_FLAGS=blas__ldflags= {runs[0]['command']}` (a fresh folder per run).",
        "",
        "Fits of run 1: " + "; ".join(runs[0]["fits"]) + ".",
        "",
        f"verdicts.csv and summary/coefficients.csv equal byte for byte across the {args.runs} "
        f"runs: **{'yes' if identical else 'NO'}**.",
    ]
    if matches is not None:
        lines.append(
            f"Verdict and reason of every row equal those of `{args.reference}`: "
            f"**{'yes' if matches else 'NO'}**."
        )
    if args.note:
        lines += ["", args.note]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
