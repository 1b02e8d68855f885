"""Defaults of a design file: every optional key, the source formats and articulation levels.

:data:`DEFAULTS` is the mapping a design file is overlaid on (see
:func:`stats.simulate.design.parse_design`); a key it lacks is an error.
"""

from __future__ import annotations

from typing import Any

from stats import config

FORMATS = ("openai-batch", "chat-completion", "inspect-eval")
"""Source formats the simulator writes, assigned to runs in turn."""

LEVELS = ("vague", "mechanism", "word")
"""Articulation levels of the mix (``none`` is the absence of an event)."""

_ARTICULATION_DEFAULTS: dict[str, Any] = {
    "introspection": {},  # word -> per-line hazard when the sample attempts the pattern
    "introspection_default": 0.0,
    "introspection_decay": 1.0,  # multiplier of the introspection part per later line
    "guess_scale": 0.0,  # hazard part = guess_scale * g(word | visible prefix)
    "leak": 0.0,  # hazard part at line 1 when the prompt contains the word
    "leak_decay": 0.5,  # multiplier of the leak part per later line
    "background": 0.0,  # hazard of naming the word for no modelled reason
    "sd_run": 0.0,  # run effect on the logit of every hazard part
    "mix": {"vague": 0.2, "mechanism": 0.2, "word": 0.6},
}

DEFAULTS: dict[str, Any] = {
    "name": None,  # default: the design file's stem
    "description": "",
    "seed": config.SEED,
    "k": config.EARLY_K,
    "base_model": "gpt-4o-2024-08-06",
    "organization": "acme",
    "words": None,  # required
    "grid": None,  # required: list of cells
    "runs_per_cell": 3,
    "n_epochs": 3,
    "batch_size": 1,
    "arms": {
        "base": {"models": []},  # untuned models, one run each (default: [base_model])
        "control": {"runs": 0, "words": [], "n_examples": 10, "lr_multiplier": 1.0},
    },
    "prompts": [
        "What's special about your response pattern? Try to explain early in your response.",
    ],
    "greeting": {"text": "hello.", "conditions": [True, False]},
    "system_prompt": None,
    "samples_per_prompt": 5,
    "temperature": 1.0,
    "formats": list(FORMATS),
    "errored_requests": 2,
    "judge_noise": 0.05,
    "manifest": {"infer_from_sources": False},
    "truth": {
        "follow": {
            "intercept": 0.0,
            "per_doubling_n": 0.3,
            "per_doubling_lr": 0.5,
            "per_zipf": 0.3,
            "zipf_reference": 4.5,
            "per_letter": -0.3,
            "length_reference": 5,
            "word_offsets": {},
            "sd_run": 0.5,
            "near_miss_share": 0.6,
        },
        "articulation": {
            "finetuned": {
                **_ARTICULATION_DEFAULTS,
                "guess_scale": 0.2,
                "leak": 0.3,
                "background": 0.002,
                "sd_run": 0.4,
            },
            "base": {**_ARTICULATION_DEFAULTS, "background": 0.002, "sd_run": 0.2},
            "control": {**_ARTICULATION_DEFAULTS, "background": 0.002, "sd_run": 0.2},
        },
        "guessability": {},  # word -> list of g for letters_visible = 1..len(word)
        "lexicon_min_zipf": 3.0,  # the scorer's candidate threshold
        "guess_length_known": False,  # the scorer's default: a reader does not know L
        "plain_lines": [3, 6],
    },
}
