"""Operating characteristics of the verdict rule, by simulation.

Worlds are drawn from the hazard process of :class:`stats.model.synthetic.World` (M2's
generative model) at cell level, and each simulated study goes through the same code as
``stats fit`` (:func:`stats.model.analyse`: M1 + M2 fits with the study's sampler settings,
gates, contrasts, the combined rule). Worlds:

* ``null`` - leakage + guessability, **no introspection**: the greeting leaks HELLO, every
  word is guessed once letters are visible, and fine-tuned models name their word more
  often than the base model at every line (so M1's Delta alone is often above the ROPE);
* ``genuine`` - the same plus an introspection effect at lines with <= k letters visible.

Expected early-articulation rates (no greeting, 3,000 simulated trials per word and arm;
75% of fine-tuned samples follow the acrostic): null world fine-tuned 0.16 (HELLO), 0.12
(WATER), 0.07-0.08 (SHINE, PULSE) vs base 0.003-0.006, so M1's Delta alone is mostly above
the ROPE; genuine world fine-tuned 0.34 / 0.27 / 0.18-0.21, i.e. an introspective share of
0.11-0.19.

Outputs ``benchmarks/results/oc.csv`` (columns of CONTRACTS.md plus ``scope``, ``n_verdicts``,
``mc_se_real``, ``p_real_m1_only``) and ``oc.md``. Run::

    PYTENSOR_FLAGS=blas__ldflags= .venv/bin/python benchmarks/operating_characteristics.py

(``--sims`` per setting). With nutpie (``uv run --with nutpie python
benchmarks/operating_characteristics.py``) each model is compiled once per setting and
refitted with ``with_data``; the defaults then take about 15 minutes on 2 busy cores.
With PyMC's NUTS (the locked environment) each study takes about a minute: use fewer
``--sims``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stats import config
from stats import summarize as S
from stats.model import design, fit, spec, synthetic
from stats.model.decision import decide, decide_draws
from stats.model.pipeline import judge
from stats.model.study import parse_study

RESULTS = config.BENCHMARK_RESULTS_DIR
WORDS = ["HELLO", "SHINE", "PULSE", "WATER"]
NULL = synthetic.World(
    a_line=(-1.0, -1.0, -0.8, -0.6, -0.5, -0.4, -0.4),
    c=0.5,
    b_greet=0.8,
    g_word={"HELLO": 1.5, "SHINE": -0.5, "PULSE": -0.5, "WATER": -0.5},
    b_arm={"base": -2.5},
    b_intro=0.0,
    u_word={"HELLO": 0.3, "SHINE": -0.1, "PULSE": -0.2, "WATER": 0.0},
    b_leak=1.5,
    leak_words=("HELLO",),
    sd_run=0.3,
)
GENUINE = dataclasses.replace(NULL, b_intro=1.0)
SETTINGS = [
    ("null", NULL, 4),
    ("null", NULL, 16),
    ("genuine", GENUINE, 4),
    ("genuine", GENUINE, 8),
    ("genuine", GENUINE, 16),
    ("genuine", GENUINE, 32),
]
SAMPLES_PER_PROMPT = 8


def study_design(runs_per_word: int) -> pd.DataFrame:
    """Runs x prompts of one simulated study (one prompt per greeting level, one base model)."""
    return synthetic.design_grid(
        WORDS,
        runs_per_cell=runs_per_word,
        prompts_per_greeting=1,
        samples_per_prompt=SAMPLES_PER_PROMPT,
        base_runs=1,
    )


class Setting:
    """One world x design: both models built (and compiled) once, refitted per study."""

    def __init__(self, world: synthetic.World, runs_per_word: int, study, seed: int) -> None:
        self.world, self.study = world, study
        self.groups = study_design(runs_per_word)
        m1_cells, m2_cells = self.simulate(seed)
        self.d1 = design.m1_data(m1_cells)
        self.d2 = design.m2_data(m2_cells.assign(at_risk=m2_cells["at_risk"].clip(lower=1)))
        self.m1 = fit.Refitter(spec.m1_spec(self.d1.layout), self.d1, study.sampler)
        self.m2 = fit.Refitter(spec.m2_spec(self.d2.layout), self.d2, study.sampler)
        self.guess = {w: synthetic.DEFAULT_GUESSABILITY[w][study.k - 1] for w in WORDS}

    def simulate(self, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Cells of one simulated study (fixed shapes: empty person-period cells kept)."""
        rng = np.random.default_rng(seed)
        return synthetic.simulate_world(self.world, self.groups, rng, keep_empty=True)

    def one_study(self, seed: int) -> pd.DataFrame:
        """Verdicts (both greeting levels) of one simulated study, with the M1-only verdict."""
        m1_cells, m2_cells = self.simulate(seed)
        m1 = self.m1.fit(m1_cells["successes"], m1_cells["trials"], seed, "M1")
        m2 = self.m2.fit(m2_cells["events"], m2_cells["at_risk"], seed, "M2")
        result = judge(self.study, 1.0, m1, m2, self.guess, seed)
        verdicts = result.verdicts.copy()
        verdicts["greeting"] = verdicts["greeting"].astype(bool)
        m1_only = {
            (c.scope, c.word, bool(c.greeting)): decide_draws(
                c.delta, self.study.rope, converged=m1.converged, prob=self.study.ci_prob
            ).verdict
            for c in result.contrasts
        }
        verdicts["verdict_m1_only"] = [
            m1_only[(s, None if pd.isna(w) else w, g)]
            for s, w, g in zip(
                verdicts["scope"], verdicts["word"], verdicts["greeting"], strict=True
            )
        ]
        verdicts["seed"] = seed
        verdicts["seconds"] = m1.diagnostics["seconds"] + m2.diagnostics["seconds"]
        verdicts["m1_attempts"] = len(m1.diagnostics["attempts"])
        verdicts["m2_attempts"] = len(m2.diagnostics["attempts"])
        verdicts["m1_converged"] = m1.converged
        verdicts["m2_converged"] = m2.converged
        return verdicts


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Verdict shares per world x runs x scope, with Monte Carlo standard errors."""
    rows = []
    keys = ["world", "runs_per_word", "samples_per_run", "greeting", "scope"]
    for key, group in raw.groupby(keys, sort=False):
        n = len(group)
        shares = group["verdict"].value_counts(normalize=True)
        p_real = float(shares.get("real", 0.0))
        rows.append(
            dict(zip(keys, key, strict=True))
            | {
                "n_sims": group["seed"].nunique(),
                "n_verdicts": n,
                "p_real": p_real,
                "p_fluke": float(shares.get("fluke", 0.0)),
                "p_inconclusive": float(shares.get("inconclusive", 0.0)),
                "p_not_converged": float(shares.get("not-converged", 0.0)),
                "mc_se_real": _clustered_se(group),
                "p_real_if_converged": float(
                    (group.loc[group["converged"].astype(bool), "verdict"] == "real").mean()
                ),
                "p_real_m1_only": float((group["verdict_m1_only"] == "real").mean()),
                **_retry_shares(group),
            }
        )
    return pd.DataFrame(rows)


def _retry_shares(group: pd.DataFrame) -> dict[str, float]:
    """Share of studies whose M1 / M2 fit needed a second attempt (runs before retries: NaN)."""
    if "m2_attempts" not in group:
        return {"p_m1_retried": float("nan"), "p_m2_retried": float("nan")}
    studies = group.drop_duplicates("seed")
    return {
        "p_m1_retried": float((studies["m1_attempts"] > 1).mean()),
        "p_m2_retried": float((studies["m2_attempts"] > 1).mean()),
    }


def _clustered_se(group: pd.DataFrame) -> float:
    """MC standard error of the real share, clustered by simulated study."""
    per_study = group.assign(real=group["verdict"] == "real").groupby("seed")["real"]
    totals, sizes = per_study.sum().to_numpy(float), per_study.size().to_numpy(float)
    p = totals.sum() / sizes.sum()
    k = len(sizes)
    if k < 2:
        return float("nan")
    var = k / (k - 1) * np.sum((totals - p * sizes) ** 2) / sizes.sum() ** 2
    return float(np.sqrt(var))


def markdown_table(table: pd.DataFrame) -> str:
    """A pipe table (no tabulate dependency)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_markdown(table: pd.DataFrame, seconds: float, settings, path: Path) -> None:
    """oc.md: the numbers and how they were made."""
    word = table[table["scope"] == "word"]
    lines = [
        "# Operating characteristics of the verdict rule",
        "",
        "Made by `benchmarks/operating_characteristics.py` "
        f"({seconds / 60:.1f} min; sampler: {settings.draws} draws + {settings.tune} tune x "
        f"{settings.chains} chains, target_accept {settings.target_accept}, "
        f"{getattr(settings, 'retries', 0)} retry after a missed gate with twice the draws "
        "and target_accept 0.99 after divergences). "
        f"Each simulated study: words {', '.join(WORDS)}; runs per word as listed; one prompt "
        f"per greeting level x {SAMPLES_PER_PROMPT} samples (so {2 * SAMPLES_PER_PROMPT} "
        "trials per run); one base model. The greeting 'hello' leaks HELLO (a fine-tuned hazard "
        "boost at lines with <= k letters visible, `b_leak`), in both worlds. Verdicts are "
        "listed for both greeting levels; the primary estimand is the one without.",
        "",
        "`p_real_m1_only`: the share of `real` had M1's Delta alone decided (no M2 check). "
        "`p_real_if_converged`: the share of `real` among verdicts whose fits passed every "
        "gate (the power the rule has once sampling works). Verdicts can be re-derived from "
        "the stored intervals with `--rejudge` after a change of the rule (not of the models).",
        "MC error: standard error of `p_real`, clustered by simulated study. "
        "`p_m1_retried`, `p_m2_retried`: share of studies whose fit missed a gate at first "
        "and was sampled again (`converged` is the final attempt's).",
        "",
        markdown_table(table),
        "",
        "## Reading",
        "",
    ]
    for greeting, label in ((False, "no greeting (primary)"), (True, "greeting 'hello'")):
        null = word[(word["world"] == "null") & (word["greeting"] == greeting)]
        for _, row in null.iterrows():
            lines.append(
                f"- Null world, {label}, {row.runs_per_word} runs per word: false `real` "
                f"rate {row.p_real:.3f} (MC se {row.mc_se_real:.3f}, {row.n_verdicts} word "
                f"verdicts from {row.n_sims} studies); M1 alone would say `real` "
                f"{row.p_real_m1_only:.3f}."
            )
        genuine = word[(word["world"] == "genuine") & (word["greeting"] == greeting)]
        curve = ", ".join(
            f"{r.runs_per_word} runs: {r.p_real:.2f} (M1 alone {r.p_real_m1_only:.2f}, "
            f"not converged {r.p_not_converged:.2f})"
            for _, r in genuine.iterrows()
        )
        lines.append(f"- Power (share `real`, word level, genuine world, {label}): {curve}.")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=10, help="simulated studies per setting")
    parser.add_argument("--null-sims", type=int, default=25, help="studies per null setting")
    parser.add_argument("--draws", type=int, default=config.DRAWS)
    parser.add_argument("--tune", type=int, default=config.TUNE)
    parser.add_argument("--backend", default="auto", choices=fit.BACKENDS)
    parser.add_argument(
        "--retries",
        type=int,
        default=config.RETRIES,
        help="refits after a missed gate (as in analysis/study.yaml)",
    )
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="added to every study's seed: fresh simulated studies (e.g. to confirm a rule "
        "chosen on the default seeds)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORLD:RUNS",
        help="run only these settings, e.g. genuine:16 null:4",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="re-apply the current decision rule to the intervals stored in "
        "oc_verdicts.csv (no refitting: the rule, not the models, changed)",
    )
    args = parser.parse_args()
    if args.rejudge:
        rejudge(args.out)
        return
    study = parse_study(
        {
            "sensitivity": [],
            "extra_outcomes": [],
            "sampler": {
                "draws": args.draws,
                "tune": args.tune,
                "backend": args.backend,
                "retries": args.retries,
            },
        }
    )
    start = time.perf_counter()
    frames = []
    settings = [
        (name, world, runs)
        for name, world, runs in SETTINGS
        if not args.only or f"{name}:{runs}" in args.only
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, world, runs in settings:
        sims = args.null_sims if name == "null" else args.sims
        base_seed = config.SEED + 1000 * runs + (0 if name == "null" else 500) + args.seed_offset
        setting = Setting(world, runs, study, base_seed)
        for i in range(sims):
            t0 = time.perf_counter()
            verdicts = setting.one_study(base_seed + i).assign(
                world=name, runs_per_word=runs, samples_per_run=2 * SAMPLES_PER_PROMPT
            )
            frames.append(verdicts)
            # written as it goes, so that a stopped run keeps its studies
            pd.concat(frames, ignore_index=True).to_csv(args.out / "oc_verdicts.csv", index=False)
            print(
                f"{name:8s} runs={runs} sim={i:3d} {time.perf_counter() - t0:5.1f}s "
                f"{dict(verdicts['verdict'].value_counts())}",
                flush=True,
            )
    raw = pd.concat(frames, ignore_index=True)
    seconds = time.perf_counter() - start
    table = summarise(raw)
    table.to_csv(args.out / "oc.csv", index=False)
    raw.to_csv(args.out / "oc_verdicts.csv", index=False)
    run = {"seconds": seconds, "seed_offset": args.seed_offset} | {
        k: getattr(study.sampler, k)
        for k in ("draws", "tune", "chains", "target_accept", "retries")
    }
    (args.out / "oc_run.json").write_text(json.dumps(run, indent=1))
    write_markdown(table, seconds, study.sampler, args.out / "oc.md")
    print(table.to_string())


def rejudge(out: Path) -> None:
    """Re-apply :func:`decide` and the leak guard to the stored intervals of a run."""
    raw = pd.read_csv(out / "oc_verdicts.csv", keep_default_na=False, na_values=[""])
    rope = float(raw["rope"].iloc[0])
    verdicts = []
    for row in raw.itertuples():
        intro = (row.intro_low, row.intro_high) if row.basis == "M1+M2" else None
        verdicts.append(
            decide(
                (row.hdi_low, row.hdi_high), rope, intro_hdi=intro, converged=bool(row.converged)
            )
        )
    raw["verdict"] = [d.verdict for d in verdicts]
    raw["reason"] = [d.reason for d in verdicts]
    leaking = {(w, True) for w in NULL.leak_words}
    parts = [
        S.guard_leaking_rows(group, leaking)
        for _, group in raw.groupby(["world", "runs_per_word", "seed"], sort=False)
    ]
    raw = pd.concat(parts).sort_index()
    raw.to_csv(out / "oc_verdicts.csv", index=False)
    table = summarise(raw)
    table.to_csv(out / "oc.csv", index=False)
    run = json.loads((out / "oc_run.json").read_text())
    sampler = argparse.Namespace(**{k: v for k, v in run.items() if k != "seconds"})
    write_markdown(table, run["seconds"], sampler, out / "oc.md")
    print(table.to_string())


if __name__ == "__main__":
    main()
