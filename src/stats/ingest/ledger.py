"""Per-file counts and the ledger that proves nothing was lost.

How records are counted (``records = accepted + rejected + duplicates``, per file and in
total):

- transcript sources: one record per *candidate trial*: a chat completion with ``n`` choices
  is ``n`` records, an inspect sample is one record per output choice; a line that cannot
  even be parsed (truncated JSON, oversized line) is one record. ``accepted`` records are
  rows of ``transcripts.parquet``; ``duplicates`` are records whose ``trial_id`` was already
  written (re-ingested files, copies); ``rejected`` ones are rows of ``rejects.parquet``.
- run-metadata sources (kind ``training``, ``job``): one record per training example (line)
  or per job document; accepted records went into ``runs.parquet`` (a training file's
  accepted examples are its ``n_examples``), rejected ones into ``rejects.parquet``; the whole
  file counts as duplicates when the same bytes were already read.
- batch request files (kind ``requests``): one record per request line; accepted when an
  output line answered it; rejected when unparseable, a repeated ``custom_id``, or never
  answered (``unanswered-request``).
- a file whose format cannot be recognised counts as one rejected record
  (``unknown-format``); an empty file counts zero records and gets a warning.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_WARNINGS = 20
COUNT_KEYS = ("records", "accepted", "rejected", "duplicates")


@dataclass
class FileReport:
    """Counts and warnings of one input file.

    Parameters
    ----------
    name : str
        The file as given (the ``source_file`` of its rows).
    format : str
        Adapter name.
    kind : str
        ``transcripts`` | ``training`` | ``job`` | ``requests`` | ``unknown``.
    """

    name: str
    format: str
    kind: str
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    reasons: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    suppressed_warnings: int = 0

    def warn(self, message: str) -> None:
        """Keep a warning (the first :data:`MAX_WARNINGS`; the rest are counted)."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.suppressed_warnings += 1

    def reject(self, reason: str) -> None:
        """Count one rejected record."""
        self.records += 1
        self.rejected += 1
        self.reasons[reason] += 1

    def as_dict(self) -> dict:
        """The file's entry of ``ledger["files"]``."""
        out: dict = {"format": self.format, "kind": self.kind}
        out.update({key: getattr(self, key) for key in COUNT_KEYS})
        out["reasons"] = dict(sorted(self.reasons.items()))
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.suppressed_warnings:
            out["more_warnings"] = self.suppressed_warnings
        return out


def totals(reports: list[FileReport]) -> dict:
    """Sum the counts of every file, overall and per kind, with reject reasons."""
    total: dict = {key: sum(getattr(r, key) for r in reports) for key in COUNT_KEYS}
    reasons: Counter = Counter()
    by_kind: dict[str, dict[str, int]] = {}
    for report in reports:
        reasons.update(report.reasons)
        kind = by_kind.setdefault(report.kind, dict.fromkeys(COUNT_KEYS, 0))
        for key in COUNT_KEYS:
            kind[key] += getattr(report, key)
    total["reasons"] = dict(sorted(reasons.items()))
    total["by_kind"] = dict(sorted(by_kind.items()))
    return total


def check_balance(ledger: dict) -> list[str]:
    """Files (and ``"total"``) whose counts do not add up; empty when the ledger balances."""
    broken = []
    entries = [*ledger["files"].items(), ("total", ledger["total"])]
    for name, entry in entries:
        if entry["records"] != entry["accepted"] + entry["rejected"] + entry["duplicates"]:
            broken.append(name)
    return broken


def nothing_usable(ledger: dict, problems: list[str]) -> str:
    """Why no transcript was read, as one message (quoting the first ``problems``)."""
    total = ledger["total"]
    reasons = ", ".join(f"{k} {v}" for k, v in total["reasons"].items()) or "none"
    kinds = Counter(entry["kind"] for entry in ledger["files"].values())
    kinds_text = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    lines = [
        f"nothing usable was read: 0 transcripts from {len(ledger['files'])} files "
        f"({kinds_text}); records {total['records']}, rejected {total['rejected']} "
        f"(reasons: {reasons}), duplicates {total['duplicates']}; "
        f"{len(ledger['ignored'])} files ignored"
    ]
    if kinds.get("transcripts", 0) == 0:
        lines.append("no file holds transcripts (only run metadata or unrecognised files)")
    lines.extend(f"  - {problem}" for problem in problems)
    return "\n".join(lines)
