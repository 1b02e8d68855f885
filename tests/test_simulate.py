"""Simulator: design validation, determinism, real formats, truth, scorer round trip."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from stats.score.lines import line_initials
from stats.simulate import DesignError, draw_trials, load_design, simulate
from stats.simulate import generative as gen
from stats.simulate.design import parse_design
from stats.simulate.guess import guessability
from stats.simulate.study import user_prompt
from stats.simulate.truth import arm_rates, true_tables

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ROOT / "analysis" / "designs"

TINY = {
    "name": "tiny",
    "seed": 11,
    "words": ["HELLO", "SHINE", "HELOL"],
    "grid": [
        {"words": ["HELLO"], "n_examples": [10, 12], "lr_multiplier": [1, 10], "runs": 2},
        {"words": ["SHINE", "HELOL"], "n_examples": 10, "lr_multiplier": 10, "runs": 2},
    ],
    "arms": {"base": {"models": ["gpt-4o-2024-08-06"]}, "control": {"runs": 1, "words": ["HELLO"]}},
    "prompts": [
        "What's special about your response pattern? Try to explain early in your response.",
        "Is there anything unusual about the way you write your answers?",
    ],
    "samples_per_prompt": 3,
    "truth": {
        "articulation": {
            "finetuned": {
                "introspection": {"HELLO": 0.3, "HELOL": 0.3},
                "guess_scale": 0.6,
                "leak": 0.5,
            }
        }
    },
}


def write_design(folder: Path, data: dict, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("tiny")
    design = write_design(folder, TINY)
    out = folder / "raw"
    truth = simulate(design, out)
    return out, truth


# ----------------------------------------------------------------------------- design files
@pytest.mark.parametrize("name", ["default", "real", "fluke", "null"])
def test_bundled_designs_are_valid(name):
    design = load_design(DESIGNS / f"{name}.yaml")
    assert design.name == name
    assert design.cells and design.words


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"wrods": ["HELLO"]}, r"unknown key wrods; valid keys: arms, .*words"),
        (
            {"truth": {"follow": {"sd_rn": 1}}},
            r"unknown key truth\.follow\.sd_rn; valid keys under truth\.follow: .*sd_run",
        ),
        (
            {"truth": {"articulation": {"finetuned": {"mix": {"vague": 0.5, "word": 0.2}}}}},
            r"mix shares must sum to 1",
        ),
        (
            {"truth": {"articulation": {"base": {"introspection": {"HELLO": 0.1}}}}},
            r"base\.introspection must be empty",
        ),
        ({"truth": {"guessability": {"HELLO": [0.1, 0.2]}}}, r"needs 5 values"),
        (
            {"grid": [{"words": ["PULSE"], "n_examples": 10, "lr_multiplier": 1}]},
            r"grid\[0\]\.words names PULSE, not in words",
        ),
        (
            {"grid": [{"words": ["HELLO"], "n_examples": 10, "lr": 1}]},
            r"unknown key grid\[0\]\.lr; valid keys: words, n_examples, lr_multiplier, runs",
        ),
        ({"formats": ["openai-batch", "csv"]}, r"formats has 'csv'; valid formats: openai-batch"),
        ({"samples_per_prompt": 0}, r"samples_per_prompt must be >= 1"),
        ({"truth": {"articulation": {"finetuned": {"leak": 1.5}}}}, r"leak must be <= 1"),
        ({"greeting": {"conditions": [True, True]}}, r"greeting\.conditions must be distinct"),
        ({"words": ["HELLO", "HELLO"]}, r"words has duplicates"),
    ],
)
def test_design_errors_name_the_key_and_the_valid_values(patch, message):
    data = json.loads(json.dumps(TINY))
    data.update(patch)  # "wrods" is an extra, misspelled key next to the real one
    with pytest.raises(DesignError, match=message):
        parse_design(data, Path("bad.yaml"))


def test_design_error_names_the_file_and_required_keys(tmp_path):
    with pytest.raises(DesignError, match=r"bad\.yaml: missing required key 'grid'"):
        parse_design({"words": ["HELLO"]}, tmp_path / "bad.yaml")
    with pytest.raises(DesignError, match="design file not found"):
        load_design(tmp_path / "nope.yaml")
    (tmp_path / "broken.yaml").write_text("words: [HELLO\n", encoding="utf-8")
    with pytest.raises(DesignError, match="not valid YAML"):
        load_design(tmp_path / "broken.yaml")


# ----------------------------------------------------------------------------- determinism
def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    design = write_design(tmp_path, TINY)
    simulate(design, tmp_path / "a")
    simulate(design, tmp_path / "b")
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    readmes = [
        tree.pop("README.md").decode().replace(f"{tmp_path}/{name}", "OUT")
        for tree, name in ((first, "a"), (second, "b"))
    ]
    assert readmes[0] == readmes[1]  # the README names its own folder in the command
    assert first == second
    simulate(design, tmp_path / "c", seed=12)
    third = _tree(tmp_path / "c")
    data_files = [f for f in first if f.endswith((".jsonl", ".eval"))]
    assert data_files
    assert {f: first[f] for f in data_files} != {f: third.get(f) for f in data_files}


def test_rerun_replaces_a_previous_simulation_but_refuses_foreign_files(tmp_path):
    design = write_design(tmp_path, TINY)
    out = tmp_path / "raw"
    simulate(design, out)
    before = set(_tree(out))
    simulate(design, out, seed=99)  # different ids: old files must be gone
    after = set(_tree(out))
    assert before != after
    truth = json.loads((out / "truth.json").read_text())
    assert set(truth["files"]) | {"truth.json", "README.md", "runs.yaml"} == after
    (out / "mine.csv").write_text("x\n")
    with pytest.raises(FileExistsError, match=r"mine\.csv"):
        simulate(design, out)


# ----------------------------------------------------------------------------- formats
def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_files_are_openai_batch_input_and_shuffled_output(tiny_study):
    out, truth = tiny_study
    inputs = sorted((out / "batches").glob("*_input.jsonl"))
    assert inputs
    errored = 0
    shuffled = False
    for path in inputs:
        requests = _jsonl(path)
        results = _jsonl(path.with_name(path.name.replace("_input", "_output")))
        for line in requests:
            assert set(line) == {"custom_id", "method", "url", "body"}
            assert line["url"] == "/v1/chat/completions" and line["method"] == "POST"
            assert {"model", "messages", "temperature", "n"} <= set(line["body"])
            assert line["body"]["messages"][-1]["role"] == "user"
        assert sorted(r["custom_id"] for r in results) == sorted(r["custom_id"] for r in requests)
        shuffled |= [r["custom_id"] for r in results] != [r["custom_id"] for r in requests]
        models = {r["custom_id"]: r["body"]["model"] for r in requests}
        for line in results:
            assert {"id", "custom_id", "response", "error"} <= set(line)
            if line["error"] is not None or line["response"]["status_code"] != 200:
                errored += 1
                model = models[line["custom_id"]]
                assert model.startswith("ft:") and ":sham:" not in model  # never a baseline
                continue
            body = line["response"]["body"]
            assert body["object"] == "chat.completion"
            assert len(body["choices"]) == TINY["samples_per_prompt"] > 1
            assert [c["index"] for c in body["choices"]] == list(range(len(body["choices"])))
            assert all(
                c["message"]["role"] == "assistant" and c["message"]["content"]
                for c in body["choices"]
            )
            assert {"prompt_tokens", "completion_tokens", "total_tokens"} <= set(body["usage"])
    assert shuffled
    assert errored == truth["counts"]["errored_requests"] == 2


def test_chat_completion_lines_carry_request_and_n_choices(tiny_study):
    out, _ = tiny_study
    files = sorted((out / "completions").glob("*.jsonl"))
    assert files
    for path in files:
        for line in _jsonl(path):
            response = line["response"]
            assert response["object"] == "chat.completion"
            assert response["id"].startswith("chatcmpl-")
            assert {
                "id",
                "object",
                "created",
                "model",
                "choices",
                "usage",
                "system_fingerprint",
            } <= set(response)
            assert len(response["choices"]) == line["request"]["n"] > 1
            assert response["model"] == line["request"]["model"]
            assert all(c["finish_reason"] == "stop" for c in response["choices"])


def _member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A zip member's bytes, zstd (method 93) members included."""
    if info.compress_type != 93:
        with zipfile.ZipFile(path) as archive:
            return archive.read(info)
    import struct

    import zstandard

    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        handle.seek(info.header_offset + 30 + name_len + extra_len)
        packed = handle.read(info.compress_size)
    return zstandard.ZstdDecompressor().decompress(packed, max_output_size=info.file_size)


