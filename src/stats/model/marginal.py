"""Marginal rates from posterior (or prior) draws: counterfactual rows, averaged.

A :class:`Predictor` holds one model's draws and the data they were fitted to. A rate is
the model's probability for counterfactual rows (a fine-tuned run of word W, greeting g),
averaged over the study's fine-tuned training conditions (run-weighted) and the observed
prompts of that greeting, with the run effect of a new run integrated out by
Gauss-Hermite quadrature (a base run's known effects are averaged); a new word's effects
are drawn from the word-level distribution (:meth:`Predictor.new_word_effects`).
:func:`m1_rate` is M1's rate, :func:`m2_early_probability` M2's probability of naming the
word at a line with at most k letters visible. :mod:`stats.model.contrasts` turns them
into the verdicts' estimands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from stats import config
from stats.model.design import ModelData, Rows, clipped_logit, standardise
from stats.model.predictor import DRAWS, linear_predictor
from stats.model.spec import REFERENCE_ARM, ModelSpec

#: Gauss-Hermite nodes for integrating over a normal run effect.
QUADRATURE_NODES = 15
#: Terms left out for the no-introspection counterfactual.
INTRO_TERMS = ("intro_word",)


def hermite_rule() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of :data:`QUADRATURE_NODES`-point Gauss-Hermite
    quadrature of a standard normal."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    return nodes, weights / weights.sum()


@dataclass
class Predictor:
    """Draws of one model's parameters, and the data they were fitted to.

    Parameters
    ----------
    spec : ModelSpec
    data : ModelData
    params : dict of str to ndarray
        Posterior or prior draws, ``(S, ...)``.
    seed : int
        Seeds the new-word effect draws (the same draws serve every contrast).
    """

    spec: ModelSpec
    data: ModelData
    params: dict[str, np.ndarray]
    seed: int = config.SEED
    _new_word: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_draws(self) -> int:
        """Number of draws."""
        return len(next(iter(self.params.values())))

    def sd(self, name: str) -> np.ndarray:
        """Draws of a standard deviation (zeros when the model has no such term)."""
        return self.params.get(name, np.zeros(self.n_draws))

    def new_word_effects(self) -> dict[str, np.ndarray]:
        """Word effects of a new word, one per draw: ``{term name: (S,)}``.

        Each word-level term draws its own (:meth:`stats.model.terms.GroupTerm.new_level`):
        a deviation ``Normal(0, sd^2 (1 + 1/W))`` per draw, through ``softplus`` for a
        positive term.
        """
        if not self._new_word:
            rng = np.random.default_rng(self.seed)
            n_words = len(self.data.coords["word"])
            for term in self.spec.terms:
                if term.input == "word":
                    effect = term.new_level(self.params, rng, n_words)
                    if effect is not None:
                        self._new_word[term.name] = effect
        return self._new_word

    def has_arm(self, arm: str, word: str | None = None) -> bool:
        """Whether the data hold cells of ``arm`` (for ``word``, when given)."""
        cells = self.data.cells
        mask = cells["arm"] == arm
        if word is not None:
            mask &= cells["word"] == word
        return bool(mask.any())

    def word_code(self, word: str) -> int:
        """Index of ``word`` in the word coordinate."""
        return self.data.coords["word"].index(word)


def _conditions(pred: Predictor, arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x_n, x_lr`` values and weights to average over (fine-tuned design, run-weighted)."""
    rows = pred.data.rows
    if arm == "base" or "x_n" not in rows.inputs:
        return np.zeros(1), np.zeros(1), np.ones(1)
    cells = pred.data.cells
    tuned = (cells["arm"] == REFERENCE_ARM).to_numpy()
    if not tuned.any():
        return np.zeros(1), np.zeros(1), np.ones(1)
    frame = pd.DataFrame(
        {
            "run": cells["run_id"].to_numpy()[tuned],
            "x_n": rows.inputs["x_n"][tuned],
            "x_lr": rows.inputs["x_lr"][tuned],
        }
    ).drop_duplicates("run")
    grouped = frame.groupby(["x_n", "x_lr"]).size().reset_index(name="runs")
    weights = grouped["runs"].to_numpy(dtype=float)
    return grouped["x_n"].to_numpy(), grouped["x_lr"].to_numpy(), weights / weights.sum()


