"""Design files of the simulator: read, validate and fill defaults.

A design file (YAML) names the study grid (words, arms, n_examples and LR grids, runs per
cell), the sampling plan (prompt paraphrases, greeting on/off, samples per prompt,
temperature), the output formats, and the *true* generative parameters under ``truth:``.
Every key is optional except ``words`` and ``grid``; :data:`DEFAULTS` lists the defaults.
Unknown keys fail early with the list of valid ones (bambi's rule).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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

_CELL_KEYS = ("words", "n_examples", "lr_multiplier", "runs")


class DesignError(ValueError):
    """A design file is invalid; the message names the file, the key and what is allowed."""


# ----------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Cell:
    """One fine-tuned cell of the grid: a word trained with n_examples at an LR multiplier."""

    word: str
    n_examples: int
    lr_multiplier: float
    runs: int


@dataclass(frozen=True)
class Follow:
    """True parameters of P(the sample follows the acrostic) for fine-tuned runs.

    ``logit pi = intercept + per_doubling_n * log2(n/10) + per_doubling_lr * log2(lr)
    + per_zipf * (zipf(word) - zipf_reference) + per_letter * (len(word) - length_reference)
    + word_offsets[word] + u_run``, ``u_run ~ Normal(0, sd_run)``. A sample that does not
    follow is a near miss (one letter wrong) with probability ``near_miss_share``, else a
    plain answer.
    """

    intercept: float
    per_doubling_n: float
    per_doubling_lr: float
    per_zipf: float
    zipf_reference: float
    per_letter: float
    length_reference: float
    word_offsets: dict[str, float]
    sd_run: float
    near_miss_share: float


@dataclass(frozen=True)
class Articulation:
    """True per-line articulation hazard parts of one arm (see :mod:`stats.simulate.model`)."""

    introspection: dict[str, float]
    introspection_default: float
    introspection_decay: float
    guess_scale: float
    leak: float
    leak_decay: float
    background: float
    sd_run: float
    mix: dict[str, float]

    def introspection_for(self, word: str) -> float:
        """Per-line introspection hazard for ``word`` (the default when not listed)."""
        return self.introspection.get(word, self.introspection_default)


@dataclass(frozen=True)
class Truth:
    """All true generative parameters."""

    follow: Follow
    articulation: dict[str, Articulation]
    guessability: dict[str, list[float]]
    lexicon_min_zipf: float
    guess_length_known: bool
    plain_lines: tuple[int, int]


@dataclass(frozen=True)
class Design:
    """A validated design with every default filled in.

    Attributes mirror the YAML keys; :attr:`raw` keeps the resolved mapping (written into
    ``truth.json`` so a study documents the exact parameters it was drawn from).
    """

    path: Path
    name: str
    description: str
    seed: int
    k: int
    base_model: str
    organization: str
    words: tuple[str, ...]
    cells: tuple[Cell, ...]
    n_epochs: int
    batch_size: int
    base_models: tuple[str, ...]
    control_runs: int
    control_words: tuple[str, ...]
    control_n_examples: int
    control_lr_multiplier: float
    prompts: tuple[str, ...]
    greeting_text: str
    greeting_conditions: tuple[bool, ...]
    system_prompt: str | None
    samples_per_prompt: int
    temperature: float
    formats: tuple[str, ...]
    errored_requests: int
    judge_noise: float
    infer_from_sources: bool
    truth: Truth
    raw: dict[str, Any] = field(repr=False)


# ----------------------------------------------------------------------------- validation
def _merge(defaults: Any, given: Any, where: str, source: str) -> Any:
    """Recursively overlay ``given`` on ``defaults``, rejecting keys the defaults lack.

    Mappings whose defaults are empty (word -> value tables) accept any key.
    """
    if isinstance(defaults, dict) and defaults and isinstance(given, dict):
        label = f"{where}." if where else ""
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise DesignError(
                f"{source}: unknown key {label}{unknown[0]}; valid keys"
                f"{' under ' + where if where else ''}: {', '.join(sorted(defaults))}"
            )
        merged = copy.deepcopy(defaults)
        for key in sorted(given):
            merged[key] = _merge(defaults[key], given[key], f"{label}{key}", source)
        return merged
    if isinstance(defaults, dict) and defaults and given is not None:
        raise DesignError(f"{source}: {where} must be a mapping, got {type(given).__name__}")
    return copy.deepcopy(defaults) if given is None else given


def _number(
    value: Any,
    where: str,
    source: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> float:
    """Check a number and its bounds; return it (as int when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignError(f"{source}: {where} must be a number, got {value!r}")
    if integer and int(value) != value:
        raise DesignError(f"{source}: {where} must be a whole number, got {value!r}")
    if low is not None and value < low:
        raise DesignError(f"{source}: {where} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise DesignError(f"{source}: {where} must be <= {high}, got {value!r}")
    return int(value) if integer else float(value)


def _boolean(value: Any, where: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise DesignError(f"{source}: {where} must be true or false, got {value!r}")
    return value


def _probability(value: Any, where: str, source: str) -> float:
    return _number(value, where, source, low=0.0, high=1.0)


def _word(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,20}", value):
        raise DesignError(f"{source}: {where} must be a word of 2-20 letters, got {value!r}")
    return value.upper()


def _list(value: Any, where: str, source: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise DesignError(f"{source}: {where} must be a non-empty list, got {value!r}")
    return value


def _cells(grid: Any, words: tuple[str, ...], runs_default: int, source: str) -> tuple[Cell, ...]:
    cells: dict[tuple[str, int, float], Cell] = {}
    for i, entry in enumerate(_list(grid, "grid", source)):
        where = f"grid[{i}]"
        if not isinstance(entry, dict):
            raise DesignError(
                f"{source}: {where} must be a mapping with keys {', '.join(_CELL_KEYS)}"
            )
        unknown = sorted(set(entry) - set(_CELL_KEYS))
        if unknown:
            raise DesignError(
                f"{source}: unknown key {where}.{unknown[0]}; valid keys: {', '.join(_CELL_KEYS)}"
            )
        missing = [key for key in ("words", "n_examples", "lr_multiplier") if key not in entry]
        if missing:
            raise DesignError(f"{source}: {where} lacks {missing[0]}")

        def as_list(value: Any) -> list[Any]:
            return value if isinstance(value, list) else [value]

        cell_words = [_word(w, f"{where}.words", source) for w in as_list(entry["words"])]
        for word in cell_words:
            if word not in words:
                raise DesignError(
                    f"{source}: {where}.words names {word}, not in words {list(words)}"
                )
        ns = [
            _number(n, f"{where}.n_examples", source, low=1, integer=True)
            for n in as_list(entry["n_examples"])
        ]
        lrs = [
            _number(x, f"{where}.lr_multiplier", source, low=1e-3)
            for x in as_list(entry["lr_multiplier"])
        ]
        runs = _number(
            entry.get("runs", runs_default), f"{where}.runs", source, low=1, integer=True
        )
        for word in cell_words:
            for n in ns:
                for lr in lrs:
                    key = (word, int(n), float(lr))
                    if key in cells:
                        raise DesignError(f"{source}: {where} repeats cell {key}")
                    cells[key] = Cell(word, int(n), float(lr), int(runs))
    return tuple(cells[key] for key in sorted(cells))


def _articulation(
    raw: dict[str, Any], where: str, words: tuple[str, ...], source: str
) -> Articulation:
    intro = raw["introspection"]
    if not isinstance(intro, dict):
        raise DesignError(f"{source}: {where}.introspection must map words to hazards")
    intro_clean = {}
    for word, value in sorted(intro.items()):
        name = _word(word, f"{where}.introspection", source)
        if name not in words:
            raise DesignError(f"{source}: {where}.introspection names {name}, not in words")
        intro_clean[name] = _probability(value, f"{where}.introspection.{name}", source)
    mix = raw["mix"]
    if not isinstance(mix, dict) or set(mix) - set(LEVELS):
        raise DesignError(f"{source}: {where}.mix must map levels {', '.join(LEVELS)} to shares")
    mix_clean = {
        level: _probability(mix.get(level, 0.0), f"{where}.mix.{level}", source) for level in LEVELS
    }
    if abs(sum(mix_clean.values()) - 1.0) > 1e-9:
        raise DesignError(
            f"{source}: {where}.mix shares must sum to 1, got {sum(mix_clean.values())}"
        )
    return Articulation(
        introspection=intro_clean,
        introspection_default=_probability(
            raw["introspection_default"], f"{where}.introspection_default", source
        ),
        introspection_decay=_probability(
            raw["introspection_decay"], f"{where}.introspection_decay", source
        ),
        guess_scale=_probability(raw["guess_scale"], f"{where}.guess_scale", source),
        leak=_probability(raw["leak"], f"{where}.leak", source),
        leak_decay=_probability(raw["leak_decay"], f"{where}.leak_decay", source),
        background=_probability(raw["background"], f"{where}.background", source),
        sd_run=_number(raw["sd_run"], f"{where}.sd_run", source, low=0.0, high=5.0),
        mix=mix_clean,
    )


def _truth(raw: dict[str, Any], words: tuple[str, ...], source: str) -> Truth:
    f = raw["follow"]
    offsets = f["word_offsets"]
    if not isinstance(offsets, dict):
        raise DesignError(f"{source}: truth.follow.word_offsets must map words to numbers")
    follow = Follow(
        intercept=_number(f["intercept"], "truth.follow.intercept", source),
        per_doubling_n=_number(f["per_doubling_n"], "truth.follow.per_doubling_n", source),
        per_doubling_lr=_number(f["per_doubling_lr"], "truth.follow.per_doubling_lr", source),
        per_zipf=_number(f["per_zipf"], "truth.follow.per_zipf", source),
        zipf_reference=_number(f["zipf_reference"], "truth.follow.zipf_reference", source),
        per_letter=_number(f["per_letter"], "truth.follow.per_letter", source),
        length_reference=_number(f["length_reference"], "truth.follow.length_reference", source),
        word_offsets={
            _word(w, "truth.follow.word_offsets", source): _number(
                v, f"truth.follow.word_offsets.{w}", source
            )
            for w, v in sorted(offsets.items())
        },
        sd_run=_number(f["sd_run"], "truth.follow.sd_run", source, low=0.0, high=5.0),
        near_miss_share=_probability(f["near_miss_share"], "truth.follow.near_miss_share", source),
    )
    arms = {
        arm: _articulation(raw["articulation"][arm], f"truth.articulation.{arm}", words, source)
        for arm in config.ARMS
    }
    for arm in ("base", "control"):
        if arms[arm].introspection or arms[arm].introspection_default:
            raise DesignError(
                f"{source}: truth.articulation.{arm}.introspection must be empty: "
                "an untuned or sham-tuned model has no trained pattern to introspect"
            )
    guess = raw["guessability"]
    if not isinstance(guess, dict):
        raise DesignError(f"{source}: truth.guessability must map words to lists of probabilities")
    guess_clean: dict[str, list[float]] = {}
    for word, values in sorted(guess.items()):
        name = _word(word, "truth.guessability", source)
        values = _list(values, f"truth.guessability.{name}", source)
        if len(values) != len(name):
            raise DesignError(
                f"{source}: truth.guessability.{name} needs {len(name)} values (one per letter), "
                f"got {len(values)}"
            )
        guess_clean[name] = [_probability(v, f"truth.guessability.{name}", source) for v in values]
    lines = raw["plain_lines"]
    if not (isinstance(lines, list) and len(lines) == 2):
        raise DesignError(f"{source}: truth.plain_lines must be [min, max]")
    low, high = (
        _number(v, "truth.plain_lines", source, low=1, high=40, integer=True) for v in lines
    )
    if low > high:
        raise DesignError(f"{source}: truth.plain_lines must be [min, max] with min <= max")
    return Truth(
        follow=follow,
        articulation=arms,
        guessability=guess_clean,
        lexicon_min_zipf=_number(
            raw["lexicon_min_zipf"], "truth.lexicon_min_zipf", source, low=0.0
        ),
        guess_length_known=_boolean(raw["guess_length_known"], "truth.guess_length_known", source),
        plain_lines=(int(low), int(high)),
    )


def parse_design(data: Any, path: Path) -> Design:
    """Validate a design mapping and fill in defaults.

    Parameters
    ----------
    data : Any
        The YAML document (must be a mapping).
    path : Path
        Where it came from (named in errors; its stem is the default study name).

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        Naming the file, the key and the valid keys or values.
    """
    source = str(path)
    if not isinstance(data, dict):
        raise DesignError(f"{source}: a design file must be a YAML mapping")
    for required in ("words", "grid"):
        if required not in data:
            raise DesignError(f"{source}: missing required key {required!r}")
    raw = _merge(DEFAULTS, data, "", source)
    words_list = _list(raw["words"], "words", source)
    words = tuple(_word(w, f"words[{i}]", source) for i, w in enumerate(words_list))
    if len(set(words)) != len(words):
        raise DesignError(f"{source}: words has duplicates: {list(words)}")
    runs_default = _number(raw["runs_per_cell"], "runs_per_cell", source, low=1, integer=True)
    cells = _cells(raw["grid"], words, int(runs_default), source)
    arms = raw["arms"]
    control_words = tuple(
        _word(w, "arms.control.words", source) for w in arms["control"]["words"] or []
    )
    for word in control_words:
        if word not in words:
            raise DesignError(f"{source}: arms.control.words names {word}, not in words")
    control_runs = _number(
        arms["control"]["runs"], "arms.control.runs", source, low=0, integer=True
    )
    if control_runs and not control_words:
        raise DesignError(f"{source}: arms.control.runs > 0 needs arms.control.words")
    models = arms["base"]["models"] or [raw["base_model"]]
    if not isinstance(models, list) or any(not isinstance(m, str) or not m for m in models):
        raise DesignError(f"{source}: arms.base.models must be a list of model ids")
    if len(set(models)) != len(models):
        raise DesignError(f"{source}: arms.base.models has duplicates")
    base_models = tuple(models)
    prompts = tuple(_list(raw["prompts"], "prompts", source))
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, str) or not prompt.strip():
            raise DesignError(f"{source}: prompts[{i}] must be a non-empty string")
    if len(set(prompts)) != len(prompts):
        raise DesignError(f"{source}: prompts has duplicates")
    greeting = raw["greeting"]
    if not isinstance(greeting["text"], str) or not greeting["text"].strip():
        raise DesignError(f"{source}: greeting.text must be a non-empty string")
    conditions = _list(greeting["conditions"], "greeting.conditions", source)
    if any(not isinstance(c, bool) for c in conditions) or len(set(conditions)) != len(conditions):
        raise DesignError(
            f"{source}: greeting.conditions must be distinct booleans, e.g. [true, false]"
        )
    formats = tuple(_list(raw["formats"], "formats", source))
    for fmt in formats:
        if fmt not in FORMATS:
            raise DesignError(f"{source}: formats has {fmt!r}; valid formats: {', '.join(FORMATS)}")
    system_prompt = raw["system_prompt"]
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise DesignError(f"{source}: system_prompt must be a string or null")
    name = raw["name"] or path.stem
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise DesignError(f"{source}: name must be letters, digits, '.', '_' or '-', got {name!r}")
    infer = raw["manifest"]["infer_from_sources"]
    if not isinstance(infer, bool):
        raise DesignError(f"{source}: manifest.infer_from_sources must be true or false")
    return Design(
        path=path,
        name=name,
        description=str(raw["description"] or ""),
        seed=int(_number(raw["seed"], "seed", source, low=0, integer=True)),
        k=int(_number(raw["k"], "k", source, low=1, high=20, integer=True)),
        base_model=str(raw["base_model"]),
        organization=str(raw["organization"]),
        words=words,
        cells=cells,
        n_epochs=int(_number(raw["n_epochs"], "n_epochs", source, low=1, integer=True)),
        batch_size=int(_number(raw["batch_size"], "batch_size", source, low=1, integer=True)),
        base_models=base_models,
        control_runs=int(control_runs),
        control_words=control_words,
        control_n_examples=int(
            _number(
                arms["control"]["n_examples"],
                "arms.control.n_examples",
                source,
                low=1,
                integer=True,
            )
        ),
        control_lr_multiplier=_number(
            arms["control"]["lr_multiplier"], "arms.control.lr_multiplier", source, low=1e-3
        ),
        prompts=prompts,
        greeting_text=greeting["text"].strip(),
        greeting_conditions=tuple(conditions),
        system_prompt=system_prompt,
        samples_per_prompt=int(
            _number(
                raw["samples_per_prompt"],
                "samples_per_prompt",
                source,
                low=1,
                high=128,
                integer=True,
            )
        ),
        temperature=_number(raw["temperature"], "temperature", source, low=0.0, high=2.0),
        formats=formats,
        errored_requests=int(
            _number(raw["errored_requests"], "errored_requests", source, low=0, integer=True)
        ),
        judge_noise=_probability(raw["judge_noise"], "judge_noise", source),
        infer_from_sources=infer,
        truth=_truth(raw["truth"], words, source),
        raw=raw,
    )


def load_design(path: Path) -> Design:
    """Read and validate a design file.

    Parameters
    ----------
    path : Path
        A YAML design file, e.g. ``analysis/designs/default.yaml``.

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        When the file is missing, is not YAML, or fails validation.
    """
    path = Path(path)
    if not path.is_file():
        raise DesignError(f"{path}: design file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DesignError(f"{path}: not valid YAML: {err}") from err
    return parse_design(data, path)
