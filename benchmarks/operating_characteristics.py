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

The simulation and the verdicts are the planner's (:mod:`stats.plan`: the same code as
``stats plan``, with the study's rule and sampler settings from ``analysis/study.yaml``); this
script only names the benchmark's design (:func:`oc_design`), runs it and writes its files.
Studies are cached per setting (``--cache``): a stopped run resumes where it stopped, and
``--workers`` processes share the work.

Outputs ``benchmarks/results/oc.csv`` (columns of CONTRACTS.md plus ``scope``, ``n_verdicts``,
``mc_se_*``, ``p_real_if_converged``, ``p_real_m1_only``, retry shares), ``oc_verdicts.csv``,
``oc_run.json`` and ``oc.md``. Run::

    PYTENSOR_FLAGS=blas__ldflags= nice -n 10 .venv/bin/python benchmarks/operating_characteristics.py

(``--sims`` per setting; ``--draws``/``--tune``/``--backend``/``--retries`` change the
study's sampler settings). With PyMC's NUTS each study takes about half a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from stats import config
from stats import summarize as S
from stats.model import sample
from stats.model.decision import decide
from stats.plan.design import parse_plan
from stats.plan.runner import StudyDone, run_plan
from stats.plan.simulation import plan_study
from stats.plan.summary import OC_BY, markdown_table, summarise

RESULTS = config.BENCHMARK_RESULTS_DIR
WORDS = ["HELLO", "SHINE", "PULSE", "WATER"]
#: The null world: leakage + guessability, no introspection (the genuine world adds b_intro).
NULL = {
    "a_line": [-1.0, -1.0, -0.8, -0.6, -0.5, -0.4, -0.4],
    "c": 0.5,
    "b_greet": 0.8,
    "g_word": {"HELLO": 1.5, "SHINE": -0.5, "PULSE": -0.5, "WATER": -0.5},
    "b_arm": {"base": -2.5},
    "b_intro": 0.0,
    "u_word": {"HELLO": 0.3, "SHINE": -0.1, "PULSE": -0.2, "WATER": 0.0},
    "b_leak": 1.5,
    "leak_words": ["HELLO"],
    "sd_run": 0.3,
}
GENUINE_B_INTRO = 1.0
NULL_RUNS = [4, 16]
GENUINE_RUNS = [4, 8, 16, 32]
SAMPLES_PER_PROMPT = 8


def oc_design(sims: int, null_sims: int, seed_offset: int = 0, sampler: dict | None = None):
    """The benchmark's planning design: four words, one prompt per greeting level x 8 samples."""
    return parse_plan(
        {
            "name": "operating-characteristics",
            "seed": config.SEED + seed_offset,
            "word_types": {w: {"word": w, "follow_rate": 0.75} for w in WORDS},
            "world": NULL,
            "worlds": {
                "null": {"runs_per_word": NULL_RUNS, "sims": null_sims},
                "genuine": {"b_intro": GENUINE_B_INTRO, "runs_per_word": GENUINE_RUNS},
            },
            "samples_per_run": [2 * SAMPLES_PER_PROMPT],
            "sims": sims,
            "sampler": sampler or {},
        },
        "benchmarks/operating_characteristics.py",
    )


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
    parser.add_argument("--draws", type=int, help="sampler draws (default: the study's)")
    parser.add_argument("--tune", type=int, help="sampler tuning draws (default: the study's)")
    parser.add_argument("--backend", choices=sample.BACKENDS, help="default: the study's")
    parser.add_argument(
        "--retries", type=int, help="refits after a missed gate (default: the study's)"
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
        "--cache",
        type=Path,
        default=config.PROCESSED_DIR / "plan" / "oc-cache",
        help="per-study cache (a rerun resumes from it)",
    )
    parser.add_argument("--workers", type=int, help="worker processes (default: CPU count)")
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
    changes = {"draws": args.draws, "tune": args.tune, "backend": args.backend}
    changes["retries"] = args.retries
    design = oc_design(
        args.sims,
        args.null_sims,
        args.seed_offset,
        {k: v for k, v in changes.items() if v is not None},
    )
    run = run_plan(design, args.cache, workers=args.workers, only=args.only, progress=_print_study)
    raw = run.verdicts
    table = summarise(raw, OC_BY)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "oc.csv", index=False)
    raw.to_csv(args.out / "oc_verdicts.csv", index=False)
    sampler = plan_study(design).sampler
    facts = {"seconds": run.seconds, "seed_offset": args.seed_offset} | {
        k: getattr(sampler, k) for k in ("draws", "tune", "chains", "target_accept", "retries")
    }
    facts |= {"computed": run.computed, "cached": run.cached}
    (args.out / "oc_run.json").write_text(json.dumps(facts, indent=1))
    write_markdown(table, run.seconds, sampler, args.out / "oc.md")
    print(table.to_string())


def _print_study(event: StudyDone) -> None:
    source = "cached" if event.cached else f"{event.seconds:5.1f}s"
    print(f"{event.setting.label:14s} seed={event.seed} {source} {event.verdicts}", flush=True)


def rejudge(out: Path) -> None:
    """Re-apply :func:`decide` and the leak guard to the stored intervals of a run."""
    raw = pd.read_csv(out / "oc_verdicts.csv", keep_default_na=False, na_values=[""])
    rope = float(raw["rope"].iloc[0])
    verdicts = []
    for row in raw.itertuples():
        m2 = row.basis == "M1+M2"
        verdicts.append(
            decide(
                (row.hdi_low, row.hdi_high),
                rope,
                intro_hdi=(row.intro_low, row.intro_high) if m2 else None,
                intro_p_floor=row.intro_p_floor if m2 else None,
                converged=bool(row.converged),
            )
        )
    raw["verdict"] = [d.verdict for d in verdicts]
    raw["reason"] = [d.reason for d in verdicts]
    leaking = {(w, True) for w in NULL["leak_words"]}
    parts = [
        S.guard_leaking_rows(group, leaking)
        for _, group in raw.groupby(["world", "runs_per_word", "seed"], sort=False)
    ]
    raw = pd.concat(parts).sort_index()
    raw.to_csv(out / "oc_verdicts.csv", index=False)
    table = summarise(raw, OC_BY)
    table.to_csv(out / "oc.csv", index=False)
    run = json.loads((out / "oc_run.json").read_text())
    sampler = argparse.Namespace(**{k: v for k, v in run.items() if k != "seconds"})
    write_markdown(table, run["seconds"], sampler, out / "oc.md")
    print(table.to_string())


if __name__ == "__main__":
    main()
