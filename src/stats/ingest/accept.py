"""The one accept path: a candidate (see :mod:`stats.ingest.fields`) -> a row of transcripts.

For each candidate: the run is resolved (:class:`~stats.ingest.runs.RunRegistry`); values the
record gives for run columns (word, arm, n_examples, ...) are the trial's own, the run's
values only their default; the greeting is the record's, else the ``files:`` entry's, else
the run's (manifest), else detected in the prompt; a missing sample index is numbered in
file order among the samples of the same model, system prompt and prompt, a repeated
record (the same provider key, or the same bytes) keeping the number it got first; then

``trial_id = stable_hash(model, system_prompt, prompt, sample_index, response, record_key)``

(:mod:`stats.ingest.hashing`). Rows are written in validated batches; a ``trial_id``
already written (a copy, a re-ingested or repeated record) is counted as a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from stats.ingest.decode import SourceFile
from stats.ingest.errors import RecordError
from stats.ingest.fields import INT64_MAX, as_bool, as_float, as_int, as_text, run_values
from stats.ingest.hashing import finish, prefix_state
from stats.ingest.runs import Run, RunRegistry
from stats.text import detect_greeting, stable_hash

CACHE_LIMIT = 100_000
RUN_COLUMNS = ("base_model", "arm", "word", "n_examples", "lr_multiplier", "n_epochs", "batch_size")


class Acceptor:
    """Candidates -> rows of ``transcripts.parquet`` (see the module docstring).

    Parameters
    ----------
    registry : RunRegistry
        The runs.
    write : callable
        ``write(columns)`` writes one validated batch (columns in schema order).
    batch_rows : int
        Rows buffered before a batch is written.
    """

    def __init__(self, registry: RunRegistry, write: Callable[[list], None], batch_rows: int):
        self.registry = registry
        self.write = write
        self.batch_rows = batch_rows
        self.rows_written = 0
        #: (run_id, column) -> values given by records; run_id -> rows of the run
        self.record_values: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self.run_rows: Counter = Counter()
        self._rows: list[tuple] = []
        self._owners: list[int] = []
        self._owner_index: dict[tuple, int] = {}
        self._owner_list: list[tuple[SourceFile, Run, str]] = []
        self._seen = np.empty(0, dtype=np.int64)
        self._prompts: dict[tuple, tuple] = {}
        self._conditions: dict[tuple, str | None] = {}
        self._columns: dict[str, tuple] = {}
        self._version = -1

    def start(self, source: SourceFile, fmt: str) -> None:
        """Begin a file: sample numbers restart; a repeated record keeps its first number."""
        self.source = source
        self.fmt = fmt
        self._samples: dict[tuple, int] = {}
        self._repeats: dict[tuple, int] = {}

    def add(self, cand: dict) -> None:
        """Buffer the row of one candidate; writes a batch when the buffer is full.

        Raises
        ------
        RecordError
            A field whose value cannot go into its column (``invalid-field``, naming it),
            no model (``missing-model``), no prompt, text that is not text (``invalid-text``).
        """
        source, registry = self.source, self.registry
        spec = source.spec
        run_id = as_text(cand.get("run_id") or (spec.run_id if spec else None), "run_id")
        model = cand.get("model")
        if not model:
            known = registry.runs.get(run_id) if run_id else None
            if known is None or not known.model:
                raise RecordError(
                    "missing-model",
                    "no model id (map a model column, or set model:/run_id: in the manifest "
                    "files: entry)",
                )
            model = known.model
        model = as_text(model, "model")
        given = run_values(cand["values"]) if cand.get("values") else None
        run = registry.resolve(model, cand.get("model_alt"), run_id)
        prompt = as_text(cand["prompt"], "prompt")
        if prompt is None:
            raise RecordError("missing-prompt", "field 'prompt' is null")
        system = as_text(cand.get("system_prompt") or run.system_prompt, "system_prompt")
        prompt_id, detected, prefix = self._prompt(model, system, prompt)
        greeting = as_bool(cand.get("greeting"), "greeting")
        if greeting is None:
            greeting = spec.greeting if spec is not None else None
        if greeting is None:
            greeting = run.greeting if run.greeting is not None else detected
        response = as_text(cand["response"], "response")
        record_key = cand.get("record_key")
        sample = cand.get("sample_index")
        if sample is None:
            sample = self._number((model, system, prompt), cand, record_key)
        elif type(sample) is not int or not 0 <= sample <= INT64_MAX:
            sample = as_int(sample, "sample_index")
        try:
            trial_id = finish(prefix, sample, response, record_key)
        except UnicodeEncodeError as err:
            raise RecordError(
                "invalid-text", f"a lone UTF-16 surrogate in the text ({err})"
            ) from None
        values = self._run_columns(run)
        self.run_rows[run.run_id] += 1
        if given:
            values = list(values)
            for name, value in given.items():
                values[RUN_COLUMNS.index(name)] = value
                self.record_values[(run.run_id, name)][value] += 1
        temperature = cand.get("temperature")
        if temperature is not None and type(temperature) is not float:
            temperature = as_float(temperature, "temperature")
        labels = cand.get("judge_labels")
        given_id = cand.get("prompt_id")
        row = (
            trial_id,
            self.fmt,
            source.name,
            cand["locator"],
            run.run_id,
            model,
            *values,
            system,
            prompt,
            bool(greeting),
            prompt_id if given_id is None else str(as_text(given_id, "prompt_id")),
            sample,
            temperature,
            response,
            as_text(cand.get("finish_reason"), "finish_reason"),
            _json(labels) if labels else None,
            self._merged_conditions(run, cand.get("conditions")),
            as_text(cand.get("record_id"), "record_id"),
        )
        owner = (source.name, run.run_id, model)
        number = self._owner_index.get(owner)
        if number is None:
            number = self._owner_index[owner] = len(self._owner_list)
            self._owner_list.append((source, run, model))
        source.report.records += 1
        self._rows.append(row)
        self._owners.append(number)
        if len(self._rows) >= self.batch_rows:
            self.flush()

    def _run_columns(self, run: Run) -> tuple:
        """The run's values of :data:`RUN_COLUMNS` (cached while no run value changes)."""
        if self._version != self.registry.version:
            self._version = self.registry.version
            self._columns.clear()
        values = self._columns.get(run.run_id)
        if values is None:
            values = self._columns[run.run_id] = tuple(getattr(run, n) for n in RUN_COLUMNS)
        return values

    def _prompt(self, model: str, system: str | None, prompt: str) -> tuple:
        """``(prompt_id, greeting detected, trial_id prefix)`` of a prompt, cached."""
        key = (model, system, prompt)
        cached = self._prompts.get(key)
        if cached is None:
            if len(self._prompts) > CACHE_LIMIT:
                self._prompts.clear()
            try:
                cached = (
                    stable_hash(system, prompt),
                    detect_greeting(prompt) is not None,
                    prefix_state(model, system, prompt),
                )
            except UnicodeEncodeError as err:
                raise RecordError("invalid-text", f"a lone UTF-16 surrogate ({err})") from None
            self._prompts[key] = cached
        return cached

    def _number(self, key: tuple, cand: dict, record_key: str | None) -> int:
        """The next sample index of a prompt, or the one a repeat of this record got."""
        if record_key is not None:
            identity = (key, record_key, cand.get("choice"))
        else:
            identity = (key, _digest(cand.get("raw")), cand.get("choice"))
        sample = self._repeats.get(identity)
        if sample is None:
            sample = self._samples.get(key, 0)
            self._samples[key] = sample + 1
            self._repeats[identity] = sample
        return sample

    def _merged_conditions(self, run: Run, extra: dict | None) -> str | None:
        """Conditions of the run, then the ``files:`` entry, then the record, as JSON."""
        spec = self.source.spec
        key = (run.run_id, id(spec))
        if not extra and key in self._conditions:
            return self._conditions[key]
        merged = dict(run.conditions)
        if spec is not None:
            merged.update(spec.conditions)
        if extra:
            merged.update(extra)
        text = _json(merged) if merged else None
        if not extra:
            self._conditions[key] = text
        return text

    def flush(self) -> None:
        """Write the buffered rows, less the ``trial_id`` values already written."""
        rows, owners = self._rows, self._owners
        self._rows, self._owners = [], []
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        ids = np.frombuffer(bytes.fromhex("".join(columns[0])), dtype=">u8").astype(np.int64)
        fresh = self._fresh(ids)
        which = np.asarray(owners, dtype=np.int64)
        kept = np.bincount(which[fresh], minlength=len(self._owner_list)).tolist()
        repeated = np.bincount(which[~fresh], minlength=len(self._owner_list)).tolist()
        for (source, run, model), n_kept, n_repeated in zip(
            self._owner_list, kept, repeated, strict=True
        ):
            source.report.accepted += n_kept
            source.report.duplicates += n_repeated
            if n_kept:
                run.models[model] += n_kept
        if not fresh.all():
            mask = fresh.tolist()
            columns = [[v for v, keep in zip(c, mask, strict=True) if keep] for c in columns]
        if columns and len(columns[0]):
            self.write(columns)
            self.rows_written += len(columns[0])

    def _fresh(self, ids: np.ndarray) -> np.ndarray:
        """Whether each id is new (not written before, nor earlier in ``ids``); records them."""
        unique, first = np.unique(ids, return_index=True)
        seen = self._seen
        if len(seen):
            at = np.minimum(np.searchsorted(seen, unique), len(seen) - 1)
            new = seen[at] != unique
        else:
            new = np.ones(len(unique), dtype=bool)
        fresh = np.zeros(len(ids), dtype=bool)
        fresh[first[new]] = True
        added = unique[new]
        self._seen = np.insert(seen, np.searchsorted(seen, added), added)
        return fresh


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _digest(raw: Any) -> bytes:
    """A digest of a raw record (bytes, text, or a parsed row)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    elif not isinstance(raw, bytes | bytearray):
        raw = _json(raw).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).digest()
