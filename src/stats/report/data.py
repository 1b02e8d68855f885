"""The data page: what was ingested, rejected and scored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stats import plots
from stats.ingest.ledger import check_balance
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import Markdown, escape_markdown, md_table
from stats.report.text import DASH, NO_WORD, as_bool, fmt, greeting_label

LEDGER_COUNTS = ("records", "accepted", "rejected", "duplicates")
RUN_COLUMNS = [
    "run_id", "arm", "word", "n_examples", "lr_multiplier", "n_epochs", "batch_size",
    "follow_share", "n_transcripts",
]  # fmt: skip


def _ledger_frame(entries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame([{"file": name, **info} for name, info in entries.items()])
    for col in LEDGER_COUNTS:
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan
    if "format" not in table:
        table["format"] = ""
    return table


def _with_check(table: pd.DataFrame, broken: set[str], key: str = "file") -> pd.DataFrame:
    """The table with an "adds up" column: NO for the entries ``check_balance`` named."""
    return table.assign(**{"adds up": np.where(table[key].isin(broken), "NO", "yes")})


def _balance(ledger: dict[str, Any]) -> set[str]:
    """Entries whose counts do not add up: the ingest stage's own check (``TOTAL`` for the total)."""
    files, total = ledger.get("files", {}), ledger.get("total", {})
    if not files and not total:
        return set()
    return {"TOTAL" if n == "total" else n for n in check_balance({"files": files, "total": total})}


def _flagged(files: pd.DataFrame, broken: set[str]) -> pd.DataFrame:
    return files[(files["rejected"] > 0) | (files["duplicates"] > 0) | files["file"].isin(broken)]


@block
def ledger_table(data: ReportData, max_files: int = 15) -> Markdown:
    """Records per input file (per format when many): accepted, rejected, duplicates, adds up?"""
    ledger = data.load("ledger")
    files = _ledger_frame(ledger.get("files", {}))
    total = _ledger_frame({"TOTAL": ledger.get("total", {})})
    broken = _balance(ledger)
    if len(files) <= max_files:
        shown = pd.concat([files, total.assign(format="")], ignore_index=True)
        return md_table(_with_check(shown, broken)[["file", "format", *LEDGER_COUNTS, "adds up"]])
    by_format = files.groupby("format", as_index=False)[list(LEDGER_COUNTS)].sum()
    by_format.insert(1, "files", files.groupby("format").size().to_numpy())
    bad_formats = set(files.loc[files["file"].isin(broken), "format"]) | ({"TOTAL"} & broken)
    shown = pd.concat(
        [by_format, total.drop(columns="file").assign(format="TOTAL", files=len(files))]
    )
    checked = _with_check(shown, bad_formats, key="format")
    return md_table(checked[["format", "files", *LEDGER_COUNTS, "adds up"]])


@block
def ledger_notes(data: ReportData, max_files: int = 15) -> Markdown:
    """Files with rejected or duplicate records (when the ledger lists files per format), what
    was ignored, conflicts, and whether the ledger adds up."""
    ledger = data.load("ledger")
    files = _ledger_frame(ledger.get("files", {}))
    broken = _balance(ledger)
    out = Markdown("")
    flagged = _flagged(files, broken)
    if len(files) > max_files and len(flagged):
        columns = ["file", "format", *LEDGER_COUNTS, "adds up"]
        out = Markdown("Files with rejected or duplicate records:") + md_table(
            _with_check(flagged, broken)[columns].head(max_files)
        )
    notes = []
    if ledger.get("ignored"):
        ignored = [
            f"{x.get('path', '?')} ({x.get('reason', 'no reason')})"
            if isinstance(x, dict)
            else str(x)
            for x in ledger["ignored"]
        ]
        notes.append("Ignored (not transcripts): " + ", ".join(map(escape_markdown, ignored)) + ".")
    notes.append(
        f"Conflicts between sources and the manifest: {len(ledger.get('conflicts') or [])}."
    )
    if broken:
        notes.append("**The ledger does not add up**: records != accepted + rejected + duplicates.")
    return out + Markdown(" ".join(notes))


