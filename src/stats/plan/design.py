"""Planning designs (``analysis/plans/*.yaml``): what to simulate, read and validated early.

A planning design names the simulated studies of a prospective design analysis:

.. code-block:: yaml

    name: default
    seed: 20261122
    study: analysis/study.yaml     # the verdict rule and sampler the user's `stats fit` uses
    word_types:                    # one word of each type in every simulated study
      common: {word: HELLO, follow_rate: 0.75}
      rare: {word: PULSE, follow_rate: 0.6}
      non-word: {word: HELOL, follow_rate: 0.5}
    base_runs: 1                   # untuned models answering every word's prompts
    prompts_per_greeting: 1
    world: {c: 0.5, b_greet: 0.8, leak_words: [HELLO], ...}   # stats.model.synthetic.World
    worlds:                        # named truths: changes of `world`, and optionally their
      'null': {b_intro: 0.0}       # own runs_per_word / samples_per_run / sims
      genuine: {b_intro: 1.0}
    runs_per_word: [4, 8, 16, 32]  # the grid
    samples_per_run: [8, 16]       # both greeting levels: samples_per_run / 2 per level
    sims: 10                       # simulated studies per setting
    sampler: {}                    # changes of the study's sampler settings
    quick: {runs_per_word: [4, 16], samples_per_run: [16], sims: 3}   # the --quick preset

Every key but ``word_types`` and ``worlds`` is optional. Unknown keys fail with the list of
valid ones; errors name the file and the key. A word's guessability comes from the
simulator's table (:data:`stats.model.synthetic.DEFAULT_GUESSABILITY`); a word outside it is
simulated as a non-word (guessability at its floor), so a real word must be in the table.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stats import config

TOP_KEYS = (
    "name", "description", "seed", "study", "word_types", "base_runs", "prompts_per_greeting",
    "world", "worlds", "runs_per_word", "samples_per_run", "sims", "sampler", "quick",
)  # fmt: skip
GRID_KEYS = ("runs_per_word", "samples_per_run", "sims")
QUICK_KEYS = (*GRID_KEYS, "sampler")
GREETING_LEVELS = 2
PLANS_DIR = config.ANALYSIS_DIR / "plans"
DEFAULT_PLAN = PLANS_DIR / "default.yaml"


class PlanError(ValueError):
    """A planning design is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class WordType:
    """One kind of word in every simulated study (e.g. ``common``: HELLO)."""

    name: str
    word: str
    follow_rate: float = 0.75


@dataclass(frozen=True)
class Setting:
    """One cell of the grid: a world at a number of runs per word and samples per run."""

    world: str
    runs_per_word: int
    samples_per_run: int
    sims: int
    seed: int

    @property
    def label(self) -> str:
        """``world:runs x samples`` (the ``--only`` spelling is ``world:runs``)."""
        return f"{self.world}:{self.runs_per_word}x{self.samples_per_run}"

    def study_seed(self, index: int) -> int:
        """Seed of the ``index``-th simulated study of this setting."""
        return self.seed + index


@dataclass(frozen=True)
class PlanDesign:
    """A validated planning design (see the module docstring)."""

    name: str
    word_types: tuple[WordType, ...]
    world: dict[str, Any]
    worlds: dict[str, dict[str, Any]]
    runs_per_word: tuple[int, ...]
    samples_per_run: tuple[int, ...]
    sims: int
    seed: int = config.SEED
    description: str = ""
    study: Path | None = None
    base_runs: int = 1
    prompts_per_greeting: int = 1
    sampler: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    source: str = "(dict)"

    @property
    def words(self) -> list[str]:
        """The study's words, in word-type order."""
        return [t.word for t in self.word_types]

    def word_type_of(self) -> dict[str, str]:
        """word -> word-type name."""
        return {t.word: t.name for t in self.word_types}

    def world_params(self, name: str) -> dict[str, Any]:
        """Keyword arguments of :class:`stats.model.synthetic.World` for world ``name``."""
        return {**self.world, **self.worlds[name].get("params", {})}

    def introspective(self, name: str) -> bool:
        """Whether world ``name`` holds an introspection effect (``b_intro`` or ``v_intro``)."""
        params = self.world_params(name)
        effects = [params.get("b_intro", 0.0), *dict(params.get("v_intro") or {}).values()]
        return any(float(e) != 0.0 for e in effects)

    def settings(self, quick: bool = False) -> list[Setting]:
        """Every setting to simulate (world-major), with its seed and number of studies.

        ``quick`` applies the ``quick`` preset on top of each world's grid. Seeds:
        ``seed + 1000 * runs + 500 * world index + 100000 * samples index``, then one per
        study (the operating-characteristics benchmark's scheme).
        """
        out = []
        for w_index, (name, spec) in enumerate(self.worlds.items()):
            grid = {k: spec.get(k, getattr(self, k)) for k in GRID_KEYS}
            if quick:
                grid.update({k: self.quick[k] for k in GRID_KEYS if k in self.quick})
            for s_index, samples in enumerate(grid["samples_per_run"]):
                for runs in grid["runs_per_word"]:
                    seed = self.seed + 1000 * runs + 500 * w_index + 100_000 * s_index
                    out.append(Setting(name, int(runs), int(samples), int(grid["sims"]), seed))
        return out

    def sampler_changes(self, quick: bool = False) -> dict[str, Any]:
        """Changes of the study's sampler settings (the preset's on top with ``quick``)."""
        return {**self.sampler, **(self.quick.get("sampler", {}) if quick else {})}

    def fingerprint(self) -> dict[str, Any]:
        """What determines one setting's simulated studies, besides the setting itself."""
        return {
            "word_types": [dataclasses.asdict(t) for t in self.word_types],
            "base_runs": self.base_runs,
            "prompts_per_greeting": self.prompts_per_greeting,
        }


