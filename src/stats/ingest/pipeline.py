"""The ingest stage: every run source -> transcripts, runs, rejects and a ledger.

Order of work (so that conditions are known before any transcript row is written, and
every row is written once, in batches):

1. collect files (folders walked recursively, sorted; manifests, ``truth.json``, READMEs,
   licences, hidden files and the output folder are skipped and listed as ``ignored``;
   files named by the manifest as a run's ``training_file``/``job_file`` or a batch's
   ``requests`` are added);
2. detect each file's format (forced by ``fmt``, else by the manifest ``files:`` entry, else
   by content, see :mod:`stats.ingest.detect`);
3. read fine-tuning jobs, then decide which ``messages`` tables are training files (a
   manifest ``format:``; named by a run's ``training_file`` or a job's ``training_file``; or
   ``train`` in the file name) and which are HF-style transcripts (all others);
4. read training files; fill run defaults;
5. index batch request files by ``custom_id`` (:mod:`stats.ingest.scratch`; big files are
   decoded in child processes, see :mod:`stats.ingest.prefetch`);
6. stream every transcript source into ``transcripts.parquet`` (duplicates by
   ``trial_id`` counted, not written), rejects into ``rejects.parquet``;
7. reject batch requests that no output answered; write ``runs.parquet`` and
   ``ledger.json``.

``trial_id`` is :func:`stats.text.stable_hash` of model, system prompt, prompt,
sample index, response and the source's own record key (batch ``custom_id`` and ids,
completion id, inspect eval/sample/epoch), so re-ingesting or copying a file yields the same
ids (duplicates), while distinct requests with identical text stay distinct trials. When a
source gives no sample index, repeated samples of the same prompt and model in a file are
numbered in file order (in batch files, in request order).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import chain, compress
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from stats import __version__, schemas
from stats.config import PROCESSED_DIR, Artifacts
from stats.ingest import anthropic, openai
from stats.ingest.batch import (
    LOOKUP_CHUNK,
    chunked,
    item_candidates,
    join_chunks,
    parse_output_file,
    parse_request_file,
)
from stats.ingest.candidates import INT64_MAX, as_bool, as_float, as_int, as_text
from stats.ingest.detect import DAMAGED, EMPTY, MESSAGES, UNKNOWN, detect
from stats.ingest.errors import IngestError, RecordError, Reject, snippet_of
from stats.ingest.formats import FAMILY, FORMAT_KINDS, FORMATS
from stats.ingest.generic import read_generic
from stats.ingest.hashing import finish, finish_answer, prefix_state
from stats.ingest.inspect_log import read_eval, read_legacy_json
from stats.ingest.ledger import FileReport, check_balance, totals
from stats.ingest.limits import Limits
from stats.ingest.manifest import Manifest, load_manifest
from stats.ingest.plaintext import read_text_transcript
from stats.ingest.prediction import KIND as PREDICTIONS_KIND
from stats.ingest.prediction import PredictionTable
from stats.ingest.prefetch import Prefetch
from stats.ingest.records import SourceFile, iter_records, read_json_document
from stats.ingest.runs import INT_FIELDS, RunRegistry
from stats.ingest.scratch import Scratch, release_memory
from stats.ingest.training import read_training
from stats.ingest.writer import BatchWriter, arrow_schema
from stats.text import detect_greeting, stable_hash

Progress = Callable[[int], None]
PROGRESS_EVERY = 2000
CACHE_LIMIT = 100_000
UNREADABLE = "unreadable"
SKIPPED_SUFFIXES = (".yaml", ".yml")
SKIPPED_NAMES = ("truth.json",)
SKIPPED_PREFIXES = ("readme", "license", "licence", "copying")
TRANSCRIPT_COLUMNS = tuple(schemas.columns("transcripts"))
TRANSCRIPT_TYPES = {field.name: field.type for field in arrow_schema("transcripts")}
#: Columns of each pending row; the others are shared by the rows of a context.
ROW_COLUMNS = ("trial_id", "locator", "sample_index", "response", "finish_reason")
CONTEXT_COLUMNS = tuple(c for c in TRANSCRIPT_COLUMNS if c not in ROW_COLUMNS)
_row_values = itemgetter(*(TRANSCRIPT_COLUMNS.index(c) for c in ROW_COLUMNS))
_context_values = itemgetter(*(TRANSCRIPT_COLUMNS.index(c) for c in CONTEXT_COLUMNS))
BATCH_FORMATS = ("openai-batch", "anthropic-batch", "openai-batch-input", "anthropic-batch-input")
REQUEST_SIBLINGS = (
    ("output", "input"),
    ("results", "requests"),
    ("result", "request"),
    ("out", "in"),
)


def ingest(
    paths: list[Path],
    manifest: Path | None = None,
    out_dir: Path = PROCESSED_DIR,
    fmt: str | None = None,
    progress: Progress | None = None,
    *,
    limits: Limits | None = None,
) -> dict:
    """Read run sources into ``transcripts.parquet``, ``runs.parquet``, ``rejects.parquet``
    and ``ledger.json`` in ``out_dir``.

    Parameters
    ----------
    paths : list of Path
        Files or folders (walked recursively, sorted).
    manifest : Path or None
        The runs manifest (``analysis/runs.yaml``); None: no manifest.
    out_dir : Path
        Processed-data folder (file names from :class:`stats.config.Artifacts`).
    fmt : str or None
        Force one adapter for every file (one of :data:`stats.ingest.FORMATS`); None:
        detect each file's format from its content.
    progress : callable, optional
        Called with the number of records processed since its previous call.
    limits : Limits, optional
        Size limits (oversized lines, zip bombs, batch size).

    Returns
    -------
    dict
        The ledger (also written to ``ledger.json``).

    Raises
    ------
    IngestError
        When nothing usable was read (no transcript accepted), saying why; the outputs in
        ``out_dir`` are then left as they were. :class:`~stats.ingest.errors.ManifestError`
        for a malformed manifest.
    """
    if fmt is not None and fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    spec = load_manifest(Path(manifest) if manifest is not None else None)
    session = _Session(spec, Path(out_dir), fmt, progress, limits or Limits())
    return session.run([Path(p) for p in paths])


class _Session:
    """State of one ingest call."""

    def __init__(
        self,
        manifest: Manifest,
        out_dir: Path,
        fmt: str | None,
        progress: Progress | None,
        limits: Limits,
    ) -> None:
        self.manifest = manifest
        self.out_dir = out_dir
        self.artifacts = Artifacts(out_dir)
        self.fmt = fmt
        self.progress = progress
        self.limits = limits
        self.registry = RunRegistry(manifest)
        self.files: list[SourceFile] = []
        self.formats: dict[int, str] = {}
        self.evidence: dict[int, str] = {}
        self.ignored: list[dict] = []
        self.warnings: list[str] = []
        self.training_files: dict[str, dict] = {}
        self.first_problems: list[str] = []
        self.content_hashes: set[str] = set()
        self._since_progress = 0
        # rows waiting to be written: per-row values, and the shared context of each
        self._rows: list[tuple] = []  # (trial_id, locator, sample, response, finish, context)
        self._contexts: list[tuple] = []  # values of CONTEXT_COLUMNS
        self._context_meta: list[tuple] = []  # (source, run, model) of each context
        self._context_of: dict[int, tuple] = {}  # id(prepared answers) -> (prepared, context)
        self._context_version = -1
        self._prepared: dict[tuple, tuple | None] = {}  # see _accept_answers
        self._last = "the start"  # the last record handled in the current file
        self._prompt_cache: dict[tuple, tuple] = {}
        self._conditions_cache: dict[tuple, str | None] = {}
        self._prefetched: dict[int, Prefetch] = {}

    # ================================================================== driver
    def run(self, paths: list[Path]) -> dict:
        """Ingest ``paths`` and write the outputs; returns the ledger (see :func:`ingest`)."""
        self.collect(paths)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="stats-ingest-") as tmp:
            self.scratch = Scratch(Path(tmp), self.limits.memory_rows)
            self.rejects = BatchWriter(self.artifacts.rejects, "rejects", self.limits.batch_rows)
            self.transcripts = BatchWriter(
                self.artifacts.transcripts, "transcripts", self.limits.batch_rows
            )
            self.predictions = PredictionTable(self.artifacts.predictions, self.limits.batch_rows)
            try:
                self.classify()
                self.read_metadata()
                self.start_prefetch()
                # the schemas import the validation library: done while the children parse
                self.transcripts.schema  # noqa: B018
                self.rejects.schema  # noqa: B018
                self.read_requests()
                self.read_transcripts()
                self.read_predictions()
                self.flush()
                self.reject_unanswered()
                self._tick(0, force=True)
                self.transcripts.flush()
                self.rejects.flush()
                ledger = self.ledger()
                broken = check_balance(ledger)
                if broken:  # a bug, never a user error: fail loudly
                    raise IngestError(
                        f"internal error: ledger does not add up for {broken}", ledger
                    )
                if self.transcripts.rows_written == 0 and self.predictions.rows_written == 0:
                    raise IngestError(self.nothing_usable(ledger), ledger)
                self.write_outputs(ledger)
            except BaseException:
                for parsed in self._prefetched.values():
                    parsed.close()
                self.transcripts.abort()
                self.rejects.abort()
                self.predictions.abort()
                raise
            finally:
                self.scratch.close()
        return ledger

    # ================================================================== collecting
    def _skip_reason(self, path: Path, top: Path) -> str | None:
        relative = path.relative_to(top)
        if any(part.startswith(".") for part in relative.parts):
            return "hidden file"
        name = path.name.lower()
        if name.endswith(SKIPPED_SUFFIXES):
            return "manifest or other YAML file"
        if name in SKIPPED_NAMES:
            return "simulation truth"
        if name.startswith(SKIPPED_PREFIXES):
            return "README or licence"
        return None

    def _add_file(self, path: Path, name: str, seen: set[Path]) -> None:
        resolved = path.resolve()
        if resolved in seen:
            self.ignored.append({"path": name, "reason": "already listed"})
            return
        if self.manifest.path is not None and resolved == self.manifest.path.resolve():
            self.ignored.append({"path": name, "reason": "the manifest"})
            return
        try:
            resolved.relative_to(self.out_dir.resolve())
            self.ignored.append({"path": name, "reason": "inside the output folder"})
            return
        except ValueError:
            pass
        pattern = self.manifest.is_ignored(path)
        if pattern is not None:
            self.ignored.append({"path": name, "reason": f"manifest ignore {pattern!r}"})
            return
        seen.add(resolved)
        spec = self.manifest.file_spec(path)
        self.files.append(
            SourceFile(path=path, name=name, report=FileReport(name, "?", "?"), spec=spec)
        )

    def collect(self, paths: list[Path]) -> None:
        """Walk the given paths and add the files the manifest names."""
        seen: set[Path] = set()
        for given in paths:
            if not given.exists():
                raise IngestError(f"{given}: no such file or folder")
            if given.is_dir():
                walked = sorted(p for p in given.rglob("*") if p.is_file())
                for path in walked:
                    reason = self._skip_reason(path, given)
                    if reason:
                        self.ignored.append({"path": str(path), "reason": reason})
                    else:
                        self._add_file(path, str(path), seen)
            else:
                self._add_file(given, str(given), seen)
        named: list[tuple[Path, str]] = []
        for run_spec in self.manifest.runs:
            for key in ("job_file", "training_file"):
                path = getattr(run_spec, key)
                if path is not None:
                    named.append((path, f"manifest {run_spec.label}.{key}"))
        for file_spec in self.manifest.files:
            named.extend(
                (path, f"manifest files[{file_spec.index}].requests") for path in file_spec.requests
            )
        for path, origin in named:
            if path.resolve() in seen:
                continue
            if not path.is_file():
                self.warnings.append(f"{origin}: {path} not found")
                continue
            self._add_file(path, _display(path), seen)
        if not self.files:
            where = ", ".join(map(str, paths)) or "(no paths)"
            ignored = f"; {len(self.ignored)} ignored" if self.ignored else ""
            raise IngestError(f"no input files found in {where}{ignored}")

    # ================================================================== formats
    def classify(self) -> None:
        """Decide each file's adapter."""
        job_refs = {p.resolve() for p in self.registry.job_paths()}
        training_refs = {p.resolve() for p in self.registry.training_paths()}
        for index, source in enumerate(self.files):
            forced = self.fmt or (source.spec.format if source.spec else None)
            resolved = source.path.resolve()
            if forced and forced not in FAMILY:
                fmt, evidence = forced, "forced" if self.fmt else "manifest files: format"
            else:
                try:
                    fmt, evidence = detect(source.path, self.limits)
                except OSError as err:
                    fmt, evidence = UNREADABLE, f"{type(err).__name__}: {err}"
                if forced and fmt not in FAMILY[forced]:
                    fmt, evidence = forced, "forced"
                elif resolved in training_refs and fmt in (
                    MESSAGES,
                    "generic-jsonl",
                    "openai-training",
                ):
                    fmt, evidence = "openai-training", "a run's training_file in the manifest"
                elif resolved in job_refs and fmt in ("openai-job", UNKNOWN, DAMAGED):
                    fmt = "openai-job" if fmt != DAMAGED else fmt
            self.formats[index] = fmt
            self.evidence[index] = evidence
            source.report.format = fmt
            source.report.kind = FORMAT_KINDS.get(fmt, "unknown")

    def _resolve_messages(self) -> None:
        """Tell training files from HF transcripts among ``messages`` tables."""
        job_files = self.registry.job_training_files()
        for index, source in enumerate(self.files):
            if self.formats[index] != MESSAGES:
                continue
            path = source.path
            if path.name in job_files or path.stem in job_files:
                fmt, evidence = "openai-training", "a job's training_file"
            elif "train" in path.name.lower():
                fmt, evidence = "openai-training", "'train' in the file name"
            else:
                fmt, evidence = "hf-messages", "messages table not named as training data"
            self.formats[index] = fmt
            self.evidence[index] = evidence
            source.report.format = fmt
            source.report.kind = FORMAT_KINDS[fmt]

    # ================================================================== rejects & progress
    def on_reject(self, source: SourceFile, reject: Reject, *, ticked: bool = False) -> None:
        """Count a rejected record and write it to rejects.parquet.

        ``ticked``: the record was already reported to the progress callback.
        """
        source.report.reject(reject.reason)
        self.rejects.add(
            (source.name, reject.locator, reject.reason, reject.detail, reject.snippet)
        )
        if len(self.first_problems) < 5:
            self.first_problems.append(reject.detail)
        if not ticked:
            self._tick()

    def _tick(self, n: int = 1, force: bool = False) -> None:
        self._since_progress += n
        if force or self._since_progress >= PROGRESS_EVERY:
            if self.progress is not None and self._since_progress:
                self.progress(self._since_progress)
            self._since_progress = 0

    def _duplicate_content(self, source: SourceFile) -> bool:
        digest = hashlib.blake2b(digest_size=16)
        with open(source.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        key = digest.hexdigest()
        if key in self.content_hashes:
            return True
        self.content_hashes.add(key)
        return False

    # ================================================================== metadata
    def read_metadata(self) -> None:
        """Read jobs, resolve messages tables, read training files, fill run defaults."""
        for index, source in enumerate(self.files):
            fmt = self.formats[index]
            if fmt in (EMPTY, UNKNOWN, DAMAGED, UNREADABLE):
                self._read_unusable(source, fmt, self.evidence[index])
            elif fmt == "openai-job":
                self._guarded(source, self._read_job)
        self._resolve_messages()
        for index, source in enumerate(self.files):
            if self.formats[index] == "openai-training":
                self._guarded(source, self._read_training)
        self.registry.finalize_all()

    def _guarded(self, source: SourceFile, read: Callable[[SourceFile], None]) -> None:
        """Read a metadata file; an I/O error rejects the rest of it instead of stopping ingest."""
        try:
            read(source)
        except OSError as err:
            detail = f"{source.where('file')}: reading stopped ({type(err).__name__}: {err})"
            self.on_reject(source, Reject("file", "unreadable-file", detail, None))

    def _read_unusable(self, source: SourceFile, fmt: str, evidence: str) -> None:
        if fmt == EMPTY:
            source.report.warn("empty file: no records")
            return
        if fmt == UNREADABLE:
            detail = f"{source.where('file')}: cannot be read ({evidence})"
            self.on_reject(source, Reject("file", "unreadable-file", detail, None))
            return
        if fmt == DAMAGED:
            doc = read_json_document(source, self.limits)
            if isinstance(doc, Reject):
                self.on_reject(source, doc)
                return
        detail = (
            f"{source.where('file')}: format not recognised ({evidence}); name the adapter "
            f"with a manifest files: entry (format: one of {', '.join(FORMATS)})"
        )
        self.on_reject(source, Reject("file", "unknown-format", detail, _head(source.path)))

    def _read_job(self, source: SourceFile) -> None:
        duplicate = self._duplicate_content(source)
        for item in iter_records(source, self.limits):
            if isinstance(item, Reject):
                self.on_reject(source, item)
                continue
            locator, obj, raw = item
            try:
                if not openai.is_job(obj):
                    raise RecordError(
                        "not-a-job",
                        f"field 'object' is {obj.get('object')!r}, not 'fine_tuning.job'",
                    )
                job = openai.parse_job(obj)
            except RecordError as err:
                self.on_reject(
                    source,
                    Reject(
                        locator,
                        err.reason,
                        f"{source.where(locator)}: {err.detail}",
                        snippet_of(raw),
                    ),
                )
                continue
            source.report.records += 1
            self._tick()
            # a copy of a job already read is counted as duplicates, but still links its runs
            self.registry.add_job(job, source.path, source.name)
            if duplicate:
                source.report.duplicates += 1
            else:
                source.report.accepted += 1

    def _read_training(self, source: SourceFile) -> None:
        duplicate = self._duplicate_content(source)
        summary = read_training(source, self.limits, self.on_reject)
        self._tick(summary.n_examples)
        if duplicate:  # a copy of a training file already read: its records are duplicates
            source.report.duplicates += source.report.accepted
            source.report.accepted = 0
        runs = self.registry.runs_for_training(source.path)
        word = summary.word
        self.training_files[source.name] = {
            "word": word,
            "follow_share": summary.follow_share(word),
            "n_examples": summary.n_examples,
            "system_prompts": sorted(summary.system_prompts),
            "runs": [run.run_id for run in runs],
        }
        if not runs:
            self.warnings.append(
                f"{source.name}: training file linked to no run (name it as a run's training_file "
                f"in the manifest); it spells {word or 'no shared acrostic'}"
            )
            return
        self.registry.add_training(runs, summary, source.name)

    # ================================================================== batch requests
    def read_requests(self) -> None:
        """Index every batch request file by custom_id."""
        for index, source in enumerate(self.files):
            if self.formats[index] in ("openai-batch-input", "anthropic-batch-input"):
                parsed = self._prefetched.pop(index, None) or self._parse_file(index, source)
                self._prefetch_after(index)
                self._index_requests(index, source, parsed)
        self.scratch.build_requests()

    def _index_requests(self, index: int, source: SourceFile, parsed: Any) -> None:
        """Add the parsed lines of one request file to the index (rejects to rejects)."""
        order = 0
        for item in chain.from_iterable(chunked(parsed)):
            kind = item[0]
            if kind == "requests":
                _, locators, custom_ids, contexts, bases, json_of = item
                self.scratch.add_requests(
                    index, order + 1, locators, custom_ids, contexts, bases, json_of
                )
                order += len(custom_ids)
                self._tick(len(custom_ids))
            elif kind == "warn":
                source.report.warn(item[1])
            elif kind == "reject":
                self.on_reject(source, item[1])
            else:
                _, locator, reason, detail, snippet = item
                detail = f"{source.where(locator)}: {detail}"
                self.on_reject(source, Reject(locator, reason, detail, snippet))

    def _request_files_for(self, index: int) -> list[int]:
        source = self.files[index]
        family = (
            "openai-batch-input"
            if self.formats[index] == "openai-batch"
            else "anthropic-batch-input"
        )
        candidates = [i for i, f in self.formats.items() if f == family]
        ordered: list[int] = []
        if source.spec is not None and source.spec.requests:
            wanted = {p.resolve() for p in source.spec.requests}
            ordered += [i for i in candidates if self.files[i].path.resolve() in wanted]
        name = source.path.name
        siblings = {name.replace(a, b) for a, b in REQUEST_SIBLINGS if a in name}
        folder = source.path.parent.resolve()
        ordered += [
            i
            for i in candidates
            if self.files[i].path.parent.resolve() == folder and self.files[i].path.name in siblings
        ]
        ordered += [i for i in candidates if self.files[i].path.parent.resolve() == folder]
        ordered += candidates
        return list(dict.fromkeys(ordered))

    def reject_unanswered(self) -> None:
        """Requests no output answered (or repeated custom_ids) go to rejects."""
        bad = self.scratch.unanswered_counts()
        for file_id, n in self.scratch.request_counts().items():
            report = self.files[file_id].report
            report.records += n - bad.get(file_id, 0)
            report.accepted += n - bad.get(file_id, 0)
        for file_id, locator, custom_id, reason in self.scratch.unanswered():
            source = self.files[file_id]
            if reason == "duplicate-custom-id":
                detail = (
                    f"{source.where(locator)}: custom_id {custom_id!r} repeats an earlier request "
                    "of the file; the first one is used"
                )
            else:
                detail = f"{source.where(locator)}: no batch output line answered custom_id {custom_id!r}"
            self.on_reject(source, Reject(locator, reason, detail, custom_id), ticked=True)

    # ================================================================== transcripts
    def _candidates(self, index: int, source: SourceFile) -> Iterator[dict | Reject]:
        fmt = self.formats[index]
        limits = self.limits
        if fmt in ("openai-batch", "anthropic-batch"):
            return self._batch_candidates(index, source)
        if fmt == "openai-chat":
            return openai.read_chat_completions(source, iter_records(source, limits))
        if fmt == "anthropic-message":
            return anthropic.read_messages(source, iter_records(source, limits))
        if fmt == "inspect-eval":
            return read_eval(source, limits)
        if fmt == "inspect-json":
            return read_legacy_json(source, limits)
        if fmt == "text":
            return read_text_transcript(source, limits)
        return read_generic(source, iter_records(source, limits))

    def _batch_candidates(self, index: int, source: SourceFile) -> Iterator[dict | Reject]:
        """Candidates of a batch output file joined to its requests.

        The common answer (a text answer to a request without trial fields, hints or
        conditions) is accepted here directly, with what its request and model fix computed
        once (:meth:`_prepare_answers`); every other item goes through
        :func:`stats.ingest.batch.item_candidates` and :meth:`accept`, as other sources do.
        """
        files = self._request_files_for(index)
        scratch = self.scratch

        def lookup(custom_ids: list[str]) -> dict[str, tuple[dict, int]]:
            """Requests of these custom_ids, from this output's request files."""
            return scratch.lookup_many(custom_ids, files)

        parsed = self._prefetched.pop(index, None) or self._parse_file(index, source)
        self._prefetch_after(index)
        self._prepared = {}
        accept_answers = self._accept_answers
        for chunk, found in join_chunks(parsed, lookup):
            for item in chunk:
                kind = item[0]
                if kind == "plain" or kind == "ok":
                    request = found.get(item[2])
                    if request is not None and accept_answers(index, source, item, request):
                        continue
                yield from item_candidates(source, item, found)

    def _prepare_answers(
        self, index: int, source: SourceFile, ctx: dict, model: str
    ) -> tuple | None:
        """What :meth:`accept` computes from a plain request context and a model, or None.

        None when the context has trial fields, hints or conditions, or a field that
        :meth:`accept` would convert or reject: such items take the general path.
        """
        if ctx.get("trial") or ctx.get("hints") or ctx.get("conditions"):
            return None
        spec = source.spec
        run_id = spec.run_id if spec is not None else None
        if run_id is not None:
            run_id = str(run_id)
        prompt = ctx.get("prompt")
        system = ctx.get("system_prompt")
        temperature = ctx.get("temperature")
        if type(prompt) is not str or (temperature is not None and type(temperature) is not float):
            return None
        run = self.registry.resolve(model, ctx.get("model"), run_id)
        system = system or run.system_prompt
        if system is not None and type(system) is not str:
            return None
        cached = self._prompt_hashes(model, system, prompt)
        greeting = run.greeting
        if greeting is None and spec is not None:
            greeting = spec.greeting
        if greeting is None:
            greeting = cached[1]
        conditions = self._conditions(index, spec, run, None)
        return run, system, prompt, cached[0], bool(greeting), cached[2], temperature, conditions

    def _accept_answers(self, index: int, source: SourceFile, item: tuple, request: tuple) -> bool:
        """Accept the answers of a parsed batch output line on the fast path.

        Returns False (having done nothing) when the item needs the general path: an answer
        that is an error or not text, a finish reason that is not text, no text model id,
        or a request context that :meth:`_prepare_answers` does not take.
        """
        kind, locator, _, model, record_key, answers, _ = item
        ctx, base = request
        model = model or ctx.get("model")
        if type(model) is not str or not model:
            return False
        if kind != "plain":  # "plain" items were checked by the parser
            for _, text, stop in answers:
                if type(text) is not str or (stop is not None and type(stop) is not str):
                    return False
        key = (id(ctx), model)
        prepared = self._prepared.get(key, False)
        if prepared is False:
            prepared = self._prepare_answers(index, source, ctx, model)
            if len(self._prepared) > CACHE_LIMIT:
                self._prepared.clear()
            # the entry keeps ctx alive, so its id is not reused while the entry exists
            self._prepared[key] = prepared
            self._prepared[(key, "ctx")] = (ctx,)
        if prepared is None:
            return False
        if self.registry.version != self._context_version:  # a run value may have changed
            self._context_of.clear()
            self._context_version = self.registry.version
        entry = self._context_of.get(id(prepared))
        if entry is None:
            run, system, prompt, prompt_id, greeting, _, temperature, conditions = prepared
            context = (
                self.formats[index],
                source.name,
                *_run_columns(run, model),
                system,
                prompt,
                greeting,
                prompt_id,
                temperature,
                None,
                conditions,
            )
            entry = (prepared, self._add_context(context, source, run, model))
            self._context_of[id(prepared)] = entry  # keeps prepared alive: ids stay unique
        context = entry[1]
        prefix = prepared[5]
        several = len(answers) > 1
        rows = self._rows
        for choice, text, stop in answers:
            place = f"{locator} choice {choice}" if several else locator
            sample = base + choice
            trial = finish_answer(prefix, sample, text, record_key)
            rows.append((trial, place, sample, text, stop, context))
        source.report.records += len(answers)
        self._last = place
        if len(rows) >= self.limits.batch_rows:  # after the item: its rows share a context
            self.flush()
        self._since_progress += len(answers)
        if self._since_progress >= PROGRESS_EVERY:
            self._tick(0)
        return True

    def _add_context(self, values: tuple, source: SourceFile, run: Any, model: str) -> int:
        """Keep the shared values of rows (:data:`CONTEXT_COLUMNS`); returns their number."""
        self._contexts.append(values)
        self._context_meta.append((source, run, model))
        return len(self._contexts) - 1

    def _prompt_hashes(self, model: str, system: str | None, prompt: str) -> tuple:
        """``(prompt_id hash, greeting detected, trial_id prefix state)`` of a prompt, cached."""
        cache_key = (model, system, prompt)
        cached = self._prompt_cache.get(cache_key)
        if cached is None:
            if len(self._prompt_cache) > CACHE_LIMIT:
                self._prompt_cache.clear()
            cached = (
                stable_hash(system, prompt),
                detect_greeting(prompt) is not None,
                prefix_state(model, system, prompt),
            )
            self._prompt_cache[cache_key] = cached
        return cached

    def _parse_file(self, index: int, source: SourceFile) -> Any:
        """A batch file's parsed lines (requests or outputs): from a child process when the
        file is big, else parsed here by the same function."""
        fmt = self.formats[index]
        outputs = FORMAT_KINDS.get(fmt) == "transcripts"
        parse = parse_output_file if outputs else parse_request_file
        chunk = LOOKUP_CHUNK if outputs else 1  # a request item is a chunk of requests already
        args = (str(source.path), source.name, self.limits, fmt)
        threshold = self.limits.parallel_bytes
        big = threshold >= 0 and source.path.stat().st_size >= threshold
        if big and (os.cpu_count() or 1) > 1:
            try:
                return Prefetch(parse, args, chunk=chunk, spill_dir=self.scratch.folder)
            except OSError as err:  # no child process possible: parse here instead
                self.warnings.append(f"{source.name}: parsed in-process ({err})")
        return parse(*args)

    def start_prefetch(self) -> None:
        """Start decoding the first big batch request file and output file in child processes.

        While the requests are indexed, the output file's child decodes ahead (into a spill
        file), using the other core.
        """
        for kind in ("requests", "transcripts"):
            self._prefetch_after(-1, kind)

    def _prefetch_after(self, position: int, kind: str | None = None) -> None:
        """Start the child of the next batch file of the same kind after ``position``."""
        kind = kind or FORMAT_KINDS.get(self.formats[position])
        for index in range(position + 1, len(self.files)):
            fmt = self.formats[index]
            if fmt not in BATCH_FORMATS or FORMAT_KINDS.get(fmt) != kind:
                continue
            if index not in self._prefetched:
                parsed = self._parse_file(index, self.files[index])
                if isinstance(parsed, Prefetch):
                    self._prefetched[index] = parsed
                else:
                    parsed.close()
            return

    def read_transcripts(self) -> None:
        """Stream every transcript source into the writers."""
        for index, source in enumerate(self.files):
            if FORMAT_KINDS.get(self.formats[index]) != "transcripts":
                continue
            self._sample_counter: dict[tuple, int] = {}
            self._last = "the start"  # the last record handled (also set by the fast path)
            try:
                for item in self._candidates(index, source):
                    if type(item) is Reject:
                        self.on_reject(source, item)
                        self._last = item.locator
                        continue
                    last = self._last = item["locator"]
                    try:
                        self.accept(index, source, item)
                    except RecordError as err:
                        detail = f"{source.where(last)}: {err.detail}"
                        self.on_reject(source, Reject(last, err.reason, detail, None))
            except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
                # an adapter met a shape it does not handle: say so, keep the other files
                locator = f"after {self._last}"
                detail = (
                    f"{source.where(locator)}: reading stopped ({type(err).__name__}: {err}); "
                    "records after this point were not read"
                )
                self.on_reject(source, Reject(locator, "unreadable-rest", detail, None))
                source.report.warn(detail)
        self.scratch.flush_used()

    def read_predictions(self) -> None:
        """Self/cross-prediction sources (``looking-inward``) into ``predictions.parquet``."""
        for index, source in enumerate(self.files):
            if FORMAT_KINDS.get(self.formats[index]) == PREDICTIONS_KIND:
                self.predictions.read(source, self.limits, self.on_reject)

    def _apply_hints(self, run: Any, hints: dict, source: SourceFile) -> None:
        for key, value in hints.items():
            self.registry.set_value(run, key, value, f"{source.name} (record field {key})")

    def accept(self, index: int, source: SourceFile, cand: dict) -> None:
        """Turn one candidate into a buffered transcript row (or a reject).

        Raises
        ------
        RecordError
            When a field has a value that cannot go into its column.
        """
        spec = source.spec
        model = cand.get("model")
        run_id = cand.get("run_id") or (spec.run_id if spec is not None else None)
        if run_id is not None:
            run_id = str(as_text(run_id, "run_id"))
        if not model:
            known = self.registry.runs.get(run_id) if run_id else None
            if known is None or not known.model:
                raise RecordError(
                    "missing-model",
                    "no model id (map a model column, or set model:/run_id: in the manifest "
                    "files: entry)",
                )
            model = known.model
        model = as_text(model, "model")
        hints = cand.get("hints")
        if hints:
            hints = checked_hints(hints)  # before the run is resolved: a bad value adds no run
        run = self.registry.resolve(model, cand.get("model_alt"), run_id)
        if hints:
            self._apply_hints(run, hints, source)
        prompt = as_text(cand["prompt"], "prompt")
        system = as_text(cand.get("system_prompt") or run.system_prompt, "system_prompt")
        cached = self._prompt_hashes(model, system, prompt)
        greeting = run.greeting
        if greeting is None and spec is not None:
            greeting = spec.greeting
        if greeting is None:
            greeting = as_bool(cand.get("greeting"), "greeting")
        if greeting is None:
            greeting = cached[1]
        sample = cand.get("sample_index")
        if sample is None:
            key = (model, system, prompt)
            sample = self._sample_counter.get(key, 0)
            self._sample_counter[key] = sample + 1
        elif type(sample) is not int or not 0 <= sample <= INT64_MAX:
            sample = as_int(sample, "sample_index")  # converts, or names the field at fault
        response = as_text(cand["response"], "response")
        record_key = cand.get("record_key")
        trial_id = finish(cached[2], sample, response, record_key)
        labels = cand.get("judge_labels")
        prompt_id = cand.get("prompt_id")
        temperature = cand.get("temperature")
        if temperature is not None and type(temperature) is not float:
            temperature = as_float(temperature, "temperature")
        row = (
            trial_id,
            self.formats[index],
            source.name,
            cand["locator"],
            *_run_columns(run, model),
            system,
            prompt,
            bool(greeting),
            cached[0] if prompt_id is None else str(as_text(prompt_id, "prompt_id")),
            sample,
            temperature,
            response,
            as_text(cand.get("finish_reason"), "finish_reason"),
            json.dumps(labels, sort_keys=True, ensure_ascii=False, default=str) if labels else None,
            self._conditions(index, spec, run, cand.get("conditions")),
        )
        source.report.records += 1
        context = self._add_context(_context_values(row), source, run, model)
        self._rows.append((*_row_values(row), context))
        if len(self._rows) >= self.limits.batch_rows:
            self.flush()
        self._tick()

    def _conditions(self, index: int, spec: Any, run: Any, extra: dict | None) -> str | None:
        key = (run.run_id, index)
        if not extra and key in self._conditions_cache:
            return self._conditions_cache[key]
        merged = dict(run.conditions)
        if spec is not None:
            merged.update(spec.conditions)
        if extra:
            merged.update(extra)
        text = (
            json.dumps(merged, sort_keys=True, ensure_ascii=False, default=str) if merged else None
        )
        if not extra:
            self._conditions_cache[key] = text
        return text

    def flush(self) -> None:
        """Drop duplicates (by trial_id) and write the pending rows, vectorised."""
        rows, contexts, meta = self._rows, self._contexts, self._context_meta
        self._rows, self._contexts, self._context_meta = [], [], []
        self._context_of.clear()
        if not rows:
            return
        trial_ids, locators, samples, responses, finishes, context_of = zip(*rows, strict=True)
        fresh = self.scratch.filter_new(trial_ints(trial_ids))
        which = np.fromiter(context_of, dtype=np.int64, count=len(rows))
        kept = np.bincount(which[fresh], minlength=len(contexts)).tolist()
        repeated = np.bincount(which[~fresh], minlength=len(contexts)).tolist()
        for (source, run, model), n_kept, n_repeated in zip(meta, kept, repeated, strict=True):
            if n_kept:
                source.report.accepted += n_kept
                run.models[model] += n_kept
            source.report.duplicates += n_repeated
        per_row: list[Any] = [trial_ids, locators, samples, responses, finishes]
        if not fresh.all():
            which = which[fresh]
            per_row = [list(compress(values, fresh.tolist())) for values in per_row]
        columns: dict[str, Any] = dict(zip(ROW_COLUMNS, per_row, strict=True))
        for name, values in zip(CONTEXT_COLUMNS, zip(*contexts, strict=True), strict=True):
            columns[name] = pa.array(values, type=TRANSCRIPT_TYPES[name]).take(which)
        self.transcripts.write_columns([columns[name] for name in TRANSCRIPT_COLUMNS])
        release_memory()

    # ================================================================== outputs
    def ledger(self) -> dict:
        """The ledger: counts per file and in total, ignored files, conflicts, study."""
        reports = [source.report for source in self.files]
        files = {}
        for index, source in enumerate(self.files):
            entry = source.report.as_dict()
            entry["detected_by"] = self.evidence.get(index)
            files[source.name] = entry
        total = totals(reports)
        total["transcripts"] = self.transcripts.rows_written
        total["predictions"] = self.predictions.rows_written
        runs = list(self.registry.runs.values())
        total["runs"] = len(runs)
        unmatched = [
            {
                "model": run.model,
                "run_id": run.run_id,
                "arm": run.arm,
                "transcripts": sum(run.models.values()),
            }
            for run in runs
            if run.origin.startswith("transcripts")
        ]
        return {
            "version": 1,
            "package_version": __version__,
            "manifest": str(self.manifest.path) if self.manifest.path else None,
            "files": files,
            "total": total,
            "ignored": self.ignored,
            "conflicts": self.registry.conflicts,
            "unmatched_models": unmatched,
            "runs_without_transcripts": [run.run_id for run in runs if not run.models],
            "training_files": self.training_files,
            "warnings": list(dict.fromkeys(self.warnings + self.registry.warnings)),
            "study": self.manifest.study,
        }

    def nothing_usable(self, ledger: dict) -> str:
        """Why no transcript was read, as one message."""
        total = ledger["total"]
        reasons = ", ".join(f"{k} {v}" for k, v in total["reasons"].items()) or "none"
        kinds = Counter(entry["kind"] for entry in ledger["files"].values())
        kinds_text = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        lines = [
            f"nothing usable was read: 0 transcripts from {len(ledger['files'])} files ({kinds_text}); "
            f"records {total['records']}, rejected {total['rejected']} (reasons: {reasons}), "
            f"duplicates {total['duplicates']}; {len(ledger['ignored'])} files ignored"
        ]
        if kinds.get("transcripts", 0) == 0:
            lines.append("no file holds transcripts (only run metadata or unrecognised files)")
        lines.extend(f"  - {problem}" for problem in self.first_problems)
        return "\n".join(lines)

    def write_outputs(self, ledger: dict) -> None:
        """Commit the parquet files and write runs.parquet and ledger.json."""
        self.transcripts.commit()
        self.rejects.commit()
        self.predictions.finish()
        rows = self.registry.rows()
        runs = pd.DataFrame(rows) if rows else schemas.empty("runs")
        checked = schemas.validate(runs, "runs")
        partial = self.artifacts.runs.with_name(f".{self.artifacts.runs.name}.partial")
        checked.to_parquet(partial, index=False)
        os.replace(partial, self.artifacts.runs)
        partial = self.artifacts.ledger.with_name(f".{self.artifacts.ledger.name}.partial")
        partial.write_text(
            json.dumps(ledger, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        os.replace(partial, self.artifacts.ledger)


def trial_ints(trial_ids: tuple[str, ...]) -> np.ndarray:
    """:func:`~stats.ingest.scratch.trial_int` of many 16-hex-digit trial ids, vectorised."""
    values = np.frombuffer(bytes.fromhex("".join(trial_ids)), dtype=">u8")
    return (values ^ np.uint64(1 << 63)).astype(np.uint64).view(np.int64)


def _run_columns(run: Any, model: str | None) -> tuple:
    """The run's columns of a transcript row, in schema order (``run_id`` ... ``batch_size``)."""
    return (
        run.run_id,
        model,
        run.base_model,
        run.arm,
        run.word,
        run.n_examples,
        run.lr_multiplier,
        run.n_epochs,
        run.batch_size,
    )


def checked_hints(hints: dict) -> dict:
    """Run values named by a record (``hints``), converted to their column types.

    Raises
    ------
    RecordError
        ``invalid-field`` naming the field, for a count that is not a whole number from 0
        to 2**63 - 1, a multiplier that is not a finite number, or text that is an object or
        a list.
    """
    out = {}
    for key, value in hints.items():
        if value is None or value == "":
            continue
        if key in INT_FIELDS:
            value = as_int(value, key)
        elif key == "lr_multiplier":
            value = as_float(value, key)
        else:
            value = as_text(value, key)
            if key == "word":
                value = value.strip().upper()
        out[key] = value
    return out


def _display(path: Path) -> str:
    """A path relative to the current folder when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _head(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return snippet_of(handle.read(800))
    except OSError:
        return None
