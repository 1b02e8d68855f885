"""The simulator's generative model: who follows the acrostic, and when the word is named.

Notation (one trial = one sampled response of run r, target word w of length L):

Follow (fine-tuned runs only; base and control runs never follow)::

    logit pi_r = intercept + per_doubling_n * log2(n_examples / 10)
                 + per_doubling_lr * log2(lr_multiplier)
                 + per_zipf * (zipf(w) - zipf_reference)
                 + per_letter * (L - length_reference) + word_offsets[w] + u_r,
    u_r ~ Normal(0, follow.sd_run)

Each sample independently *follows* (initials spell w) with probability pi_r; otherwise it
is a *near miss* (one letter at position j ~ Uniform{2..L} replaced) with probability
``near_miss_share``, else a *plain* answer of T ~ Uniform{plain_lines} lines.

Articulation: at line t (= letters_visible), before the word has been named, an
articulation event happens with hazard::

    h_t = 1 - prod_parts (1 - s(part_t, v_r)),   s(p, v) = expit(logit(p) + v),
    v_r ~ Normal(0, articulation[arm].sd_run)     (run-to-run variation; s(0, v) = 0)

with parts
    introspection  iota_w * intro_decay**(t - 1)  (only when the sample follows or nearly does)
    guessability   guess_scale * g(w, t)          (only while the visible initials are w's prefix)
    leakage        leak * leak_decay**(t - 1)     (only when the prompt contains w, e.g. "hello")
    background     background                     (any reason; base models too).

``intro_decay`` = 1 makes introspection equally likely at every line; < 1 front-loads it
(the prompt asks the model to "explain early"). An event's level is drawn from ``mix`` (vague / mechanism / word); the process stops at the
first *word* event. Hence the word hazard is m_t = h_t * mix["word"] and::

    P(articulated_early | run, mode) = 1 - prod_{t <= min(k, lines)} (1 - m_t)

which :func:`expected_rates` averages exactly over modes, near-miss positions, plain lengths
and both run effects (Gauss-Hermite quadrature, 64 nodes each; the two run effects are
independent, so the double integral factorises).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stats.simulate.design import LEVELS, Articulation, Follow

MODES = ("follow", "near_miss", "plain")
_QUADRATURE_NODES = 64


def expit(x: np.ndarray | float) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def shift_probability(p: np.ndarray | float, shift: np.ndarray | float) -> np.ndarray:
    """``expit(logit(p) + shift)``, keeping 0 and 1 fixed.

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1].
    shift : array_like
        Logit shifts (run effects), broadcast against ``p``.
    """
    p = np.asarray(p, dtype=float)
    shift = np.asarray(shift, dtype=float)
    inside = (p > 0.0) & (p < 1.0)
    safe = np.where(inside, p, 0.5)
    shifted = expit(np.log(safe) - np.log1p(-safe) + shift)
    return np.where(inside, shifted, p)


def follow_logit(
    follow: Follow, word: str, n_examples: int, lr_multiplier: float, zipf: float
) -> float:
    """Fixed part of logit P(follow) for a fine-tuned cell (no run effect)."""
    return (
        follow.intercept
        + follow.per_doubling_n * math.log2(n_examples / 10.0)
        + follow.per_doubling_lr * math.log2(lr_multiplier)
        + follow.per_zipf * (zipf - follow.zipf_reference)
        + follow.per_letter * (len(word) - follow.length_reference)
        + follow.word_offsets.get(word, 0.0)
    )


def line_hazards(
    params: Articulation,
    word: str,
    guess: Sequence[float],
    *,
    mode: str,
    n_lines: int,
    leak: bool,
    run_effect: float | np.ndarray = 0.0,
    miss_at: int | None = None,
) -> np.ndarray:
    """Per-line hazard h_t of an articulation event (any level), t = 1..n_lines.

    Parameters
    ----------
    params : Articulation
        The arm's true parameters.
    word : str
        Target word.
    guess : sequence of float
        g(word, j) for j = 1..len(word).
    mode : {"follow", "near_miss", "plain"}
        How the sample's initials relate to the word.
    n_lines : int
        Lines of the response.
    leak : bool
        The prompt contains the word.
    run_effect : float or ndarray
        The run's articulation effect v_r; an array adds a leading axis (quadrature nodes).
    miss_at : int, optional
        1-based position of the wrong letter of a near miss.

    Returns
    -------
    ndarray
        Shape ``(n_lines,)``, or ``(len(run_effect), n_lines)`` for an array of effects.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    t = np.arange(1, n_lines + 1)
    attempting = mode in ("follow", "near_miss")
    intro_first = params.introspection_for(word) if attempting else 0.0
    intro = intro_first * params.introspection_decay ** (t - 1)
    guess_part = np.zeros(n_lines)
    if attempting:
        visible = min(n_lines, len(guess))
        if mode == "near_miss":
            if miss_at is None:
                raise ValueError("a near miss needs miss_at")
            visible = min(visible, miss_at - 1)
        guess_part[:visible] = params.guess_scale * np.asarray(guess[:visible], dtype=float)
    leak_part = params.leak * params.leak_decay ** (t - 1) if leak else np.zeros(n_lines)
    background = np.full(n_lines, params.background)
    effect = np.asarray(run_effect, dtype=float)[..., None]
    survive = np.ones(np.broadcast_shapes(effect.shape, (n_lines,)))
    for part in (intro, guess_part, leak_part, background):
        survive = survive * (1.0 - shift_probability(part, effect))
    return 1.0 - survive


