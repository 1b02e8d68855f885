"""Design files of the simulator: read, validate and fill defaults.

A design file (YAML) names the study grid (words, arms, n_examples and LR grids, runs per
cell), the sampling plan (prompt paraphrases, greeting on/off, samples per prompt,
temperature), the output formats, and the *true* generative parameters under ``truth:``.
Every key is optional except ``words`` and ``grid``; :data:`DEFAULTS` lists the defaults.
Unknown keys fail early with the list of valid ones (bambi's rule). The defaults, the
dataclasses, the field checks and the ``truth:`` block live in ``design_defaults``,
``design_types``, ``design_fields`` and ``design_truth``; their names are re-exported here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from stats.simulate.design_defaults import DEFAULTS, FORMATS, LEVELS
from stats.simulate.design_fields import _list, _merge, _number, _probability, _word
from stats.simulate.design_truth import _truth
from stats.simulate.design_types import (
    Articulation,
    Cell,
    Design,
    DesignError,
    Follow,
    Truth,
)

__all__ = [
    "DEFAULTS",
    "FORMATS",
    "LEVELS",
    "Articulation",
    "Cell",
    "Design",
    "DesignError",
    "Follow",
    "Truth",
    "load_design",
    "parse_design",
]

_CELL_KEYS = ("words", "n_examples", "lr_multiplier", "runs")


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
    return parse_design(read_design_file(path), path)


def read_design_file(path: Path) -> Any:
    """The parsed YAML of a design file of any kind (``DesignError`` when missing or not YAML)."""
    path = Path(path)
    if not path.is_file():
        raise DesignError(f"{path}: design file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DesignError(f"{path}: not valid YAML: {err}") from err
