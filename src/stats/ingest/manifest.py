"""The runs manifest (``analysis/runs.yaml``): load, validate, and match files and models.

Shape (every key optional except a run's ``model`` or ``job_file``, a file's ``path``)::

    root: ..              # relative paths resolve against it (relative to this file's
                          # folder); default: the current directory
    study: {...}          # free-form; carried into ledger.json["study"]
    runs:                 # one entry per run (a fine-tuned or an untuned model)
      - {model: "ft:...", run_id: abc123, word: HELLO, n_examples: 10, lr_multiplier: 10,
         n_epochs: 3, batch_size: 1, arm: finetuned, base_model: gpt-4o-2024-08-06,
         training_file: ft/train.jsonl, job_file: ft/job.json, greeting: null,
         system_prompt: null, conditions: {}, notes: ""}
        # model: exact id or glob; numbers may be "auto" (unknown); shorthand moved into
        # conditions: pattern_id, explained_in_training, stage, policy
    files:                # per-file settings, the first matching entry wins
      - {path: "selfreport/*.jsonl", format: generic-jsonl, columns: {prompt: prompt,
         response: raw_response, model: model_key}, labels: [parsed_value],
         condition_columns: [probe], model: null, run_id: null, prompt: null,
         system_prompt: null, greeting: null, conditions: {}, requests: batch/input.jsonl}
    ignore: ["notes/*"]   # globs of files to skip (listed under "ignored")

Unknown keys raise :class:`~stats.ingest.errors.ManifestError` listing the valid ones; the
README of :mod:`stats.ingest` says what each key does.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from stats.config import ARMS, MANIFEST_PATH, RAW_DIR
from stats.ingest.documents import load_yaml
from stats.ingest.errors import ManifestError
from stats.ingest.formats import FORMATS
from stats.ingest.limits import Limits

TOP_KEYS = ("root", "study", "runs", "files", "ignore")
#: Run keys accepted as shorthand for ``conditions: {key: value}``.
CONDITION_SHORTHAND = ("pattern_id", "explained_in_training", "stage", "policy")
#: Fields a ``columns:`` map can fill from a record's columns.
COLUMN_TARGETS = tuple(
    (
        "prompt response model run_id sample_index prompt_id system_prompt temperature "
        "finish_reason greeting word arm base_model messages record_id lr_multiplier "
        "n_epochs batch_size task property object_model predictor_model "
        "object_property_value object_response meta_prediction item_id n_examples kind"
    ).split()
)
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class RunSpec:
    """One ``runs:`` entry, validated."""

    index: int
    model: str | None = None
    run_id: str | None = None
    word: str | None = None
    n_examples: int | None = None
    lr_multiplier: float | None = None
    n_epochs: int | None = None
    batch_size: int | None = None
    arm: str | None = None
    base_model: str | None = None
    training_file: Path | None = None
    job_file: Path | None = None
    greeting: bool | None = None
    system_prompt: str | None = None
    conditions: dict = field(default_factory=dict)
    notes: str | None = None

    @property
    def is_pattern(self) -> bool:
        """Whether ``model`` is a glob rather than an exact id."""
        return self.model is not None and any(ch in GLOB_CHARS for ch in self.model)

    @property
    def label(self) -> str:
        """``runs[i]`` for messages."""
        return f"runs[{self.index}]"


@dataclass(frozen=True)
class FileSpec:
    """One ``files:`` entry, validated."""

    index: int
    path: str
    format: str | None = None
    columns: dict = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    condition_columns: tuple[str, ...] = ()
    model: str | None = None
    run_id: str | None = None
    prompt: str | None = None
    system_prompt: str | None = None
    greeting: bool | None = None
    conditions: dict = field(default_factory=dict)
    requests: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """A validated manifest.

    Parameters
    ----------
    path : Path or None
        The YAML file (None: no manifest).
    root : Path
        Folder that relative paths resolve against.
    """

    path: Path | None
    root: Path
    study: dict = field(default_factory=dict)
    runs: tuple[RunSpec, ...] = ()
    files: tuple[FileSpec, ...] = ()
    ignore: tuple[str, ...] = ()

    def resolve(self, path: str | Path) -> Path:
        """A manifest path made absolute against :attr:`root`."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else self.root / path

    def _matches(self, pattern: str, path: Path) -> bool:
        absolute = path.resolve()
        candidates = [absolute.as_posix()]
        try:
            candidates.append(absolute.relative_to(self.root.resolve()).as_posix())
        except ValueError:
            pass
        full = self.resolve(pattern).as_posix() if not Path(pattern).is_absolute() else pattern
        if fnmatch.fnmatchcase(candidates[0], full):
            return True
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates[1:]):
            return True
        return PurePosixPath(absolute.as_posix()).match(pattern)

    def file_spec(self, path: Path) -> FileSpec | None:
        """The first ``files:`` entry whose glob matches ``path``."""
        for spec in self.files:
            if self._matches(spec.path, path):
                return spec
        return None

    def is_ignored(self, path: Path) -> str | None:
        """The ``ignore:`` glob that matches ``path``, if any."""
        for pattern in self.ignore:
            if self._matches(pattern, path):
                return pattern
        return None


