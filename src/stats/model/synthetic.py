"""Parameter-level simulator: data drawn from the models' own generative process.

Used by the recovery tests, simulation-based calibration, operating characteristics
and the ``runs_needed`` assurance. It works on cells, not transcripts:

* :func:`draw_prior` (:mod:`stats.model.prior`, importable here) draws every parameter
  of a spec from its prior with NumPy, independently of the PyMC builder (SBC checks it);
* :func:`simulate_binomial` draws M1 cell counts given parameters;
* :func:`design_grid` lays out runs x prompts x samples, and :func:`simulate_world`
  runs the M2 hazard process line by line at cell level (``events_t ~ Binomial(at_risk_t,
  h_t)``, ``at_risk_{t+1} = at_risk_t - events_t``), returning M2 person-period cells and the
  M1 cells of ``articulated_early`` / ``articulated`` derived from the same events, so that
  both models see one world;
* :func:`world_trials` expands a world into a trial-level table with the TRIALS columns
  the tidy stage reads (for end-to-end tests of :func:`stats.model.fit_study`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import product

import numpy as np
import pandas as pd

from stats import config
from stats.model.design import M1_BY, M2_BY, M2_OPTIONAL, ModelData, m2_data
from stats.model.layout import Layout, pinned_terms
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.prior import draw_prior, prior_idata, prior_log_density  # noqa: F401 (callers)
from stats.model.spec import ModelSpec, m2_spec


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def simulate_binomial(
    spec: ModelSpec,
    data: ModelData,
    params: dict[str, np.ndarray],
    rng: np.random.Generator,
    draw: int = 0,
) -> np.ndarray:
    """Binomial counts per cell of ``data`` under one draw of ``params``."""
    one = {k: v[draw : draw + 1] for k, v in params.items()}
    p = expit(linear_predictor(spec, one, data.rows, DRAWS))[0]
    return rng.binomial(data.n, p)


def with_counts(data: ModelData, y: np.ndarray, n: np.ndarray | None = None) -> ModelData:
    """A copy of ``data`` with outcome counts ``y`` (and trials / at risk ``n``).

    The coding is unchanged; the layout's ``pinned`` terms are recomputed, as they depend
    on the counts. Cells with ``n = 0`` are allowed (they add nothing to the likelihood).
    """
    cells = data.cells.copy()
    y = np.asarray(y)
    n = data.n if n is None else np.asarray(n)
    y_col, n_col = ("successes", "trials") if data.model == "M1" else ("events", "at_risk")
    cells[y_col], cells[n_col] = y, n
    pinned = (
        pinned_terms(y, n, data.rows.inputs, data.rows.index, data.coords)
        if data.model == "M1"
        else frozenset()
    )
    return ModelData(
        data.model,
        cells,
        y,
        n,
        data.rows,
        data.coords,
        data.scaling,
        replace(data.layout, pinned=pinned),
        data.guessability,
    )


# ----------------------------------------------------------------------------- worlds
#: Made-up guessability g(w, letters visible) for simulated words: a common word becomes
#: guessable after three letters, a non-word never does.
DEFAULT_GUESSABILITY: dict[str, tuple[float, ...]] = {
    "HELLO": (0.002, 0.02, 0.25, 0.7, 0.97),
    "SHINE": (0.001, 0.01, 0.1, 0.5, 0.95),
    "PULSE": (0.001, 0.01, 0.08, 0.4, 0.95),
    "WATER": (0.002, 0.02, 0.2, 0.6, 0.97),
    "HELOL": (0.0005, 0.001, 0.001, 0.001, 0.001),
    "ICANSEE": (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05),
    "GREEN": (0.001, 0.01, 0.15, 0.5, 0.95),
    "MUSIC": (0.001, 0.01, 0.1, 0.5, 0.95),
}


def guessability_table(words: list[str]) -> pd.DataFrame:
    """``word, letters_visible, guessability`` for simulated words (unknown words: ~0)."""
    rows = []
    for word in words:
        values = DEFAULT_GUESSABILITY.get(word, tuple(0.001 for _ in word))
        rows += [(word, j + 1, g) for j, g in enumerate(values)]
    return pd.DataFrame(rows, columns=["word", "letters_visible", "guessability"])


def design_grid(
    words: list[str],
    *,
    n_examples: tuple[int, ...] = (10,),
    lr_multipliers: tuple[float, ...] = (1.0,),
    runs_per_cell: int = 2,
    greetings: tuple[bool, ...] = (False, True),
    prompts_per_greeting: int = 1,
    samples_per_prompt: int = 5,
    base_runs: int = 1,
    control_runs_per_word: int = 0,
    follow_rate: float | None = 0.75,
) -> pd.DataFrame:
    """One row per (run, prompt[, follows]): the sampling plan of a simulated study.

    Fine-tuned runs cover ``words x n_examples x lr_multipliers x runs_per_cell``; each
    base run (untuned model, no n_examples/LR) answers the prompts of every word; control
    runs (sham fine-tunes at the first n_examples/LR) are per word.

    With ``follow_rate``, the samples of fine-tuned and control runs are split into those
    that follow the acrostic (``follows``; their initials reveal the word line by line)
    and those that do not (guessability stays at its floor); base samples never follow.
    This within-line variation of guessability is what lets M2 tell ``c`` from the
    line profile, as in real data. ``None``: no split and no ``follows`` column.

    Returns
    -------
    DataFrame
        ``run_id, word, arm, greeting, n_examples, lr_multiplier, prompt_id, samples``
        (+ ``follows``).
    """
    prompts = [
        (g, f"{'g' if g else 'p'}{i}") for g in greetings for i in range(prompts_per_greeting)
    ]
    rows = []
    for word, n, lr, r in product(words, n_examples, lr_multipliers, range(runs_per_cell)):
        run = f"ft-{word}-{n}-{lr:g}-{r}"
        rows += [(run, word, "finetuned", g, n, lr, pid) for g, pid in prompts]
    for word, r in product(words, range(control_runs_per_word)):
        run = f"ctl-{word}-{r}"
        rows += [
            (run, word, "control", g, n_examples[0], lr_multipliers[0], pid) for g, pid in prompts
        ]
    for word, r in product(words, range(base_runs)):
        rows += [(f"base-{r}", word, "base", g, pd.NA, pd.NA, pid) for g, pid in prompts]
    out = pd.DataFrame(
        rows,
        columns=["run_id", "word", "arm", "greeting", "n_examples", "lr_multiplier", "prompt_id"],
    )
    out["n_examples"] = out["n_examples"].astype("Int64")
    out["lr_multiplier"] = out["lr_multiplier"].astype("Float64")
    out["samples"] = samples_per_prompt
    if follow_rate is None:
        return out
    tuned = out["arm"].isin(["finetuned", "control"]).to_numpy()
    followers = np.where(tuned, round(samples_per_prompt * follow_rate), 0)
    split = pd.concat(
        [
            out.assign(follows=True, samples=followers),
            out.assign(follows=False, samples=samples_per_prompt - followers),
        ],
        ignore_index=True,
    )
    split = split[split["samples"] > 0]
    return split.sort_values(["run_id", "prompt_id", "follows"], kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class World:
    """True parameters of the hazard process (M2's generative model) on the raw scales.

    ``logit h = a_line[line] + c*logit(g) + b_greet*greeting + b_arm[arm]
    + (b_intro + v_intro[word])*intro + u_word[word] + d_word[word]*baseline
    + g_word[word]*greeting + b_leak*leak*intro + u_run``, ``u_run ~ Normal(0, sd_run)``,
    with ``leak`` = greeting and word in ``leak_words`` (the greeting "hello" leaks HELLO:
    fine-tuned runs name it early, as in the seeds, without any introspection).

    ``c`` is per unit of raw logit guessability (converted to the standardised input).
    Null worlds for operating characteristics set ``b_intro = 0`` and no ``v_intro``:
    fine-tuned models articulate more at every line (``b_arm``), track guessability
    (``c``) and react to the leaking greeting (``b_greet``, ``g_word``), but hold no
    extra early knowledge.
    """

    a_line: tuple[float, ...] = (-4.0, -3.6, -3.3, -3.0, -2.8, -2.6, -2.5)
    c: float = 0.5
    b_greet: float = 0.8
    b_arm: dict[str, float] = field(default_factory=lambda: {"base": -1.0, "control": -0.8})
    b_intro: float = 0.0
    v_intro: dict[str, float] = field(default_factory=dict)
    u_word: dict[str, float] = field(default_factory=dict)
    d_word: dict[str, float] = field(default_factory=dict)
    g_word: dict[str, float] = field(default_factory=dict)
    b_leak: float = 0.0
    leak_words: tuple[str, ...] = ()
    sd_run: float = 0.3


def _skeleton(groups: pd.DataFrame, guess: pd.DataFrame, n_lines: int) -> pd.DataFrame:
    """Every (group, line) person-period cell, with letters visible and guessability."""
    lines = pd.DataFrame({"line": np.arange(1, n_lines + 1)})
    cells = groups.merge(lines, how="cross")
    length = cells["word"].str.len()
    cells["letters_visible"] = np.minimum(cells["line"], length).astype("int64")
    cells = cells.merge(guess, on=["word", "letters_visible"], how="left")
    cells["guessability"] = cells["guessability"].fillna(spec_floor())
    if "follows" in cells:
        cells.loc[~cells["follows"].astype(bool), "guessability"] = spec_floor()
    return cells


def spec_floor() -> float:
    """Guessability of an unknown word at any line."""
    return 0.001


def world_params(world: World, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The world's parameters as arrays in the coordinate order of ``data`` (one draw)."""
    coords = data.coords
    lines = np.asarray(coords["line"])
    a_line = np.array([world.a_line[min(t, len(world.a_line)) - 1] for t in lines])
    params = {
        "a_line": a_line[None, :],
        "c": np.array([world.c * data.scaling["logit_g"][1]]),
        "b_greet": np.array([world.b_greet]),
        "b_arm": np.array([[world.b_arm.get(a, 0.0) for a in coords["arm"]]]),
        # the world's introspection is additive on the logit scale (b_intro 0: none at
        # all); the models estimate it as softplus(b_intro + v_intro) >= 0
        "intro_word": np.array(
            [[world.b_intro + world.v_intro.get(w, 0.0) for w in coords["word"]]]
        ),
        "u_word": np.array([[world.u_word.get(w, 0.0) for w in coords["word"]]]),
        "d_word": np.array([[world.d_word.get(w, 0.0) for w in coords["word"]]]),
        "g_word": np.array([[world.g_word.get(w, 0.0) for w in coords["word"]]]),
        "b_leak": np.array([world.b_leak]),
        "u_run": rng.normal(0.0, world.sd_run, size=(1, len(coords["run"]))),
    }
    return params


def _group_keys(groups: pd.DataFrame) -> list[str]:
    return ["run_id", "word", "prompt_id"] + (["follows"] if "follows" in groups else [])


def world_hazards(
    world: World, groups: pd.DataFrame, rng: np.random.Generator, n_lines: int, k: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Person-period skeleton of ``groups`` (every line) and the true hazard of each cell.

    The skeleton is sorted by run, word, prompt (follows) and line, so hazards reshape
    to ``(groups, n_lines)``.
    """
    guess = guessability_table(sorted(groups["word"].unique()))
    skeleton = _skeleton(groups, guess, n_lines)
    skeleton["early"] = skeleton["letters_visible"] <= k
    skeleton["leak"] = skeleton["greeting"].astype(bool) & skeleton["word"].isin(world.leak_words)
    skeleton = skeleton.sort_values([*_group_keys(groups), "line"])
    coded = m2_data(skeleton.assign(events=0, at_risk=1), k=k)
    full = m2_spec(_full_layout(coded), k=k)
    params = world_params(world, coded, rng)
    eta = linear_predictor(full, params, coded.rows, DRAWS)[0]
    return coded.cells, expit(eta)


def _full_layout(data: ModelData) -> Layout:
    """A layout with every M2 term, so a world's parameters all enter its hazards."""
    return replace(
        data.layout,
        n_words=2,
        n_runs=2,
        arms=config.ARMS,
        greeting_varies=True,
        guessability_varies=True,
        leak_varies=True,
    )


def simulate_world(
    world: World,
    groups: pd.DataFrame,
    rng: np.random.Generator,
    *,
    n_lines: int = 7,
    k: int = config.EARLY_K,
    keep_empty: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the hazard process of ``world`` on the plan ``groups`` at cell level.

    Parameters
    ----------
    world : World
    groups : DataFrame
        From :func:`design_grid` (one row per run x prompt, with ``samples``).
    rng : numpy.random.Generator
    n_lines : int, default 7
        Lines per response (no other censoring).
    k : int, default config.EARLY_K
    keep_empty : bool, default False
        Keep person-period cells with nobody at risk (fixed shapes across simulations).

    Returns
    -------
    m1_cells : DataFrame
        ``M1_BY`` + ``successes, trials`` of ``articulated_early``, plus ``successes_any``
        (``articulated`` on any line).
    m2_cells : DataFrame
        ``M2_BY`` + ``events, at_risk`` (cells with nobody at risk dropped unless
        ``keep_empty``), sorted by ``M2_BY``.
    """
    cells, hazard = world_hazards(world, groups, rng, n_lines, k)
    hazard = hazard.reshape(-1, n_lines)
    plan = cells.iloc[::n_lines].reset_index(drop=True)  # one row per group, in hazard order
    at_risk = np.zeros_like(hazard, dtype=np.int64)
    events = np.zeros_like(hazard, dtype=np.int64)
    remaining = plan["samples"].to_numpy(dtype=np.int64)
    for t in range(n_lines):
        at_risk[:, t] = remaining
        events[:, t] = rng.binomial(remaining, hazard[:, t])
        remaining = remaining - events[:, t]
    m2 = cells.copy()
    m2["events"] = events.ravel()
    m2["at_risk"] = at_risk.ravel()
    keys = [c for c in [*M2_BY, *M2_OPTIONAL] if c in m2]
    m2 = m2.groupby(keys, as_index=False)[["events", "at_risk"]].sum()
    if not keep_empty:
        m2 = m2[m2["at_risk"] > 0]
    m2 = m2.reset_index(drop=True)
    early = (cells["letters_visible"].to_numpy() <= k).reshape(-1, n_lines)
    m1 = plan[M1_BY].copy()
    m1["successes"] = (events * early).sum(axis=1)
    m1["successes_any"] = events.sum(axis=1)
    m1["trials"] = plan["samples"].to_numpy(dtype=np.int64)
    m1 = m1.groupby(M1_BY, sort=False, dropna=False, as_index=False)[
        ["successes", "successes_any", "trials"]
    ].sum()
    return m1, m2


def world_trials(
    world: World,
    groups: pd.DataFrame,
    rng: np.random.Generator,
    *,
    n_lines: int = 7,
    k: int = config.EARLY_K,
    follow_rate: float = 0.8,
) -> pd.DataFrame:
    """Trial-level table of the hazard process, with the TRIALS columns tidy reads.

    Each trial's first word line is drawn line by line from the world's hazards. Fine-tuned
    and control trials follow the acrostic with probability ``follow_rate`` (their initials
    spell the word, then ``X``); other trials' initials are ``Q``. Hazards do not depend on
    following (a simplification: the guessability the tidy stage recomputes from the
    initials is then a covariate, not the cause). There is no ``response`` text, so base
    trials carry their word already (no re-scoring).

    Returns
    -------
    DataFrame
        ``trial_id, run_id, word, arm, greeting, n_examples, lr_multiplier, prompt_id,
        sample_index, n_lines, acrostic_letters, follows_pattern, word_line,
        letters_visible, articulated, articulated_early, articulation_line``.
    """
    cells, hazard = world_hazards(world, groups, rng, n_lines, k)
    hazard = hazard.reshape(-1, n_lines)
    plan = cells.iloc[::n_lines].reset_index(drop=True)
    samples = plan["samples"].to_numpy(dtype=np.int64)
    owner = np.repeat(np.arange(len(plan)), samples)
    uniform = rng.random((len(owner), n_lines))
    named = uniform < hazard[owner]
    word_line = np.where(named.any(axis=1), named.argmax(axis=1) + 1, 0)
    trials = plan.iloc[owner].reset_index(drop=True)
    trials = trials[
        ["run_id", "word", "arm", "greeting", "n_examples", "lr_multiplier", "prompt_id"]
    ]
    trials.insert(0, "trial_id", [f"t{i:06d}" for i in range(len(trials))])
    trials["sample_index"] = np.concatenate([np.arange(n) for n in samples])
    if "follows" in plan:
        follows = plan["follows"].to_numpy(dtype=bool)[owner]
    else:
        tuned = trials["arm"].isin(["finetuned", "control"]).to_numpy()
        follows = tuned & (rng.random(len(trials)) < follow_rate)
    trials["n_lines"] = n_lines
    trials["acrostic_letters"] = [
        (w + "X" * n_lines)[:n_lines] if f else "Q" * n_lines
        for w, f in zip(trials["word"], follows, strict=True)
    ]
    trials["follows_pattern"] = follows
    trials["word_line"] = pd.array(np.where(word_line > 0, word_line, pd.NA), dtype="Int64")
    trials["articulation_line"] = trials["word_line"]
    trials["letters_visible"] = trials["word_line"]
    trials["articulated"] = word_line > 0
    trials["articulated_early"] = (word_line > 0) & (word_line <= k)
    return trials
