"""The reader of each transcript format: one registry, format name -> function.

A reader takes ``(source, limits)`` and yields candidates (see :mod:`stats.ingest.fields`)
and :class:`~stats.ingest.errors.Reject` items, one record at a time; every reader loops
over its records with :func:`stats.ingest.decode.each_record`, so one bad record is that
record's reject and never its file's end. Batch outputs are read by
:func:`stats.ingest.batch.parse_outputs` and joined to their requests
(:data:`stats.ingest.batch.JOINED`). Which formats exist and what kind of source each is:
:mod:`stats.ingest.formats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from stats.ingest import anthropic, generic, inspect_log, openai, plaintext, worker
from stats.ingest.batch import JOINED, parse_outputs, parse_requests
from stats.ingest.decode import SourceFile
from stats.ingest.errors import Reject
from stats.ingest.limits import Limits

Reader = Callable[[SourceFile, Limits], Iterator[dict | Reject]]

READERS: dict[str, Reader] = {
    "openai-chat": openai.read_chat_completions,
    "anthropic-message": anthropic.read_messages,
    "inspect-eval": inspect_log.read_eval,
    "inspect-json": inspect_log.read_legacy_json,
    "text": plaintext.read_text_transcript,
    "hf-messages": generic.read_generic,
    "generic-jsonl": generic.read_generic,
    "generic-csv": generic.read_generic,
    "generic-parquet": generic.read_generic,
}


class ReadAhead:
    """The items of each file's reader; big files are read in child processes, one ahead.

    While a file is read (or the requests indexed), the next big file of the same kind is
    already being decoded by its child (:mod:`stats.ingest.worker`), so both cores work.

    Parameters
    ----------
    files : list of SourceFile
        The files of the ingest (formats decided).
    limits : Limits
    folder : Path
        The ingest's scratch folder (for the children's temporary files).
    """

    def __init__(self, files: list[SourceFile], limits: Limits, folder: Path) -> None:
        self.files = files
        self.limits = limits
        self.folder = folder
        self.started: dict[int, worker.Worker] = {}

    def reader(self, index: int) -> tuple[Callable, tuple]:
        """The reader of a file and its extra arguments."""
        report = self.files[index].report
        if report.kind == "requests":
            return parse_requests, (report.format,)
        if report.format in JOINED:
            return parse_outputs, (report.format,)
        return READERS[report.format], ()

    def _read(self, index: int) -> Iterator | worker.Worker:
        func, args = self.reader(index)
        return worker.read(func, self.files[index], self.limits, *args, folder=self.folder)

    def items(self, index: int) -> Iterator:
        """The items of a file: from the child already started for it, or read now (in a
        child when it is big); the next big file of its kind starts meanwhile."""
        items = self.started.pop(index, None) or self._read(index)
        self.start_after(index, self.files[index].report.kind)
        return iter(items)

    def start_after(self, position: int, kind: str) -> None:
        """Start the child of the next file of ``kind`` after ``position`` (if it is big)."""
        for index in range(position + 1, len(self.files)):
            if self.files[index].report.kind == kind and index not in self.started:
                started = self._read(index)
                if isinstance(started, worker.Worker):
                    self.started[index] = started
                return

    def close(self) -> None:
        """Stop the children started ahead."""
        for started in self.started.values():
            started.close()