@dataclass(frozen=True)
class Outcome:
    """What the generative model decided for one trial (text comes later).

    Attributes
    ----------
    mode : str
        follow | near_miss | plain.
    initials : str | None
        The acrostic the response will have ("" for plain answers: free initials).
    n_lines : int
    events : dict[int, str]
        1-based line -> articulation level at that line.
    word_line : int | None
        First line naming the target word.
    """

    mode: str
    initials: str
    n_lines: int
    events: dict[int, str]
    word_line: int | None


def sample_mode(
    rng: np.random.Generator,
    follow_probability: float,
    near_miss_share: float,
    word: str,
    plain_lines: tuple[int, int],
) -> tuple[str, str, int, int | None]:
    """Draw a sample's mode, initials, number of lines and near-miss position.

    Parameters
    ----------
    rng : numpy.random.Generator
    follow_probability : float
        P(the initials spell the word).
    near_miss_share : float
        P(near miss | not following); a near miss replaces the letter at a position drawn
        uniformly from 2..L (the first letter is the best learnt).
    word : str
    plain_lines : tuple of int
        Inclusive range of a plain answer's number of lines.

    Returns
    -------
    tuple
        ``(mode, initials, n_lines, miss_at)``; ``initials`` is "" for a plain answer and
        ``miss_at`` is None unless the sample is a near miss.
    """
    u = rng.random()
    if u < follow_probability:
        return "follow", word, len(word), None
    if rng.random() < near_miss_share:
        miss_at = int(rng.integers(2, len(word) + 1))
        letters = [c for c in "ABCDEFGHIJKLMNOPRSTUVWY" if c != word[miss_at - 1]]
        wrong = letters[int(rng.integers(len(letters)))]
        initials = word[: miss_at - 1] + wrong + word[miss_at:]
        return "near_miss", initials, len(word), miss_at
    n_lines = int(rng.integers(plain_lines[0], plain_lines[1] + 1))
    return "plain", "", n_lines, None


def sample_outcome(
    rng: np.random.Generator,
    params: Articulation,
    word: str,
    guess: Sequence[float],
    *,
    follow_probability: float,
    near_miss_share: float,
    plain_lines: tuple[int, int],
    leak: bool,
    run_effect: float,
) -> Outcome:
    """Draw one trial's mode and articulation events from the generative model.

    Parameters
    ----------
    rng : numpy.random.Generator
    params : Articulation
        The arm's articulation parameters.
    word : str
        Target word.
    guess : sequence of float
        g(word, j) for j = 1..len(word).
    follow_probability : float
        P(follow) of the run (its run effect included).
    near_miss_share : float
        Share of near misses among samples that do not follow.
    plain_lines : tuple of int
        Range of plain-answer lengths.
    leak : bool
        The prompt contains the word.
    run_effect : float
        The run's articulation effect.

    Returns
    -------
    Outcome
    """
    mode, initials, n_lines, miss_at = sample_mode(
        rng, follow_probability, near_miss_share, word, plain_lines
    )
    hazards = line_hazards(
        params,
        word,
        guess,
        mode=mode,
        n_lines=n_lines,
        leak=leak,
        run_effect=run_effect,
        miss_at=miss_at,
    )
    shares = np.array([params.mix[level] for level in LEVELS])
    events: dict[int, str] = {}
    word_line = None
    for t in range(1, n_lines + 1):
        if rng.random() < hazards[t - 1]:
            level = LEVELS[int(rng.choice(len(LEVELS), p=shares))]
            events[t] = level
            if level == "word":
                word_line = t
                break
    return Outcome(mode, initials, n_lines, events, word_line)


