"""Chat messages shared by the OpenAI, Anthropic, inspect and HF adapters."""

from __future__ import annotations

from typing import Any, NamedTuple

from stats.ingest.errors import RecordError

#: Roles a chat message may have; ``developer`` is OpenAI's newer name for ``system``.
KNOWN_ROLES = ("system", "developer", "user", "assistant", "tool", "function", "ipython")
_ROLE_SET = frozenset(KNOWN_ROLES)
SYSTEM_ROLES = frozenset({"system", "developer"})
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


class Conversation(NamedTuple):
    """The parts of a conversation that a trial needs."""

    system_prompt: str | None
    prompt: str
    response: str | None


def content_text(content: Any, where: str) -> str | None:
    """Text of a message's content: a string, or the text parts of a list of parts joined.

    Parts of other types (images, tool calls, thinking) are skipped; a part that is neither
    text nor an object, or a text part (``type`` text, or no ``type``) whose ``text`` is not
    a string, raises :class:`RecordError` (``invalid-field``) naming the part.

    Parameters
    ----------
    content : str, list, dict or None
        OpenAI/Anthropic/inspect content.
    where : str
        Field path for error messages, e.g. ``"messages[2].content"``.
    """
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            if isinstance(part, str):
                texts.append(part)
            elif not isinstance(part, dict):
                raise RecordError(
                    "invalid-field",
                    f"field '{where}[{index}]' should be text or a content part, found "
                    f"{type(part).__name__}",
                )
            else:
                kind = part.get("type", "text")
                if type(kind) is not str:
                    raise RecordError(
                        "invalid-field",
                        f"field '{where}[{index}].type' should be text, found {type(kind).__name__}",
                    )
                if kind in TEXT_PART_TYPES:
                    text = part.get("text")
                    if not isinstance(text, str):
                        found = "nothing" if text is None else type(text).__name__
                        raise RecordError(
                            "invalid-field",
                            f"field '{where}[{index}].text' of a text part should be text, "
                            f"found {found}",
                        )
                    texts.append(text)
        return "".join(texts)
    raise RecordError(
        "invalid-field",
        f"field '{where}' should be text or a list of content parts, found {type(content).__name__}",
    )


def check_messages(messages: Any, where: str) -> list[dict]:
    """Validate a list of chat messages: each an object with a known ``role``."""
    if messages is None:
        raise RecordError("missing-field", f"field '{where}' is missing")
    if not isinstance(messages, list):
        raise RecordError(
            "invalid-field", f"field '{where}' should be a list, found {type(messages).__name__}"
        )
    for index, message in enumerate(messages):
        if type(message) is not dict:
            raise RecordError("invalid-field", f"field '{where}[{index}]' is not an object")
        role = message.get("role")
        if type(role) is str and role in _ROLE_SET:
            continue
        if role is None:
            raise RecordError("missing-field", f"field '{where}[{index}].role' is missing")
        shown = repr(role) if type(role) is str else f"a {type(role).__name__}"
        raise RecordError(
            "unknown-role",
            f"field '{where}[{index}].role' is {shown}; expected one of {', '.join(KNOWN_ROLES)}",
        )
    return messages


def _content_at(messages: list[dict], index: int, where: str) -> str | None:
    """The text of ``messages[index]`` (its field path is written only for an error)."""
    content = messages[index].get("content")
    if content is None or type(content) is str:
        return content
    return content_text(content, f"{where}[{index}].content")


def system_text(messages: list[dict], where: str) -> str | None:
    """System (and developer) messages joined by a blank line, or None when there are none."""
    parts = []
    for index, message in enumerate(messages):
        if message["role"] in SYSTEM_ROLES:
            text = _content_at(messages, index, where)
            if text:
                parts.append(text)
    return "\n\n".join(parts) if parts else None


def prompt_of(messages: Any, where: str) -> tuple[str | None, str]:
    """``(system_prompt, prompt)``: the system text and the last user message."""
    messages = check_messages(messages, where)
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "user":
            prompt = _content_at(messages, index, where)
            if prompt is None:
                raise RecordError("missing-prompt", f"field '{where}[{index}].content' is null")
            return system_text(messages[:index], where), prompt
    raise RecordError("missing-prompt", f"field '{where}' has no user message")


def split_conversation(messages: Any, where: str) -> Conversation:
    """System prompt, last user prompt and the final assistant answer of a transcript."""
    messages = check_messages(messages, where)
    if not messages or messages[-1].get("role") != "assistant":
        last = messages[-1].get("role") if messages else "nothing"
        raise RecordError(
            "missing-response",
            f"field '{where}' ends with {last!r}, not an assistant answer",
        )
    last = len(messages) - 1
    response = _content_at(messages, last, where)
    system, prompt = prompt_of(messages[:last], where)
    return Conversation(system, prompt, response)
