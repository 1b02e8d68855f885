"""The reader of each transcript format: one registry, format name -> function.

A reader takes ``(source, limits)`` and yields candidates (see :mod:`stats.ingest.fields`)
and :class:`~stats.ingest.errors.Reject` items, one record at a time; every reader loops
over its records with :func:`stats.ingest.decode.each_record`, so one bad record is that
record's reject and never its file's end. Batch outputs are read by
:func:`stats.ingest.batch.read_outputs`, which joins them to their requests
(:data:`JOINED`). Which formats exist and what kind of source each is:
:mod:`stats.ingest.formats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from stats.ingest import anthropic, generic, inspect_log, openai, plaintext
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
#: Transcript formats joined to request files (read by :mod:`stats.ingest.batch`).
JOINED = {"openai-batch": "openai-batch-input", "anthropic-batch": "anthropic-batch-input"}
