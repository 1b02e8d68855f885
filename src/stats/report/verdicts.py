"""The verdict page (index): the answer first, then each verdict's reason, the rule and checks.

Every sentence comes from a row of ``verdicts.csv`` and its ``reason`` (through
:mod:`stats.report.reasons`); the checks come from ``summary/gates.csv`` and
``summary/verdict_stability.csv``. Nothing here applies a threshold or a rule itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats import plots
from stats.model.reasons import REASONS
from stats.report.artifacts import ReportData
from stats.report.blocks import block
from stats.report.common import focus_rows, main_prior_scale
from stats.report.markdown import Markdown, bullets, callout, escape_markdown, md_table
from stats.report.reasons import reason_of, reason_text, rule_text, runs_needed_text
from stats.report.text import (
    VERDICT_SHORT,
    VERDICT_TEXT,
    as_bool,
    fmt,
    greeting_label,
    interval,
    scope_label,
    sort_scopes,
)

#: Order in which verdict groups are listed in the answer.
VERDICT_ORDER = ("real", "inconclusive", "fluke", "not-converged")
NBSP = "\u00a0"
CONDITIONS = {
    False: "Without the greeting (the primary test)",
    True: "With the greeting in the prompt",
}


def _verdicts(data: ReportData, greeting: bool | None = None) -> pd.DataFrame:
    v = data.load("verdicts")
    v = v.assign(greeting=as_bool(v["greeting"]))
    if greeting is not None:
        v = v[v["greeting"] == greeting]
    return sort_scopes(v).reset_index(drop=True)


def _target(row: pd.Series) -> str:
    return escape_markdown(scope_label(row["scope"], row["word"]))


@block
def answer(data: ReportData) -> Markdown:
    """The answer in two lines: targets grouped by verdict, per prompt condition."""
    lines = []
    for greeting, title in CONDITIONS.items():
        v = _verdicts(data, greeting)
        if v.empty:
            continue
        groups = []
        for verdict in VERDICT_ORDER:
            targets = [_target(r) for _, r in v[v["verdict"] == verdict].iterrows()]
            if targets:
                groups.append(f"{VERDICT_TEXT[verdict]}: **{', '.join(targets)}**")
        lines.append(f"**{title}**: " + "; ".join(groups) + ".")
    return bullets(lines)


def _changes(data: ReportData) -> list[str]:
    stability = data.load("verdict_stability")
    changed = stability[as_bool(stability["changes"])]
    items = []
    main_scale = main_prior_scale(data)
    for (scope, word, greeting), rows in changed.groupby(
        ["scope", "word", "greeting"], dropna=False, sort=False
    ):
        others = rows[~np.isclose(rows["prior_scale"].astype(float), main_scale)]
        differing = others[others["verdict"] != others["main_verdict"]]
        at = ", ".join(
            f"{r['verdict']} at prior x{float(r['prior_scale']):g}" for _, r in differing.iterrows()
        )
        items.append(
            f"**{escape_markdown(scope_label(scope, word))}** ({greeting_label(greeting)}) is "
            f"{rows['main_verdict'].iloc[0]} with the study's priors but {at}: the data do not "
            "settle it on their own."
        )
    return items


def _gate_items(data: ReportData) -> tuple[list[str], list[str], int]:
    """(failed gates per fit, fits with a warning and its value, number of fits)."""
    gates = data.load("gates")
    missed = gates[~as_bool(gates["passed"].fillna(True))]
    failures = [
        f"fit {escape_markdown(fit)} missed "
        + ", ".join(
            f"{r.label} {fmt(r.value, 3)} (limit {r.threshold:g})" for r in rows.itertuples()
        )
        + ": its verdicts read *not converged*."
        for fit, rows in missed[missed["kind"] == "gate"].groupby("fit", sort=False)
    ]
    warnings = [
        f"{r.label} above {r.threshold:g} in {escape_markdown(r.fit)} ({fmt(r.value)})"
        for r in missed[missed["kind"] != "gate"].itertuples()
    ]
    return failures, warnings, gates["fit"].nunique()


@block
def checks(data: ReportData) -> Markdown:
    """Gates, Pareto k warnings and verdicts that change with the prior, before the details."""
    failures, warnings, n_fits = _gate_items(data)
    changes = _changes(data)
    items = [f"Convergence: {f}" for f in failures]
    if warnings:
        items.append(
            "; ".join(warnings)
            + ": a few cells weigh heavily on these fits; compare them with the posterior "
            "predictive check on the [diagnostics](diagnostics.qmd) page."
        )
    items += [f"Prior sensitivity: {c}" for c in changes]
    if not items:
        return Markdown(
            f"All {n_fits} fits pass every convergence gate, no Pareto k is high, and no "
            "verdict changes when the priors are halved or doubled."
        )
    passed = "" if failures else f"All {n_fits} fits pass every convergence gate, but: "
    return callout(
        "caution" if not failures else "important",
        "Check before relying on these verdicts",
        passed + "\n\n" + bullets(items).text,
    )


@block
def verdict_table(data: ReportData, greeting: bool = False) -> Markdown:
    """The verdicts of one prompt condition: Delta, its HDI, verdict, reason, runs needed."""
    v = _verdicts(data, greeting)
    reasons = [reason_text(row)[0] for _, row in v.iterrows()]
    needed = [runs_needed_text(row)[0] for _, row in v.iterrows()]
    table = pd.DataFrame(
        {
            "target": [scope_label(s, w) for s, w in zip(v["scope"], v["word"], strict=True)],
            "Delta [95% HDI]": [  # no line break inside a number or interval (PDF)
                f"{fmt(m, signed=True)} {interval(lo, hi, signed=True)}".replace(" ", NBSP)
                for m, lo, hi in zip(v["mean"], v["hdi_low"], v["hdi_high"], strict=True)
            ],
            "P(Delta > ROPE)": [fmt(p) for p in v["p_above_rope"]],
            "verdict": [VERDICT_SHORT.get(x, x) for x in v["verdict"]],
            "why": reasons,
            "runs / trials": [
                f"{fmt(r, 0)} / {fmt(t, 0)}"
                for r, t in zip(v["n_runs"], v["n_trials"], strict=True)
            ],
            "runs needed": needed,
        }
    )
    out = md_table(table, align=["l", "r", "r", "l", "l", "r", "r"], bold=["verdict"])
    ropes = set(np.round(v["rope"].astype(float), 6))
    if ropes and ropes != {round(data.rope, 6)}:
        out = out + callout(
            "note",
            "ROPE differs from this page's parameter",
            f"Verdicts were computed with ROPE ±{', '.join(fmt(r) for r in sorted(ropes))}; this "
            f"page draws ±{fmt(data.rope)}. Refit (`stats fit`) to change the verdicts.",
        )
    return out


def verdict_sentence(row: pd.Series) -> str:
    """One verdict row in words: target, prompt condition, verdict, reason, size, runs needed."""
    _, because = reason_text(row)
    size = f"{fmt(row['n_runs'], 0)} runs, {fmt(row['n_trials'], 0)} trials"
    verdict = VERDICT_TEXT.get(row["verdict"], row["verdict"])
    text = (
        f"**{_target(row)}** ({greeting_label(row['greeting'])}): **{verdict}**, because "
        f"{because}; {size}."
    )
    if row["verdict"] == "not-converged":
        text += (
            f" Worst gate values: max R-hat {fmt(row['max_rhat'], 3)}, min ESS "
            f"{fmt(row['min_ess'], 0)}, {fmt(row['divergences'], 0)} divergences."
        )
    more = runs_needed_text(row)[1]
    return f"{text} {more}".strip()


@block
def verdict_sentences(data: ReportData) -> Markdown:
    """One sentence per verdict row, grouped by prompt condition, headline targets first."""
    parts = []
    for greeting, title in CONDITIONS.items():
        v = _verdicts(data, greeting)
        if not v.empty:
            parts.append(
                f"**{title}**\n\n" + bullets([verdict_sentence(r) for _, r in v.iterrows()]).text
            )
    return Markdown("\n\n".join(parts))


@block
def decision_rule(data: ReportData) -> Markdown:
    """The decision rule as the fit stage applies it: every reason, and how often it occurs here."""
    verdicts = data.load("verdicts")
    for _, row in verdicts.iterrows():
        reason_of(row)  # every reason of this study is described (else: UnknownReason)
    used = verdicts["reason"].value_counts()
    rope = verdicts["rope"].iloc[0] if len(verdicts) else data.rope
    prob = verdicts["ci_prob"].iloc[0] if len(verdicts) and "ci_prob" in verdicts else None
    items = [
        f"{' or '.join(f'**{v}**' for v in reason.verdicts)} when {rule_text(code, rope, prob)} "
        f"({int(used.get(code, 0))} of {len(verdicts)} rows here)."
        for code, reason in REASONS.items()
    ]
    return bullets(items)


@block
def delta_figure(data: ReportData) -> object:
    """Plot 4: posterior of Delta for the population, a new word and the page's word."""
    scale = main_prior_scale(data)
    draws = focus_rows(data.load("delta_draws"), data.word)
    draws = draws[(draws["source"] == "posterior") & np.isclose(draws["prior_scale"], scale)]
    draws = draws.assign(
        panel=[scope_label(s, w) for s, w in zip(draws["scope"], draws["word"], strict=True)],
        condition=[greeting_label(g) for g in draws["greeting"]],
    )
    v = focus_rows(_verdicts(data), data.word)
    condition = [greeting_label(g) for g in v["greeting"]]
    intervals = pd.DataFrame(
        {
            "panel": [scope_label(s, w) for s, w in zip(v["scope"], v["word"], strict=True)],
            "condition": condition,
            "low": v["hdi_low"].to_numpy(float),
            "high": v["hdi_high"].to_numpy(float),
            "mean": v["mean"].to_numpy(float),
            "y": np.where(v["greeting"], -0.48, -0.2),
            "label": [
                f"{c}: {VERDICT_TEXT.get(x, x)}"
                for c, x in zip(condition, v["verdict"], strict=True)
            ],
        }
    )
    order = [scope_label("pooled", None), scope_label("new-word", None), data.word]
    for frame in (draws, intervals):
        frame["panel"] = pd.Categorical(frame["panel"], categories=order)
    return plots.delta_plot(draws, intervals, rope=data.rope)