def _prompts(pred: Predictor, greeting: bool) -> list[int] | None:
    """Codes of observed prompts with this greeting (None: no prompt term or none observed)."""
    if not pred.spec.has("u_prompt"):
        return None
    cells = pred.data.cells
    ids = sorted(set(cells.loc[cells["greeting"] == greeting, "prompt_id"]))
    if not ids:
        return None
    return [pred.data.coords["prompt"].index(p) for p in ids]


def _base_runs(pred: Predictor, arm: str) -> list[int] | None:
    """Observed runs of the base arm (known models); None = integrate over a new run."""
    if arm != "base" or not pred.spec.has("u_run"):
        return None
    cells = pred.data.cells
    ids = sorted(set(cells.loc[cells["arm"] == "base", "run_id"]))
    return [pred.data.coords["run"].index(r) for r in ids] or None


def _leaks(pred: Predictor, word: str | None, greeting: bool) -> bool:
    """Whether the observed prompts of this word and greeting leak the word (M2 cells).

    A new word (``None``) is taken not to be leaked by the study's greeting.
    """
    cells = pred.data.cells
    if word is None or "leak" not in cells:
        return False
    mine = cells[(cells["word"] == word) & (cells["greeting"] == greeting)]
    return bool(mine["leak"].astype(bool).any())


def _arm_code(pred: Predictor, arm: str) -> int:
    if arm == REFERENCE_ARM:
        return 0
    return 1 + pred.data.coords["arm"].index(arm)


@dataclass
class Grid:
    """Counterfactual rows to average over: scenarios x lines (lines = 1 for M1)."""

    rows: Rows
    weights: np.ndarray  # (G,)
    n_lines: int
    new_run: bool


def _grid(
    pred: Predictor,
    word: str | None,
    arm: str,
    greeting: bool,
    lines: pd.DataFrame | None = None,
) -> Grid:
    x_n, x_lr, w_cond = _conditions(pred, arm)
    prompts = _prompts(pred, greeting)
    runs = _base_runs(pred, arm)
    prompt_list = prompts if prompts is not None else [None]
    run_list = runs if runs is not None else [None]
    scenarios = [(c, p, r) for c in range(len(x_n)) for p in prompt_list for r in run_list]
    weights = np.array([w_cond[c] / (len(prompt_list) * len(run_list)) for c, _, _ in scenarios])
    n_lines = 1 if lines is None else len(lines)
    size = len(scenarios) * n_lines
    finetuned = float(arm == REFERENCE_ARM)
    inputs = {
        "greeting": np.full(size, float(greeting)),
        "finetuned": np.full(size, finetuned),
        "baseline": np.full(size, 1.0 - finetuned),
        "x_n": np.repeat(x_n[[c for c, _, _ in scenarios]], n_lines),
        "x_lr": np.repeat(x_lr[[c for c, _, _ in scenarios]], n_lines),
    }
    index: dict[str, np.ndarray | None] = {
        "arm": np.full(size, _arm_code(pred, arm)),
        "word": None if word is None else np.full(size, pred.word_code(word)),
        "run": None if runs is None else np.repeat([r for _, _, r in scenarios], n_lines),
        "prompt": None if prompts is None else np.repeat([p for _, p, _ in scenarios], n_lines),
    }
    if lines is not None:
        inputs["logit_g"] = np.tile(lines["logit_g"].to_numpy(), len(scenarios))
        inputs["intro"] = np.tile(lines["early"].to_numpy(dtype=float), len(scenarios)) * finetuned
        inputs["leak_intro"] = inputs["intro"] * float(_leaks(pred, word, greeting))
        index["line"] = np.tile(lines["line_code"].to_numpy(), len(scenarios))
    rows = Rows(inputs, index, {"arm": len(pred.data.coords["arm"])})
    return Grid(rows, weights, n_lines, new_run=runs is None and pred.spec.has("u_run"))