def _fail(source: str, key: str, message: str) -> PlanError:
    return PlanError(f"{source}: {key}: {message}")


def _unknown(source: str, where: str, given: Mapping, valid: tuple[str, ...]) -> None:
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise _fail(source, where, f"unknown key(s) {unknown}; valid keys: {sorted(valid)}")


def _mapping(source: str, key: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(source, key, f"must be a mapping, got {type(value).__name__}")
    return dict(value)


def _int(source: str, key: str, value: Any, low: int, high: int = 10**6) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise _fail(source, key, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise _fail(source, key, f"must be in [{low}, {high}], got {value!r}")
    return int(value)


def _ints(source: str, key: str, value: Any, low: int, multiple: int = 1) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise _fail(source, key, "must list at least one number")
    out = tuple(_int(source, key, v, low) for v in values)
    if any(v % multiple for v in out):
        raise _fail(source, key, f"must be multiples of {multiple}, got {list(out)}")
    if len(set(out)) != len(out):
        raise _fail(source, key, f"has duplicates: {list(out)}")
    return out


def _grid(source: str, where: str, raw: Mapping, multiple: int) -> dict[str, Any]:
    """The grid keys present in ``raw``, validated."""
    out: dict[str, Any] = {}
    if "runs_per_word" in raw:
        out["runs_per_word"] = _ints(source, f"{where}runs_per_word", raw["runs_per_word"], 1)
    if "samples_per_run" in raw:
        out["samples_per_run"] = _ints(
            source, f"{where}samples_per_run", raw["samples_per_run"], multiple, multiple
        )
    if "sims" in raw:
        out["sims"] = _int(source, f"{where}sims", raw["sims"], 1)
    return out


def _word_types(source: str, raw: Any) -> tuple[WordType, ...]:
    raw = _mapping(source, "word_types", raw)
    if not raw:
        raise _fail(source, "word_types", "name at least one word type, e.g. common: {word: HELLO}")
    out = []
    for name, spec in raw.items():
        key = f"word_types.{name}"
        spec = {"word": spec} if isinstance(spec, str) else _mapping(source, key, spec)
        _unknown(source, key, spec, ("word", "follow_rate"))
        word = spec.get("word")
        if not isinstance(word, str) or not word.isalpha():
            raise _fail(source, f"{key}.word", f"must be a word of letters, got {word!r}")
        rate = spec.get("follow_rate", 0.75)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise _fail(source, f"{key}.follow_rate", f"must be in [0, 1], got {rate!r}")
        out.append(WordType(str(name), word.upper(), float(rate)))
    words = [t.word for t in out]
    if len(set(words)) != len(words):
        raise _fail(source, "word_types", f"each type needs its own word, got {words}")
    return tuple(out)


def _world(source: str, key: str, raw: Any, words: list[str]) -> dict[str, Any]:
    """World parameters: keys of :class:`stats.model.synthetic.World`, words known."""
    from stats.model.synthetic import World

    raw = _mapping(source, key, raw)
    valid = tuple(f.name for f in dataclasses.fields(World))
    _unknown(source, key, raw, valid)
    for name, value in raw.items():
        if isinstance(value, dict) and name != "b_arm":
            unknown = sorted(set(value) - set(words))
            if unknown:
                raise _fail(
                    source, f"{key}.{name}", f"names words {unknown} outside word_types {words}"
                )
        if name == "leak_words":
            value = [str(v).upper() for v in value or []]
            if set(value) - set(words):
                raise _fail(source, f"{key}.leak_words", f"must be among word_types {words}")
            raw[name] = tuple(value)
        elif name == "a_line":
            raw[name] = tuple(float(v) for v in value)
    return raw


def parse_plan(raw: Any, source: str = "(dict)") -> PlanDesign:
    """Validate a planning design mapping.

    Raises
    ------
    PlanError
        Naming ``source``, the key and what is allowed.
    """
    raw = _mapping(source, "(top level)", raw)
    _unknown(source, "(top level)", raw, TOP_KEYS)
    word_types = _word_types(source, raw.get("word_types"))
    words = [t.word for t in word_types]
    multiple = GREETING_LEVELS * _int(
        source, "prompts_per_greeting", raw.get("prompts_per_greeting", 1), 1, 100
    )
    grid = {"runs_per_word": (4, 8, 16), "samples_per_run": (16,), "sims": 10}
    grid.update(_grid(source, "", raw, multiple))
    worlds_raw = _mapping(source, "worlds", raw.get("worlds"))
    if not worlds_raw:
        raise _fail(source, "worlds", "name at least one world, e.g. null: {b_intro: 0}")
    worlds = {}
    for name, spec in worlds_raw.items():
        if not isinstance(name, str):
            raise _fail(
                source, f"worlds.{name}", "world names are text: quote YAML words such as 'null'"
            )
        spec = _mapping(source, f"worlds.{name}", spec)
        grid_part = {k: spec.pop(k) for k in GRID_KEYS if k in spec}
        worlds[name] = {
            "params": _world(source, f"worlds.{name}", spec, words),
            **_grid(source, f"worlds.{name}.", grid_part, multiple),
        }
    quick = _mapping(source, "quick", raw.get("quick"))
    _unknown(source, "quick", quick, QUICK_KEYS)
    quick = {**_grid(source, "quick.", quick, multiple), "sampler": quick.get("sampler") or {}}
    study = raw.get("study")
    if study is None and config.STUDY_PATH.exists():
        study = config.STUDY_PATH
    return PlanDesign(
        name=str(raw.get("name") or Path(source).stem),
        description=str(raw.get("description") or ""),
        seed=_int(source, "seed", raw.get("seed", config.SEED), 0, 2**31),
        study=None if study is None else Path(study),
        word_types=word_types,
        base_runs=_int(source, "base_runs", raw.get("base_runs", 1), 0, 100),
        prompts_per_greeting=multiple // GREETING_LEVELS,
        world=_world(source, "world", raw.get("world"), words),
        worlds=worlds,
        runs_per_word=grid["runs_per_word"],
        samples_per_run=grid["samples_per_run"],
        sims=grid["sims"],
        sampler=_mapping(source, "sampler", raw.get("sampler")),
        quick=quick,
        source=source,
    )


def load_plan(path: Path) -> PlanDesign:
    """Read and validate a planning design file.

    Raises
    ------
    PlanError
        When the file is missing, is not YAML or fails validation.
    """
    path = Path(path)
    if path.is_file():
        try:
            return parse_plan(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
        except yaml.YAMLError as err:
            raise PlanError(f"{path}: not valid YAML: {err}") from err
    raise PlanError(f"{path}: planning design not found (e.g. {DEFAULT_PLAN})")


def setting_key(design: PlanDesign, setting: Setting, study: Any) -> str:
    """Hash of everything that determines a setting's simulated studies and their verdicts.

    The world's parameters, the study's words, the setting (seeds included), the verdict
    rule's settings, the sampler settings and the code (:func:`code_digest`): a change of
    any of them gives a new key, so cached studies are never reused across it.
    """
    content = {
        "plan_code": PLAN_CODE_VERSION,
        "code": code_digest(),
        "world": design.world_params(setting.world),
        "design": design.fingerprint(),
        "setting": [setting.runs_per_word, setting.samples_per_run, setting.seed],
        "study": _study_fingerprint(study),
    }
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def code_digest() -> str:
    """Hash of the code that turns a simulated study into verdicts, and of the sampler versions.

    The sources of :mod:`stats.model`, :mod:`stats.summarize` and :mod:`stats.plan` (every
    ``.py`` file), with the installed PyMC, PyTensor and nutpie versions: a change of the
    models, the rule or the planner moves every cache key, without a version to bump.
    """
    from stats.model.cache import source_digest

    return source_digest(
        ("stats.model", "stats.summarize", "stats.plan"), ("pymc", "pytensor", "nutpie")
    )


def _study_fingerprint(study: Any) -> dict[str, Any]:
    return {
        "outcome": study.outcome,
        "k": study.k,
        "rope": study.rope,
        "ci_prob": study.ci_prob,
        "prior_scale": study.prior_scale,
        "models": list(study.models),
        "M1": dataclasses.asdict(study.sampler_for("M1")),
        "M2": dataclasses.asdict(study.sampler_for("M2")),
    }


#: Format of the cached studies (the code itself is hashed by :func:`code_digest`).
PLAN_CODE_VERSION = "1"
