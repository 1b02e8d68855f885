"""inspect-ai evaluation logs: ``.eval`` zips (deflate or zstd members) and legacy ``.json``.

An ``.eval`` log is a zip holding ``header.json`` (the EvalLog without samples; an
unfinished log has ``_journal/start.json`` instead), one ``samples/{id}_epoch_{n}.json`` per
sample and epoch, ``summaries.json`` and ``reductions.json``, read through
:class:`stats.ingest.zipped.SafeZip` (zstd members, zip-bomb limits). A sample that cannot
be read (damaged, nested too deeply, over a limit) is that sample's reject.

Each sample is one trial per output choice: the prompt is the last user message, the
system prompt the system messages, the response the choice's text (``attachment://<hash>``
references resolved through the sample's ``attachments``). Scores become ``judge_labels``
(``C``/``I``/``P``/``N`` -> 1/0/0.5/0). ``sample_index`` is ``epoch - 1`` (times the number
of choices, plus the choice), the sample id is the ``record_id`` and the condition
``inspect_sample_id`` (``prompt_id`` is the hash of the prompt, as for other sources, unless the sample metadata
names one), and the model id loses inspect's
provider prefix (``openai/ft:...`` -> ``ft:...``; the full id is still tried when matching
runs).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

from stats.ingest.decode import SourceFile, each_record, loads
from stats.ingest.documents import iter_document_items
from stats.ingest.errors import RecordError, Reject
from stats.ingest.fields import (
    Answer,
    Parts,
    answers,
    as_float,
    as_int,
    response_text,
    split_metadata,
)
from stats.ingest.limits import Limits
from stats.ingest.messages import check_messages, content_text, prompt_of
from stats.ingest.zipped import SafeZip, write_zip_zstd

__all__ = ["read_eval", "read_legacy_json", "sample_candidates", "write_zip_zstd"]

SCORE_VALUES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
ATTACHMENT = "attachment://"
HEADERS = ("header.json", "_journal/start.json")


def _resolve_attachments(value: Any, attachments: dict, where: str) -> Any:
    if isinstance(value, str):
        if value.startswith(ATTACHMENT):
            key = value[len(ATTACHMENT) :]
            if key not in attachments:
                raise RecordError(
                    "missing-attachment",
                    f"field '{where}' refers to {value!r}, absent from the sample's attachments",
                )
            return attachments[key]
        return value
    if isinstance(value, list):
        return [_resolve_attachments(v, attachments, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _resolve_attachments(v, attachments, f"{where}.{k}") for k, v in value.items()}
    return value


def label_value(value: Any) -> Any:
    """A judge score as a label: ``C``/``I``/``P``/``N`` -> 1/0/0.5/0, numbers kept."""
    if isinstance(value, str):
        return SCORE_VALUES.get(value.strip().upper(), value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        return {k: label_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [label_value(v) for v in value]
    return value


def strip_provider(model: str | None) -> str | None:
    """inspect model ids carry a provider prefix (``openai/gpt-4o``): drop it."""
    if not model or "/" not in model:
        return model
    return model.split("/", 1)[1]


def _conversation(sample: dict) -> tuple[str | None, str]:
    messages = sample.get("messages")
    if isinstance(messages, list) and messages:
        messages = check_messages(messages, "messages")
        upto = len(messages)
        while upto and messages[upto - 1].get("role") == "assistant":
            upto -= 1
        if any(m.get("role") == "user" for m in messages[:upto]):
            return prompt_of(messages[:upto], "messages")
    value = sample.get("input")
    if isinstance(value, str):
        return None, value
    return prompt_of(value, "input")


def _choices(output: dict) -> list[Answer]:
    out: list[Answer] = []
    for index, choice in enumerate(output.get("choices") or []):
        where = f"output.choices[{index}]"
        try:
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                raise RecordError("missing-field", f"field '{where}.message' is missing")
            content = content_text(message.get("content"), f"{where}.message.content")
            text = response_text(content, f"{where}.message.content")
            out.append((index, text, choice.get("stop_reason")))
        except RecordError as err:
            out.append((index, err, None))
    if not out:
        try:
            out.append((0, response_text(output.get("completion"), "output.completion"), None))
        except RecordError as err:
            out.append((0, err, None))
    return out


def sample_candidates(sample: Any, spec: dict, locator: str, source: SourceFile) -> list:
    """Candidates (or rejects) of one inspect sample: one per output choice.

    Raises
    ------
    RecordError
        For the whole sample: an error, no prompt or output, a field of the wrong type.
    """
    if not isinstance(sample, dict):
        raise RecordError("not-an-object", "the sample is not a JSON object")
    if sample.get("error"):
        error = sample["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise RecordError("sample-error", f"field 'error' is set: {message}")
    attachments = sample.get("attachments") or {}
    for key in ("input", "messages", "output"):
        if key in sample:
            sample[key] = _resolve_attachments(sample[key], attachments, key)
    system, prompt = _conversation(sample)
    output = sample.get("output")
    if not isinstance(output, dict):
        raise RecordError("missing-field", "field 'output' is missing")
    choices = _choices(output)
    epoch = as_int(sample.get("epoch"), "epoch") or 1
    trial, values, conditions = split_metadata(sample.get("metadata"))
    config = spec.get("model_generate_config") or {}
    if spec.get("task"):
        conditions = {"inspect_task": spec["task"], **conditions}
    sample_id = sample.get("id")
    if sample_id is not None:
        conditions = {**conditions, "inspect_sample_id": sample_id}
    full_model = spec.get("model") or output.get("model")
    ctx = {
        "model": full_model,
        "system_prompt": system,
        "prompt": prompt,
        "temperature": as_float(
            config.get("temperature"), "eval.model_generate_config.temperature"
        ),
        # sample ids repeat across tasks and logs: the prompt's text identifies it (hashed
        # with the system prompt), unless the sample's metadata names a prompt_id
        "trial": trial,
        "values": values,
        "conditions": conditions,
    }
    key = f"{spec.get('eval_id') or spec.get('run_id')}|{sample_id}|{epoch}"
    record_id = None if sample_id is None else str(sample_id)
    parts = Parts(
        ctx, choices, strip_provider(full_model), key, record_id, (epoch - 1) * len(choices)
    )
    out = answers(source, locator, sample, parts)
    labels = {}
    for name, score in (sample.get("scores") or {}).items():
        value = score.get("value") if isinstance(score, dict) else score
        labels[name] = label_value(value)
    if labels and out and type(out[0]) is dict:
        out[0]["judge_labels"] = labels
    return out


def read_eval(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of an inspect ``.eval`` zip log (one record per ``samples/`` member)."""
    try:
        archive = SafeZip(source.path, limits)
    except (zipfile.BadZipFile, OSError) as err:
        yield Reject("file", "bad-zip", f"{source.where('file')}: not a readable zip: {err}", None)
        return
    try:
        names = archive.names()
        header = next((name for name in HEADERS if name in names), None)
        if header is None:
            detail = f"{source.where('file')}: neither {' nor '.join(HEADERS)}: not an inspect log"
            yield Reject("file", "not-an-eval-log", detail, None)
            return
        if header != HEADERS[0]:
            source.report.warn(f"unfinished log: no {HEADERS[0]}, read {header}")
        spec: dict = {}

        def read_header(locator: str, name: str, raw: Any) -> list:
            found = loads(archive.read(name))
            if not isinstance(found, dict) or not isinstance(found.get("eval"), dict):
                raise RecordError("missing-field", "field 'eval' is missing")
            spec.update(found["eval"])
            _warn_status(source, found)
            return []

        yield from each_record(source, [(header, header, None)], read_header)
        if not spec:
            return
        samples = sorted(n for n in names if n.startswith("samples/") and n.endswith(".json"))
        if not samples:
            source.report.warn("the log holds no samples")

        def read_sample(locator: str, name: str, raw: Any) -> list:
            return sample_candidates(loads(archive.read(name)), spec, locator, source)

        yield from each_record(source, ((name, name, None) for name in samples), read_sample)
    finally:
        archive.close()


def _warn_status(source: SourceFile, log: dict) -> None:
    status = log.get("status")
    if status not in (None, "success"):
        source.report.warn(f"log status is {status!r}: samples present were read")


def is_legacy_log(obj: Any) -> bool:
    """Whether a JSON document is an inspect EvalLog."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("eval"), dict)
        and ("samples" in obj or "version" in obj or "results" in obj)
    )


def read_legacy_json(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of a legacy inspect ``.json`` log (samples inline)."""

    def read(locator: str, log: Any, raw: Any) -> list:
        if not is_legacy_log(log):
            raise RecordError("not-an-eval-log", "no 'eval' object: not an inspect log")
        _warn_status(source, log)
        samples = log.get("samples") or []
        if not samples:
            source.report.warn("the log holds no samples")
        items = ((f"samples[{i}]", sample, sample) for i, sample in enumerate(samples))
        spec = log["eval"]
        return list(
            each_record(
                source, items, lambda at, sample, _: sample_candidates(sample, spec, at, source)
            )
        )

    return each_record(source, iter_document_items(source, limits), read)
