"""Recognise a file's source format from its content (the extension only breaks ties).

Rules, first match wins:

- zip magic -> ``inspect-eval``; Parquet magic or ``.parquet`` -> ``generic-parquet`` (or a
  ``messages`` table, see below); ``.csv``/``.tsv`` -> ``generic-csv``; ``.txt``/``.md`` or
  text starting with ``---`` -> ``text``;
- JSON (a document, or JSON Lines judged by the first parseable object among the first 50
  lines): ``object: fine_tuning.job`` -> ``openai-job``; ``custom_id`` with ``response``/
  ``error`` -> ``openai-batch``, with ``body``/``method``/``url`` -> ``openai-batch-input``,
  with ``result`` -> ``anthropic-batch``, with ``params`` -> ``anthropic-batch-input``;
  ``object: chat.completion`` (or ``choices`` + ``model``) -> ``openai-chat``; ``type:
  message`` -> ``anthropic-message``; an ``eval`` object -> ``inspect-json``;
  ``preferred_output`` (DPO) or ``messages`` + ``input`` + ``output`` -> ``openai-training``;
  ``messages`` alone -> :data:`MESSAGES` (training file or HF transcripts: decided by the
  pipeline); other objects -> ``generic-jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stats.ingest.anthropic import is_message
from stats.ingest.decode import (
    PARQUET_MAGIC,
    UTF8_BOM,
    UTF16_BOMS,
    ZIP_MAGIC,
    loads,
    looks_like_jsonl,
)
from stats.ingest.errors import RecordError
from stats.ingest.inspect_log import is_legacy_log
from stats.ingest.limits import Limits
from stats.ingest.training import is_job

_UNREADABLE = (RecordError, UnicodeDecodeError)

#: Placeholder for a ``messages`` table, resolved to openai-training or hf-messages.
MESSAGES = "messages"
EMPTY = "empty"
UNKNOWN = "unknown"
#: A single JSON document that does not parse: read only to report why.
DAMAGED = "damaged-json"
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
PROBE_LINES = 50


def classify_object(obj: Any) -> str | None:
    """The format a single JSON object belongs to, or None when it says nothing."""
    if not isinstance(obj, dict):
        return None
    if is_job(obj):
        return "openai-job"
    if "custom_id" in obj:
        if "result" in obj:
            return "anthropic-batch"
        if "params" in obj:
            return "anthropic-batch-input"
        if "response" in obj or "error" in obj:
            return "openai-batch"
        if "body" in obj or "method" in obj or "url" in obj:
            return "openai-batch-input"
    if isinstance(obj.get("requests"), list) and all(
        isinstance(r, dict) and "params" in r for r in obj["requests"][:5]
    ):
        return "anthropic-batch-input"
    inner = obj.get("response") if isinstance(obj.get("response"), dict) else obj
    if isinstance(inner.get("body"), dict):
        inner = inner["body"]
    if inner.get("object") in ("chat.completion", "text_completion") or (
        isinstance(inner.get("choices"), list) and "model" in inner
    ):
        return "openai-chat"
    if is_message(inner) or is_message(obj.get("message")):
        return "anthropic-message"
    if is_legacy_log(obj):
        return "inspect-json"
    if "preferred_output" in obj or "non_preferred_output" in obj:
        return "openai-training"
    if "messages" in obj and "input" in obj and "output" in obj:
        return "openai-training"
    if "messages" in obj:
        return MESSAGES
    if is_prediction_record(obj):
        return "looking-inward"
    return None


def is_prediction_record(keys: Any) -> bool:
    """Whether record keys (or column names) are those of a self/cross-prediction record."""
    names = set(keys)
    return "meta_prediction" in names or {"object_model", "predictor_model"} <= names


def _first_object(path: Path, limits: Limits) -> Any:
    with open(path, "rb") as handle:
        for _ in range(PROBE_LINES):
            line = handle.readline(limits.max_line_bytes + 1)
            if not line:
                break
            if line.startswith(UTF8_BOM):
                line = line[len(UTF8_BOM) :]
            line = line.strip()
            if not line:
                continue
            try:
                obj = loads(line)
            except _UNREADABLE:
                try:
                    obj = loads(line.decode("latin-1"))
                except _UNREADABLE:
                    continue
            if isinstance(obj, dict):
                return obj
    return None


def detect(path: Path, limits: Limits) -> tuple[str, str]:
    """``(format, evidence)`` of a file; format may be :data:`MESSAGES`, ``empty`` or ``unknown``.

    Parameters
    ----------
    path : Path
        The file.
    limits : Limits
        Bounds used when probing (line and document sizes).
    """
    suffix = path.suffix.lower()
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    if not head.strip():
        return EMPTY, "the file is empty"
    if head.startswith(ZIP_MAGIC):
        return "inspect-eval", "zip archive"
    if head.startswith(PARQUET_MAGIC) or suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
        except Exception as err:  # pyarrow raises several types for damaged files
            return "generic-parquet", f"unreadable parquet ({err})"
        if "messages" in names:
            return MESSAGES, "parquet with a messages column"
        if is_prediction_record(names):
            return "looking-inward", "parquet with self/cross-prediction columns"
        return "generic-parquet", "parquet"
    if suffix in (".csv", ".tsv"):
        return "generic-csv", f"{suffix} file"
    if head.startswith(UTF16_BOMS):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if suffix in TEXT_SUFFIXES or stripped.startswith("---"):
        return "text", "text with front matter" if stripped.startswith("---") else f"{suffix} file"
    if not stripped.startswith(("{", "[")):
        if suffix in JSONL_SUFFIXES:
            return "generic-jsonl", "JSON Lines file whose first line is not JSON"
        return (
            UNKNOWN,
            f"neither JSON, zip, Parquet, CSV nor text with front matter (starts {stripped[:40]!r})",
        )
    if head.startswith(UTF16_BOMS):
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            first = loads(lines[0]) if len(lines) > 1 or suffix in JSONL_SUFFIXES else None
        except (*_UNREADABLE, IndexError):
            first = None
        if isinstance(first, dict):
            return classify_object(first) or "generic-jsonl", "UTF-16 JSON Lines"
        return _detect_document(path, limits, suffix)
    if suffix in JSONL_SUFFIXES or looks_like_jsonl(path):
        fmt = classify_object(_first_object(path, limits))
        return fmt or "generic-jsonl", "JSON Lines"
    return _detect_document(path, limits, suffix)


def _detect_document(path: Path, limits: Limits, suffix: str) -> tuple[str, str]:
    if path.stat().st_size > limits.max_document_bytes:
        return UNKNOWN, "JSON document over the size limit"
    data = path.read_bytes()
    try:
        if data.startswith(UTF16_BOMS):
            doc = loads(data.decode("utf-16", errors="replace"))
        else:
            doc = loads(data.decode("utf-8", errors="replace").lstrip("\ufeff"))
    except _UNREADABLE:
        if suffix in JSONL_SUFFIXES:
            return "generic-jsonl", "JSON Lines"
        return DAMAGED, "a JSON document that does not parse"
    if isinstance(doc, list):
        first = next((item for item in doc if isinstance(item, dict)), None)
        return classify_object(first) or "generic-jsonl", "JSON array"
    fmt = classify_object(doc)
    if fmt is None:
        keys = ", ".join(list(doc)[:12]) if isinstance(doc, dict) else type(doc).__name__
        return UNKNOWN, f"a JSON document of no known source (keys: {keys})"
    return fmt, "JSON document"
