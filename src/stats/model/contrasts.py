"""The verdicts' estimands from posterior (or prior) draws: Delta and the introspective share.

Both are differences of marginal rates (:mod:`stats.model.marginal`). Estimands (analysis plan, section 5)::

    Delta(w, g) = P(articulated_early | finetuned, word w, greeting g)
                  - P(articulated_early | baseline, word w, greeting g)

* a **fine-tuned rate** is the expected rate of a *new* fine-tune of word w: averaged over
  the study's fine-tuned training conditions (n_examples, LR; run-weighted), over the
  observed prompts of greeting g, and integrated over the run effect
  ``u_run ~ Normal(0, sd_run)`` by Gauss-Hermite quadrature;
* a **baseline** is the best available of: the base arm (the observed untuned model(s),
  whose run effects are known, averaged), control fine-tunes (new control run, integrated),
  or the guessability-implied rate ``g(w, k)`` (a constant);
* **pooled** averages word-level rates over the study's words (every word tried,
  including failures); **new-word** draws fresh word effects from the word-level
  distribution, ``Normal(0, sd^2 (1 + 1/W))`` -- the zero-sum word effects are centred
  iid effects, so a new word's deviation from the fitted intercept has the extra
  ``sd^2/W`` of the unknown population mean.

M2 gives the **introspective share** ``Delta_intro(w, g) = P(early | finetuned) -
P(early | finetuned, intro_word = 0)``: the early-articulation probability that
the hazard model attributes to the introspection term rather than to guessability,
greeting and line, with ``P(early) = 1 - prod_{lines with <= k letters} (1 - h_t)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stats.model.marginal import INTRO_TERMS, Predictor, m1_rate, m2_early_probability
from stats.model.spec import REFERENCE_ARM

BASELINES = ("base", "control", "guessability")


def intro_share(pred: Predictor, word: str | None, greeting: bool) -> np.ndarray:
    """Draws of ``Delta_intro``: early-articulation probability due to the introspection term."""
    with_intro = m2_early_probability(pred, word, REFERENCE_ARM, greeting)
    without = m2_early_probability(pred, word, REFERENCE_ARM, greeting, without_intro=True)
    return with_intro - without


def choose_baseline(pred: Predictor, word: str | None, guess_at_k: dict[str, float]) -> str:
    """The best available baseline for ``word`` (None: any word in the study)."""
    for arm in ("base", "control"):
        if pred.spec.has("b_arm") and pred.has_arm(arm, word):
            return arm
    if word is None:
        return "guessability" if guess_at_k else "none"
    return "guessability" if word in guess_at_k else "none"


def baseline_rate(
    pred: Predictor,
    word: str | None,
    greeting: bool,
    baseline: str,
    guess_at_k: dict[str, float],
) -> np.ndarray:
    """Draws of the baseline rate (a constant array for the guessability baseline)."""
    if baseline in ("base", "control"):
        return m1_rate(pred, word, baseline, greeting)
    if baseline == "guessability":
        value = guess_at_k[word] if word is not None else float(np.mean(list(guess_at_k.values())))
        return np.full(pred.n_draws, value)
    return np.full(pred.n_draws, np.nan)


@dataclass
class Contrast:
    """Draws of one estimand for one scope."""

    scope: str
    word: str | None
    greeting: bool
    baseline: str
    finetuned: np.ndarray
    reference: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """Fine-tuned minus baseline rate."""
        return self.finetuned - self.reference


def deltas(pred: Predictor, guess_at_k: dict[str, float]) -> list[Contrast]:
    """Delta draws for every word, pooled and a new word, at each greeting level observed.

    Words are those with fine-tuned cells. Pooled averages over them (each word with its
    own best baseline); new-word uses the study-wide best baseline.
    """
    cells = pred.data.cells
    tuned_words = sorted(set(cells.loc[cells["arm"] == REFERENCE_ARM, "word"]))
    greetings = sorted(set(cells["greeting"]))
    out: list[Contrast] = []
    for greeting in greetings:
        per_word = []
        for word in tuned_words:
            baseline = choose_baseline(pred, word, guess_at_k)
            contrast = Contrast(
                "word",
                word,
                greeting,
                baseline,
                m1_rate(pred, word, REFERENCE_ARM, greeting),
                baseline_rate(pred, word, greeting, baseline, guess_at_k),
            )
            per_word.append(contrast)
        out += per_word
        if len(per_word) > 1:
            kinds = sorted({c.baseline for c in per_word})
            out.append(
                Contrast(
                    "pooled",
                    None,
                    greeting,
                    "+".join(kinds),
                    np.mean([c.finetuned for c in per_word], axis=0),
                    np.mean([c.reference for c in per_word], axis=0),
                )
            )
            if "word" in pred.data.coords and pred.spec.has("u_word"):
                baseline = choose_baseline(pred, None, guess_at_k)
                out.append(
                    Contrast(
                        "new-word",
                        None,
                        greeting,
                        baseline,
                        m1_rate(pred, None, REFERENCE_ARM, greeting),
                        baseline_rate(pred, None, greeting, baseline, guess_at_k),
                    )
                )
    return out


def intro_shares(pred: Predictor, contrasts: list[Contrast]) -> dict[tuple, np.ndarray]:
    """M2 ``Delta_intro`` draws keyed by ``(scope, word, greeting)`` of the M1 contrasts."""
    if not any(pred.spec.has(name) for name in INTRO_TERMS):
        return {}
    words_m2 = set(pred.data.coords["word"])
    out: dict[tuple, np.ndarray] = {}
    by_greeting: dict[bool, list[np.ndarray]] = {}
    for c in contrasts:
        if c.scope == "word" and c.word in words_m2:
            share = intro_share(pred, c.word, c.greeting)
            out[(c.scope, c.word, c.greeting)] = share
            by_greeting.setdefault(c.greeting, []).append(share)
    for c in contrasts:
        if c.scope == "pooled" and by_greeting.get(c.greeting):
            out[(c.scope, None, c.greeting)] = np.mean(by_greeting[c.greeting], axis=0)
        elif c.scope == "new-word" and pred.spec.has("u_word"):
            out[(c.scope, None, c.greeting)] = intro_share(pred, None, c.greeting)
    return out
