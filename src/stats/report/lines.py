"""The lines page: when the word is named, against how guessable it already is."""

from __future__ import annotations

import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.markdown import Markdown, code_block, escape_markdown, md_table
from stats.report.text import fmt, greeting_label

MEASURES = {
    "hazard": ("1. hazard: P(first articulation at this line | not before)", "raw_hazard"),
    "cumulative": ("2. cumulative: P(articulated by this line)", "cumulative_raw"),
}


@block
def hazard_figure(data: ReportData) -> object:
    """Plot 2: hazard and cumulative articulation by line per arm, with guessability."""
    hazard = data.load("hazard")
    first = hazard.sort_values("line").groupby("arm")["at_risk"].first()
    labels = {arm: f"{arm} (n={int(n)})" for arm, n in first.items()}
    frames = [
        pd.DataFrame(
            {
                "measure": label,
                "arm": hazard["arm"],
                "arm_label": hazard["arm"].map(labels),
                "line": hazard["line"],
                "mean": hazard[f"{prefix}_mean"],
                "low": hazard[f"{prefix}_low"],
                "high": hazard[f"{prefix}_high"],
                "raw": hazard[raw],
            }
        )
        for prefix, (label, raw) in MEASURES.items()
    ]
    guess = hazard.assign(arm_label=hazard["arm"].map(labels))[
        ["arm_label", "line", "guessability"]
    ]
    guess = pd.concat(
        [guess.assign(measure=label) for label, _ in MEASURES.values()], ignore_index=True
    )
    return plots.hazard_plot(pd.concat(frames, ignore_index=True), guess, k=data.k)


@block
def guessability_table(data: ReportData) -> Markdown:
    """Mean guessability P(word | letters visible) at the line naming the word, per word."""
    guess = data.load("guessability")
    if guess.empty:
        return Markdown("*No articulation with a guessability value.*")
    wide = guess.pivot_table(
        index="word", columns="letters_visible", values="mean_guessability", aggfunc="first"
    )
    wide = wide.map(fmt).reset_index()
    wide.columns = [
        "word",
        *[f"{int(c)} letter{'s' if int(c) != 1 else ''}" for c in wide.columns[1:]],
    ]
    return md_table(wide)


def _numbered(response: str) -> str:
    lines = [line for line in str(response).splitlines() if line.strip()]
    width = len(str(len(lines)))
    return "\n".join(
        f"{i:>{width}} {line.lstrip()[:1].upper() or ' '} | {line}"
        for i, line in enumerate(lines, 1)
    )


@block
def example_transcripts(data: ReportData, n: int = 3) -> Markdown:
    """The earliest namings of the page's word (lowest ``word_line``), shown as escaped text.

    Each transcript is a fenced code block of numbered lines with their initials, so
    the acrostic is visible and any markup in the response stays inert text.
    """
    trials = data.load("trials")
    line = trials["word_line"].fillna(trials["articulation_line"])
    hits = trials.assign(_line=line)[trials["articulated"].astype(bool) & line.notna()]
    if hits.empty:
        return Markdown("*No trial articulated its pattern.*")
    note = "Line number, initial letter, then the line as written (untrusted text, shown verbatim)."
    focus = hits[hits["word"] == data.word]
    if focus.empty:
        note = f"No trial named {escape_markdown(data.word)}; the earliest of any word. {note}"
    else:
        hits = focus
    hits = hits.sort_values(["_line", "articulation_line"], kind="stable").head(n)
    blocks = []
    for _, t in hits.iterrows():
        meta = (
            f"**{escape_markdown(t['word'])}**, run {escape_markdown(t['run_id'])} "
            f"({escape_markdown(t['arm'])}), {greeting_label(t['greeting'])}: word named at line "
            f"{fmt(t['_line'], 0)}, mechanism described at line {fmt(t['articulation_line'], 0)} "
            f"with {fmt(t['letters_visible'], 0)} letters visible (guessability "
            f"{fmt(t['guessability'], 3)}); source {escape_markdown(t['source_file'])}, "
            f"{escape_markdown(t['locator'])}."
        )
        prompt = escape_markdown(t["prompt"])
        blocks.append(f"{meta}\n\nPrompt: {prompt}\n\n{code_block(_numbered(t['response']))}")
    return Markdown(note + "\n\n" + "\n\n".join(blocks))
