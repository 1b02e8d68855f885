"""Adapter names (the CLI's ``--format`` choices) and what kind of source each one reads."""

from __future__ import annotations

#: kind of each adapter: ``transcripts`` (rows of transcripts.parquet), ``training`` and
#: ``job`` (run metadata), ``requests`` (batch inputs joined to batch outputs).
FORMAT_KINDS: dict[str, str] = {
    "openai-training": "training",
    "openai-job": "job",
    "openai-chat": "transcripts",
    "openai-batch": "transcripts",
    "openai-batch-input": "requests",
    "anthropic-message": "transcripts",
    "anthropic-batch": "transcripts",
    "anthropic-batch-input": "requests",
    "inspect-eval": "transcripts",
    "inspect-json": "transcripts",
    "hf-messages": "transcripts",
    "generic-jsonl": "transcripts",
    "generic-csv": "transcripts",
    "generic-parquet": "transcripts",
    "text": "transcripts",
    "looking-inward": "predictions",  # self/cross-prediction records, see ingest/prediction.py
}

#: Adapter names, in the order the CLI lists them.
FORMATS: list[str] = list(FORMAT_KINDS)

#: A forced ``openai-batch``/``anthropic-batch`` still reads that family's request files.
FAMILY: dict[str, tuple[str, ...]] = {
    "openai-batch": ("openai-batch", "openai-batch-input"),
    "anthropic-batch": ("anthropic-batch", "anthropic-batch-input"),
}
