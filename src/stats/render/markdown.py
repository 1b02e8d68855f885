"""Executed pages as pandoc markdown: Quarto's cell options, numbered floats, cross-references.

Cell options are honoured (``eval``, ``echo``, ``output`` incl. ``asis``, ``include``,
``warning``, ``error``, ``label``, ``fig-cap``, ``tbl-cap``, ``tags``); labelled figures
and tables are numbered and ``@fig-``/``@tbl-`` cross-references resolved, as Quarto does.

A block whose output is a div of class :data:`UNAVAILABLE_CLASS` ("Not available: ...")
gets no float and no number, and references to it read :data:`ABSENT`: the same as
Quarto with the project's ``unavailable.lua`` filter, so both renderers build the same
pages.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

import yaml

from stats.render.notebook import _ANSI, Cell, cell_options

log = logging.getLogger(__name__)

#: Class of a block's "Not available: ..." note (written by :func:`stats.report.not_available`).
UNAVAILABLE_CLASS = "stats-unavailable"
#: Class of the warning box a failed report block leaves on a page.
FAILED_CLASS = "stats-block-failed"
#: What a cross-reference to a block that is not available reads.
ABSENT = "(not available)"
_CROSSREF = re.compile(r"(?<![\w@\\`])(\[)?@((?:fig|tbl)-[A-Za-z0-9_-]*[A-Za-z0-9])(\])?")


def unavailable(cell: Cell) -> bool:
    """Whether the cell's output says its block is not available (:data:`UNAVAILABLE_CLASS`)."""
    return any(
        UNAVAILABLE_CLASS in str(o.get("data", {}).get("text/markdown", "")) for o in cell.outputs
    )


def number_floats(cells: list[Cell]) -> dict[str, str]:
    """Map fig-/tbl- labels to "Figure N" / "Table N" in order of appearance.

    A cell whose block is not available gets no number (and no float): its label maps to
    :data:`ABSENT`, which cross-references show as plain text.
    """
    numbers: dict[str, str] = {}
    counters = {"fig": 0, "tbl": 0}
    names = {"fig": "Figure", "tbl": "Table"}
    for cell in cells:
        label = str(cell.options.get("label", ""))
        kind = label.split("-", 1)[0]
        if kind in counters and unavailable(cell):
            numbers[label] = ABSENT
        elif kind in counters and label not in numbers:
            counters[kind] += 1
            numbers[label] = f"{names[kind]}\u00a0{counters[kind]}"
    return numbers


def resolve_crossrefs(text: str, numbers: dict[str, str]) -> str:
    """Replace ``@fig-x`` / ``[@tbl-y]`` with links "Figure N"; unknown ones become ``?@fig-x``."""

    def replace(match: re.Match[str]) -> str:
        label = match.group(2)
        if numbers.get(label) == ABSENT:
            return ABSENT
        if label in numbers:
            return f"[{numbers[label]}](#{label})"
        log.warning("unresolved cross-reference @%s", label)
        return f"**?\\@{label}**"

    return _CROSSREF.sub(replace, text)


_QMD_LINK = re.compile(r"(\]\((?![a-z]+:)[^)\s]+?)\.qmd((?:#[^)\s]*)?\))")


def local_links(text: str) -> str:
    """Point markdown links to ``page.qmd`` at ``page.html``, as Quarto does in websites."""
    return _QMD_LINK.sub(r"\1.html\2", text)