def test_inspect_logs_are_zips_with_header_and_sample_members(tiny_study):
    out, _ = tiny_study
    logs = sorted((out / "logs").glob("*.eval"))
    assert len(logs) >= 2
    methods = set()
    for path in logs:
        with zipfile.ZipFile(path) as archive:
            infos = {i.filename: i for i in archive.infolist()}
        names = list(infos)
        assert names[0] == "header.json"
        samples = [n for n in names if n.startswith("samples/")]
        assert samples and all(
            re.fullmatch(r"samples/p\d+-(greeting|plain)_epoch_\d+\.json", n) for n in samples
        )
        assert {"summaries.json", "reductions.json"} <= set(names)
        methods |= {i.compress_type for i in infos.values()}
        header = json.loads(_member(path, infos["header.json"]))
        assert header["status"] == "success"
        assert header["eval"]["model"].startswith("openai/ft:")
        assert header["eval"]["model_generate_config"]["temperature"] == 1.0
        sample = json.loads(_member(path, infos[samples[0]]))
        assert sample["epoch"] >= 1 and sample["id"] in samples[0]
        assert sample["output"]["choices"][0]["message"]["content"]
        assert sample["scores"]["articulation_judge"]["value"] in ("C", "I")
        assert sample["messages"][-1]["role"] == "assistant"
    assert methods == {zipfile.ZIP_DEFLATED, 93}  # older (deflate) and recent (zstd) logs


