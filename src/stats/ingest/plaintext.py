"""Pasted plain-text transcripts (``.txt``/``.md``) with YAML front matter.

::

    ---
    model: ft:gpt-4o-2024-08-06:acme::abc123
    prompt: "hello. What's special about your response pattern?"
    temperature: 0
    ---
    Here is my answer...

The front matter names the trial's fields (``model``, ``run_id``, ``prompt``,
``system_prompt``, ``sample_index``, ``prompt_id``, ``temperature``, ``greeting``, and run
hints ``word``, ``arm``, ``base_model``); other keys become conditions. The body is the
response, unless it is a dialogue with role headers (``User:``, ``Assistant:``,
``System:``, also as ``## User`` or ``**User:**``): then the last assistant turn is the
response and the user turn before it the prompt. A file is one trial.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stats.ingest.decode import SourceFile, each_record
from stats.ingest.documents import load_yaml, read_text
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import (
    RUN_VALUE_KEYS,
    as_bool,
    as_float,
    as_int,
    as_text,
    response_text,
)
from stats.ingest.limits import Limits

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_ROLES = r"(system|user|human|assistant|chatgpt|claude)"
#: ``User: text``, ``**User:** text``, ``**User**: text``, ``## User: text``
ROLE_WITH_COLON = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?" + _ROLES + r"(?:\*\*)?[ \t]*:[ \t]*(?:\*\*)?[ \t]?(.*)$",
    re.IGNORECASE,
)
#: ``## Assistant`` or ``**User**`` alone on its line
ROLE_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*)" + _ROLES + r"(?:\*\*)?[ \t]*$", re.IGNORECASE
)
ROLE_NAMES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "claude": "assistant",
}
TRIAL_KEYS = tuple(
    "model run_id prompt system_prompt response sample_index prompt_id temperature greeting "
    "finish_reason".split()
)


def split_turns(body: str) -> list[tuple[str, str]]:
    """``(role, text)`` turns of a dialogue with role headers; empty when there are none.

    A header line is a role name followed by a colon (``User: hi``), or a markdown heading
    or bold role name alone on its line (``## Assistant``, ``**User:**``).
    """
    turns: list[tuple[str, list[str]]] = []
    for line in body.split("\n"):
        match = ROLE_WITH_COLON.match(line) or ROLE_HEADING.match(line)
        if match:
            rest = match.group(2) if match.re is ROLE_WITH_COLON else ""
            turns.append((ROLE_NAMES[match.group(1).lower()], [rest]))
        elif turns:
            turns[-1][1].append(line)
    return [(role, "\n".join(lines).strip()) for role, lines in turns]


def _parse(text: str, source: SourceFile, limits: Limits) -> dict:
    match = FRONT_MATTER.match(text)
    meta: dict = {}
    body = text
    if match:
        try:
            meta = load_yaml(match.group(1), limits.max_yaml_values) or {}
        except ValueError as err:  # also a number too long to read
            problem = " ".join(str(err).split(";")[0].split())
            if not problem.startswith("not valid YAML"):
                problem = f"not valid YAML: {problem}"
            raise RecordError("invalid-front-matter", f"front matter is {problem}") from err
        if not isinstance(meta, dict):
            raise RecordError("invalid-front-matter", "front matter should be a mapping of keys")
        body = text[match.end() :]
    turns = split_turns(body)
    spec = source.spec
    system = meta.get("system_prompt")
    if "response" in meta:
        prompt, response = meta.get("prompt"), meta.get("response")
    elif turns:
        last = max((i for i, (role, _) in enumerate(turns) if role == "assistant"), default=None)
        if last is None:
            raise RecordError("missing-response", "the dialogue has no assistant turn")
        response = turns[last][1]
        users = [t for role, t in turns[:last] if role == "user"]
        prompt = meta.get("prompt") or (users[-1] if users else None)
        systems = [t for role, t in turns[:last] if role == "system"]
        system = system or ("\n\n".join(systems) if systems else None)
    else:
        if not match:
            raise RecordError(
                "missing-front-matter",
                "no YAML front matter (---) and no role headers (User:/Assistant:)",
            )
        prompt, response = meta.get("prompt"), body.strip()
    prompt = prompt if prompt is not None else (spec.prompt if spec else None)
    if not isinstance(prompt, str):
        raise RecordError("missing-prompt", "no prompt: give 'prompt' in the front matter")
    model = meta.get("model") or (spec.model if spec else None)
    values = {k: meta[k] for k in RUN_VALUE_KEYS if meta.get(k) is not None}
    conditions = {k: v for k, v in meta.items() if k not in TRIAL_KEYS and k not in RUN_VALUE_KEYS}
    return {
        "locator": "file",
        "model": None if model is None else str(as_text(model, "model")),
        "model_alt": None,
        "prompt": prompt,
        "system_prompt": system or (spec.system_prompt if spec else None),
        "response": response_text(response, "body"),
        "sample_index": as_int(meta.get("sample_index"), "sample_index"),
        "temperature": as_float(meta.get("temperature"), "temperature"),
        "finish_reason": meta.get("finish_reason"),
        "prompt_id": None
        if meta.get("prompt_id") is None
        else str(as_text(meta["prompt_id"], "prompt_id")),
        "judge_labels": None,
        "record_key": None,
        "record_id": None,
        "raw": text,
        "run_id": None if meta.get("run_id") is None else str(as_text(meta["run_id"], "run_id")),
        "greeting": as_bool(meta.get("greeting"), "greeting"),
        "values": values or None,
        "conditions": conditions or None,
    }


def read_text_transcript(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """The one candidate of a plain-text transcript file."""

    def read(locator: str, path: Any, raw: Any) -> list:
        text = read_text(source, limits).replace("\r\n", "\n").replace("\r", "\n")
        return [_parse(text, source, limits)]

    return each_record(source, [("file", source.path, None)], read)