def _fence(text: str, language: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _image(data: str, mime: str) -> str:
    if mime == "image/svg+xml":
        data = base64.b64encode(data.encode()).decode("ascii")
    return f"data:{mime};base64,{''.join(data.split())}"


def _output_blocks(cell: Cell, options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Markdown blocks and image URIs of a cell's outputs, after output/warning/error options."""
    blocks: list[str] = []
    images: list[str] = []
    asis = options.get("output") == "asis"
    for output in cell.outputs:
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stderr" and not options.get("warning", True):
                continue
            text = output.get("text", "")
            blocks.append(text if asis else _fence(text.rstrip("\n")))
        elif kind == "error":
            if options.get("error"):
                blocks.append(_fence(_ANSI.sub("", "\n".join(output.get("traceback", [])))))
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            image = next(
                (m for m in ("image/png", "image/svg+xml", "image/jpeg") if m in data), None
            )
            if image:
                images.append(_image(data[image], image))
            elif "text/markdown" in data:
                blocks.append(data["text/markdown"])
            elif "text/html" in data:
                blocks.append(f"```{{=html}}\n{data['text/html']}\n```")
            elif "text/plain" in data:
                blocks.append(data["text/plain"] if asis else _fence(data["text/plain"]))
    return blocks, images


def cell_markdown(cell: Cell, defaults: dict[str, Any], numbers: dict[str, str]) -> str:
    """Markdown of one executed code cell, honouring Quarto's cell options."""
    options = {**defaults, **cell.options}
    if options.get("include") is False:
        return ""
    parts: list[str] = []
    if options.get("echo", True) and cell.code:
        parts.append(_fence(cell.code, "python"))
    if options.get("output", True) is False:
        return "\n\n".join(parts)
    blocks, images = _output_blocks(cell, options)
    label = str(options.get("label", ""))
    if unavailable(cell):  # a plain note, outside any numbered float (as unavailable.lua does)
        return "\n\n".join([*parts, *blocks])
    if images:
        caption = resolve_crossrefs(str(options.get("fig-cap", "")), numbers)
        prefix = numbers.get(label)
        text = f"{prefix}: {caption}" if prefix and caption else (prefix or caption)
        attrs = f"{{#{label}}}" if label.startswith("fig-") else ""
        parts.append(f"![{text}]({images[0]}){attrs}" if text else f"![]({images[0]})")
        parts.extend(f"![]({uri})" for uri in images[1:])
    if label.startswith("tbl-") or "tbl-cap" in options:
        caption = resolve_crossrefs(str(options.get("tbl-cap", "")), numbers)
        prefix = numbers.get(label)
        title = f"{prefix}: {caption}" if prefix and caption else (prefix or caption)
        ident = f"#{label} " if label.startswith("tbl-") else ""
        body = "\n\n".join(blocks)
        parts.append(
            f"::::: {{{ident}.table-float}}\n:::: {{.table-caption}}\n{title}\n::::\n\n{body}\n\n:::::"
        )
    elif label.startswith("fig-") and not images:
        caption = resolve_crossrefs(str(options.get("fig-cap", "")), numbers)
        prefix = numbers.get(label, "")
        body = "\n\n".join(blocks)
        parts.append(
            f"::::: {{#{label} .figure-float}}\n{body}\n\n:::: {{.table-caption}}\n{prefix}: {caption}\n::::\n:::::"
        )
    else:
        parts.extend(blocks)
    return "\n\n".join(p for p in parts if p)


def page_markdown(notebook: Any, front: dict[str, Any], defaults: dict[str, Any]) -> str:
    """The whole page as pandoc markdown: metadata, text cells and executed code cells."""
    cells = []
    for i, c in enumerate(notebook.cells):
        if c.cell_type == "code":
            source = c.metadata.get("stats_source", c.source)
            cells.append(Cell(i, source, cell_options(source), c.get("outputs", [])))
    numbers = number_floats(cells)
    by_index = {c.index: c for c in cells}
    chunks = []
    meta = {
        k: front[k] for k in ("title", "subtitle", "author", "date", "description") if k in front
    }
    if meta:
        chunks.append("---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---")
    for i, raw in enumerate(notebook.cells):
        if raw.cell_type == "markdown":
            chunks.append(local_links(resolve_crossrefs(raw.source, numbers)))
        elif raw.cell_type == "code" and "injected-parameters" not in raw.metadata.get("tags", []):
            if "stats-setup" in raw.metadata.get("tags", []):
                continue
            chunks.append(cell_markdown(by_index[i], defaults, numbers))
        elif raw.cell_type == "raw":
            chunks.append(raw.source)
    return "\n\n".join(c for c in chunks if c.strip()) + "\n"
