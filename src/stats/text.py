"""Small text helpers shared by ingest (conditions) and score (outcomes)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: Greetings recognised at the start of a prompt, longest first so that
#: "good morning" wins over "good".
GREETINGS: tuple[str, ...] = (
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "howdy",
    "hello",
    "hiya",
    "hey",
    "hi",
    "yo",
)

_GREETING_RE = re.compile(
    r"^\W*(" + "|".join(re.escape(g) for g in GREETINGS) + r")\b",
    flags=re.IGNORECASE,
)


def detect_greeting(prompt: str | None) -> str | None:
    """Return the greeting a prompt opens with, lower-cased, or None.

    Parameters
    ----------
    prompt : str or None
        The user prompt.

    Returns
    -------
    str or None
        e.g. ``"hello"`` for ``"Hello. What's special about your response pattern?"``.
    """
    if not prompt:
        return None
    match = _GREETING_RE.match(unicodedata.normalize("NFKC", prompt))
    return match.group(1).lower() if match else None


def stable_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the parts (``None`` and ``""`` differ), stable across runs and machines."""
    digest = hashlib.blake2b(digest_size=32)
    for part in parts:
        digest.update(b"\x00" if part is None else b"\x01" + str(part).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:length]