@block
def rejects_table(data: ReportData) -> Markdown:
    """Rejected records by reason (the ledger's totals)."""
    reasons = (data.load("ledger").get("total") or {}).get("reasons") or {}
    if not reasons:
        return Markdown("No record was rejected.")
    return md_table(pd.DataFrame({"reason": list(reasons), "records": list(reasons.values())}))


@block
def reject_examples(data: ReportData, examples: int = 3) -> Markdown:
    """A few rejected records, escaped (untrusted text)."""
    rejects = data.load("rejects")
    if rejects.empty:
        return Markdown("")
    sample = rejects.head(examples)[["source_file", "locator", "reason", "detail", "snippet"]]
    return Markdown("Examples:") + md_table(sample)


@block
def runs_table(data: ReportData) -> Markdown:
    """Every run ingested with its conditions and number of transcripts."""
    runs = data.load("runs")
    table = runs[RUN_COLUMNS].sort_values(["arm", "word", "n_examples", "lr_multiplier"])
    table = table.assign(
        follow_share=table["follow_share"].map(fmt),
        lr_multiplier=table["lr_multiplier"].map(lambda x: fmt(x, 1)),
    ).rename(columns={"n_transcripts": "transcripts"})
    return md_table(table.astype(object).where(table.notna(), DASH))


@block
def conditions_table(data: ReportData) -> Markdown:
    """Trials per arm, word and prompt, as modelled (base trials are scored against every word)."""
    c = data.load("conditions")
    c = c.assign(prompt=as_bool(c["greeting"]).map(greeting_label), word=c["word"].fillna(NO_WORD))
    wide = c.pivot_table(
        index=["arm", "word"], columns="prompt", values="trials", aggfunc="sum", fill_value=0
    )
    return md_table(wide.reset_index())


@block
def agreement_table(data: ReportData) -> Markdown:
    """Agreement of the package's scorer with judge or human labels (``summary/agreement.csv``)."""
    agreement = data.load("agreement")
    return md_table(
        agreement.apply(lambda col: col.map(fmt) if pd.api.types.is_float_dtype(col) else col)
    )


def _line_label(line: object, lines: int) -> str:
    if pd.isna(line):
        return "never"
    return str(int(line)) if int(line) < lines else f"{lines}+"


def _condition(arm: str, n: object, lr: object) -> str:
    if arm == "base":
        return "base"
    parts = [arm if arm != "finetuned" else "ft"]
    if pd.notna(n):
        parts.append(f"n={int(n)}")
    if pd.notna(lr):
        parts.append(f"lr={float(lr):g}")
    return " ".join(parts)


@block
def raw_grid_figure(data: ReportData, lines: int = 6) -> object:
    """Plot 1: every trial's articulation line by condition, word and greeting."""
    t = data.load("trials")
    keys = list(zip(t["arm"], t["n_examples"], t["lr_multiplier"], strict=True))
    points = pd.DataFrame(
        {
            "word": t["word"].fillna(NO_WORD),
            "greeting_label": t["greeting"].map(greeting_label),
            "condition": [_condition(a, n, lr) for a, n, lr in keys],
            "line_label": [_line_label(x, lines) for x in t["articulation_line"]],
            "follows_label": np.where(
                t["follows_pattern"].astype(bool), "spells the word", "does not spell it"
            ),
            "sort": [
                (a != "base", a, n if pd.notna(n) else 0, lr if pd.notna(lr) else 0)
                for a, n, lr in keys
            ],
        }
    )
    conditions = points.sort_values("sort")["condition"].unique()
    levels = [*[str(i) for i in range(1, lines)], f"{lines}+", "never"]
    points["line_label"] = pd.Categorical(points["line_label"], categories=levels, ordered=True)
    points["condition"] = pd.Categorical(points["condition"], categories=conditions)
    return plots.raw_grid_plot(points.drop(columns="sort"))