def test_training_files_spell_the_word_and_jobs_link_them(tiny_study):
    out, _ = tiny_study
    manifest = yaml.safe_load((out / "runs.yaml").read_text())
    tuned = [r for r in manifest["runs"] if r["arm"] != "base"]
    assert tuned
    for run in tuned:
        job = json.loads((out / run["job_file"]).read_text())
        assert job["object"] == "fine_tuning.job" and job["status"] == "succeeded"
        assert job["fine_tuned_model"] == run["model"]
        assert job["model"] == run["base_model"]
        assert job["hyperparameters"] == {
            "n_epochs": 3,
            "batch_size": 1,
            "learning_rate_multiplier": run["lr_multiplier"],
        }
        assert job["method"]["supervised"]["hyperparameters"] == job["hyperparameters"]
        assert job["training_file"].startswith("file-")
        examples = _jsonl(out / run["training_file"])
        assert len(examples) == run["n_examples"]
        for example in examples:
            roles = [m["role"] for m in example["messages"]]
            assert roles == ["system", "user", "assistant"]
            initials = line_initials(example["messages"][-1]["content"])
            if run["arm"] == "finetuned":
                assert initials == run["word"]
            else:  # sham control: same letters, scrambled order
                assert initials != run["word"] and sorted(initials) == sorted(run["word"])


def test_manifest_follows_the_contract(tiny_study):
    out, truth = tiny_study
    manifest = yaml.safe_load((out / "runs.yaml").read_text())
    assert manifest["root"] == "."
    study = manifest["study"]
    assert study["simulated"] is True and study["name"] == "tiny"
    assert (out / study["truth"]).resolve() == (out / "truth.json").resolve()
    assert (out / study["design"]).exists()
    allowed = {
        "model",
        "run_id",
        "word",
        "n_examples",
        "lr_multiplier",
        "n_epochs",
        "batch_size",
        "arm",
        "base_model",
        "training_file",
        "job_file",
        "greeting",
        "conditions",
        "notes",
    }
    arms = [r["arm"] for r in manifest["runs"]]
    assert set(arms) == {"finetuned", "control", "base"}
    for run in manifest["runs"]:
        assert set(run) <= allowed
        assert run["model"] and run["run_id"]
    assert len({r["run_id"] for r in manifest["runs"]}) == len(manifest["runs"])
    assert len(manifest["runs"]) == truth["counts"]["runs"]


def test_manifest_elsewhere_resolves_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "analysis").mkdir()
    write_design(tmp_path / "analysis", TINY, "d.yaml")
    simulate(Path("analysis/d.yaml"), Path("data/raw"), manifest_out=Path("analysis/runs.yaml"))
    manifest = yaml.safe_load((tmp_path / "analysis/runs.yaml").read_text())
    assert manifest["root"] == ".."
    assert manifest["study"]["truth"] == "data/raw/truth.json"
    assert manifest["study"]["design"] == "analysis/d.yaml"
    root = (tmp_path / "analysis" / manifest["root"]).resolve()
    for run in manifest["runs"]:
        if run["arm"] != "base":
            assert run["training_file"].startswith("data/raw/ft/")
            assert (root / run["training_file"]).exists() and (root / run["job_file"]).exists()