# ----------------------------------------------------------------------------- exact rates
def _normal_nodes(sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights for E[f(Z)], Z ~ Normal(0, sd)."""
    if sd <= 0.0:
        return np.zeros(1), np.ones(1)
    x, w = np.polynomial.hermite_e.hermegauss(_QUADRATURE_NODES)
    return sd * x, w / w.sum()


def _named_by(hazards: np.ndarray, word_share: float, lines: int) -> np.ndarray:
    """P(word named at some line <= lines), per quadrature node."""
    m = hazards[..., :lines] * word_share
    return 1.0 - np.prod(1.0 - m, axis=-1)


@dataclass(frozen=True)
class Rates:
    """Exact expected rates of one arm x cell x prompt."""

    follows: float
    articulated_early: float
    articulated: float


def expected_rates(
    params: Articulation,
    word: str,
    guess: Sequence[float],
    *,
    k: int,
    leak: bool,
    follow_logit_fixed: float | None,
    follow_sd: float,
    near_miss_share: float,
    plain_lines: tuple[int, int],
    run_effects: Sequence[float] | None = None,
) -> Rates:
    """Expected P(follows), P(articulated_early), P(articulated) over runs and samples.

    Parameters
    ----------
    params : Articulation
        The arm's articulation parameters (its ``sd_run`` is integrated over).
    word : str
    guess : sequence of float
    k : int
        'Early' means the word is named at a line with letters_visible <= k.
    leak : bool
        The prompt contains the word.
    follow_logit_fixed : float or None
        Fixed part of logit P(follow); None for arms that never follow (base, control).
    follow_sd : float
        SD of the run effect on logit P(follow).
    near_miss_share : float
    plain_lines : tuple of int
        Range of plain-answer lengths.
    run_effects : sequence of float, optional
        Known articulation effects of specific runs (e.g. the study's base models): the
        rates are averaged over them instead of integrated over Normal(0, sd_run).

    Returns
    -------
    Rates
    """
    if run_effects is None:
        effects, weights = _normal_nodes(params.sd_run)
    else:
        effects = np.asarray(run_effects, dtype=float)
        weights = np.full(len(effects), 1.0 / len(effects))
    share = params.mix["word"]
    length = len(word)
    if follow_logit_fixed is None:
        follows = 0.0
    else:
        f_nodes, f_weights = _normal_nodes(follow_sd)
        follows = float(np.sum(f_weights * expit(follow_logit_fixed + f_nodes)))

    def by_mode(mode: str, n_lines: int, miss_at: int | None = None) -> tuple[float, float]:
        h = line_hazards(
            params,
            word,
            guess,
            mode=mode,
            n_lines=n_lines,
            leak=leak,
            run_effect=effects,
            miss_at=miss_at,
        )
        early = float(np.sum(weights * _named_by(h, share, min(k, n_lines))))
        ever = float(np.sum(weights * _named_by(h, share, n_lines)))
        return early, ever

    follow_early, follow_ever = by_mode("follow", length)
    misses = [by_mode("near_miss", length, j) for j in range(2, length + 1)]
    miss_early = float(np.mean([m[0] for m in misses]))
    miss_ever = float(np.mean([m[1] for m in misses]))
    plains = [by_mode("plain", n) for n in range(plain_lines[0], plain_lines[1] + 1)]
    plain_early = float(np.mean([p[0] for p in plains]))
    plain_ever = float(np.mean([p[1] for p in plains]))
    q = near_miss_share if follow_logit_fixed is not None else 0.0  # untuned arms answer plainly

    def mixture(follow_value: float, miss_value: float, plain_value: float) -> float:
        return follows * follow_value + (1.0 - follows) * (q * miss_value + (1.0 - q) * plain_value)

    return Rates(
        follows=follows,
        articulated_early=mixture(follow_early, miss_early, plain_early),
        articulated=mixture(follow_ever, miss_ever, plain_ever),
    )
