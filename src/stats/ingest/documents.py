"""Whole-file documents: text, one JSON document (or an array of objects), and safe YAML.

A document is read whole (up to :attr:`~stats.ingest.limits.Limits.max_document_bytes`):
jobs, chat completion objects, legacy inspect logs, text transcripts. YAML (manifests, front
matter) is read by :func:`load_yaml`, which refuses a document whose aliases expand past a
bound (an alias bomb) in time linear in the document's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stats.ingest.decode import UTF8_BOM, UTF16_BOMS, Record, SourceFile, loads
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.limits import Limits


def read_text(source: SourceFile, limits: Limits) -> str:
    """The whole file as text (UTF-8, BOM stripped, UTF-16 with BOM, latin-1 fallback).

    Raises
    ------
    RecordError
        ``oversized-file`` past :attr:`Limits.max_document_bytes`, ``invalid-text`` for
        UTF-16 holding an unpaired surrogate.
    """
    size = source.path.stat().st_size
    if size > limits.max_document_bytes:
        raise RecordError(
            "oversized-file",
            f"{size} bytes, over the limit of {limits.max_document_bytes} bytes for a "
            "whole-file document",
        )
    data = source.path.read_bytes()
    if data.startswith(UTF16_BOMS):
        source.report.warn("UTF-16 file (byte-order mark): decoded as UTF-16")
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise RecordError("invalid-text", f"not valid UTF-16 (byte {err.start})") from None
    if data.startswith(UTF8_BOM):
        source.report.warn("UTF-8 byte-order mark at the start of the file: stripped")
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        source.report.warn(f"not valid UTF-8 (byte {err.start}); decoded as latin-1")
        text = data.decode("latin-1")
    if "\r\n" in text:
        source.report.warn("CRLF line endings: accepted")
    return text


def read_json_document(source: SourceFile, limits: Limits) -> Any:
    """Parse a file holding one JSON document (object or array); raises :class:`RecordError`."""
    return loads(read_text(source, limits))


def iter_document_items(source: SourceFile, limits: Limits) -> Iterator[Record | Reject]:
    """Objects of a JSON document: the document itself, or each item of a top-level array."""
    try:
        doc = read_json_document(source, limits)
    except RecordError as err:
        yield source.reject("file", err, None)
        return
    if isinstance(doc, list):
        for index, item in enumerate(doc):
            locator = f"item {index}"
            if isinstance(item, dict):
                yield locator, item, item
            else:
                detail = (
                    f"{source.where(locator)}: expected a JSON object, found {type(item).__name__}"
                )
                yield Reject(locator, "not-an-object", detail, snippet_of(item))
    elif isinstance(doc, dict):
        yield "document", doc, doc
    else:
        detail = (
            f"{source.where('file')}: expected a JSON object or array, found {type(doc).__name__}"
        )
        yield Reject("file", "not-an-object", detail, snippet_of(doc))


def load_yaml(text: str, max_values: int) -> Any:
    """``yaml.safe_load(text)``, refusing documents whose aliases expand past ``max_values``.

    Raises
    ------
    ValueError
        Naming the problem: not valid YAML, more than ``max_values`` values once aliases
        are expanded (an alias bomb), an alias that refers to itself, nesting too deep.
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, max_values)
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise ValueError(f"not valid YAML: {err}") from None
    except RecursionError:
        raise ValueError("YAML nested too deeply to read") from None
    finally:
        loader.dispose()


def _check_expansion(root: Any, limit: int) -> None:
    """Count the values of a YAML node graph with its aliases expanded, stopping at ``limit``."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        children = _children(node)
        if closing:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > limit:
                raise ValueError(
                    f"its aliases expand to more than {limit:,} values (an alias bomb?); "
                    "write the values out instead"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ValueError("an alias refers to a value that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: Any) -> list:
    value = node.value
    if isinstance(value, list):
        return [part for item in value for part in (item if isinstance(item, tuple) else (item,))]
    return []
