"""Report blocks that failed: found in the written pages, so both renderers are checked alike."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from stats.render.markdown import FAILED_CLASS
from stats.render.project import RenderError

_FAILED = re.compile(r"Could not build ([A-Za-z_][A-Za-z0-9_]*)")
#: The box's body: the first paragraph after its title (both renderers write it so).
_BODY = re.compile(r"<p>(.*?)</p>", re.S)
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
    found: dict[tuple[str, str], FailedBlock] = {}
    for page in sorted(Path(site).glob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        if FAILED_CLASS not in text:
            continue
        for match in _FAILED.finditer(text):  # Quarto repeats a callout's title: one per block
            body = _BODY.search(text, match.end())
            error = html.unescape(_TAG.sub(" ", body.group(1))) if body else ""
            key = (page.name, match.group(1))
            if key not in found or not found[key].error:
                found[key] = FailedBlock(page.name, match.group(1), " ".join(error.split())[:300])
    return list(found.values())
