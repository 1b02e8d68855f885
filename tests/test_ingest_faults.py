"""Issue 16, findings 1-7: bad values, concurrent and killed ingests, bombs, odd files, faults.

Every case runs in seconds on small files; every ledger adds up. Cases that need a real
process (a concurrent ingest, a kill, a resource limit, a FIFO) run ``stats`` in a
subprocess with a timeout.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest_ingest import (
    BASE,
    PROBE,
    acrostic,
    batch_output,
    batch_request,
    chat_completion,
    good_generic,
    inspect_header,
    inspect_sample,
    run_ingest,
    write_eval,
    write_jsonl,
)
from stats.config import Artifacts
from stats.ingest import IngestError, Limits, ManifestError, ingest
from stats.ingest.ledger import check_balance

STATS = [sys.executable, "-c", "from stats.cli import app; app()"]


def _cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run ``stats`` (wide output, so that messages are not wrapped)."""
    env = {**os.environ, "COLUMNS": "1000", **kwargs.pop("env", {})}
    return subprocess.run(
        [*STATS, *args], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
    )


def _chats(n: int, bad_line: int | None = None, text: str = "\\ud800") -> list[str]:
    rows = []
    for i in range(1, n + 1):
        answer = acrostic("HELLO", str(i))
        line = json.dumps(chat_completion(f"c{i}", BASE, [answer], prompt=PROBE))
        if i == bad_line:
            line = line.replace("stands for line 1", f"stands {text} for line 1", 1)
        rows.append(line)
    return rows


def _outputs_consistent(out: Path) -> str:
    """The four outputs read back and carry one ingest id; returns it."""
    artifacts = Artifacts(out)
    ledger = json.loads(artifacts.ledger.read_text())
    assert check_balance(ledger) == []
    transcripts = pd.read_parquet(artifacts.transcripts)
    assert len(transcripts) == ledger["total"]["transcripts"]
    from stats.provenance import check_ingest_set

    check_ingest_set(artifacts)
    return ledger["ingest_id"]


def _no_leftovers(out: Path) -> None:
    hidden = out / ".ingest"
    names = {p.name for p in hidden.iterdir()} if hidden.exists() else set()
    assert not [n for n in names if n.endswith(".partial") or n.endswith(".tmp")], names
    assert not list(out.glob(".*.tmp"))


# ============================================================================ 1. bad values
def test_a_lone_surrogate_is_one_records_reject_not_the_files_end(tmp_path):
    path = write_jsonl(tmp_path / "chats.jsonl", _chats(100, bad_line=10))
    result = run_ingest([path], tmp_path / "out")
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (100, 99, 1)
    assert result.rejects.iloc[0][["locator", "reason"]].tolist() == ["line 10", "invalid-text"]
    assert "surrogate" in result.rejects.iloc[0]["detail"]
    assert len(result.transcripts) == 99


def test_a_lone_surrogate_in_a_batch_output_leaves_the_pair_balanced(tmp_path):
    requests = [batch_request(f"r{i}", BASE, f"Question {i}?") for i in range(1, 101)]
    outputs = [
        json.dumps(batch_output(f"r{i}", BASE, [acrostic("HELLO", str(i))])) for i in range(1, 101)
    ]
    outputs[9] = outputs[9].replace("stands for", "stands \\udc00 for", 1)
    inputs = write_jsonl(tmp_path / "b" / "input.jsonl", requests)
    answers = write_jsonl(tmp_path / "b" / "output.jsonl", outputs)
    result = run_ingest([tmp_path / "b"], tmp_path / "out")
    files = result.ledger["files"]
    assert (files[str(answers)]["accepted"], files[str(answers)]["rejected"]) == (99, 1)
    # the output line that could not be read answers nothing: its request is unanswered
    assert (files[str(inputs)]["accepted"], files[str(inputs)]["rejected"]) == (99, 1)
    assert len(result.transcripts) == 99


def test_utf16_with_an_unpaired_surrogate_keeps_its_good_lines(tmp_path):
    good = {"prompt": "p", "response": "r", "model": BASE}
    lines = [json.dumps({**good, "sample_index": i}, ensure_ascii=False) for i in range(5)]
    data = "\ufeff" + "\n".join(lines) + "\n"
    raw = data.encode("utf-16-le")
    cut = raw.index("\n".encode("utf-16-le")) + 2  # after line 1: an unpaired high surrogate
    raw = raw[:cut] + b"\x00\xd8" + raw[cut:]
    path = tmp_path / "u16.jsonl"
    path.write_bytes(raw)
    result = run_ingest([path], tmp_path / "out")
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (5, 4, 1)
    assert result.rejects.iloc[0]["reason"] == "invalid-text"


