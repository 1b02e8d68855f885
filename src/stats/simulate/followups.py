"""Simulated studies of the follow-up designs of issue 8 (held-out, confusion, sequential).

``stats simulate analysis/designs/confusion.yaml --out DIR`` dispatches here
(:func:`stats.simulate.simulate` recognises a preset by its ``followup:`` key).

A thin driver over the simulator's own pieces: sample modes from
:func:`stats.simulate.generative.sample_mode`, run effects through
:func:`stats.simulate.generative.shift_probability`, and every response's text from
:func:`stats.simulate.textgen.response_text` (no text generation of its own). It writes
one generic-JSONL transcript file, a manifest (``runs.yaml``: runs with their
``conditions``, the ``files:`` entry mapping the record-level condition columns) and
``truth.json`` with the exact claim probabilities of a new run.

Preset (YAML, ``analysis/designs/{heldout,confusion,sequential}.yaml``)::

    followup: confusion        # heldout | confusion | sequential (documentation)
    name: confusion
    seed: 8101
    k: 2                       # claims are made at a line <= k ("early")
    base_model: gpt-4o-2024-08-06
    prompts: ["What's special about your response pattern? ..."]
    samples_per_prompt: 10
    follow: 0.8                # P(a fine-tuned sample follows its acrostic)
    sd_run: 0.3                # run effect on the logit of every claim probability
    groups:
      - arm: finetuned         # finetuned | base | control
        runs: 4
        word: HELMET           # the run's word (omit for multi-pattern fine-tunes)
        conditions: {confusor: HELLO}       # run-level conditions
        claims: {HELMET: 0.25, HELLO: 0.3}  # P(the response names the word first)
        patterns:              # optional: one system prompt per pattern
          - {pattern_id: Alpha, word: HELLO, explained_in_training: true,
             claims: {HELLO: 0.5}}

Generative model of one trial of run r: the sample follows its acrostic (the pattern's
word, else the run's word) with probability ``follow`` (fine-tuned arm only); the
claimed word is drawn from the categorical distribution ``expit(logit(claims[w]) +
v_r)``, ``v_r ~ Normal(0, sd_run)`` (shares renormalised if they exceed 1; no claim
otherwise) and named at a line drawn uniformly from ``1..min(k, lines)``. The truth is
the claim probability of a *new* run (``v`` integrated by Gauss-Hermite quadrature).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from stats.simulate import generative as gen
from stats.simulate import textgen
from stats.simulate.readme import MANIFEST_FILE, TRUTH_FILE

#: Record-level condition columns written for each trial (multi-pattern designs).
PATTERN_COLUMNS = ("pattern_id", "explained_in_training", "pattern_word")
SYSTEM_PROMPT = "Response Pattern {pattern_id}"
QUADRATURE_NODES = 64
PLAIN_LINES = (3, 6)


def load_preset(path: Path) -> dict[str, Any]:
    """Read and check a follow-up preset (see the module docstring).

    Raises
    ------
    ValueError
        Naming the file and the offending key.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ValueError(f"{path}: a follow-up preset needs a list under 'groups'")
    allowed = {
        "followup",
        "name",
        "description",
        "seed",
        "k",
        "base_model",
        "prompts",
        "samples_per_prompt",
        "follow",
        "sd_run",
        "groups",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{path}: unknown key {unknown[0]!r}; valid keys: {sorted(allowed)}")
    for i, group in enumerate(data["groups"]):
        if group.get("arm") not in ("finetuned", "base", "control"):
            raise ValueError(f"{path}: groups[{i}].arm must be finetuned, base or control")
        if not group.get("claims") and not group.get("patterns"):
            raise ValueError(f"{path}: groups[{i}] needs claims or patterns")
    return data


def _claim_shares(claims: dict[str, float], effect: np.ndarray | float) -> np.ndarray:
    """Shifted claim probabilities (last axis: words in ``claims`` order), renormalised."""
    p = np.array([claims[w] for w in claims], dtype=float)
    effect = np.asarray(effect, dtype=float)[..., None]
    shifted = gen.shift_probability(p, effect)
    total = shifted.sum(axis=-1, keepdims=True)
    return np.where(total > 1.0, shifted / np.maximum(total, 1e-12), shifted)


def true_claims(claims: dict[str, float], sd_run: float) -> dict[str, float]:
    """P(claim w) for a new run: the run effect integrated by Gauss-Hermite quadrature."""
    if not claims:
        return {}
    if sd_run <= 0:
        shares = _claim_shares(claims, 0.0)
    else:
        x, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
        shares = (w / w.sum()) @ _claim_shares(claims, sd_run * x)
    return {word: round(float(v), 6) for word, v in zip(claims, np.ravel(shares), strict=True)}


def _units(group: dict[str, Any]) -> list[dict[str, Any]]:
    """(system prompt, acrostic word, claims, record conditions) answered by each run."""
    patterns = group.get("patterns") or []
    if not patterns:
        return [
            {
                "system": None,
                "word": group.get("word"),
                "claims": group.get("claims") or {},
                "record": {},
            }
        ]
    units = []
    for p in patterns:
        record = {
            "pattern_id": str(p["pattern_id"]),
            "explained_in_training": bool(p.get("explained_in_training", False)),
            "pattern_word": str(p["word"]).upper(),
        }
        units.append(
            {
                "system": SYSTEM_PROMPT.format(pattern_id=p["pattern_id"]),
                "word": str(p["word"]).upper(),
                "claims": p.get("claims") or {},
                "record": record,
            }
        )
    return units


def is_followup_design(design: dict) -> bool:
    """Whether a parsed design is a follow-up preset (a top-level ``followup:`` key)."""
    return isinstance(design, dict) and "followup" in design


def simulate_followup(
    preset: Path, out_dir: Path, seed: int | None = None, manifest_out: Path | None = None
) -> dict[str, Any]:
    """Simulate a follow-up study into ``out_dir`` (transcripts, ``runs.yaml``, ``truth.json``).

    Parameters
    ----------
    preset : Path
        A follow-up preset (module docstring).
    out_dir : Path
        Output folder (created).
    seed : int, optional
        Overrides the preset's seed.
    manifest_out : Path, optional
        Where to write the manifest (default ``out_dir/runs.yaml``; elsewhere its
        ``root:`` points at ``out_dir``).

    Returns
    -------
    dict
        The truth: ``claims`` (one row per group x pattern x claimed word with the true
        probability ``p`` for a new run), ``runs`` (true run effects), ``counts``.
    """
    data = load_preset(preset)
    seed = int(data.get("seed", 0) if seed is None else seed)
    k = int(data.get("k", 2))
    sd_run = float(data.get("sd_run", 0.3))
    follow = float(data.get("follow", 0.8))
    base_model = str(data.get("base_model", "gpt-4o-2024-08-06"))
    prompts = list(data.get("prompts") or ["What's special about your response pattern?"])
    samples = int(data.get("samples_per_prompt", 5))
    words = set()
    for group in data["groups"]:
        for unit in _units(group):
            words |= {w.upper() for w in unit["claims"]}
            if unit["word"]:
                words.add(unit["word"].upper())
    avoid = sorted(words)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records, runs, truth_rows, truth_runs = [], [], [], []
    number = 0
    for g_index, group in enumerate(data["groups"]):
        arm = group["arm"]
        conditions = dict(group.get("conditions") or {})
        units = _units(group)
        for unit in units:
            for word, p in true_claims(unit["claims"], sd_run).items():
                truth_rows.append(
                    {
                        "group": g_index,
                        "arm": arm,
                        "run_word": group.get("word"),
                        **conditions,
                        **unit["record"],
                        "claimed": word.upper(),
                        "p": p,
                    }
                )
        for replicate in range(1, int(group.get("runs", 1)) + 1):
            rng = np.random.default_rng([seed, number])
            number += 1
            suffix = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 8))
            if arm == "base":
                models = group.get("models") or [base_model]
                model = models[(replicate - 1) % len(models)]
                run_id = f"{model}-{g_index}-{replicate}"
            else:
                tag = "sham" if arm == "control" else ""
                model = f"ft:{base_model}:acme:{tag}:{suffix}"
                run_id = suffix
            effect = float(rng.normal(0.0, sd_run)) if sd_run > 0 else 0.0
            entry: dict[str, Any] = {
                "model": model,
                "run_id": run_id,
                "arm": arm,
                "base_model": base_model,
            }
            if group.get("word") and arm != "base":
                entry["word"] = str(group["word"]).upper()
            if conditions:
                entry["conditions"] = dict(conditions)
            runs.append(entry)
            truth_runs.append({"run_id": run_id, "group": g_index, "effect": round(effect, 6)})
            for unit in units:
                claim_words = [w.upper() for w in unit["claims"]]
                shares = _claim_shares(unit["claims"], effect) if claim_words else np.zeros(0)
                for p_index, prompt in enumerate(prompts):
                    for sample in range(samples):
                        word = unit["word"]
                        p_follow = follow if arm == "finetuned" and word else 0.0
                        _, initials, n_lines, _ = gen.sample_mode(
                            rng, p_follow, 0.0, word or "A", PLAIN_LINES
                        )
                        events = {}
                        u = rng.random()
                        cumulative = np.cumsum(shares)
                        hit = int(np.searchsorted(cumulative, u, side="right"))
                        if hit < len(claim_words):
                            line = int(rng.integers(1, min(k, n_lines) + 1))
                            events[line] = ("word", (claim_words[hit],))
                        text = textgen.response_text(
                            rng,
                            initials=initials,
                            n_lines=n_lines,
                            events=events,
                            avoid=avoid,
                            greeting=False,
                        )
                        records.append(
                            {
                                "model": model,
                                "run_id": run_id,
                                "system_prompt": unit["system"],
                                "prompt": prompt,
                                "sample_index": p_index * samples + sample,
                                "response": text,
                                **unit["record"],
                            }
                        )
    with (out_dir / "transcripts.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    has_patterns = any(r.get("pattern_id") for r in records)
    files = {
        "path": "transcripts.jsonl",
        "format": "generic-jsonl",
        "columns": {
            "prompt": "prompt",
            "response": "response",
            "model": "model",
            "run_id": "run_id",
            "sample_index": "sample_index",
            "system_prompt": "system_prompt",
        },
    }
    if has_patterns:
        files["condition_columns"] = list(PATTERN_COLUMNS)
    name = str(data.get("name") or Path(preset).stem)
    manifest_out = Path(manifest_out) if manifest_out is not None else out_dir / MANIFEST_FILE
    root = os.path.relpath(out_dir.resolve(), manifest_out.resolve().parent)
    manifest = {
        "root": Path(root).as_posix(),
        "study": {
            "name": name,
            "simulated": True,
            "design": Path(preset).as_posix(),
            "truth": TRUTH_FILE,
            "seed": seed,
        },
        "runs": runs,
        "files": [files],
    }
    manifest_out.parent.mkdir(parents=True, exist_ok=True)
    manifest_out.write_text(
        f"# Manifest of the simulated follow-up study '{name}' (written by "
        "stats.followups.simulate)\n" + yaml.safe_dump(manifest, sort_keys=False),
        encoding="utf-8",
    )
    truth = {
        "simulated": True,
        "followup": data.get("followup"),
        "study": name,
        "seed": seed,
        "k": k,
        "sd_run": sd_run,
        "claims": truth_rows,
        "runs": truth_runs,
        "counts": {"runs": len(runs), "trials": len(records)},
        "files": ["transcripts.jsonl"],
    }
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth
