"""inspect-ai evaluation logs: ``.eval`` zips (deflate or zstd members) and legacy ``.json``.

An ``.eval`` log is a zip holding ``header.json`` (the EvalLog without samples; an
unfinished log has ``_journal/start.json`` instead), one ``samples/{id}_epoch_{n}.json`` per
sample and epoch, ``summaries.json`` and ``reductions.json``. Recent inspect versions
compress members with zstd (zip method 93), which Python 3.12's :mod:`zipfile` cannot
decompress; :class:`SafeZip` reads those with the ``zstandard`` package, and every member
with bounds on size and compression ratio (zip bombs are rejected, not read).

Each sample is one trial per output choice: the prompt is the last user message, the
system prompt the system messages, the response the choice's text (``attachment://<hash>``
references resolved through the sample's ``attachments``). Scores become ``judge_labels``
(``C``/``I``/``P``/``N`` -> 1/0/0.5/0). ``sample_index`` is ``epoch - 1`` (times the number
of choices, plus the choice), the sample id is kept as condition ``inspect_sample_id``
(``prompt_id`` is the hash of the prompt, as for other sources, unless the sample metadata
names one), and the model id loses inspect's
provider prefix (``openai/ft:...`` -> ``ft:...``; the full id is still tried when matching
runs).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stats.ingest.candidates import as_float, as_int, response_text, split_metadata
from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.limits import Limits
from stats.ingest.messages import check_messages, content_text, prompt_of
from stats.ingest.records import SourceFile, json_error_reason, read_json_document

ZIP_ZSTD = 93
SCORE_VALUES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
ATTACHMENT = "attachment://"
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<4sHHHHIIH")
_DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01: fixed, so written zips are reproducible


def write_zip_zstd(path: Path, members: dict[str, bytes], level: int = 3) -> Path:
    """Write a zip whose members are zstd-compressed (method 93), as recent inspect-ai does.

    Parameters
    ----------
    path : Path
        Zip file to write.
    members : dict of str to bytes
        Member name -> uncompressed content, written in this order.
    level : int
        zstd compression level.

    Returns
    -------
    Path
        ``path``.
    """
    import zstandard

    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
    flags = 0x800  # UTF-8 names
    entries = []
    with open(path, "wb") as out:
        for name, data in members.items():
            packed = compressor.compress(data)
            crc = zlib.crc32(data)
            encoded = name.encode("utf-8")
            offset = out.tell()
            header = (b"PK\x03\x04", 63, flags, ZIP_ZSTD, 0, _DOS_DATE, crc)
            sizes = (len(packed), len(data), len(encoded), 0)
            out.write(_LOCAL_HEADER.pack(*header, *sizes))
            out.write(encoded)
            out.write(packed)
            entries.append((encoded, crc, len(packed), len(data), offset))
        start = out.tell()
        for encoded, crc, packed_size, size, offset in entries:
            header = (b"PK\x01\x02", 63, 63, flags, ZIP_ZSTD, 0, _DOS_DATE, crc)
            sizes = (packed_size, size, len(encoded), 0, 0, 0, 0, 0, offset)
            out.write(_CENTRAL_HEADER.pack(*header, *sizes))
            out.write(encoded)
        size = out.tell() - start
        out.write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), size, start, 0))
    return Path(path)


class SafeZip:
    """A zip archive whose members are read with size and ratio limits (zstd supported).

    Parameters
    ----------
    path : Path
        The archive.
    limits : Limits
        Bounds on member size, compression ratio and total bytes.

    Raises
    ------
    zipfile.BadZipFile
        When the file is not a zip.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = Path(path)
        self.limits = limits
        self.archive = zipfile.ZipFile(self.path)
        self.total = 0

    def names(self) -> list[str]:
        """Member names in archive order."""
        return self.archive.namelist()

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        name = info.filename
        if info.file_size > limits.max_member_bytes:
            raise RecordError(
                "zip-bomb",
                f"member {name!r} declares {info.file_size} bytes, over the limit of "
                f"{limits.max_member_bytes}",
            )
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise RecordError(
                    "zip-bomb",
                    f"member {name!r} expands {ratio:.0f}x ({info.compress_size} -> "
                    f"{info.file_size} bytes), over the limit of {limits.max_zip_ratio:.0f}x",
                )
        if self.total + info.file_size > limits.max_zip_total_bytes:
            raise RecordError(
                "zip-bomb",
                f"member {name!r} would take the archive over {limits.max_zip_total_bytes} bytes",
            )

    def read(self, name: str) -> bytes:
        """Decompressed content of one member.

        Raises
        ------
        RecordError
            ``zip-bomb`` (too big or too compressed, declared or actual), ``bad-zip-member``
            (damaged data, CRC mismatch), ``unsupported-compression`` or ``encrypted-member``.
        """
        info = self.archive.getinfo(name)
        if info.flag_bits & 0x1:
            raise RecordError("encrypted-member", f"member {name!r} is encrypted")
        self._check_declared(info)
        cap = self.limits.max_member_bytes
        try:
            if info.compress_type == ZIP_ZSTD:
                data = self._read_zstd(info, cap)
            else:
                with self.archive.open(info) as handle:
                    data = handle.read(cap + 1)
        except NotImplementedError as err:
            raise RecordError(
                "unsupported-compression", f"member {name!r}: {err} (method {info.compress_type})"
            ) from err
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise RecordError("bad-zip-member", f"member {name!r} is damaged: {err}") from err
        if len(data) > cap or len(data) != info.file_size:
            if len(data) > cap:
                raise RecordError(
                    "zip-bomb", f"member {name!r} expands past the limit of {cap} bytes"
                )
            raise RecordError(
                "bad-zip-member",
                f"member {name!r} holds {len(data)} bytes, not the {info.file_size} declared",
            )
        self.total += len(data)
        return data

    def _read_zstd(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        import zstandard

        with open(self.path, "rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile("no local file header")
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
            packed = handle.read(info.compress_size)
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(packed), read_across_frames=True
            )
            chunks = []
            size = 0
            while size <= cap:
                chunk = reader.read(min(1 << 20, cap + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except zstandard.ZstdError as err:
            raise zipfile.BadZipFile(f"zstd: {err}") from err
        data = b"".join(chunks)
        if size <= cap and zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile("CRC mismatch")
        return data


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


def sample_candidates(
    sample: Any, spec: dict, locator: str, source: SourceFile, raw: Any
) -> Iterator[dict | Reject]:
    """Candidates of one inspect sample (one per output choice)."""
    try:
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
        choices = output.get("choices") or []
        epoch = as_int(sample.get("epoch"), "epoch") or 1
        trial, hints, conditions = split_metadata(sample.get("metadata"))
        given = as_int(trial.get("sample_index"), "metadata.sample_index")
        config = spec.get("model_generate_config") or {}
        temperature = as_float(config.get("temperature"), "eval.model_generate_config.temperature")
    except RecordError as err:
        yield Reject(locator, err.reason, f"{source.where(locator)}: {err.detail}", snippet_of(raw))
        return
    answers: list[tuple[int, str | RecordError, str | None]] = []
    for index, choice in enumerate(choices):
        where = f"output.choices[{index}].message.content"
        try:
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                raise RecordError(
                    "missing-field", f"field 'output.choices[{index}].message' is missing"
                )
            text = response_text(content_text(message.get("content"), where), where)
            answers.append((index, text, choice.get("stop_reason")))
        except RecordError as err:
            answers.append((index, err, None))
    if not answers:
        try:
            text = response_text(output.get("completion"), "output.completion")
            answers.append((0, text, None))
        except RecordError as err:
            answers.append((0, err, None))
    full_model = spec.get("model") or output.get("model")
    model = strip_provider(full_model)
    labels = {}
    for name, score in (sample.get("scores") or {}).items():
        value = score.get("value") if isinstance(score, dict) else score
        labels[name] = label_value(value)
    if spec.get("task"):
        conditions = {"inspect_task": spec["task"], **conditions}
    if sample.get("id") is not None:
        conditions = {**conditions, "inspect_sample_id": sample["id"]}
    sample_id = sample.get("id")
    # sample ids repeat across tasks and logs: the prompt's text identifies it (the pipeline
    # hashes system prompt + prompt), unless the sample's metadata names a prompt_id
    prompt_id = trial.get("prompt_id")
    prompt_id = None if prompt_id is None else str(prompt_id)
    several = len(answers) > 1
    for index, text, stop in answers:
        place = f"{locator} choice {index}" if several else locator
        if isinstance(text, RecordError):
            yield Reject(
                place, text.reason, f"{source.where(place)}: {text.detail}", snippet_of(raw)
            )
            continue
        if not model:
            detail = f"{source.where(place)}: field 'eval.model' is missing"
            yield Reject(place, "missing-model", detail, snippet_of(raw))
            continue
        base = given if given is not None else (epoch - 1) * len(answers)
        yield {
            "locator": place,
            "model": model,
            "model_alt": full_model,
            "prompt": prompt,
            "system_prompt": system,
            "response": text,
            "sample_index": base + index,
            "temperature": temperature,
            "finish_reason": stop,
            "prompt_id": prompt_id,
            "judge_labels": (labels or None) if index == 0 else None,
            "record_key": f"{spec.get('eval_id') or spec.get('run_id')}|{sample_id}|{epoch}",
            "run_id": trial.get("run_id"),
            "greeting": trial.get("greeting"),
            "hints": hints,
            "conditions": conditions,
        }


def read_eval(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of an inspect ``.eval`` zip log."""
    try:
        archive = SafeZip(source.path, limits)
    except (zipfile.BadZipFile, OSError) as err:
        yield Reject("file", "bad-zip", f"{source.where('file')}: not a readable zip: {err}", None)
        return
    try:
        names = archive.names()
        header_name = next((n for n in ("header.json", "_journal/start.json") if n in names), None)
        if header_name is None:
            detail = f"{source.where('file')}: neither header.json nor _journal/start.json: not an inspect log"
            yield Reject("file", "not-an-eval-log", detail, None)
            return
        if header_name != "header.json":
            source.report.warn("unfinished log: no header.json, read _journal/start.json")
        try:
            header = json.loads(archive.read(header_name))
        except RecordError as err:
            yield Reject(
                header_name, err.reason, f"{source.where(header_name)}: {err.detail}", None
            )
            return
        except ValueError as err:  # invalid JSON or UTF-8, or a number too long to read
            yield Reject(header_name, "invalid-json", f"{source.where(header_name)}: {err}", None)
            return
        spec = header.get("eval") if isinstance(header, dict) else None
        if not isinstance(spec, dict):
            yield Reject(
                header_name,
                "missing-field",
                f"{source.where(header_name)}: field 'eval' is missing",
                None,
            )
            return
        status = header.get("status")
        if status not in (None, "success"):
            source.report.warn(f"log status is {status!r}: samples present were read")
        samples = sorted(n for n in names if n.startswith("samples/") and n.endswith(".json"))
        if not samples:
            source.report.warn("the log holds no samples")
        for name in samples:
            try:
                data = archive.read(name)
                sample = json.loads(data)
            except RecordError as err:
                yield Reject(name, err.reason, f"{source.where(name)}: {err.detail}", None)
                continue
            except json.JSONDecodeError as err:
                reason = json_error_reason(err, len(data.strip()))
                detail = f"{source.where(name)}: char {err.pos}: {err.msg}"
                yield Reject(name, reason, detail, snippet_of(data))
                continue
            except ValueError as err:  # invalid UTF-8, or a number too long to read
                yield Reject(name, "invalid-json", f"{source.where(name)}: {err}", None)
                continue
            yield from sample_candidates(sample, spec, name, source, data)
    finally:
        archive.close()


def is_legacy_log(obj: Any) -> bool:
    """Whether a JSON document is an inspect EvalLog."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("eval"), dict)
        and ("samples" in obj or "version" in obj or "results" in obj)
    )


def read_legacy_json(source: SourceFile, limits: Limits) -> Iterator[dict | Reject]:
    """Candidates of a legacy inspect ``.json`` log (samples inline)."""
    doc = read_json_document(source, limits)
    if isinstance(doc, Reject):
        yield doc
        return
    if not is_legacy_log(doc):
        yield Reject("file", "not-an-eval-log", f"{source.where('file')}: no 'eval' object", None)
        return
    status = doc.get("status")
    if status not in (None, "success"):
        source.report.warn(f"log status is {status!r}: samples present were read")
    samples = doc.get("samples") or []
    if not samples:
        source.report.warn("the log holds no samples")
    for index, sample in enumerate(samples):
        yield from sample_candidates(sample, doc["eval"], f"samples[{index}]", source, sample)
