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
        self._conditions: dict[tuple, str | None] = {}
        self._contexts: dict[tuple, tuple] = {}

    def start(self, source: SourceFile, fmt: str) -> None:
        """Begin a file: sample numbers restart; a repeated record keeps its first number."""
        self.source = source
        self.fmt = fmt
        self._run_id = source.spec.run_id if source.spec is not None else None
        self._contexts.clear()
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
        get = cand.get
        run_id = get("run_id") or self._run_id
        if run_id is not None and type(run_id) is not str:
            run_id = as_text(run_id, "run_id")
        model = get("model")
        if type(model) is not str or not model:
            model = self._model_of(model, run_id)
        given = get("values")
        if given:  # checked before the run is resolved: a bad value adds no run
            given = run_values(given)
        key = (model, get("model_alt"), run_id, get("system_prompt"), cand["prompt"])
        context = self._contexts.get(key)
        if context is None or context[0] != self.registry.version:
            context = self._context(key)
        _, run, system, prompt, prompt_id, greeting, prefix, columns, conditions, owner = context
        if given:
            columns = list(columns)
            for name, value in given.items():
                columns[RUN_COLUMNS.index(name)] = value
                self.record_values[(run.run_id, name)][value] += 1
        if (value := get("greeting")) is not None:
            greeting = as_bool(value, "greeting")
        response = cand["response"]
        if type(response) is not str:
            response = as_text(response, "response")
        record_key = get("record_key")
        sample = get("sample_index")
        if sample is None:
            sample = self._number((model, system, prompt), cand, record_key)
        elif type(sample) is not int or not 0 <= sample <= INT64_MAX:
            sample = as_int(sample, "sample_index")
        try:
            trial_id = finish(prefix, sample, response, record_key)
        except UnicodeEncodeError as err:
            raise RecordError("invalid-text", f"a lone UTF-16 surrogate ({err})") from None
        temperature = get("temperature")
        if temperature is not None and type(temperature) is not float:
            temperature = as_float(temperature, "temperature")
        if (value := get("prompt_id")) is not None:
            prompt_id = str(as_text(value, "prompt_id"))
        labels = get("judge_labels")
        extra = get("conditions")
        finish_reason, record_id = get("finish_reason"), get("record_id")
        if finish_reason is not None and type(finish_reason) is not str:
            finish_reason = as_text(finish_reason, "finish_reason")
        if record_id is not None and type(record_id) is not str:
            record_id = as_text(record_id, "record_id")
        self._rows.append(
            (
                trial_id,
                self.fmt,
                self.source.name,
                cand["locator"],
                run.run_id,
                model,
                *columns,
                system,
                prompt,
                bool(greeting),
                prompt_id,
                sample,
                temperature,
                response,
                finish_reason,
                _json(labels) if labels else None,
                self._merged_conditions(run, extra) if extra else conditions,
                record_id,
            )
        )
        self._owners.append(owner)
        if len(self._rows) >= self.batch_rows:
            self.flush()

    def _model_of(self, model: Any, run_id: str | None) -> str:
        """A record's model id as text, or its run's when it names none."""
        if not model:
            known = self.registry.runs.get(run_id) if run_id else None
            if known is None or not known.model:
                raise RecordError(
                    "missing-model",
                    "no model id (map a model column, or set model:/run_id: in the manifest "
                    "files: entry)",
                )
            return known.model
        return str(as_text(model, "model"))

    def _context(self, key: tuple) -> tuple:
        """What the rows of one model, run and prompt share (cached while no run changes)."""
        model, model_alt, run_id, system, prompt = key
        run = self.registry.resolve(model, model_alt, run_id)
        prompt = as_text(prompt, "prompt")
        if prompt is None:
            raise RecordError("missing-prompt", "field 'prompt' is null")
        system = as_text(system or run.system_prompt, "system_prompt")
        try:
            prompt_id = stable_hash(system, prompt)
            prefix = prefix_state(model, system, prompt)
        except UnicodeEncodeError as err:
            raise RecordError("invalid-text", f"a lone UTF-16 surrogate ({err})") from None
        spec = self.source.spec
        greeting = spec.greeting if spec is not None else None
        if greeting is None:
            greeting = run.greeting
        if greeting is None:
            greeting = detect_greeting(prompt) is not None
        columns = tuple(getattr(run, name) for name in RUN_COLUMNS)
        owner = (self.source.name, run.run_id, model)
        number = self._owner_index.get(owner)
        if number is None:
            number = self._owner_index[owner] = len(self._owner_list)
            self._owner_list.append((self.source, run, model))
        context = (self.registry.version, run, system, prompt, prompt_id, greeting, prefix)
        context += (columns, self._merged_conditions(run, None), number)
        if len(self._contexts) > CACHE_LIMIT:
            self._contexts.clear()
        self._contexts[key] = context
        return context

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
            source.report.records += n_kept + n_repeated
            source.report.accepted += n_kept
            source.report.duplicates += n_repeated
            self.run_rows[run.run_id] += n_kept + n_repeated
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
