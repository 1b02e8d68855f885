"""Report blocks that failed: found in the written pages, so both renderers are checked alike."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from stats.render.markdown import FAILED_CLASS
from stats.render.project import RenderError

_FAILED = re.compile(r"Could not build ([A-Za-z_][A-Za-z0-9_]*)")
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class FailedBlock:
    """One page block that raised instead of rendering (its warning box is on the page)."""

    page: str
    block: str
    error: str


class BlockFailures(RenderError):
    """The site was written, but some blocks failed; the message names each one."""

    def __init__(self, failures: list[FailedBlock]) -> None:
        lines = "\n".join(f"  {f.page}: {f.block}: {f.error}" for f in failures)
        super().__init__(f"{len(failures)} report block(s) failed:\n{lines}")
        self.failures = failures


def failed_blocks(site: Path) -> list[FailedBlock]:
    """Every failed block of every page in ``site`` (boxes of class ``stats-block-failed``)."""
    found = []
    for page in sorted(Path(site).glob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        if FAILED_CLASS not in text:
            continue
        for match in _FAILED.finditer(text):
            after = html.unescape(_TAG.sub(" ", text[match.end() : match.end() + 2000]))
            error = " ".join(after.split())[:300]
            found.append(FailedBlock(page.name, match.group(1), error))
    return found