def _extra_eta(pred: Predictor, grid: Grid, word: str | None) -> np.ndarray | float:
    """New-word effects added to the linear predictor (0 for an observed word)."""
    if word is not None:
        return 0.0
    extra = np.zeros((pred.n_draws, grid.rows.size))
    for term in pred.spec.terms:
        effect = pred.new_word_effects().get(term.name)
        if effect is not None:
            multiplier = grid.rows.inputs[term.multiplier] if term.multiplier else 1.0
            extra = extra + effect[:, None] * multiplier
    return extra


def _average(pred: Predictor, grid: Grid, eta: np.ndarray, reduce_lines: bool) -> np.ndarray:
    """Average ``expit(eta)`` over scenarios (integrating the run effect when new)."""
    draws = eta.shape[0]
    eta = eta.reshape(draws, len(grid.weights), grid.n_lines)
    if grid.new_run:
        nodes, node_w = hermite_rule()
        shift = pred.sd("sd_run")[:, None, None, None] * nodes
    else:
        nodes, node_w = np.zeros(1), np.ones(1)
        shift = np.zeros((draws, 1, 1, 1))
    prob = expit(eta[..., None] + shift)  # (S, G, L, Q)
    if reduce_lines:  # probability of an event on any of the lines
        prob = 1.0 - np.prod(1.0 - prob, axis=2)  # (S, G, Q)
    else:
        prob = prob[:, :, 0, :]
    return (prob @ node_w) @ grid.weights


def m1_rate(pred: Predictor, word: str | None, arm: str, greeting: bool) -> np.ndarray:
    """Draws of the expected M1 rate for ``word`` (None: a new word) in ``arm``."""
    grid = _grid(pred, word, arm, greeting)
    eta = linear_predictor(pred.spec, pred.params, grid.rows, DRAWS) + _extra_eta(pred, grid, word)
    return _average(pred, grid, eta, reduce_lines=False)


def early_lines(pred: Predictor, word: str | None) -> pd.DataFrame:
    """Lines with at most k letters visible for ``word``: ``line_code, logit_g, early``.

    The logit guessability is the observed one per word and line (mean over words
    for a new word or a line without data), standardised like the model's input.
    """
    table = pred.data.guessability
    k = pred.spec.k
    lines = pred.data.coords["line"]
    by_line = table.groupby("line").agg(
        letters_visible=("letters_visible", "median"), logit_g_raw=("logit_g_raw", "mean")
    )
    rows = []
    for code, line in enumerate(lines):
        hit = table[(table["word"] == word) & (table["line"] == line)] if word else table.iloc[:0]
        source = hit.iloc[0] if len(hit) else by_line.loc[line] if line in by_line.index else None
        visible = float(source["letters_visible"]) if source is not None else float(line)
        raw = float(source["logit_g_raw"]) if source is not None else float(clipped_logit([0.0])[0])
        if visible <= k:
            rows.append((code, raw))
    frame = pd.DataFrame(rows, columns=["line_code", "logit_g_raw"])
    frame["logit_g"] = standardise(frame["logit_g_raw"].to_numpy(), pred.data.scaling["logit_g"])
    frame["early"] = True
    return frame


def m2_early_probability(
    pred: Predictor,
    word: str | None,
    arm: str,
    greeting: bool,
    *,
    without_intro: bool = False,
) -> np.ndarray:
    """Draws of P(word named at a line with <= k letters visible) under M2."""
    lines = early_lines(pred, word)
    if lines.empty:
        return np.zeros(pred.n_draws)
    grid = _grid(pred, word, arm, greeting, lines)
    exclude = INTRO_TERMS if without_intro else ()
    eta = linear_predictor(pred.spec, pred.params, grid.rows, DRAWS, exclude=exclude)
    extra = _extra_eta(pred, grid, word)
    for name in INTRO_TERMS if without_intro and word is None else ():
        if name in pred.new_word_effects():
            extra = extra - pred.new_word_effects()[name][:, None] * grid.rows.inputs["intro"]
    return _average(pred, grid, eta + extra, reduce_lines=True)
