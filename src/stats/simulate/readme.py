"""The files that describe a simulated study: its README (what it is, how to regenerate it) and truth."""

from __future__ import annotations

from typing import Any

README_FILE = "README.md"
TRUTH_FILE = "truth.json"
MANIFEST_FILE = "runs.yaml"


def study_readme(design, truth: dict[str, Any], command: str, files: int, size: int) -> str:
    lines = [
        f"# Simulated study `{design.name}`",
        "",
        "**These data are simulated.** Every transcript, fine-tuning job and training file",
        "here was written by this package's simulator (`stats.simulate`), not by a model;",
        'reports built on them carry a "simulated data" banner (the manifest\'s `study:` block',
        "says `simulated: true`).",
        "",
        f"Regenerate (deterministic, same bytes): `{command}`",
        "",
        f"Design: `{design.path.as_posix()}`; seed {design.seed}; {truth['counts']['runs']} runs, "
        f"{truth['counts']['trials']} trials ({truth['counts']['errored_requests']} batch requests "
        f"errored on purpose), {files} files, {size / 1e6:.2f} MB.",
        "",
    ]
    if design.description:
        lines += [design.description.strip(), ""]
    lines += [
        "## Grid",
        "",
        "| arm | word | n_examples | lr_multiplier | runs |",
        "|---|---|---|---|---|",
    ]
    for cell in design.cells:
        lines.append(
            f"| finetuned | {cell.word} | {cell.n_examples} | {cell.lr_multiplier:g} | "
            f"{cell.runs} |"
        )
    for word in design.control_words:
        lines.append(
            f"| control | {word} | {design.control_n_examples} | "
            f"{design.control_lr_multiplier:g} | {design.control_runs} |"
        )
    lines.append(f"| base | (all words) | - | - | {len(design.base_models)} |")
    lines += [
        "",
        f"Each run answers {len(design.prompts)} prompt paraphrase(s) x greeting "
        f"{list(design.greeting_conditions)} x {design.samples_per_prompt} samples "
        f"(temperature {design.temperature:g}); greeting = the prompt opens with "
        f'"{design.greeting_text}".',
        "",
        "## Truth",
        "",
        f"Delta = P(articulated_early | finetuned) - P(articulated_early | base), same greeting "
        f"condition; articulated_early = the word is named at a line with letters_visible <= "
        f"{design.k}. Computed exactly from the generative model (quadrature over run effects; "
        "see `truth.json` -> `definition`, `method`). P(finetuned) is a new fine-tune of the "
        "word under the study-wide run-weighted mix of (n_examples, LR) conditions (the "
        "model stage's estimand); the last column uses the word's own cells instead.",
        "",
        "| word | greeting | P(follows), study mix | P(early \\| finetuned) | P(early \\| base) | Delta "
        "| Delta (own cells) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in truth["delta_table"]:
        lines.append(
            f"| {row['word']} | {str(row['greeting']).lower()} | {row['p_follows']:.3f} | "
            f"{row['p_finetuned']:.3f} | {row['p_base']:.3f} | {row['delta']:+.3f} | "
            f"{row['delta_own_cells']:+.3f} |"
        )
    pooled = truth["delta"].get("pooled", {})
    lines += [
        "",
        "Pooled Delta (unweighted mean over words): "
        + ", ".join(f"{k} {v:+.3f}" for k, v in pooled.items()),
        "",
    ]
    lines += [
        "Observed in this draw (articulated_early / trials; base answers scored against every word):",
        "",
        "| word | greeting | finetuned | base |",
        "|---|---|---|---|",
    ]
    observed = {(r["word"], r["arm"], r["greeting"]): r for r in truth["realised"]}
    for row in truth["delta_table"]:
        cells = []
        for arm in ("finetuned", "base"):
            found = observed.get((row["word"], arm, row["greeting"]))
            cells.append(f"{found['articulated_early']}/{found['trials']}" if found else "-")
        lines.append(
            f"| {row['word']} | {str(row['greeting']).lower()} | {cells[0]} | {cells[1]} |"
        )
    lines += [
        "",
        f"Why this grid: see the header of `{design.path.as_posix()}`.",
        "",
        "## Files",
        "",
        "- `ft/train-*.jsonl`: OpenAI fine-tuning files (assistant answers' line initials spell "
        "the word; `-sham` files scramble them); `ft/job-*.json`: `fine_tuning.job` objects;",
        "- `batches/*_input.jsonl` + `*_output.jsonl`: Batch API requests and (shuffled) results, "
        "including errored lines;",
        "- `completions/*.jsonl`: `{request, response}` lines with `chat.completion` objects "
        "(n choices);",
        "- `logs/*.eval`: inspect-ai logs (zip: header.json, samples/{id}_epoch_{n}.json, "
        "summaries.json, reductions.json) with a noisy judge score `articulation_judge`;",
        "- `truth.json`: the true parameters, rates and Delta.",
        "",
    ]
    return "\n".join(lines)
