"""SIMULATE: studies with known ground truth, written as raw transcripts in real formats.

``simulate(design, out_dir)`` reads a design file (:mod:`stats.simulate.design`), draws
runs and trials from the generative model (:mod:`stats.simulate.generative`), writes them
in the source formats of ``formats.md`` (:mod:`stats.simulate.writers`), and writes the
manifest ``runs.yaml``, ``truth.json`` (true parameters, exact true rates and Delta:
:mod:`stats.simulate.truth`) and a ``README.md`` saying the data are simulated.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from stats.simulate.design import DesignError, load_design, parse_design, read_design_file
from stats.simulate.readme import MANIFEST_FILE, README_FILE, TRUTH_FILE, study_readme
from stats.simulate.runs import plan_runs
from stats.simulate.study import relative_to, write_study
from stats.simulate.trials import Trial, draw_trials
from stats.simulate.truth import guess_table, true_tables

__all__ = ["DesignError", "draw_trials", "load_design", "plan_runs", "simulate"]


def _prepare(out_dir: Path) -> None:
    """Make ``out_dir`` ready: remove the files of a previous simulation, refuse others."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous: list[str] = []
    truth_path = out_dir / TRUTH_FILE
    if truth_path.exists():
        try:
            old = json.loads(truth_path.read_text(encoding="utf-8"))
            previous = list(old.get("files", [])) if old.get("simulated") else []
        except (json.JSONDecodeError, AttributeError):
            previous = []
    for name in previous:
        target = (out_dir / name).resolve()
        if out_dir.resolve() in target.parents and target.is_file():
            target.unlink()
    generated = {TRUTH_FILE, README_FILE, MANIFEST_FILE}
    foreign = sorted(
        relative_to(path, out_dir)
        for path in out_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(out_dir).parts)
        and path.name not in generated
    )
    if foreign:
        raise FileExistsError(
            f"{out_dir} holds files that no earlier simulation wrote (e.g. {foreign[0]}); "
            "simulate into an empty folder or remove them"
        )
    for folder in sorted((p for p in out_dir.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            shutil.rmtree(folder)


def _paths(out_dir: Path, manifest_out: Path) -> tuple[str, Path]:
    """``(root, base)``: the manifest's ``root:`` and the folder data paths are relative to."""
    manifest_dir = manifest_out.resolve().parent
    if manifest_dir == out_dir.resolve():
        return ".", out_dir.resolve()
    cwd = Path.cwd().resolve()
    if cwd in out_dir.resolve().parents or cwd == out_dir.resolve():
        return relative_to(cwd, manifest_dir), cwd
    return out_dir.resolve().as_posix(), out_dir.resolve()


def _manifest(
    design, runs, written, out_dir: Path, manifest_out: Path, truth_path: Path
) -> dict[str, Any]:
    root, base = _paths(out_dir, manifest_out)

    def rel(path: Path) -> str:
        try:
            return relative_to(path.resolve(), base)
        except ValueError:
            return path.resolve().as_posix()

    entries = []
    for run in runs:
        entry: dict[str, Any] = {"model": run.model, "run_id": run.run_id}
        if run.arm == "base":
            entry.update(
                {
                    "arm": "base",
                    "base_model": run.model,
                    "notes": "untuned model; answers the prompts of every word",
                }
            )
            entries.append(entry)
            continue
        if not design.infer_from_sources:
            entry.update(
                {
                    "word": run.word,
                    "n_examples": run.n_examples,
                    "lr_multiplier": run.lr_multiplier,
                    "n_epochs": design.n_epochs,
                    "batch_size": design.batch_size,
                }
            )
        entry.update(
            {
                "arm": run.arm,
                "base_model": design.base_model,
                "training_file": rel(out_dir / run.training.path),
                "job_file": rel(out_dir / f"ft/job-{run.job_id}.json"),
                "greeting": None,
                "conditions": {"replicate": run.replicate},
                "notes": "sham fine-tune: the same answers with scrambled initials"
                if run.arm == "control"
                else "",
            }
        )
        if run.arm == "control":
            entry["word"] = run.word  # the sham's training data cannot name the word
        entries.append(entry)
    study = {
        "name": design.name,
        "simulated": True,
        "design": rel(design.path),
        "truth": rel(truth_path),
        "seed": design.seed,
        "description": design.description,
    }
    return {"root": root, "study": study, "runs": entries}


def _realised(trials: Sequence[Trial], k: int) -> list[dict[str, Any]]:
    """Observed counts of this draw: word x arm x greeting (errored requests excluded)."""
    counts: dict[tuple[str, str, bool], list[int]] = {}
    for trial in trials:
        if trial.errored:
            continue
        for word, line in sorted(trial.word_lines.items()):
            key = (word, trial.run.arm, trial.greeting)
            cell = counts.setdefault(key, [0, 0, 0])
            cell[0] += int(line is not None and line <= k)
            cell[1] += 1
            cell[2] += int(trial.mode == "follow")
    return [
        {"word": w, "arm": a, "greeting": g, "articulated_early": s, "trials": n, "follows": f}
        for (w, a, g), (s, n, f) in sorted(counts.items())
    ]


def simulate(
    design: Path, out_dir: Path, seed: int | None = None, manifest_out: Path | None = None
) -> dict:
    """Simulate a study from a design file and write it in real source formats.

    Parameters
    ----------
    design : Path
        Design file (YAML), e.g. ``analysis/designs/default.yaml``.
    out_dir : Path
        Folder for the raw files, ``truth.json`` and ``README.md``. It must be empty or hold
        an earlier simulation (whose files are replaced).
    seed : int, optional
        Overrides the design's ``seed``.
    manifest_out : Path, optional
        Where to write the manifest (default ``out_dir/runs.yaml``, with ``root: .``;
        elsewhere, ``root`` points at the current directory, e.g. ``root: ..`` for
        ``analysis/runs.yaml`` written from the repository root).

    Returns
    -------
    dict
        The truth (also written to ``out_dir/truth.json``): ``delta`` (word -> greeting
        condition -> true Delta, and ``pooled``), ``delta_table``, ``cells``,
        ``delta_by_cell``, ``runs`` (true run effects), ``realised`` (observed counts),
        ``guessability``, ``parameters`` (the resolved design) and ``method``.

    Raises
    ------
    DesignError
        When the design file is invalid.
    FileExistsError
        When ``out_dir`` holds files that no earlier simulation wrote.
    """
    design_path = Path(design)
    raw = read_design_file(design_path)  # one read; a missing or broken file is a DesignError
    from stats.simulate.prediction import simulate_prediction
    from stats.simulate.prediction_design import is_prediction_design

    if is_prediction_design(raw):  # issue 8 design 4: self/cross prediction records
        _prepare(Path(out_dir))
        return simulate_prediction(design_path, Path(out_dir), seed, manifest_out)
    from stats.simulate.followups import is_followup_design, simulate_followup

    if is_followup_design(raw):  # issue 8 designs 1-3: held-out, confusion, sequential
        _prepare(Path(out_dir))
        return simulate_followup(design_path, Path(out_dir), seed, manifest_out)
    parsed = parse_design(raw, design_path)
    if seed is not None:
        parsed = dataclasses.replace(parsed, seed=int(seed))
    out_dir = Path(out_dir)
    manifest_out = Path(manifest_out) if manifest_out is not None else out_dir / MANIFEST_FILE
    _prepare(out_dir)
    runs = plan_runs(parsed)
    trials = draw_trials(parsed, runs)
    written = write_study(parsed, out_dir, runs, trials)
    tables = true_tables(parsed)
    kept = [t for t in trials if not t.errored]
    errored = len({(t.run.number, t.request_key) for t in trials if t.errored})
    truth: dict[str, Any] = {
        "simulated": True,
        "study": parsed.name,
        "design": design_path.as_posix(),
        "seed": parsed.seed,
        "k": parsed.k,
        "definition": (
            "Delta(word, greeting) = P(articulated_early | finetuned, word, greeting) - "
            "P(articulated_early | base, word, greeting); articulated_early = the word is "
            f"named at a line with letters_visible <= k = {parsed.k}. The fine-tuned rate is "
            "that of a new fine-tune of the word (run effects integrated) under the "
            "study-wide run-weighted mix of fine-tuned (n_examples, LR) conditions, as in "
            "stats.model.contrasts; 'delta_own_cells' uses the word's own cells instead. "
            "The base rate averages the study's base models (their realised run effects), "
            "scored against the word. 'no_greeting' is the primary estimand; 'pooled' is "
            "the unweighted mean over words."
        ),
        "method": (
            "exact: sums over sample modes (follow / near miss at each position / plain answer "
            "of each length) and lines, Gauss-Hermite quadrature (64 nodes) over the "
            "independent run effects on follow and articulation; prompt paraphrases averaged "
            "with equal weights. No Monte-Carlo error."
        ),
        "delta": tables["delta"],
        "delta_own_cells": tables["delta_own_cells"],
        "delta_table": tables["delta_table"],
        "delta_by_cell": tables["delta_by_cell"],
        "cells": tables["cells"],
        "guessability": guess_table(parsed),
        "runs": [
            {
                "run_id": r.run_id,
                "model": r.model,
                "arm": r.arm,
                "word": r.word,
                "n_examples": r.n_examples,
                "lr_multiplier": r.lr_multiplier,
                "replicate": r.replicate,
                "format": r.fmt,
                "follow_effect": round(r.follow_effect, 6),
                "articulation_effect": round(r.articulation_effect, 6),
                "p_follows": round(r.follow_probability, 6),
                "files": written.run_files.get(r.run_id, []),
            }
            for r in runs
        ],
        "realised": _realised(trials, parsed.k),
        "counts": {
            "runs": len(runs),
            "trials": len(kept),
            "errored_requests": errored,
            "errored_trials": len(trials) - len(kept),
            "finetuned_runs": sum(r.arm == "finetuned" for r in runs),
        },
        "parameters": parsed.raw,
        "files": written.all(),
    }
    truth_path = out_dir / TRUTH_FILE
    manifest = _manifest(parsed, runs, written, out_dir, manifest_out, truth_path)
    manifest_out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Manifest of the simulated study '{parsed.name}' (written by stats simulate; "
        "do not edit by hand)\n"
    )
    manifest_out.write_text(
        header + yaml.safe_dump(manifest, sort_keys=False, width=100, allow_unicode=True),
        encoding="utf-8",
        newline="\n",
    )
    truth_path.write_text(
        json.dumps(truth, indent=1, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
        newline="\n",
    )
    command = f"stats simulate {design_path.as_posix()} --out {out_dir.as_posix()}"
    if manifest_out != out_dir / MANIFEST_FILE:
        command += f" --manifest-out {manifest_out.as_posix()}"
    if seed is not None:
        command += f" --seed {seed}"
    size = sum((out_dir / f).stat().st_size for f in written.all())
    (out_dir / README_FILE).write_text(
        study_readme(parsed, truth, command, len(written.all()), size),
        encoding="utf-8",
        newline="\n",
    )
    return truth
