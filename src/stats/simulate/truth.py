"""The true rates and the true Delta of a design, computed exactly from the generative model.

Estimand (analysis plan, section 5), per word w and greeting condition G::

    Delta(w, G) = P(articulated_early | finetuned, w, G) - P(articulated_early | base, w, G)

``articulated_early`` is defined as the scorer defines it: the target word is named at a
line whose letters_visible (its 1-based index among non-empty lines) is <= k.

The fine-tuned rate is that of a *new* fine-tune of word w, integrated over the run
effects, sample modes and line hazards (:func:`stats.simulate.generative.expected_rates`,
Gauss-Hermite quadrature: exact to ~1e-12, no Monte-Carlo error) and averaged over the
prompt paraphrases of condition G (equal weights). Two standardisations of the training
conditions are reported:

* ``delta`` (primary) averages over the *study-wide* run-weighted mix of fine-tuned
  (n_examples, LR) conditions, the same for every word: the estimand of
  :mod:`stats.model.contrasts` ("a new fine-tune of word w under the study's training
  conditions");
* ``delta_own_cells`` averages over the word's own cells, weighted by their runs.

The base rate averages the study's base models (their realised run effects, as the model
stage conditions on the observed base runs), scoring their answers against w. The pooled
Delta is the unweighted mean over words; ``delta_by_cell`` gives Delta per fine-tuned cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stats.simulate import generative as gen
from stats.simulate.design import Design
from stats.simulate.guess import guessability, word_zipf


def guess_table(design: Design) -> dict[str, list[float]]:
    """g(w, j) used by the simulation for every word (design override or lexicon)."""
    truth = design.truth
    return {
        w: list(
            truth.guessability.get(w)
            or guessability(w, truth.lexicon_min_zipf, truth.guess_length_known)
        )
        for w in design.words
    }


def _leaks(design: Design, word: str, greeting: bool) -> list[bool]:
    """Per prompt paraphrase: does the prompt (with or without greeting) leak ``word``."""
    from stats.simulate.trials import leaked_words, user_prompt

    return [leaked_words(design, user_prompt(design, p, greeting))[word] for p in design.prompts]


def arm_rates(
    design: Design,
    arm: str,
    word: str,
    greeting: bool,
    n_examples: int | None = None,
    lr_multiplier: float | None = None,
    run_effects: Sequence[float] | None = None,
) -> gen.Rates:
    """Exact expected rates of one arm for one word and greeting condition.

    Parameters
    ----------
    design : Design
    arm : {"finetuned", "control", "base"}
    word : str
    greeting : bool
    n_examples, lr_multiplier : optional
        The fine-tuned cell (required for ``arm="finetuned"``).
    run_effects : sequence of float, optional
        Condition on these articulation run effects (default: a new run, integrated).

    Returns
    -------
    generative.Rates
        Averaged over the design's prompt paraphrases.
    """
    truth = design.truth
    params = truth.articulation[arm]
    guess = guess_table(design)[word]
    if arm == "finetuned":
        if n_examples is None or lr_multiplier is None:
            raise ValueError("a fine-tuned rate needs n_examples and lr_multiplier")
        fixed = gen.follow_logit(truth.follow, word, n_examples, lr_multiplier, word_zipf(word))
    else:
        fixed = None
    per_prompt = [
        gen.expected_rates(
            params,
            word,
            guess,
            k=design.k,
            leak=leak,
            follow_logit_fixed=fixed,
            follow_sd=truth.follow.sd_run,
            near_miss_share=truth.follow.near_miss_share,
            plain_lines=truth.plain_lines,
            run_effects=run_effects,
        )
        for leak in _leaks(design, word, greeting)
    ]
    return gen.Rates(
        follows=float(np.mean([r.follows for r in per_prompt])),
        articulated_early=float(np.mean([r.articulated_early for r in per_prompt])),
        articulated=float(np.mean([r.articulated for r in per_prompt])),
    )


def _weighted(rows: Sequence[tuple[float, gen.Rates]]) -> gen.Rates:
    total = sum(w for w, _ in rows)
    return gen.Rates(
        follows=sum(w * r.follows for w, r in rows) / total,
        articulated_early=sum(w * r.articulated_early for w, r in rows) / total,
        articulated=sum(w * r.articulated for w, r in rows) / total,
    )


def _round(x: float) -> float:
    return round(float(x), 6)


def _cell_row(
    arm: str,
    word: str,
    n: int | None,
    lr: float | None,
    greeting: bool,
    rates: gen.Rates,
    runs: int,
) -> dict[str, Any]:
    return {
        "arm": arm,
        "word": word,
        "n_examples": n,
        "lr_multiplier": lr,
        "greeting": greeting,
        "runs": runs,
        "p_follows": _round(rates.follows),
        "p_articulated_early": _round(rates.articulated_early),
        "p_articulated": _round(rates.articulated),
    }


def _pooled(delta: dict[str, dict[str, float]]) -> dict[str, float]:
    pooled: dict[str, float] = {}
    for label in ("no_greeting", "greeting"):
        values = [d[label] for d in delta.values() if label in d]
        if values:
            pooled[label] = _round(float(np.mean(values)))
    return pooled


def true_tables(design: Design) -> dict[str, Any]:
    """Cells, per-word Delta (both standardisations) and pooled Delta (JSON-ready).

    Parameters
    ----------
    design : Design

    Returns
    -------
    dict
        ``delta`` and ``delta_own_cells`` (word -> {"no_greeting", "greeting"} -> Delta,
        plus "pooled"), ``delta_table`` (one row per word x greeting with both arms'
        rates), ``delta_by_cell`` and ``cells`` (arm x word x n_examples x LR x greeting).
    """
    from stats.simulate.runs import plan_runs

    base_effects = [r.articulation_effect for r in plan_runs(design) if r.arm == "base"]
    mix = [(c.runs, c.n_examples, c.lr_multiplier) for c in design.cells]
    conditions: dict[tuple[int, float], int] = {}
    for runs, n, lr in mix:
        conditions[(n, lr)] = conditions.get((n, lr), 0) + runs
    cells: list[dict[str, Any]] = []
    delta_table: list[dict[str, Any]] = []
    delta_by_cell: list[dict[str, Any]] = []
    delta: dict[str, dict[str, float]] = {}
    own: dict[str, dict[str, float]] = {}
    for word in design.words:
        word_cells = [c for c in design.cells if c.word == word]
        if not word_cells:
            continue
        for greeting in design.greeting_conditions:
            label = "greeting" if greeting else "no_greeting"
            base = arm_rates(design, "base", word, greeting, run_effects=base_effects)
            cells.append(_cell_row("base", word, None, None, greeting, base, len(base_effects)))
            rates = {
                (n, lr): arm_rates(design, "finetuned", word, greeting, n, lr)
                for n, lr in sorted(conditions)
            }
            own_rows = []
            for cell in word_cells:
                cell_rates = rates[(cell.n_examples, cell.lr_multiplier)]
                own_rows.append((cell.runs, cell_rates))
                cells.append(
                    _cell_row(
                        "finetuned",
                        word,
                        cell.n_examples,
                        cell.lr_multiplier,
                        greeting,
                        cell_rates,
                        cell.runs,
                    )
                )
                delta_by_cell.append(
                    {
                        "word": word,
                        "n_examples": cell.n_examples,
                        "lr_multiplier": cell.lr_multiplier,
                        "greeting": greeting,
                        "delta": _round(cell_rates.articulated_early - base.articulated_early),
                    }
                )
            if word in design.control_words and design.control_runs:
                control = arm_rates(design, "control", word, greeting)
                cells.append(
                    _cell_row(
                        "control",
                        word,
                        design.control_n_examples,
                        design.control_lr_multiplier,
                        greeting,
                        control,
                        design.control_runs,
                    )
                )
            study_mix = _weighted([(w, rates[key]) for key, w in sorted(conditions.items())])
            own_mix = _weighted(own_rows)
            value = study_mix.articulated_early - base.articulated_early
            value_own = own_mix.articulated_early - base.articulated_early
            delta.setdefault(word, {})[label] = _round(value)
            own.setdefault(word, {})[label] = _round(value_own)
            delta_table.append(
                {
                    "word": word,
                    "greeting": greeting,
                    "p_finetuned": _round(study_mix.articulated_early),
                    "p_base": _round(base.articulated_early),
                    "delta": _round(value),
                    "p_follows": _round(study_mix.follows),
                    "p_finetuned_own_cells": _round(own_mix.articulated_early),
                    "delta_own_cells": _round(value_own),
                    "p_follows_own_cells": _round(own_mix.follows),
                    "p_articulated_finetuned": _round(study_mix.articulated),
                    "p_articulated_base": _round(base.articulated),
                    "finetuned_runs": sum(c.runs for c in word_cells),
                }
            )
    delta["pooled"] = _pooled(delta)
    own["pooled"] = _pooled(own)
    return {
        "cells": cells,
        "delta": delta,
        "delta_own_cells": own,
        "delta_table": delta_table,
        "delta_by_cell": delta_by_cell,
    }
