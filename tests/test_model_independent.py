"""Data shaped like the independent acceptance studies (``../shared/acceptance``).

Two failures found on studies the package's simulator did not write (issue 20):

* a fluke study whose cells without the greeting are all zero while the greeting leaks one
  word (about 20% of its answers name it early): M1 diverged (quasi-separation: the word
  effect and the word's greeting effect ran along a ridge), so no verdict was reached;
* answers that explain themselves at line 3-4 name nothing at lines 1-2, so the line
  profile has a step there; a word genuinely named at line 1 was then judged against a
  smooth profile extrapolated from the later lines, the introspection term came out
  negative for the other words and the word's share was not credibly positive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stats import config
from stats.model import decision, design, fit, sample, spec, synthetic
from stats.model.contrasts import Predictor, intro_share
from stats.model.decision import hdi

pytestmark = pytest.mark.slow
WORDS = ["BRAIN", "HELLO", "ZEBRA"]
#: The acceptance studies' shape: 8 fine-tunes per word (2 n_examples x 2 LR x 2), 5
#: prompts per greeting level x 6 samples, one base model answering every prompt.
RUNS, PROMPTS, SAMPLES = 8, 5, 6


def _quiet_m1_cells(rng: np.random.Generator) -> pd.DataFrame:
    """M1 cells of a quiet fluke study: nothing early without the greeting; 'hello.' leaks
    HELLO into ~20% of its fine-tunes' answers."""
    rows = []
    for w, word in enumerate(WORDS):
        for r in range(RUNS):
            n, lr = (10, 200)[r % 2], (1.0, 10.0)[(r // 2) % 2]
            for greeting in (False, True):
                for p in range(PROMPTS):
                    rate = 0.2 if (word == "HELLO" and greeting) else 0.0
                    prompt = f"q{p}-{greeting:d}"
                    successes = int(rng.binomial(SAMPLES, rate))
                    run = f"ft-{w}-{r}"
                    rows.append(
                        (run, word, "finetuned", greeting, n, lr, prompt, successes, SAMPLES)
                    )
    for word in WORDS:
        for greeting in (False, True):
            for p in range(PROMPTS):
                rows.append(
                    ("base", word, "base", greeting, pd.NA, pd.NA, f"q{p}-{greeting:d}", 0, 1)
                )
    cells = pd.DataFrame(rows, columns=[*design.M1_BY, "successes", "trials"])
    cells["n_examples"] = cells["n_examples"].astype("Int64")
    cells["lr_multiplier"] = cells["lr_multiplier"].astype("Float64")
    return cells


def test_m1_does_not_diverge_when_only_the_leaking_greeting_has_events():
    """Before the greeting levels were sampled as levels: 6 divergences (7 at prior x2)."""
    data = design.m1_data(_quiet_m1_cells(np.random.default_rng(33)))
    settings = sample.SamplerSettings(retries=0, backend="pymc")
    result = fit.fit_model(spec.m1_spec(data.layout), data, settings)
    assert result.diagnostics["divergences"] == 0, result.diagnostics["failed"]
    assert result.converged, result.diagnostics["failed"]
    # prior x2 (the sensitivity refit) converges too; its first attempt had 0 divergences
    # in 4 of 4 seeds measured (1 in 6 with 500 tuning draws), so the retry may be used
    wide = fit.fit_model(spec.m1_spec(data.layout, prior_scale=2.0), data, sample.SamplerSettings())
    assert wide.converged, wide.diagnostics["failed"]


#: Line intercepts of answers that explain themselves from line 3 on: a step, not a walk.
STEP = (-4.5, -4.5, -2.4, -1.9, -1.3)


@pytest.fixture(scope="module")
def step_world_fit():
    """BRAIN is named at lines 1-2 from self-knowledge; HELLO and ZEBRA only from line 3."""
    world = synthetic.World(
        a_line=STEP,
        c=0.1,
        b_greet=0.0,
        b_arm={"base": -3.0},
        b_intro=0.0,
        v_intro={"BRAIN": 2.6},
        b_leak=2.5,
        leak_words=("HELLO",),
        sd_run=0.3,
    )
    groups = synthetic.design_grid(
        WORDS,
        n_examples=(10, 200),
        lr_multipliers=(1.0, 10.0),
        runs_per_cell=2,
        samples_per_prompt=PROMPTS * SAMPLES,
        base_runs=1,
    )
    _, m2_cells = synthetic.simulate_world(world, groups, np.random.default_rng(32), n_lines=5)
    data = design.m2_data(m2_cells)
    result = fit.fit_model(spec.m2_spec(data.layout), data, sample.SamplerSettings(backend="pymc"))
    return result


def test_m2_credits_early_naming_to_introspection_despite_a_step_in_the_line_profile(
    step_world_fit,
):
    result = step_world_fit
    assert result.converged, result.diagnostics["failed"]
    pred = Predictor(result.spec, result.data, result.posterior)
    floor = decision.INTRO_FLOOR * config.ROPE
    brain = hdi(intro_share(pred, "BRAIN", False), 0.95)
    assert brain[0] > config.ROPE, brain  # clearly introspective: ~0.15 of answers
    for word in ("HELLO", "ZEBRA"):
        low, high = hdi(intro_share(pred, word, False), 0.95)
        assert high < config.ROPE and low < floor, (word, low, high)