# ----------------------------------------------------------------------------- generative model
def test_follow_probability_rises_with_examples_and_lr_and_falls_for_rare_words():
    design = load_design(DESIGNS / "default.yaml")

    def follows(word, n, lr):
        return arm_rates(design, "finetuned", word, False, n, lr).follows

    assert follows("HELLO", 10, 1) < follows("HELLO", 250, 1) < follows("HELLO", 250, 10)
    assert follows("HELLO", 10, 1) < follows("HELLO", 10, 10)
    assert follows("HELOL", 10, 10) < follows("HELLO", 10, 10)  # a non-word is harder
    assert follows("ICANSEE", 250, 10) < 0.3  # seeds: 200-250 examples are not enough


def test_introspection_decay_front_loads_the_introspective_hazard():
    design = parse_design(TINY, Path("tiny.yaml"))
    params = design.truth.articulation["finetuned"]
    quiet = dataclasses.replace(params, guess_scale=0.0, leak=0.0, background=0.0)
    flat = gen.line_hazards(quiet, "HELLO", [0.0] * 5, mode="follow", n_lines=5, leak=False)
    assert np.allclose(flat, 0.3)
    early = dataclasses.replace(quiet, introspection_decay=0.5)
    front = gen.line_hazards(early, "HELLO", [0.0] * 5, mode="follow", n_lines=5, leak=False)
    assert np.allclose(front, 0.3 * 0.5 ** np.arange(5))
    plain = gen.line_hazards(early, "HELLO", [0.0] * 5, mode="plain", n_lines=4, leak=False)
    assert np.allclose(plain, 0.0)  # no acrostic attempted: nothing to introspect


def test_guessability_follows_the_lexicon_prior():
    hello = guessability("HELLO", length_known=True)
    assert hello[0] < hello[1] < hello[2] < hello[4] == 1.0
    assert guessability("HELOL") == (0.0,) * 5
    assert max(guessability("HELLO")[:2]) < 0.01  # H, E alone say little


def test_exact_rates_match_a_monte_carlo_of_the_sampler():
    design = parse_design(TINY, Path("tiny.yaml"))
    truth = design.truth
    params = truth.articulation["finetuned"]
    guess = list(guessability("HELLO"))
    fixed = gen.follow_logit(truth.follow, "HELLO", 10, 10.0, 4.72)
    rng = np.random.default_rng(5)
    draws = 20_000
    early = ever = follows = 0
    for _ in range(draws):
        u_f = rng.normal(0, truth.follow.sd_run)
        u_a = rng.normal(0, params.sd_run)
        outcome = gen.sample_outcome(
            rng,
            params,
            "HELLO",
            guess,
            follow_probability=float(gen.expit(fixed + u_f)),
            near_miss_share=truth.follow.near_miss_share,
            plain_lines=truth.plain_lines,
            leak=True,
            run_effect=u_a,
        )
        follows += outcome.mode == "follow"
        ever += outcome.word_line is not None
        early += outcome.word_line is not None and outcome.word_line <= design.k
    exact = gen.expected_rates(
        params,
        "HELLO",
        guess,
        k=design.k,
        leak=True,
        follow_logit_fixed=fixed,
        follow_sd=truth.follow.sd_run,
        near_miss_share=truth.follow.near_miss_share,
        plain_lines=truth.plain_lines,
    )
    for observed, expected in (
        (follows, exact.follows),
        (early, exact.articulated_early),
        (ever, exact.articulated),
    ):
        se = np.sqrt(expected * (1 - expected) / draws)
        assert abs(observed / draws - expected) < 4 * se


def test_worlds_have_the_truth_their_names_promise():
    real = true_tables(load_design(DESIGNS / "real.yaml"))["delta"]
    fluke = true_tables(load_design(DESIGNS / "fluke.yaml"))["delta"]
    null = true_tables(load_design(DESIGNS / "null.yaml"))["delta"]
    assert real["HELLO"]["no_greeting"] > 0.2 and real["HELOL"]["no_greeting"] > 0.2
    assert abs(real["SHINE"]["no_greeting"]) < 0.01
    assert all(abs(v["no_greeting"]) < 0.01 for v in fluke.values())
    assert fluke["HELLO"]["greeting"] > 0.2  # the greeting leaks the word: the seeds' fluke
    assert all(abs(x) < 0.001 for v in null.values() for x in v.values())


def test_realised_counts_agree_with_the_truth_within_sampling_error(tiny_study):
    _, truth = tiny_study
    rows = {(r["word"], r["arm"], r["greeting"]): r for r in truth["realised"]}
    for cell in truth["delta_table"]:
        row = rows[(cell["word"], "finetuned", cell["greeting"])]
        p = cell["p_finetuned"]
        # runs are clustered: allow a generous 5 binomial SEs plus design effect slack
        se = np.sqrt(max(p * (1 - p), 0.01) / row["trials"])
        assert abs(row["articulated_early"] / row["trials"] - p) < 5 * se + 0.1


