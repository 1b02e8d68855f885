"""The diagnostics page: convergence, predictive checks, prior sensitivity and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats import plots
from stats.report.artifacts import ReportData
from stats.report.blocks import Figure, block
from stats.report.common import focus_rows, main_prior_scale
from stats.report.markdown import Markdown, escape_markdown, md_table
from stats.report.text import as_bool, estimates, fmt, greeting_label, scope_label

#: Words for the cross-check flags of ``crosscheck.csv``.
CROSSCHECK_FLAGS = {
    "agree": "agree",
    "disagree": "DISAGREE",
    "mle-unstable": "no stable MLE (separation)",
}
#: Words for the simulated worlds of the operating-characteristics benchmark.
OC_WORLDS = {"null": "no introspection (leak + guessability)", "genuine": "introspection"}


def _draws_and_attempts(d: pd.DataFrame) -> list[str]:
    """ "1000 x 1", or "2000 x 2 (0.99)" for a fit sampled again (with its target_accept)."""
    cells = []
    for draws, attempts, accept in zip(d["draws"], d["attempts"], d["target_accept"], strict=True):
        if pd.isna(attempts):
            cells.append("")
            continue
        extra = f" ({fmt(accept)})" if attempts > 1 else ""
        cells.append(f"{fmt(draws, 0)} x {int(attempts)}{extra}")
    return cells


@block
def diagnostics_table(data: ReportData) -> Markdown:
    """Sampler diagnostics per fit, with the gate verdict and high Pareto k marked."""
    d = data.load("diagnostics")
    gates = data.load("gates")
    pareto = gates[gates["check"] == "pareto_k"].set_index("fit")["passed"]
    high = {fit: not as_bool(pd.Series([ok])).iloc[0] for fit, ok in pareto.dropna().items()}
    table = pd.DataFrame(
        {
            "fit": d["fit"],
            "sampler": d["sampler"],
            "seconds": d["seconds"].map(lambda x: fmt(x, 0)),
            "draws x tries": _draws_and_attempts(d),
            "R-hat": d["max_rhat"].map(lambda x: fmt(x, 3)),
            "ESS bulk / tail": [
                f"{fmt(b, 0)} / {fmt(t, 0)}"
                for b, t in zip(d["min_ess_bulk"], d["min_ess_tail"], strict=True)
            ],
            "div.": d["divergences"],
            "E-BFMI": d["min_bfmi"].map(fmt),
            "Pareto k": [
                fmt(k) + (" (high)" if high.get(f) else "")
                for f, k in zip(d["fit"], d["pareto_k_max"], strict=True)
            ],
            "gates": np.where(as_bool(d["converged"]), "pass", "FAIL"),
        }
    )
    return md_table(table, align=["l", "l", "r", "r", "r", "r", "r", "r", "r", "l"])


@block
def gate_summary(data: ReportData) -> Markdown:
    """The gates and warning thresholds the fit stage applied, then each miss, per fit and check."""
    gates = data.load("gates")
    rules = gates.drop_duplicates("check")
    signs = {"rhat": "≤", "divergences": "≤", "pareto_k": "≤"}
    stated = [f"{r.label} {signs.get(r.check, '≥')} {r.threshold:g}" for r in rules.itertuples()]
    gate_rules = [s for s, r in zip(stated, rules.itertuples(), strict=True) if r.kind == "gate"]
    warn_rules = [s for s, r in zip(stated, rules.itertuples(), strict=True) if r.kind != "gate"]
    text = (
        f"Gates every fit must pass: {', '.join(gate_rules)}; a fit that misses one gives "
        f"*not converged* instead of a verdict. Flagged, not a gate: {', '.join(warn_rules)}."
    )
    bad = gates[~as_bool(gates["passed"].fillna(True))]
    if bad.empty:
        return Markdown(text + " Every fit passes every gate and none is flagged.")
    lines = [
        f"- {escape_markdown(r.fit)}: {r.label} {fmt(r.value, 3)} "
        f"({'gate missed' if r.kind == 'gate' else 'flagged'}; limit {r.threshold:g})"
        for r in bad.itertuples()
    ]
    return Markdown(text + "\n\n" + "\n".join(lines))


@block
def coefficients_table(data: ReportData) -> Markdown:
    """Posterior summaries of the model terms of the verdicts' fits (study's prior scale)."""
    scale = main_prior_scale(data)
    fits = data.load("diagnostics")
    main = set(fits.loc[np.isclose(fits["prior_scale"], scale), "fit"])
    c = data.load("coefficients")
    c = c[c["fit"].isin(main)]
    table = pd.DataFrame(
        {
            "fit": c["fit"],
            "term": c["term"],
            "mean [95% HDI]": estimates(c["mean"], c["hdi_low"], c["hdi_high"], signed=True),
            "sd": c["sd"].map(fmt),
            "R-hat": c["r_hat"].map(lambda x: fmt(x, 3)),
            "ESS bulk": c["ess_bulk"].map(lambda x: fmt(x, 0)),
        }
    )
    return md_table(table)


@block
def ppc_figure(data: ReportData) -> object:
    """Posterior predictive check per word x greeting x arm, and per line."""
    p = data.load("ppc")
    wg = p[p["check"] == "word_greeting"]
    wg = wg.assign(
        cell=[
            f"{w} · {greeting_label(g)}" for w, g in zip(wg["word"], wg["greeting"], strict=True)
        ],
        panel=wg["arm"].astype(str) + ": by word",
    )
    ln = p[p["check"] == "line"]
    ln = ln.assign(
        cell=[f"line {int(x)}" for x in ln["line"]],
        panel=ln["arm"].astype(str) + ": hazard by line",
    )
    frame = pd.concat([wg, ln], ignore_index=True)
    frame["cell"] = pd.Categorical(
        frame["cell"], categories=sorted(frame["cell"].unique(), reverse=True)
    )
    return plots.ppc_plot(frame)


@block
def prior_figure(data: ReportData) -> object:
    """Prior vs posterior of Delta over [-1, 1], no greeting: the prior predictive check."""
    scale = main_prior_scale(data)
    draws = focus_rows(data.load("delta_draws"), data.word)
    draws = draws[~as_bool(draws["greeting"]) & np.isclose(draws["prior_scale"], scale)]
    draws = draws.assign(
        panel=[scope_label(s, w) for s, w in zip(draws["scope"], draws["word"], strict=True)]
    )
    return plots.prior_plot(draws, rope=data.rope)


@block
def sensitivity_figure(data: ReportData) -> object:
    """Delta and verdict under each prior scale: headline targets, the page's word, and every
    target whose verdict changes with the prior."""
    s = data.load("sensitivity")
    stability = data.load("verdict_stability")
    keys = ["prior_scale", "scope", "word", "greeting"]
    s = s.merge(stability[[*keys, "changes"]], on=keys, how="left", validate="one_to_one")
    s = s[s.index.isin(focus_rows(s, data.word).index) | as_bool(s["changes"].fillna(False))]
    s = s.assign(
        panel=[
            f"{scope_label(a, b)}, {greeting_label(g)}"
            for a, b, g in zip(s["scope"], s["word"], s["greeting"], strict=True)
        ],
        prior_label=[f"prior sd x{x:g}" for x in s["prior_scale"]],
        low=s["hdi_low"],
        high=s["hdi_high"],
    )
    return plots.sensitivity_plot(s, rope=data.rope)


@block
def sensitivity_table(data: ReportData) -> Markdown:
    """Every target's verdict under each prior scale, and whether it changes."""
    s = data.load("verdict_stability")
    s = s.assign(
        target=[scope_label(a, b) for a, b in zip(s["scope"], s["word"], strict=True)],
        prompt=as_bool(s["greeting"]).map(greeting_label),
        changes=np.where(as_bool(s["changes"]), "YES", "no"),
    )
    wide = s.pivot_table(
        index=["target", "prompt", "changes"],
        columns="prior_scale",
        values="verdict",
        aggfunc="first",
    )
    wide.columns = [f"prior x{c:g}" for c in wide.columns]
    wide = wide.reset_index()
    return md_table(wide[[c for c in wide.columns if c != "changes"] + ["changes"]])


