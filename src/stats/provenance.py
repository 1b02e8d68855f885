"""What each stage's outputs were computed from; stale or mixed inputs are refused.

After a stage writes its outputs, :func:`record` stores the digests of the files it read and
wrote in ``<data_dir>/.provenance/<stage>.json``. Before a stage reads, :func:`require_current`
checks its inputs:

- the ingest outputs (``transcripts.parquet``, ``runs.parquet``, ``rejects.parquet``,
  ``ledger.json``) carry one ``ingest_id`` when they come from one ingest; a set mixed by
  hand (or by an old version interrupted between files) is refused;
- an input made by an earlier stage is refused when that stage's record says it was
  computed from files that have changed since (``trials.parquet`` scored before the last
  ingest, ``verdicts.csv`` fitted before the last scoring), with the command to run.

An input without a record (written by hand, by a test, or by a version before this module)
is taken as it is: nothing is known about it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from stats.config import Artifacts

FOLDER = ".provenance"
INGEST_ID_KEY = b"stats.ingest_id"


class StaleError(ValueError):
    """A stage's inputs are stale or mixed; the message names them and the command to run."""


@dataclass(frozen=True)
class Stage:
    """A stage: the artifacts it reads and writes (names of :class:`Artifacts` properties)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    command: str


STAGES = {
    "score": Stage(("transcripts",), ("trials",), "stats score"),
    "fit": Stage(("trials",), ("verdicts",), "stats fit"),
    "review": Stage(("trials", "verdicts"), ("claims",), "stats review"),
}
#: The stage that writes each artifact read by another stage.
PRODUCERS = {"transcripts": "ingest", "trials": "score", "verdicts": "fit"}
INGEST_OUTPUTS = ("transcripts", "runs", "rejects", "ledger")


def digest(path: Path) -> str | None:
    """A digest of a file's content (None when it does not exist)."""
    if not path.is_file():
        return None
    state = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            state.update(block)
    return state.hexdigest()


def record(data_dir: Path, stage: str) -> None:
    """Store what ``stage`` read and wrote in ``data_dir`` (call after its outputs are written)."""
    artifacts = Artifacts(Path(data_dir))
    spec = STAGES[stage]
    entry = {
        "stage": stage,
        "inputs": {name: digest(getattr(artifacts, name)) for name in spec.inputs},
        "outputs": {name: digest(getattr(artifacts, name)) for name in spec.outputs},
    }
    folder = Path(data_dir) / FOLDER
    folder.mkdir(exist_ok=True)
    partial = folder / f".{stage}.json.{os.getpid()}"
    partial.write_text(json.dumps(entry, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, folder / f"{stage}.json")


def require_current(data_dir: Path, stage: str) -> None:
    """Refuse to run ``stage`` on stale or mixed inputs (see the module docstring).

    Raises
    ------
    StaleError
        Naming the file that is stale or mixed and the command that makes it current.
    """
    artifacts = Artifacts(Path(data_dir))
    spec = STAGES[stage]
    if "transcripts" in spec.inputs or "trials" in spec.inputs:
        check_ingest_set(artifacts)
    for name in spec.inputs:
        _check_made_from_current(artifacts, name)


def check_ingest_set(artifacts: Artifacts) -> None:
    """Refuse ingest outputs that do not all carry one ``ingest_id``."""
    ids = {}
    ledger = artifacts.ledger
    if ledger.is_file():
        try:
            ids[ledger.name] = json.loads(ledger.read_text(encoding="utf-8")).get("ingest_id")
        except (OSError, ValueError) as err:
            raise StaleError(f"{ledger}: cannot be read ({err}): run `stats ingest` again") from err
    for name in INGEST_OUTPUTS[:3]:
        path = getattr(artifacts, name)
        if path.is_file():
            ids[path.name] = _parquet_id(path)
    if len(set(ids.values())) > 1:
        found = ", ".join(f"{name} {value or 'none'}" for name, value in ids.items())
        raise StaleError(
            f"{artifacts.root}: the ingest outputs do not come from one ingest (ingest ids: "
            f"{found}): run `stats ingest` again"
        )


def _parquet_id(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception as err:  # pyarrow raises several types for damaged files
        raise StaleError(f"{path}: cannot be read ({err}): run `stats ingest` again") from err
    value = metadata.get(INGEST_ID_KEY)
    return value.decode() if value is not None else None


def _check_made_from_current(artifacts: Artifacts, name: str) -> None:
    """Refuse ``name`` when its stage's record says it was made from files changed since."""
    producer = PRODUCERS[name]
    if producer == "ingest":
        return
    path = getattr(artifacts, name)
    entry = _load(artifacts.root, producer)
    if entry is None or entry["outputs"].get(name) != digest(path):
        return  # no record of this very file: nothing is known about it
    for source, recorded in entry["inputs"].items():
        current = digest(getattr(artifacts, source))
        if current != recorded:
            made = getattr(artifacts, source)
            raise StaleError(
                f"{path} was computed from an earlier {made.name} ({made} changed since): "
                f"run `{STAGES[producer].command}` first"
            )
        _check_made_from_current(artifacts, source)


def _load(data_dir: Path, stage: str) -> dict | None:
    path = Path(data_dir) / FOLDER / f"{stage}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
