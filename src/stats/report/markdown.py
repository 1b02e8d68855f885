"""Markdown blocks the report pages display: escaped text, tables, callouts, notes.

Untrusted text (transcripts, snippets, file names, claim texts) goes through
:func:`escape_markdown` or a fenced code block (:func:`code_block`), so a response
containing ``<script>`` or raw HTML is shown as text, never executed or rendered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from stats.render.markdown import FAILED_CLASS, UNAVAILABLE_CLASS  # noqa: F401  (re-exported)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&@$~^\"'=:;])")
CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")


@dataclass(frozen=True)
class Markdown:
    """A block of pandoc/Quarto markdown that notebooks display as markdown.

    Parameters
    ----------
    text : str
        The markdown source. Untrusted parts must already be escaped.
    """

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __add__(self, other: Markdown) -> Markdown:
        if not self.text:
            return other
        if not other.text:
            return self
        return Markdown(f"{self.text}\n\n{other.text}")


#: A run of this many characters without a space gets break opportunities in tables.
LONG_TOKEN = 28
_LONG = re.compile(rf"\S{{{LONG_TOKEN},}}")
_BREAK_AFTER = re.compile(r"([/_.,:;=&-]|[^/_.,:;=&\s-]{16})")


def breakable(text: str) -> str:
    """``text`` with zero-width spaces after punctuation inside long unbroken runs (paths,
    JSON), so that a table cell can wrap instead of running off the page."""
    return _LONG.sub(lambda m: _BREAK_AFTER.sub("\\1\u200b", m.group(0)), text)


def escape_markdown(value: object) -> str:
    """Make untrusted text inert in markdown: every markup character is backslash-escaped.

    Pandoc (and Quarto) markdown lets any ASCII punctuation be escaped, so ``<script>``
    becomes ``\\<script\\>`` and renders as the literal text ``<script>``. Newlines become
    spaces (table cells are single lines).

    Parameters
    ----------
    value : object
        Anything; ``None``/NA become an empty string.

    Returns
    -------
    str
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = re.sub(r"[\r\n\t]+", " ", str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)


def code_block(text: str, language: str = "text") -> str:
    """A fenced code block showing ``text`` verbatim (HTML in it is escaped by the renderer).

    The fence is longer than any backtick run in ``text``, so the text cannot close it;
    ``{{<`` (a Quarto shortcode opener) is broken with a zero-width space.
    """
    text = str(text).replace("{{<", "{{\u200b<")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def code_span(text: str) -> str:
    """Inline code showing ``text`` verbatim (delimiters longer than any backtick run in it)."""
    text = str(text).replace("\n", " ").replace("{{<", "{{\u200b<")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def callout(kind: str, title: str, body: str, *, classes: Sequence[str] = ()) -> Markdown:
    """A Quarto callout block.

    Parameters
    ----------
    kind : {"note", "tip", "warning", "important", "caution"}
    title : str
        Plain title (double quotes become single quotes).
    body : str
        Markdown body (escape untrusted parts before).
    classes : sequence of str
        Extra classes of the block (e.g. :data:`FAILED_CLASS`).

    Returns
    -------
    Markdown
    """
    if kind not in CALLOUT_KINDS:
        raise ValueError(f"unknown callout kind {kind!r}; valid: {', '.join(CALLOUT_KINDS)}")
    safe_title = title.replace('"', "'")
    extra = "".join(f" .{c}" for c in classes)
    return Markdown(f'::: {{.callout-{kind}{extra} title="{safe_title}"}}\n{body}\n:::')


def not_available(why: str) -> Markdown:
    """A plain paragraph saying a block cannot be shown, and why (markdown ``why``, escaped before).

    It is a div of class :data:`UNAVAILABLE_CLASS`: both renderers drop the numbered figure
    or table block around it (Quarto through ``unavailable.lua``, the offline renderer in
    :mod:`stats.render.markdown`), so no "Figure 1:" caption labels a missing figure.
    """
    return Markdown(f"::: {{.{UNAVAILABLE_CLASS}}}\nNot available: {why}\n:::")


def omitted() -> Markdown:
    """An empty :func:`not_available` block: the block and its numbered float are left out.

    For blocks of a page whose data are absent as a whole, where one earlier block
    already said so (e.g. :func:`stats.report.followups.design_status`).
    """
    return Markdown(f"::: {{.{UNAVAILABLE_CLASS}}}\n:::")


def md_table(
    frame: pd.DataFrame, *, align: Sequence[str] | None = None, bold: Sequence[str] = ()
) -> Markdown:
    """A pipe table of ``frame``, every cell escaped.

    The separator's dashes are proportional to each column's widest cell, so that
    pandoc (and Quarto) size wide tables by content rather than equally.

    Parameters
    ----------
    frame : DataFrame
        Already formatted for display (strings); cells are escaped here.
    align : sequence of {"l", "r", "c"}, optional
        Column alignment; default left for text, right for numbers.
    bold : sequence of str, default ()
        Columns whose (escaped) cells are set in bold.

    Returns
    -------
    Markdown
    """
    if frame.empty:
        return Markdown("*No rows.*")
    if align is None:
        align = ["r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns]
    cells = [
        [escape_markdown(breakable(str(v)) if isinstance(v, str) else v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    for j, column in enumerate(frame.columns):
        if column in bold:
            for row in cells:
                row[j] = f"**{row[j]}**" if row[j] else row[j]
    header = [escape_markdown(c) for c in frame.columns]
    widths = [max(3, len(h), *(len(str(r[j])) for r in cells)) for j, h in enumerate(header)]
    rule = {
        "l": lambda w: ":" + "-" * w,
        "r": lambda w: "-" * w + ":",
        "c": lambda w: ":" + "-" * w + ":",
    }
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(rule[a](w) for a, w in zip(align, widths, strict=True)) + "|",
        *("| " + " | ".join(row) + " |" for row in cells),
    ]
    return Markdown("\n".join(lines))


def bullets(items: Sequence[str]) -> Markdown:
    """A bullet list of markdown items (already escaped)."""
    return Markdown("\n".join(f"- {item}" for item in items))
