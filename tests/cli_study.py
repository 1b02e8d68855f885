"""A tiny simulated study laid out as a user's study folder (shared by the CLI tests).

The design is small on purpose: two words (HELLO with a genuine early self-report,
SHINE without), three fine-tuned runs each, two base models, six samples per prompt and
greeting condition (~84 trials); ``FAST_STUDY`` fits M1, M2 and the extra outcome's M1
once (no prior sensitivity) with 600 draws per chain, so ``stats run`` takes under a
minute on 2 cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

TINY_DESIGN = {
    "name": "tiny",
    "description": "A tiny simulated study for the command-line tests.",
    "seed": 11,
    "words": ["HELLO", "SHINE"],
    "grid": [{"words": ["HELLO", "SHINE"], "n_examples": 10, "lr_multiplier": 10}],
    "runs_per_cell": 3,
    "arms": {"base": {"models": ["gpt-4o-2024-08-06", "gpt-4o-2024-11-20"]}},
    "samples_per_prompt": 6,
    # runs named by job and training files only, as a user's manifest would
    "manifest": {"infer_from_sources": True},
    "truth": {
        "follow": {"intercept": 0.5},
        "articulation": {
            "finetuned": {
                "introspection": {"HELLO": 0.5},
                "introspection_decay": 0.3,
                "guess_scale": 0.6,
                "leak": 0.5,
                "background": 0.003,
                "sd_run": 0.3,
            },
            "base": {"leak": 0.05, "background": 0.003, "sd_run": 0.2},
        },
    },
}

#: Changes to the template's model choices that keep the fits short: the template's
#: outcomes (M1, M2 and the extra outcome's M1), no prior-sensitivity refits, 600 draws.
FAST_STUDY = {
    "sensitivity": [],
    "sampler": {"draws": 600, "tune": 500, "chains": 4},
}

#: Files of a simulation that are not a user's raw data.
NOT_RAW = ("runs.yaml", "truth.json", "README.md")


def write_design(folder: Path) -> Path:
    """Write :data:`TINY_DESIGN` to ``folder/tiny.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_DESIGN, sort_keys=False), encoding="utf-8")
    return path


def copy_raw(simulated: Path, raw: Path) -> None:
    """Copy a simulation's run files (not its manifest, truth or README) into ``raw``."""
    for entry in simulated.iterdir():
        if entry.name in NOT_RAW:
            continue
        target = raw / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target)
        else:
            shutil.copy2(entry, target)


def user_manifest(simulated_manifest: Path, template: Path) -> dict:
    """The runs manifest a user writes from the ``stats init`` template for these files.

    Fine-tuned runs are named by their job and training files (common case 1 of the
    template), base models by their id (case 2); the simulation's own ``study:`` block
    (``simulated: true``) is not carried over: the user's study is not marked simulated.
    """
    manifest = yaml.safe_load(template.read_text(encoding="utf-8"))
    runs = []
    for run in yaml.safe_load(simulated_manifest.read_text(encoding="utf-8"))["runs"]:
        if run["arm"] == "base":
            runs.append({"model": run["model"], "arm": "base"})
        else:
            runs.append({"job_file": run["job_file"], "training_file": run["training_file"]})
    manifest["runs"] = runs
    return manifest


def fast_study(template: Path) -> dict:
    """The ``stats init`` study template with :data:`FAST_STUDY`'s changes."""
    study = yaml.safe_load(template.read_text(encoding="utf-8"))
    sampler = {**study.get("sampler", {}), **FAST_STUDY["sampler"]}
    return {**study, **FAST_STUDY, "sampler": sampler}