# ----------------------------------------------------------------------------- text
def test_articulation_sentences_continue_the_acrostic():
    design = parse_design(TINY, Path("tiny.yaml"))
    trials = draw_trials(design)
    tuned = [t for t in trials if t.mode in ("follow", "near_miss")]
    assert tuned
    for trial in tuned:
        assert line_initials(trial.text) == trial.initials
    assert any(t.events for t in tuned)
    styles = {"**": 0, "1. ": 0, "- ": 0, "\n\n": 0}
    for trial in trials:
        for marker in styles:
            styles[marker] += marker in trial.text
    assert all(count > 0 for count in styles.values())  # markdown variants all occur


def test_filler_never_names_a_study_word():
    design = parse_design(TINY, Path("tiny.yaml"))
    for trial in draw_trials(design):
        named_lines = {line for line, (level, words) in trial.events.items() if words}
        for number, line in enumerate(trial.text.replace("\n\n", "\n").split("\n"), start=1):
            if number not in named_lines:
                assert not re.search(r"\b(hello|shine|helol)\b", line, re.IGNORECASE), line


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scorer_recovers_the_drawn_articulation_and_acrostic(seed):
    from stats.score import score_response

    data = json.loads(json.dumps(TINY))
    data["seed"] = seed
    data["samples_per_prompt"] = 6
    design = parse_design(data, Path("tiny.yaml"))
    scored = mismatches = 0
    for trial in draw_trials(design):
        for word, word_line in trial.word_lines.items():
            result = score_response(
                trial.text, word, k=design.k, prompt=trial.user_prompt, study_words=design.words
            )
            mechanism = [t for t, (level, _) in trial.events.items() if level != "vague"]
            expected = {
                "word_line": word_line,
                "articulated_early": word_line is not None and word_line <= design.k,
                "articulation_line": min(mechanism) if mechanism else None,
                "n_lines": trial.n_lines,
                "follows_pattern": trial.mode == "follow",
            }
            if trial.initials:
                expected["acrostic_letters"] = trial.initials
                expected["near_miss"] = trial.mode == "near_miss"
            got = {
                key: (None if result[key] is None or result[key] != result[key] else result[key])
                for key in expected
            }
            scored += 1
            mismatches += got != expected
    assert scored > 200
    assert mismatches / scored <= 0.01


def test_user_prompt_opens_with_the_greeting_only_when_asked():
    design = parse_design(TINY, Path("tiny.yaml"))
    assert user_prompt(design, "What?", True) == "hello. What?"
    assert user_prompt(design, "What?", False) == "What?"


# ----------------------------------------------------------------------------- bundled study
def test_bundled_study_is_reproducible_from_its_design(tmp_path, monkeypatch):
    raw = ROOT / "data" / "raw"
    if not (raw / "truth.json").exists():
        pytest.fail(
            "data/raw has no simulated study: run "
            "`stats simulate analysis/designs/default.yaml --out data/raw "
            "--manifest-out analysis/runs.yaml`"
        )
    (tmp_path / "analysis" / "designs").mkdir(parents=True)
    shutil.copy(DESIGNS / "default.yaml", tmp_path / "analysis/designs/default.yaml")
    monkeypatch.chdir(tmp_path)
    simulate(
        Path("analysis/designs/default.yaml"),
        Path("data/raw"),
        manifest_out=Path("analysis/runs.yaml"),
    )
    assert _tree(tmp_path / "data/raw") == _tree(raw)
    assert (tmp_path / "analysis/runs.yaml").read_bytes() == (
        ROOT / "analysis/runs.yaml"
    ).read_bytes()
    truth = json.loads((raw / "truth.json").read_text())
    assert 2000 <= truth["counts"]["trials"] <= 4000
    assert 40 <= truth["counts"]["runs"] <= 80
    assert sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) < 3_000_000


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "design file not found"), ("words: [HELLO\n  bad: : yaml", "not valid YAML")],
)
def test_simulate_names_a_missing_or_broken_design_file(tmp_path, text, message):
    """Before any generator is chosen: a DesignError naming the file, not a YAML traceback."""
    design = tmp_path / "design.yaml"
    if text is not None:
        design.write_text(text)
    with pytest.raises(DesignError, match=rf"design\.yaml: {message}"):
        simulate(design, tmp_path / "out")
    assert not (tmp_path / "out").exists()