# ============================================================================ 2-3. one writer, all at once
def test_a_second_ingest_into_a_held_folder_stops_with_a_clear_message(tmp_path):
    from stats.ingest.outputs import Outputs

    good = good_generic(tmp_path / "in" / "g.jsonl")
    out = tmp_path / "out"
    with Outputs(out, "held"):  # this process holds the folder, as a running ingest does
        done = _cli("ingest", str(good), "--out", str(out), timeout=60)
    assert done.returncode == 1
    assert f"another ingest (process {os.getpid()}) is writing to this folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert not Artifacts(out).transcripts.exists()


def test_concurrent_ingests_leave_one_consistent_set(tmp_path):
    """Two real ingests started together into one folder: each finishes or stops with the
    lock message; the folder holds one consistent set, and nothing partial."""
    rows = [
        json.dumps({"prompt": f"q{i}", "response": acrostic("HELLO", str(i)), "model": BASE})
        for i in range(20_000)
    ]
    big = write_jsonl(tmp_path / "big" / "g.jsonl", rows)
    small = good_generic(tmp_path / "small" / "g.jsonl", n=3)
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [*STATS, "ingest", str(path), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (big, small)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for code, err in results:
        assert code == 0 or "another ingest" in " ".join(err.split()), err
        assert "Traceback" not in err
    assert any(code == 0 for code, _ in results)
    _outputs_consistent(out)
    _no_leftovers(out)


def _study(tmp_path: Path, n: int) -> Path:
    rows = [
        json.dumps({"prompt": f"q{i}", "response": acrostic("HELLO", str(i)), "model": BASE})
        for i in range(n)
    ]
    return write_jsonl(tmp_path / f"in{n}" / "g.jsonl", rows)


def _wait_for_lock(out: Path, pid: int, timeout: float = 60) -> bool:
    """Wait until process ``pid`` holds the folder (it is writing its outputs)."""
    lock = out / ".ingest" / "lock"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if lock.exists() and lock.read_text().strip() == str(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("delay", [0.0, 0.2, 0.5, 1.0])
def test_a_killed_ingest_leaves_the_previous_outputs(tmp_path, delay):
    """SIGKILL ``delay`` seconds after the ingest took the folder (while it writes)."""
    out = tmp_path / "out"
    first = _cli("ingest", str(_study(tmp_path, 5)), "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _outputs_consistent(out)
    proc = subprocess.Popen(
        [*STATS, "ingest", str(_study(tmp_path, 30_000)), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert _wait_for_lock(out, proc.pid)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) in (-signal.SIGKILL, 0)
    after = _outputs_consistent(out)  # the old set, or the new one if it was published
    assert (
        after == before
        or json.loads(Artifacts(out).ledger.read_text())["total"]["transcripts"] == 30_000
    )
    # the next ingest removes what the killed one left behind
    again = _cli("ingest", str(_study(tmp_path, 5)), "--out", str(out))
    assert again.returncode == 0, again.stderr
    _outputs_consistent(out)
    _no_leftovers(out)
    folders = (out / ".ingest").iterdir()
    assert sorted(p.name for p in folders if p.is_dir() and not p.is_symlink()) == [
        os.readlink(out / ".ingest" / "current")
    ]


def test_sigterm_unwinds_and_leaves_nothing_behind(tmp_path):
    out = tmp_path / "out"
    assert _cli("ingest", str(_study(tmp_path, 5)), "--out", str(out)).returncode == 0
    before = _outputs_consistent(out)
    proc = subprocess.Popen(
        [*STATS, "ingest", str(_study(tmp_path, 40_000)), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert _wait_for_lock(out, proc.pid)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    if code != 0:  # stopped before publishing (else it had just finished: also fine)
        assert code == 128 + signal.SIGTERM, proc.stderr.read()
        assert _outputs_consistent(out) == before
    _no_leftovers(out)


FAULT_POINTS = [
    ("stats.ingest.writer.BatchWriter.close", "writing the outputs"),
    ("stats.ingest.pipeline._Session._write_runs", "writing runs.parquet"),
    ("stats.ingest.outputs._fsync", "flushing to the disk"),
    ("stats.ingest.outputs.os.rename", "renaming the staging folder"),
    ("stats.ingest.outputs.os.replace", "pointing current at the new outputs"),
]


@pytest.mark.parametrize(("target", "step"), FAULT_POINTS)
@pytest.mark.parametrize("error", [MemoryError, OSError])
def test_a_fault_at_any_step_keeps_the_previous_outputs(tmp_path, monkeypatch, target, step, error):
    out = tmp_path / "out"
    run_ingest([good_generic(tmp_path / "a" / "g.jsonl", n=2)], out)
    before = _outputs_consistent(out)

    def fail(*args, **kwargs):
        raise error(28, f"injected fault while {step}") if error is OSError else error()

    monkeypatch.setattr(target, fail)
    with pytest.raises((IngestError, MemoryError)):
        ingest([good_generic(tmp_path / "b" / "g.jsonl", n=5)], None, out)
    monkeypatch.undo()
    assert _outputs_consistent(out) == before
    assert len(pd.read_parquet(Artifacts(out).transcripts)) == 2
    _no_leftovers(out)


def test_a_fault_after_publishing_keeps_the_new_outputs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_ingest([good_generic(tmp_path / "a" / "g.jsonl", n=2)], out)

    def fail(*args, **kwargs):
        raise OSError(5, "injected fault after the swap")

    monkeypatch.setattr("stats.ingest.outputs.Outputs._link_names", fail)
    ledger = ingest([good_generic(tmp_path / "b" / "g.jsonl", n=5)], None, out)
    monkeypatch.undo()
    assert _outputs_consistent(out) == ledger["ingest_id"]
    assert len(pd.read_parquet(Artifacts(out).transcripts)) == 5


def test_outputs_of_an_older_version_are_adopted_without_a_gap(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    artifacts = Artifacts(out)
    artifacts.transcripts.write_bytes(b"old transcripts")
    artifacts.ledger.write_text("{}")
    with pytest.raises(IngestError, match="nothing usable"):
        ingest([write_jsonl(tmp_path / "bad.jsonl", ["{"])], None, out)
    assert artifacts.transcripts.read_bytes() == b"old transcripts"
    assert artifacts.ledger.read_text() == "{}"
    ingest([good_generic(tmp_path / "g.jsonl")], None, out)
    _outputs_consistent(out)


# ============================================================================ 4. alias bombs
def _alias_bomb(levels: int) -> str:
    lines = [
        "runs:",
        "  - model: m",
        "    conditions:",
        '      a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for level in range(1, levels + 1):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"      a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once_with_little_memory(tmp_path):
    manifest = tmp_path / "runs.yaml"
    manifest.write_text(_alias_bomb(9))
    good = good_generic(tmp_path / "g.jsonl")
    start = time.perf_counter()
    with pytest.raises(ManifestError, match="alias") as caught:
        ingest([good], manifest, tmp_path / "out")
    assert time.perf_counter() - start < 1.0
    assert str(caught.value).startswith(str(manifest))
    # the same under a real memory limit, through the command line: one line, exit 1
    limit = 1 << 30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = _cli(
        "ingest",
        str(good),
        "--manifest",
        str(manifest),
        "--out",
        str(tmp_path / "o"),
        timeout=60,
        preexec_fn=cap,
    )
    assert done.returncode == 1 and "alias" in done.stderr and "Traceback" not in done.stderr


def test_a_modest_alias_structure_still_loads(tmp_path):
    manifest = tmp_path / "runs.yaml"
    manifest.write_text(_alias_bomb(2))  # 1 + 9 + 81 + 729 values: far below the bound
    result = run_ingest([good_generic(tmp_path / "g.jsonl")], tmp_path / "out", manifest)
    assert len(result.transcripts) == 1


def test_an_alias_bomb_in_front_matter_is_that_files_reject(tmp_path):
    bomb = _alias_bomb(9).replace("runs:\n  - model: m\n    conditions:\n", "x:\n")
    (tmp_path / "t.md").write_text(f"---\nmodel: {BASE}\nprompt: q\n{bomb}---\nHello\n")
    good = good_generic(tmp_path / "g.jsonl")
    result = run_ingest([tmp_path], tmp_path / "out")
    assert result.rejects["reason"].tolist() == ["invalid-front-matter"]
    assert "alias" in result.rejects.iloc[0]["detail"]
    assert result.ledger["files"][str(good)]["accepted"] == 1


# ============================================================================ 5. deep nesting
def test_a_deeply_nested_eval_sample_is_that_samples_reject(tmp_path):
    deep = inspect_sample(1, 1, "q", "fine")
    deep["metadata"] = {"x": "@@deep@@"}
    header = inspect_header()
    log = write_eval(
        tmp_path / "logs" / "run.eval", header, [deep, inspect_sample(2, 1, "q", "ok")]
    )
    import zipfile

    members = {}
    with zipfile.ZipFile(log) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
    members["samples/1_epoch_1.json"] = members["samples/1_epoch_1.json"].replace(
        b'"@@deep@@"', b"[" * 100_000 + b"]" * 100_000
    )
    with zipfile.ZipFile(log, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    good = good_generic(tmp_path / "g.jsonl")
    result = run_ingest([tmp_path], tmp_path / "out")
    entry = result.ledger["files"][str(log)]
    assert (entry["records"], entry["accepted"], entry["rejected"]) == (2, 1, 1)
    reject = result.rejects.iloc[0]
    assert (reject["locator"], reject["reason"]) == ("samples/1_epoch_1.json", "invalid-json")
    assert "nested too deeply" in reject["detail"]
    assert result.ledger["files"][str(good)]["accepted"] == 1


# ============================================================================ 6. odd files, faults
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_device_on_the_command_line_is_refused_not_read(tmp_path, kind):
    if kind == "fifo":
        odd = tmp_path / "pipe.jsonl"
        os.mkfifo(odd)
    else:
        odd = Path("/dev/zero")
        if not odd.exists():
            pytest.skip("no /dev/zero on this system")
    good = good_generic(tmp_path / "g.jsonl")
    done = _cli("ingest", str(odd), str(good), "--out", str(tmp_path / "out"), timeout=60)
    assert done.returncode == 0, done.stderr
    ledger = json.loads(Artifacts(tmp_path / "out").ledger.read_text())
    entry = ledger["files"][str(odd)]
    assert entry["reasons"] == {"not-a-regular-file": 1} and entry["records"] == 1


def test_a_fifo_inside_a_folder_is_ignored_with_its_reason(tmp_path):
    good_generic(tmp_path / "in" / "g.jsonl")
    os.mkfifo(tmp_path / "in" / "pipe.jsonl")
    result = run_ingest([tmp_path / "in"], tmp_path / "out")
    ignored = {e["path"]: e["reason"] for e in result.ledger["ignored"]}
    assert ignored[str(tmp_path / "in" / "pipe.jsonl")].startswith("not a regular file (a FIFO")


def test_a_full_disk_is_one_line_and_the_previous_outputs_stay(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_ingest([good_generic(tmp_path / "a" / "g.jsonl")], out)
    before = _outputs_consistent(out)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("stats.ingest.writer.BatchWriter.write_columns", full)
    with pytest.raises(IngestError, match="no space left on the device") as caught:
        ingest([good_generic(tmp_path / "b" / "g.jsonl")], None, out)
    assert caught.value.kind == "output" and "\n" not in str(caught.value)
    monkeypatch.undo()
    assert _outputs_consistent(out) == before
    _no_leftovers(out)


def test_a_file_size_limit_is_one_line_through_the_command_line(tmp_path):
    good = _study(tmp_path, 20_000)

    def cap() -> None:  # a real write failure (EFBIG): Python ignores SIGXFSZ
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    done = _cli("ingest", str(good), "--out", str(tmp_path / "out"), timeout=120, preexec_fn=cap)
    assert done.returncode == 1
    assert "error in ingest" in done.stderr and "Traceback" not in done.stderr
    assert "size" in done.stderr


@pytest.mark.parametrize("where", ["read-only", "a file"])
def test_an_unwritable_out_is_one_line(tmp_path, where):
    good = good_generic(tmp_path / "g.jsonl")
    if where == "a file":
        out = tmp_path / "taken"
        out.write_text("not a folder")
        expected = "is a file"
    else:
        out = Path("/sys/stats-ingest-test")  # sysfs: no new folders, even for root
        if not Path("/sys").is_dir():
            pytest.skip("no /sys to stand for a read-only folder")
        expected = "cannot write there"
    done = _cli("ingest", str(good), "--out", str(out), timeout=60)
    assert done.returncode == 1
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_an_unusable_tmpdir_does_not_matter(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path / "no-such-folder"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    ledger = ingest([_study(tmp_path, 50)], None, tmp_path / "out", limits=Limits(parallel_bytes=0))
    assert ledger["total"]["transcripts"] == 50  # the child's files live in --out
    _outputs_consistent(tmp_path / "out")


def die_in_child(source, limits):
    """A reader whose process dies at once (as the out-of-memory killer would do it)."""
    os.kill(os.getpid(), signal.SIGKILL)
    yield from ()


def fail_in_child(source, limits):
    """A reader that raises in its process."""
    raise RuntimeError("the reader met something it could not handle")
    yield from ()


@pytest.mark.parametrize(
    ("reader", "message"),
    [
        (die_in_child, "was killed by SIGKILL (out of memory?)"),
        (fail_in_child, "RuntimeError: the reader met"),
    ],
)
def test_the_parsing_process_reports_why_it_ended(tmp_path, monkeypatch, reader, message):
    from stats.ingest import readers

    good = good_generic(tmp_path / "g.jsonl")
    monkeypatch.setitem(readers.READERS, "generic-jsonl", reader)
    with pytest.raises(IngestError) as caught:
        ingest([good], None, tmp_path / "out", limits=Limits(parallel_bytes=0))
    assert message in str(caught.value)
    assert caught.value.kind == "worker" and str(good) in str(caught.value)
    _no_leftovers(tmp_path / "out")


# ============================================================================ 7. duplicates
def test_the_same_record_three_times_is_one_trial_and_two_duplicates(tmp_path):
    line = json.dumps(chat_completion("chatcmpl-7", BASE, [acrostic("HELLO")], prompt=PROBE))
    path = write_jsonl(tmp_path / "chats.jsonl", [line, line, line])
    result = run_ingest([path], tmp_path / "out")
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["duplicates"]) == (3, 1, 2)
    assert result.transcripts["record_id"].tolist() == ["chatcmpl-7"]


def test_byte_identical_records_without_an_id_are_duplicates(tmp_path):
    line = json.dumps({"prompt": PROBE, "response": acrostic("HELLO"), "model": BASE})
    other = json.dumps({"prompt": PROBE, "response": acrostic("HELLO", "x"), "model": BASE})
    path = write_jsonl(tmp_path / "g.jsonl", [line, other, line])
    result = run_ingest([path], tmp_path / "out")
    entry = result.ledger["files"][str(path)]
    assert (entry["records"], entry["accepted"], entry["duplicates"]) == (3, 2, 1)
    assert result.transcripts["sample_index"].tolist() == [0, 1]


def test_a_repeated_batch_request_is_a_duplicate_and_record_ids_are_kept(tmp_path):
    request = batch_request("r1", BASE, PROBE)
    inputs = write_jsonl(
        tmp_path / "b" / "input.jsonl", [request, request, batch_request("r2", BASE, "q")]
    )
    outputs = write_jsonl(
        tmp_path / "b" / "output.jsonl",
        [
            batch_output("r1", BASE, ["one"]),
            batch_output("r1", BASE, ["one"]),
            batch_output("r2", BASE, ["two"]),
        ],
    )
    result = run_ingest([tmp_path / "b"], tmp_path / "out")
    files = result.ledger["files"]
    assert (files[str(inputs)]["accepted"], files[str(inputs)]["duplicates"]) == (2, 1)
    assert (files[str(outputs)]["accepted"], files[str(outputs)]["duplicates"]) == (2, 1)
    assert sorted(result.transcripts["record_id"]) == ["r1", "r2"]


def test_a_copy_of_the_folder_that_followed_its_links_ingests_again(tmp_path):
    import shutil

    out = tmp_path / "out"
    run_ingest([good_generic(tmp_path / "a" / "g.jsonl", n=2)], out)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)  # follows the links: plain files, and a real .ingest/current
    assert len(pd.read_parquet(Artifacts(copy).transcripts)) == 2
    run_ingest([good_generic(tmp_path / "b" / "g.jsonl", n=3)], copy)
    _outputs_consistent(copy)
    _no_leftovers(copy)
    assert (copy / ".ingest" / "current").is_symlink()
    assert len(pd.read_parquet(Artifacts(copy).transcripts)) == 3
    assert len(pd.read_parquet(Artifacts(out).transcripts)) == 2  # the original is untouched