@block
def crosscheck_table(data: ReportData) -> Markdown:
    """Bayesian posterior means against the cluster-robust GLM (frequentist cross-check)."""
    c = data.load("crosscheck")
    table = pd.DataFrame(
        {
            "term": c["term"],
            "Bayes mean (sd)": [
                f"{fmt(m, signed=True)} ({fmt(s)})"
                for m, s in zip(c["bayes_mean"], c["bayes_sd"], strict=True)
            ],
            "MLE (robust se)": [
                f"{fmt(m, signed=True)} ({fmt(s)})"
                for m, s in zip(c["mle"], c["robust_se"], strict=True)
            ],
            "z difference": c["z_diff"].map(lambda x: fmt(x, signed=True)),
            "cross-check": c["flag"].map(lambda f: CROSSCHECK_FLAGS.get(str(f), str(f))),
        }
    )
    return md_table(table, align=["l", "r", "r", "r", "l"])


@block
def oc_figure(data: ReportData) -> object:
    """Plot 5: rate of "real" word verdicts (no greeting) in simulated worlds, vs runs per word."""
    oc = data.load("oc")
    oc = oc[(oc["scope"] == "word") & ~as_bool(oc["greeting"])]
    oc = oc.sort_values(["samples_per_run", "runs_per_word"])
    labels = [f"{int(s)} samples per run" for s in oc["samples_per_run"]]
    oc = oc.assign(
        samples_label=pd.Categorical(labels, categories=list(dict.fromkeys(labels))),
        world=oc["world"].map(lambda w: OC_WORLDS.get(str(w), str(w))),
    )
    return plots.oc_plot(oc)


@block
def sbc_figure(data: ReportData) -> Figure:
    """The shipped SBC figure of M1: rank ECDFs against uniform, with simultaneous bands."""
    return Figure.from_png(data.load("sbc_ecdf"))


@block
def calibration_note(data: ReportData) -> Markdown:
    """Where the calibration results come from (the benchmark runs shipped with the package)."""
    sbc, oc = data.load("sbc_run"), data.load("oc_run")
    return Markdown(
        "These results describe the method, not this study: they were computed on simulated "
        "studies by the package's benchmarks and ship with it. Operating characteristics: "
        f"{fmt(oc.get('draws'), 0)} draws x {fmt(oc.get('chains'), 0)} chains per fit, "
        f"{fmt(oc.get('seconds', np.nan) / 60, 0)} min in all. SBC: "
        f"{escape_markdown(sbc.get('design', ''))}; sampler {escape_markdown(sbc.get('sampler', ''))}; "
        f"command {escape_markdown(sbc.get('command', ''))}."
    )
