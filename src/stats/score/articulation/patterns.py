"""Regex-building helpers of the articulation engine (no rules of their own).

The gate and the naming rules search every response, so their regexes are
built in the forms Python's ``re`` searches fastest: alternatives grouped by
first letter (:func:`at_word_start`, :func:`trie`) and byte tables for masks
(:func:`byte_table`); :func:`leading_literals` tells which rules can be tried
only where the gate found their stems.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable


def _group_end(source: str, start: int) -> int | None:
    """Where a group of a regex source ends (a small parser for :func:`leading_literals`).

    The index of the ``)`` that closes the group opened at ``source[start]``,
    or with ``start`` -1 the index of the first ``|`` outside any group; None
    if there is none.
    """
    depth = 0
    i = start + 1 if start >= 0 else 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 1
        elif char == "[":  # a class: skip to its end (a leading "]" is a member)
            i = source.index("]", i + 2 if source[i + 1 : i + 2] in ("]", "^") else i + 1)
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        elif char == "|" and depth == 0 and start < 0:
            return i
        i += 1
    return None


def leading_literals(source: str) -> list[str] | None:
    """The literal text every match of a regex source starts with, one per alternative.

    Understands sources that start with letters (``spell(?:s|ed)?...``) or with
    a group of plain alternatives (``(?:letters?|code|...)...``); a letter made
    optional by ``?``, ``*`` or ``{`` is not part of the literal. None for any
    other source, or one with alternatives outside groups.
    """
    if _group_end(source, -1) is not None:
        return None
    alternatives = [source]
    if source.startswith("(?:"):
        end = _group_end(source, 0)
        inner = source[3:end]
        if end is None or source[end + 1 : end + 2] in ("?", "*", "{") or "(" in inner:
            return None
        alternatives = inner.split("|")
    literals = []
    for alternative in alternatives:
        letters = re.match(r"[a-z]*", alternative).group()
        if alternative[len(letters) : len(letters) + 1] in ("?", "*", "{"):
            letters = letters[:-1]
        literals.append(letters)
    return literals


def starts_with_stem(stems: frozenset[str], rule: re.Pattern[str]) -> bool:
    """Whether every match of ``rule`` starts with one of ``stems``."""
    literals = leading_literals(rule.pattern)
    return literals is not None and all(
        any(literal.startswith(stem) for stem in stems) for literal in literals
    )


def at_word_start(*alternatives: str) -> str:
    r"""Regex source of ``\b(?:alternatives)`` that ``re`` can search quickly.

    A leading ``\b`` (or look-behind) stops the regex engine from skipping
    ahead to the characters that can start a match, so it tries every
    position. Here each alternative starts with its first letter (each must
    start with a plain letter) and the word start is checked right after it:
    the character before that letter is not a word character.
    """
    by_first: dict[str, list[str]] = {}
    for alternative in alternatives:
        by_first.setdefault(alternative[0], []).append(alternative[1:])
    return "|".join(rf"{first}(?<!\w.)(?:{'|'.join(rests)})" for first, rests in by_first.items())


def byte_table(code: Callable[[str], str]) -> bytes:
    """A ``bytes.translate`` table: byte ``c`` to ``code(chr(c))`` (one ASCII character)."""
    return bytes(ord(code(chr(c))) for c in range(256))


def is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def trie(words: Iterable[str], spelled: dict[str, list[str]], after_first: str = "") -> str:
    """Regex source matching the longest of ``words`` at a position, as a trie.

    At each character the longer words are tried before a word that ends
    there, so it matches what an alternation sorted by length would, but
    decides one character at a time. ``spelled`` adds, after a first letter,
    regex sources tried before the words going on from that letter;
    ``after_first`` is put right after every first letter (a look-behind).
    """
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def source(node: dict[str, dict], extra: list[str]) -> str:
        branches = [
            *extra,
            *(re.escape(char) + source(child, []) for char, child in sorted(node.items()) if char),
        ]
        if "" in node:
            branches.append("")  # the word that ends here, after the longer ones
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return "|".join(
        re.escape(first) + after_first + source(child, spelled.get(first, []))
        for first, child in sorted(root.items())
    )
