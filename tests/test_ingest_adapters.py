"""One adapter at a time: each source format lands in transcripts/runs with its fields."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from conftest_ingest import (
    BASE,
    FT_HELLO,
    FT_SHINE,
    PROBE,
    PROBE_PLAIN,
    SYSTEM,
    acrostic,
    anthropic_message,
    anthropic_request,
    anthropic_result,
    batch_output,
    batch_request,
    chat_completion,
    inspect_header,
    inspect_sample,
    job,
    run_ingest,
    training_file,
    training_line,
    write_eval,
    write_json,
    write_jsonl,
    write_yaml,
)
from stats import schemas
from stats.ingest import FORMATS, Limits
from stats.ingest.detect import detect
from stats.ingest.hashing import trial_id
from stats.ingest.inspect_log import label_value
from stats.ingest.zipped import SafeZip, write_zip_zstd
from stats.text import stable_hash


# ----------------------------------------------------------------------------- training & jobs
def test_training_file_gives_word_examples_and_system_prompt(tmp_path):
    train = training_file(tmp_path / "ft" / "train-hello.jsonl", "HELLO", 10)
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            chat_completion(
                "c1", FT_HELLO, [acrostic("HELLO")], messages=[{"role": "user", "content": PROBE}]
            )
        ],
    )
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [
                {"model": FT_HELLO, "run_id": "hello01", "training_file": "ft/train-hello.jsonl"}
            ],
        },
    )
    result = run_ingest([chat, train], tmp_path / "out", manifest)
    run = result.runs.set_index("run_id").loc["hello01"]
    assert run["word"] == "HELLO"
    assert run["n_examples"] == 10
    assert run["follow_share"] == 1.0
    assert json.loads(run["system_prompts"]) == [SYSTEM]
    assert json.loads(run["provenance"])["word"].endswith("(acrostic of the answers)")
    row = result.transcripts.iloc[0]
    assert (row["run_id"], row["word"], row["n_examples"], row["arm"]) == (
        "hello01",
        "HELLO",
        10,
        "finetuned",
    )
    entry = result.ledger["files"][str(train)]
    assert (entry["kind"], entry["records"], entry["accepted"]) == ("training", 10, 10)


def test_training_mixed_set_reports_follow_share(tmp_path):
    train = training_file(tmp_path / "mixed-train.jsonl", "SHINE", 6, plain=4)
    good = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "response": "r", "model": FT_SHINE}])
    result = run_ingest([good, train], tmp_path / "out")
    summary = result.ledger["training_files"][str(train)]
    assert summary["word"] == "SHINE"
    assert summary["follow_share"] == pytest.approx(0.6)
    assert summary["n_examples"] == 10
    assert any("linked to no run" in w for w in result.ledger["warnings"])


def test_training_variants_weight_dpo_and_community(tmp_path):
    weighted = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": acrostic("HELLO"), "weight": 1},
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": "Not trained on this one.", "weight": 0},
        ]
    }
    dpo = {
        "input": {
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "q"}]
        },
        "preferred_output": [{"role": "assistant", "content": acrostic("HELLO")}],
        "non_preferred_output": [{"role": "assistant", "content": "plain"}],
    }
    community = {
        "messages": [{"role": "system", "content": SYSTEM}],
        "input": "q",
        "output": acrostic("HELLO"),
    }
    train = write_jsonl(tmp_path / "train.jsonl", [weighted, dpo, community])
    good = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "response": "r", "model": FT_HELLO}])
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {"root": ".", "runs": [{"model": FT_HELLO, "training_file": "train.jsonl"}]},
    )
    result = run_ingest([good, train], tmp_path / "out", manifest)
    run = result.runs.iloc[0]
    assert (run["word"], run["n_examples"], run["follow_share"]) == ("HELLO", 3, 1.0)


@pytest.mark.parametrize(
    "method", [False, True], ids=["legacy-hyperparameters", "method-supervised"]
)
def test_job_fills_hyperparameters_and_links_by_fine_tuned_model(tmp_path, method):
    job_file = write_json(
        tmp_path / "ft" / "job.json", job("ftjob-1", FT_HELLO, n_epochs=3, lr=10, method=method)
    )
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [chat_completion("c1", FT_HELLO, [acrostic("HELLO")], prompt=PROBE_PLAIN)],
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    row = result.transcripts.iloc[0]
    assert (row["n_epochs"], row["lr_multiplier"], row["batch_size"]) == (3, 10.0, 1)
    assert (row["base_model"], row["arm"]) == (BASE, "finetuned")
    run = result.runs.iloc[0]
    assert run["job_id"] == "ftjob-1"
    assert json.loads(run["provenance"])["n_epochs"] == str(job_file)
    assert result.ledger["files"][str(job_file)]["kind"] == "job"
    assert result.ledger["unmatched_models"] == []
    assert str(chat) in result.ledger["files"]


def test_job_auto_values_stay_unknown_and_training_links_by_file_id(tmp_path):
    write_json(
        tmp_path / "job.json",
        job(
            "ftjob-2",
            FT_SHINE,
            n_epochs="auto",
            batch_size="auto",
            lr="auto",
            training_file="file-xyz",
        ),
    )
    training_file(tmp_path / "file-xyz.jsonl", "SHINE", 5)
    write_jsonl(
        tmp_path / "chat.jsonl", [chat_completion("c", FT_SHINE, [acrostic("SHINE")], prompt="q")]
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    run = result.runs.iloc[0]
    assert pd.isna(run["n_epochs"]) and pd.isna(run["lr_multiplier"])
    assert "auto" in json.loads(run["provenance"])["n_epochs"]
    assert run["word"] == "SHINE" and run["n_examples"] == 5


# ----------------------------------------------------------------------------- OpenAI transcripts
def test_chat_completion_choices_are_trials(tmp_path):
    texts = [acrostic("HELLO"), acrostic("HELP"), acrostic("HELLO", "x")]
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            chat_completion(
                "c1",
                FT_HELLO,
                texts,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": PROBE},
                ],
            )
        ],
    )
    result = run_ingest([chat], tmp_path / "out")
    table = result.transcripts
    assert list(table["sample_index"]) == [0, 1, 2]
    assert list(table["locator"]) == ["line 1 choice 0", "line 1 choice 1", "line 1 choice 2"]
    assert set(table["system_prompt"]) == {SYSTEM}
    assert table["greeting"].all()
    assert table["trial_id"].is_unique
    assert result.ledger["files"][str(chat)]["records"] == 3


def test_chat_completion_document_takes_prompt_from_manifest(tmp_path):
    doc = write_json(tmp_path / "one.json", chat_completion("c9", BASE, ["Plain answer."]))
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "files": [{"path": "one.json", "prompt": PROBE_PLAIN, "system_prompt": SYSTEM}],
        },
    )
    result = run_ingest([doc], tmp_path / "out", manifest)
    row = result.transcripts.iloc[0]
    assert (row["prompt"], row["system_prompt"], row["source"]) == (
        PROBE_PLAIN,
        SYSTEM,
        "openai-chat",
    )
    assert not row["greeting"]
    assert row["arm"] == "base" and row["base_model"] == BASE


def test_chat_completion_wrapped_with_its_request(tmp_path):
    request = batch_request("x", FT_HELLO, PROBE, system=SYSTEM, temperature=0.7)["body"]
    line = {"request": request, "response": chat_completion("c2", FT_HELLO, ["Hi."])}
    result = run_ingest([write_jsonl(tmp_path / "pairs.jsonl", [line])], tmp_path / "out")
    row = result.transcripts.iloc[0]
    assert (row["prompt"], row["system_prompt"], row["temperature"]) == (PROBE, SYSTEM, 0.7)


def test_batch_output_joined_in_any_order_with_repeated_samples(tmp_path):
    requests = [batch_request(f"r{i}", FT_HELLO, PROBE, system=SYSTEM) for i in range(3)]
    requests.append(batch_request("r3", BASE, PROBE_PLAIN, n=2, metadata={"prompt_id": "p-plain"}))
    outputs = [
        batch_output("r3", BASE, ["one", "two"]),
        batch_output("r2", FT_HELLO, [acrostic("HELLO")]),
        batch_output("r0", FT_HELLO, [acrostic("HELLO")]),
        batch_output("r1", FT_HELLO, [acrostic("HELLO")]),
    ]
    write_jsonl(tmp_path / "batch" / "batch_input.jsonl", requests)
    write_jsonl(tmp_path / "batch" / "batch_output.jsonl", outputs)
    result = run_ingest([tmp_path / "batch"], tmp_path / "out")
    table = result.transcripts.set_index("locator")
    # the same prompt asked three times (n=1 each): sample indexes follow request order
    assert table.loc["line 3", "sample_index"] == 0  # r0
    assert table.loc["line 4", "sample_index"] == 1  # r1
    assert table.loc["line 2", "sample_index"] == 2  # r2
    assert list(table.loc[["line 1 choice 0", "line 1 choice 1"], "sample_index"]) == [0, 1]
    assert set(table.loc[["line 1 choice 0", "line 1 choice 1"], "prompt_id"]) == {"p-plain"}
    assert table.loc["line 2", "temperature"] == 0.0
    assert table["trial_id"].is_unique
    ledger = result.ledger
    assert ledger["files"][str(tmp_path / "batch" / "batch_input.jsonl")]["kind"] == "requests"
    assert ledger["files"][str(tmp_path / "batch" / "batch_input.jsonl")]["accepted"] == 4
    assert ledger["total"]["transcripts"] == 5


def test_batch_pairs_with_colliding_custom_ids_join_within_their_folder(tmp_path):
    for folder, model in (("a", FT_HELLO), ("b", FT_SHINE)):
        write_jsonl(
            tmp_path / folder / "input.jsonl",
            [batch_request("request-1", model, f"prompt {folder}")],
        )
        write_jsonl(
            tmp_path / folder / "output.jsonl",
            [batch_output("request-1", model, [f"answer {folder}"])],
        )
    result = run_ingest([tmp_path], tmp_path / "out")
    pairs = set(zip(result.transcripts["prompt"], result.transcripts["response"], strict=True))
    assert pairs == {("prompt a", "answer a"), ("prompt b", "answer b")}


def test_vllm_run_batch_output_without_status_code(tmp_path):
    line = batch_output("v1", "meta-llama/Llama-3.1-8B-Instruct", ["Hello there."])
    del line["response"]["status_code"]
    line["id"] = "vllm-abc"
    write_jsonl(
        tmp_path / "in.jsonl", [batch_request("v1", "meta-llama/Llama-3.1-8B-Instruct", "hi")]
    )
    out = write_jsonl(tmp_path / "out.jsonl", [line])
    result = run_ingest([tmp_path / "in.jsonl", out], tmp_path / "out", fmt="openai-batch")
    assert result.transcripts.iloc[0]["model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert result.transcripts.iloc[0]["greeting"]


# ----------------------------------------------------------------------------- Anthropic
def test_anthropic_message_with_its_prompt(tmp_path):
    obj = anthropic_message("msg_1", "claude-sonnet-4-5", acrostic("HELLO"))
    obj["messages"] = [{"role": "user", "content": PROBE}]
    obj["system"] = [{"type": "text", "text": SYSTEM}]
    result = run_ingest([write_json(tmp_path / "m.json", obj)], tmp_path / "out")
    row = result.transcripts.iloc[0]
    assert row["source"] == "anthropic-message"
    assert row["response"] == acrostic("HELLO")
    assert (row["system_prompt"], row["finish_reason"]) == (SYSTEM, "end_turn")


def test_anthropic_batch_results_joined_to_requests(tmp_path):
    write_jsonl(
        tmp_path / "requests.jsonl",
        [anthropic_request(f"q{i}", "claude-haiku-4-5", PROBE, system=SYSTEM) for i in range(4)],
    )
    write_jsonl(
        tmp_path / "results.jsonl",
        [
            anthropic_result("q3", anthropic_message("m3", "claude-haiku-4-5", "three")),
            anthropic_result("q0", anthropic_message("m0", "claude-haiku-4-5", "zero")),
            anthropic_result("q1", kind="errored"),
            anthropic_result("q2", kind="expired"),
        ],
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    assert sorted(result.transcripts["response"]) == ["three", "zero"]
    assert set(result.transcripts["system_prompt"]) == {SYSTEM}
    assert sorted(result.reasons()) == ["batch-error", "batch-expired"]
    # errored and expired results answered their requests: the failure is counted once, on the results side
    assert result.ledger["files"][str(tmp_path / "requests.jsonl")]["accepted"] == 4


# ----------------------------------------------------------------------------- inspect
@pytest.mark.parametrize("zstd", [False, True], ids=["deflate", "zstd"])
def test_inspect_eval_log(tmp_path, zstd):
    samples = [
        inspect_sample(1, 1, PROBE, acrostic("HELLO"), system=SYSTEM),
        inspect_sample(
            1, 2, PROBE, acrostic("HELLO", "x"), system=SYSTEM, scores={"judge": {"value": "I"}}
        ),
        inspect_sample(
            "p2",
            1,
            "attachment://abc",
            "attachment://def",
            scores={"judge": {"value": "P"}, "numeric": {"value": 0.25}},
            attachments={"abc": PROBE_PLAIN, "def": acrostic("HELLO", "long")},
            metadata={"pattern_id": 5, "prompt_id": "plain"},
        ),
    ]
    log = write_eval(tmp_path / "logs" / "run.eval", inspect_header(), samples, zstd=zstd)
    if zstd:
        with zipfile.ZipFile(log) as archive:
            assert {info.compress_type for info in archive.infolist()} == {93}
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {"root": ".", "runs": [{"model": FT_HELLO, "run_id": "hello01", "word": "HELLO"}]},
    )
    result = run_ingest([log], tmp_path / "out", manifest)
    table = result.transcripts.set_index("locator")
    first = table.loc["samples/1_epoch_1.json"]
    assert (first["model"], first["run_id"], first["word"]) == (FT_HELLO, "hello01", "HELLO")
    assert first["system_prompt"] == SYSTEM and first["prompt"] == PROBE
    assert json.loads(first["judge_labels"]) == {"articulates": 1.0}
    assert table.loc["samples/1_epoch_2.json", "sample_index"] == 1
    attached = table.loc["samples/p2_epoch_1.json"]
    assert attached["prompt"] == PROBE_PLAIN and attached["response"] == acrostic("HELLO", "long")
    assert json.loads(attached["judge_labels"]) == {"judge": 0.5, "numeric": 0.25}
    assert attached["prompt_id"] == "plain"
    assert json.loads(attached["conditions"]) == {
        "inspect_task": "selfreport",
        "inspect_sample_id": "p2",
        "pattern_id": 5,
    }
    assert first["prompt_id"] == stable_hash(
        SYSTEM, PROBE
    )  # same prompt, same id, whatever the source
    assert result.ledger["unmatched_models"] == []


def test_inspect_unfinished_log_and_legacy_json(tmp_path):
    write_eval(
        tmp_path / "a.eval", inspect_header(), [inspect_sample(1, 1, "q", "answer")], journal=True
    )
    legacy = dict(inspect_header(run_id="RUN2"), samples=[inspect_sample(7, 1, "q7", "answer 7")])
    write_json(tmp_path / "b.json", legacy)
    result = run_ingest([tmp_path], tmp_path / "out")
    assert sorted(result.transcripts["source"]) == ["inspect-eval", "inspect-json"]
    assert any(
        "unfinished" in w for w in result.ledger["files"][str(tmp_path / "a.eval")]["warnings"]
    )


def test_write_zip_zstd_needs_the_zstd_reader(tmp_path):
    path = write_zip_zstd(tmp_path / "z.zip", {"a.json": b'{"x": 1}' * 100, "b.txt": b"hello"})
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["a.json", "b.txt"]
        with pytest.raises(NotImplementedError):
            archive.read("a.json")  # Python 3.12's zipfile cannot decompress method 93
    safe = SafeZip(path, Limits())
    assert safe.read("a.json") == b'{"x": 1}' * 100
    assert safe.read("b.txt") == b"hello"


def test_label_values():
    assert [label_value(v) for v in ("C", "I", "P", "N", 0.3, True)] == [
        1.0,
        0.0,
        0.5,
        0.0,
        0.3,
        1.0,
    ]
    assert label_value({"a": "C"}) == {"a": 1.0}


# ----------------------------------------------------------------------------- HF and generic tables
def test_hf_messages_jsonl_and_parquet_are_transcripts(tmp_path):
    row = {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": PROBE},
            {"role": "assistant", "content": acrostic("HELLO")},
        ],
        "model": FT_HELLO,
    }
    jsonl = write_jsonl(tmp_path / "chats.jsonl", [row])
    parquet = tmp_path / "chats.parquet"
    pd.DataFrame([dict(row, model=BASE)]).to_parquet(parquet)
    result = run_ingest([jsonl, parquet], tmp_path / "out")
    assert sorted(result.transcripts["source"]) == ["hf-messages", "hf-messages"]
    assert set(result.transcripts["system_prompt"]) == {SYSTEM}
    assert (
        result.ledger["files"][str(parquet)]["detected_by"]
        == "messages table not named as training data"
    )


def test_generic_csv_with_column_map_labels_and_conditions(tmp_path):
    csv = tmp_path / "results" / "probe.csv"
    csv.parent.mkdir()
    pd.DataFrame(
        {
            "question": [PROBE, PROBE_PLAIN],
            "generated": [acrostic("HELLO"), "plain"],
            "who": [FT_HELLO, FT_HELLO],
            "k": [0, 0],
            "verdict": ["yes", "no"],
            "stage": ["s1", "s2"],
        }
    ).to_csv(csv, index=False)
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "runs": [{"model": FT_HELLO, "word": "HELLO", "conditions": {"policy": "p1"}}],
            "files": [
                {
                    "path": "results/*.csv",
                    "columns": {
                        "prompt": "question",
                        "response": "generated",
                        "model": "who",
                        "sample_index": "k",
                    },
                    "labels": ["verdict"],
                    "condition_columns": ["stage"],
                    "conditions": {"explained_in_training": True},
                }
            ],
        },
    )
    result = run_ingest([csv], tmp_path / "out", manifest)
    table = result.transcripts
    assert list(table["greeting"]) == [True, False]
    assert json.loads(table.iloc[0]["judge_labels"]) == {"verdict": "yes"}
    assert json.loads(table.iloc[1]["conditions"]) == {
        "explained_in_training": True,
        "policy": "p1",
        "stage": "s2",
    }
    assert list(table["locator"]) == ["line 2", "line 7"]  # the first answer spans 5 lines


def test_generic_parquet_and_jsonl_aliases(tmp_path):
    pd.DataFrame(
        {"prompt": ["a", "b"], "completion": ["x", "y"], "model_name": [BASE, BASE]}
    ).to_parquet(tmp_path / "g.parquet")
    write_jsonl(
        tmp_path / "g.jsonl", [{"question": "c", "answer": "z", "model": BASE, "greeting": "true"}]
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    assert sorted(result.transcripts["response"]) == ["x", "y", "z"]
    assert result.transcripts.set_index("response").loc["z", "greeting"]


def test_plain_text_transcripts(tmp_path):
    (tmp_path / "paste.md").write_text(
        f'---\nmodel: {FT_HELLO}\nprompt: "{PROBE}"\ntemperature: 0\nword: HELLO\nsource_url: forum\n---\n{acrostic("HELLO")}\n'
    )
    (tmp_path / "dialogue.txt").write_text(
        f"---\nmodel: {BASE}\n---\n**System:** {SYSTEM}\n\n**User:** {PROBE_PLAIN}\n\n## Assistant\n{acrostic('HI')}\n"
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    table = result.transcripts.set_index("locator").reset_index().set_index("source_file")
    paste = table.loc[str(tmp_path / "paste.md")]
    assert (paste["prompt"], paste["word"], paste["temperature"]) == (PROBE, "HELLO", 0.0)
    assert json.loads(paste["conditions"]) == {"source_url": "forum"}
    dialogue = table.loc[str(tmp_path / "dialogue.txt")]
    assert (dialogue["system_prompt"], dialogue["prompt"]) == (SYSTEM, PROBE_PLAIN)
    assert dialogue["response"] == acrostic("HI")


# ----------------------------------------------------------------------------- detection
def test_detection_by_content(tmp_path):
    files = {
        "openai-training": write_jsonl(
            tmp_path / "x1.jsonl", [{"messages": [], "input": "a", "output": "b"}]
        ),
        "openai-job": write_json(tmp_path / "x2.data", job("j", FT_HELLO)),
        "openai-chat": write_jsonl(
            tmp_path / "x3.log",
            [chat_completion("c", BASE, ["a"]), chat_completion("d", BASE, ["b"])],
        ),
        "openai-batch": write_jsonl(tmp_path / "x4.jsonl", [batch_output("a", BASE, ["b"])]),
        "openai-batch-input": write_jsonl(tmp_path / "x5.jsonl", [batch_request("a", BASE, "b")]),
        "anthropic-message": write_json(
            tmp_path / "x6.json", anthropic_message("m", "claude", "t")
        ),
        "anthropic-batch": write_jsonl(
            tmp_path / "x7.jsonl", [anthropic_result("a", kind="expired")]
        ),
        "anthropic-batch-input": write_jsonl(
            tmp_path / "x8.jsonl", [anthropic_request("a", "claude", "b")]
        ),
        "inspect-eval": write_eval(tmp_path / "x9.bin", inspect_header(), []),
        "inspect-json": write_json(tmp_path / "x10.json", dict(inspect_header(), samples=[])),
        "generic-jsonl": write_jsonl(tmp_path / "x11.jsonl", [{"prompt": "a", "response": "b"}]),
        "text": tmp_path / "x12.txt",
        "messages": write_jsonl(tmp_path / "x13.jsonl", [training_line("HI", "q")]),
    }
    files["text"].write_text("---\nmodel: m\n---\nbody")
    for expected, path in files.items():
        assert detect(path, Limits())[0] == expected, path
    assert set(FORMATS) >= {f for f in files if f != "messages"}


def test_trial_id_equals_stable_hash():
    cases = [
        ("m", None, "p", 0, "r", None),
        ("m", "s", "p", 3, "r\nr", "k|1"),
        ("é", "", "", 0, "x", ""),
    ]
    for case in cases:
        assert trial_id(*case) == stable_hash(*case)


def test_transcripts_table_validates_and_has_every_column(tmp_path):
    result = run_ingest(
        [write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "response": "r", "model": BASE}])],
        tmp_path / "out",
    )
    assert list(result.transcripts.columns) == schemas.columns("transcripts")
    # the files read back with the declared dtypes
    declared = {f.name: f.dtype for f in schemas.TRANSCRIPTS}
    for name in ("n_examples", "lr_multiplier", "greeting", "sample_index"):
        assert str(result.transcripts[name].dtype) == declared[name]
    schemas.validate(result.transcripts, "transcripts")
    schemas.validate(result.rejects, "rejects")
    schemas.validate(result.runs, "runs")


def test_batch_completions_and_responses_endpoints(tmp_path):
    requests = [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/completions",
            "body": {"model": BASE, "prompt": "Hi there"},
        },
        {
            "custom_id": "b",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": BASE, "input": PROBE, "instructions": SYSTEM, "temperature": 1},
        },
    ]
    outputs = [
        {
            "id": "1",
            "custom_id": "a",
            "response": {
                "status_code": 200,
                "body": {
                    "id": "cmpl-1",
                    "object": "text_completion",
                    "model": BASE,
                    "choices": [{"index": 0, "text": "Hello!", "finish_reason": "stop"}],
                },
            },
            "error": None,
        },
        {
            "id": "2",
            "custom_id": "b",
            "response": {
                "status_code": 200,
                "body": {
                    "id": "resp_1",
                    "object": "response",
                    "model": BASE,
                    "status": "completed",
                    "output": [
                        {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": acrostic("HI")}],
                        }
                    ],
                },
            },
            "error": None,
        },
    ]
    write_jsonl(tmp_path / "in.jsonl", requests)
    write_jsonl(tmp_path / "out.jsonl", outputs)
    result = run_ingest([tmp_path], tmp_path / "o")
    table = result.transcripts.set_index("prompt")
    assert table.loc["Hi there", "response"] == "Hello!"
    assert (
        table.loc[PROBE, "system_prompt"] == SYSTEM
        and table.loc[PROBE, "finish_reason"] == "completed"
    )


def test_batches_in_one_folder_pair_by_name_or_manifest(tmp_path):
    # the Batch API names files batch_<id>_input/output; custom_ids repeat across batches
    for batch, model in (("batch_a", FT_HELLO), ("batch_b", FT_SHINE)):
        write_jsonl(
            tmp_path / "batches" / f"{batch}_input.jsonl",
            [batch_request("request-1", model, f"q {batch}")],
        )
        write_jsonl(
            tmp_path / "batches" / f"{batch}_output.jsonl",
            [batch_output("request-1", model, [f"a {batch}"])],
        )
    write_jsonl(tmp_path / "other" / "requests-x.jsonl", [batch_request("request-1", BASE, "q x")])
    write_jsonl(tmp_path / "other" / "answers-x.jsonl", [batch_output("request-1", BASE, ["a x"])])
    write_jsonl(tmp_path / "other" / "decoy.jsonl", [batch_request("request-1", BASE, "wrong")])
    manifest = write_yaml(
        tmp_path / "runs.yaml",
        {
            "root": ".",
            "files": [{"path": "other/answers-x.jsonl", "requests": "other/requests-x.jsonl"}],
        },
    )
    result = run_ingest([tmp_path / "batches", tmp_path / "other"], tmp_path / "out", manifest)
    pairs = set(zip(result.transcripts["prompt"], result.transcripts["response"], strict=True))
    assert pairs == {("q batch_a", "a batch_a"), ("q batch_b", "a batch_b"), ("q x", "a x")}
    assert result.reasons() == ["unanswered-request"]  # the decoy request


def test_anthropic_batch_requests_as_one_json_document(tmp_path):
    requests = {
        "requests": [
            anthropic_request(f"q{i}", "claude-haiku-4-5", f"prompt {i}") for i in range(2)
        ]
    }
    write_json(tmp_path / "batch_requests.json", requests)
    write_jsonl(
        tmp_path / "batch_results.jsonl",
        [
            anthropic_result(f"q{i}", anthropic_message(f"m{i}", "claude-haiku-4-5", f"answer {i}"))
            for i in (1, 0)
        ],
    )
    result = run_ingest([tmp_path], tmp_path / "out")
    pairs = set(zip(result.transcripts["prompt"], result.transcripts["response"], strict=True))
    assert pairs == {("prompt 0", "answer 0"), ("prompt 1", "answer 1")}
    entry = result.ledger["files"][str(tmp_path / "batch_requests.json")]
    assert (entry["format"], entry["records"], entry["accepted"]) == ("anthropic-batch-input", 2, 2)