def _unknown_keys(entry: dict, valid: tuple[str, ...], where: str, source: str) -> None:
    unknown = [key for key in entry if key not in valid]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), valid, n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ManifestError(
        f"{source}: {where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
        f"valid keys: {', '.join(valid)}"
    )


def _string(value: Any, where: str, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ManifestError(f"{source}: {where} should be text, found {type(value).__name__}")
    return str(value)


def _number(value: Any, where: str, source: str, *, integer: bool) -> int | float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ManifestError(
                f"{source}: {where} should be a number or 'auto', found {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ManifestError(f"{source}: {where} should be a number or 'auto', found {value!r}")
    if value <= 0:
        raise ManifestError(f"{source}: {where} should be positive, found {value!r}")
    if integer:
        if float(value) != int(value):
            raise ManifestError(f"{source}: {where} should be a whole number, found {value!r}")
        return int(value)
    return float(value)


def _boolean(value: Any, where: str, source: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ManifestError(f"{source}: {where} should be true, false or null, found {value!r}")


def _mapping(value: Any, where: str, source: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{source}: {where} should be a mapping, found {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _string_list(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{source}: {where} should be a list of text")
    return tuple(value)


_integer = partial(_number, integer=True)
_real = partial(_number, integer=False)
#: The keys of a ``runs:`` / ``files:`` entry, in order, and how each is checked (text
#: unless said otherwise).
RUN_KEYS = tuple(
    "model run_id word n_examples lr_multiplier n_epochs batch_size arm base_model "
    "training_file job_file greeting system_prompt conditions notes".split()
)
FILE_KEYS = tuple(
    "path format columns labels condition_columns model run_id prompt system_prompt greeting "
    "conditions requests".split()
)
RUN_CHECKS = {**dict.fromkeys(RUN_KEYS, _string), "greeting": _boolean, "conditions": _mapping}
RUN_CHECKS.update(n_examples=_integer, n_epochs=_integer, batch_size=_integer, lr_multiplier=_real)
FILE_CHECKS = {**dict.fromkeys(FILE_KEYS, _string), "greeting": _boolean, "conditions": _mapping}
FILE_CHECKS.update(columns=_mapping, labels=_string_list, condition_columns=_string_list)
FILE_CHECKS.update(requests=_string_list)


def _checked(entry: Any, checks: dict, valid: tuple, where: str, source: str) -> dict:
    """The values of one entry, each checked; unknown keys raise (naming the valid ones)."""
    if not isinstance(entry, dict):
        raise ManifestError(f"{source}: {where} should be a mapping, found {type(entry).__name__}")
    _unknown_keys(entry, valid, where, source)
    return {key: check(entry.get(key), f"{where}.{key}", source) for key, check in checks.items()}


def _run_spec(index: int, entry: Any, source: str, root: Path) -> RunSpec:
    where = f"runs[{index}]"
    shorthand = {}
    if isinstance(entry, dict):
        entry = dict(entry)
        shorthand = {k: entry.pop(k) for k in CONDITION_SHORTHAND if k in entry}
    values = _checked(entry, RUN_CHECKS, RUN_KEYS, where, source)
    values["conditions"] = {**shorthand, **values["conditions"]}
    if values["model"] is None and values["job_file"] is None:
        raise ManifestError(f"{source}: {where} needs a 'model' (or a 'job_file' naming it)")
    arm = values["arm"]
    if arm is not None and arm not in ARMS:
        raise ManifestError(f"{source}: {where}.arm is {arm!r}; valid values: {', '.join(ARMS)}")
    values["word"] = values["word"].strip().upper() if values["word"] else None
    for key in ("training_file", "job_file"):
        values[key] = _resolve(root, values[key])
    return RunSpec(index=index, **values)


def _resolve(root: Path, path: str | None) -> Path | None:
    if path is None:
        return None
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else root / candidate


def _file_spec(index: int, entry: Any, source: str, root: Path) -> FileSpec:
    where = f"files[{index}]"
    values = _checked(entry, FILE_CHECKS, FILE_KEYS, where, source)
    if not values["path"]:
        raise ManifestError(f"{source}: {where} needs a 'path' (a glob relative to root)")
    fmt = values["format"]
    if fmt is not None and fmt not in FORMATS:
        raise ManifestError(
            f"{source}: {where}.format is {fmt!r}; valid formats: {', '.join(FORMATS)}"
        )
    _unknown_keys(values["columns"], COLUMN_TARGETS, f"{where}.columns", source)
    for target, column in values["columns"].items():
        if not isinstance(column, str):
            raise ManifestError(
                f"{source}: {where}.columns.{target} should name a column, found {column!r}"
            )
    values["requests"] = tuple(_resolve(root, p) for p in values["requests"])
    return FileSpec(index=index, **values)


def _check_runs(runs: list[RunSpec], source: str) -> None:
    ids: dict[str, int] = {}
    models: dict[str, int] = {}
    for run in runs:
        run_id = run.run_id or (None if run.is_pattern else run.model)
        if run_id is not None:
            if run_id in ids:
                raise ManifestError(
                    f"{source}: runs[{ids[run_id]}] and {run.label} share run_id {run_id!r}; "
                    "each run needs its own"
                )
            ids[run_id] = run.index
        if run.model and not run.is_pattern:
            other = models.get(run.model)
            if other is not None and (run.run_id is None or runs[other].run_id is None):
                raise ManifestError(
                    f"{source}: runs[{other}] and {run.label} both map model {run.model!r}: "
                    "give each a distinct run_id (and files: entries with run_id to route records)"
                )
            models[run.model] = run.index


def load_manifest(path: Path | None, max_yaml_values: int = Limits.max_yaml_values) -> Manifest:
    """Read and validate a manifest; ``None`` gives an empty one rooted at the current folder.

    Raises
    ------
    ManifestError
        On YAML errors, unknown keys (listing the valid ones), wrong types or values, a path
        that does not exist, aliases that expand to more than ``max_yaml_values`` values.
    """
    if path is None:
        return Manifest(path=None, root=Path.cwd())
    source = str(path)
    if not Path(path).is_file():
        raise ManifestError(f"{source}: manifest not found (check the --manifest path)")
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8-sig"), max_yaml_values)
    except ValueError as err:  # also not UTF-8 text
        raise ManifestError(f"{source}: {err}") from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: the manifest should be a mapping with keys {TOP_KEYS}")
    _unknown_keys(data, TOP_KEYS, "top level", source)
    root_value = _string(data.get("root"), "root", source)
    if root_value is None:
        root = Path.cwd()
    else:
        root = Path(root_value).expanduser()
        if not root.is_absolute():
            root = (Path(path).parent / root).resolve()
    study = _mapping(data.get("study"), "study", source)
    raw_runs = data.get("runs") or []
    if not isinstance(raw_runs, list):
        raise ManifestError(f"{source}: 'runs' should be a list of run entries")
    runs = [_run_spec(i, entry, source, root) for i, entry in enumerate(raw_runs)]
    _check_runs(runs, source)
    raw_files = data.get("files") or []
    if not isinstance(raw_files, list):
        raise ManifestError(f"{source}: 'files' should be a list of file entries")
    files = [_file_spec(i, entry, source, root) for i, entry in enumerate(raw_files)]
    ignore = _string_list(data.get("ignore"), "ignore", source)
    return Manifest(
        path=Path(path),
        root=root,
        study=study,
        runs=tuple(runs),
        files=tuple(files),
        ignore=ignore,
    )


def default_manifest(
    paths: list[Path], manifest: Path = MANIFEST_PATH, raw_dir: Path = RAW_DIR
) -> tuple[Path | None, str | None]:
    """The manifest an ingest of ``paths`` uses when none is named, and a note saying so.

    The bundled study's manifest (``analysis/runs.yaml``) describes its own files: it applies
    when nothing is given (the bundled ``data/raw`` is ingested) or every path given is inside
    ``data/raw``; for any other folder it is not applied, and the note says how to apply it.

    Returns
    -------
    (Path or None, str or None)
        The manifest to use, and a note for the user (None when there is nothing to say).
    """
    if not manifest.is_file():
        return None, None
    raw = raw_dir.resolve()
    if all(Path(p).resolve().is_relative_to(raw) for p in paths):
        return manifest, None
    return None, (
        f"{manifest} (the manifest of the study in {raw_dir}) was not applied to "
        f"{', '.join(map(str, paths))}: pass --manifest {manifest} to apply it"
    )
