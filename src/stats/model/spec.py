"""Model specifications as plain data: terms and priors, no PyMC import.

A :class:`ModelSpec` lists the terms of a logit-linear predictor and their priors; each
term is an instance of one class per kind (:mod:`stats.model.terms`), which knows its
priors, parameter names, NumPy draws and PyMC build. :mod:`stats.model.build` turns a
spec into a PyMC model; :mod:`stats.model.synthetic` draws from the same generative
process with NumPy. Keeping the specification free
of PyMC (as bambi separates its formula/spec layer from its backend) means priors
stay reviewable and testable without compiling anything, and the cache key of a fit
is simply the hash of this data.

Two models (analysis plan, section 3):

``M1`` (articulation success, binomial cells)
    ``logit p = a + b_greet*greeting + b_n*x_n + b_lr*x_lr + b_arm[arm]
    + u_word[word] + d_word[word]*baseline + g_word[word]*greeting
    + u_run[run] + u_prompt[prompt]``

``M2`` (discrete-time hazard of the first line naming the word, person-period cells)
    ``logit h = a_line[line] + c*logit_g + b_greet*greeting + b_arm[arm]
    + intro_word[word]*intro + b_leak*leak*intro + u_word[word] + d_word[word]*baseline
    + g_word[word]*greeting + u_run[run]``, with ``intro = finetuned * 1[letters_visible <= k]``,
    ``baseline = 1 - finetuned`` and the introspection effect of each word
    ``intro_word = softplus(b_intro + v_intro[word]) >= 0``.

Self-knowledge can only add to the hazard at the early lines. Without that constraint
the introspection term also took the *dip* of the early lines below a smooth line
profile (answers that explain themselves at line 4 name nothing at lines 1-2): on
independent studies ``b_intro`` came out credibly negative (-1.3, sd 0.35) and a word
genuinely named at line 1 in 22% of its answers got an introspective share of 0.05
[-0.04, 0.13]. With ``intro_word >= 0`` the early-line baseline is set by the words that
are not named early, and that word's share is 0.16 [0.11, 0.21] (``models.md``).

``u_word`` is the word effect of the fine-tuned arm (where most data are) and ``d_word`` the
word-specific shift of the baseline arms: parametrised this way round, the two are nearly
uncorrelated in the posterior (the other way round, NUTS needed twice the leapfrog steps).

Inputs ``x_n``, ``x_lr`` and ``logit_g`` are centred and divided by two standard
deviations (Gelman 2008), so their slopes share the ``Normal(0, 1)`` prior.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from stats import config
from stats.model.layout import Layout
from stats.model.terms import (
    Contrast,
    FixedGroupEffect,
    GroupEffect,
    Intercept,
    PositiveGroupEffect,
    Prior,
    RandomWalk,
    Slope,
    Term,
)

MODEL_NAMES = ("M1", "M2")
OUTCOMES = ("articulated_early", "articulated", "follows_pattern")

#: Reference arm of the ``b_arm`` contrasts (its offset is zero).
REFERENCE_ARM = "finetuned"
#: Prior mean of the intercept: logit of a 5% rate (analysis plan, section 3).
INTERCEPT_RATE = 0.05
#: Scale of M2's random-walk steps between line intercepts. The smoothness of the baseline
#: hazard is what separates an early excess (b_intro) from the line profile when the
#: baseline arm rarely names the word; 0.25 lets the logit hazard drift ~0.7 over 7 lines
#: (measured: with 0.5, b_intro's 95% HDI was 45% wider in the operating-characteristics
#: worlds). The prior-sensitivity refits scale it too.
RW_STEP = 0.25
#: Guessability is clipped to [GUESS_CLIP, 1 - GUESS_CLIP] before its logit is taken,
#: so that impossible words (g ~ 0) and fully visible words (g ~ 1) stay finite.
GUESS_CLIP = config.GUESS_CLIP


@dataclass(frozen=True)
class ModelSpec:
    """A complete model: family, outcome and terms.

    Parameters
    ----------
    name : {"M1", "M2"}
    outcome : str
        Trial outcome aggregated into the cells (M2: ``"word_line"``).
    terms : tuple of Term
    prior_scale : float
        Multiplier already applied to every prior scale (1 = the plan's priors).
    k : int
        "Early" cut-off on letters visible (used by M2's ``intro`` input).
    """

    name: str
    outcome: str
    terms: tuple[Term, ...]
    prior_scale: float = 1.0
    k: int = config.EARLY_K
    family: str = "binomial"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for term in self.terms:
            term.check(self)

    def term(self, name: str) -> Term:
        """The term called ``name`` (``KeyError`` naming the available terms)."""
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"{self.name} has no term {name!r}; terms: {[t.name for t in self.terms]}")

    def has(self, name: str) -> bool:
        """Whether a term called ``name`` is in the model."""
        return any(t.name == name for t in self.terms)

    def scaled(self, factor: float) -> ModelSpec:
        """The spec with all prior scales multiplied by ``factor`` (sensitivity refits)."""
        return replace(
            self,
            terms=tuple(t.scaled(factor) for t in self.terms),
            prior_scale=self.prior_scale * factor,
        )

    def absorbed(self) -> set[str]:
        """Terms sampled by another term together with its own values (``around``)."""
        return {name for t in self.terms if (name := t.absorbs()) is not None}

    def free_names(self) -> list[str]:
        """Names of the sampled (free) variables, as in the posterior."""
        absorbed = self.absorbed()
        return [n for t in self.terms if t.name not in absorbed for n in t.free_names()]

    def posterior_names(self) -> list[str]:
        """Every variable kept from a posterior: free parameters and effects."""
        return list(dict.fromkeys(n for t in self.terms for n in t.posterior_names()))

    def summary_names(self) -> list[str]:
        """Interpretable parameters reported in coefficient tables (no raw ``z``)."""
        return [n for t in self.terms for n in t.summary_names()]

    def gated_names(self) -> list[str]:
        """Quantities whose R-hat and ESS gate a fit.

        Every parameter on the scale it is interpreted on: intercepts, slopes, contrasts,
        standard deviations, line intercepts and the word- and prompt-level effects,
        rather than the auxiliary standardised ``z`` of non-centred terms (run effects:
        ``sd_run`` only, see :meth:`stats.model.terms.GroupEffect.gated_names`).
        """
        return [n for t in self.terms for n in t.gated_names()]

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        """Dimensions (beyond chain and draw) of every variable of the model."""
        out: dict[str, tuple[str, ...]] = {}
        for term in self.terms:
            out |= term.variable_dims()
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (used for the cache key and the fit's attributes)."""
        return {
            "name": self.name,
            "outcome": self.outcome,
            "terms": [t.to_dict() for t in self.terms],
            "prior_scale": self.prior_scale,
            "k": self.k,
            "family": self.family,
            "notes": list(self.notes),
        }

    def digest(self) -> str:
        """Stable hash of the specification."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


#: Fixed prior scale of the word x greeting effects ``g_word``. Not learnt: a handful of
#: words cannot estimate it, and a learnt sd made M2 at 32 runs per word miss its gates
#: (R-hat 1.02-1.04, ESS 200-290: the sd/effect ridge, measured on the OC design).
GREET_WORD_SD = 2.5


def logit(p: float) -> float:
    """Log-odds of a probability."""
    return math.log(p / (1 - p))


def _normal(sigma: float, mu: float = 0.0) -> Prior:
    return Prior("normal", sigma, mu)


def _half(sigma: float) -> Prior:
    return Prior("halfnormal", sigma)


def _shared_terms(layout: Layout) -> list[Term]:
    """Terms common to M1 and M2 (everything but the intercept and the hazard-only terms)."""
    terms: list[Term] = []
    if layout.greeting_varies:
        terms.append(
            Slope(
                name="b_greet",
                input="greeting",
                prior=_normal(1.0),
                doc="prompt opens with a greeting",
            )
        )
    other_arms = [a for a in config.ARMS if a in layout.arms and a != REFERENCE_ARM]
    if REFERENCE_ARM in layout.arms and other_arms:
        # Arm offsets shift a whole population rate, like the intercept: same scale.
        terms.append(
            Contrast(
                name="b_arm",
                input="arm",
                prior=_normal(1.5),
                doc=f"arm offset from {REFERENCE_ARM} (logit)",
            )
        )
    if layout.n_words >= 2:
        terms.append(
            GroupEffect(
                name="u_word",
                input="word",
                sd_name="sd_word",
                sd_prior=_half(1.0),
                zero_sum=True,
                centred=layout.centred("word"),
                doc="word effect (fine-tuned arm, and all arms unless d_word is present)",
            )
        )
        if REFERENCE_ARM in layout.arms and other_arms:
            terms.append(
                GroupEffect(
                    name="d_word",
                    input="word",
                    multiplier="baseline",
                    sd_name="sd_word_baseline",
                    sd_prior=_half(1.0),
                    zero_sum=True,
                    centred=layout.centred("word", "baseline"),
                    doc="word-specific offset of the baseline arms (base, control) from u_word",
                )
            )
        if layout.greeting_varies:
            terms.append(
                FixedGroupEffect(
                    name="g_word",
                    input="word",
                    multiplier="greeting",
                    zero_sum=True,
                    sd_fixed=GREET_WORD_SD,
                    around="b_greet",
                    doc="word-specific greeting effect (leakage: 'hello' leaks HELLO only), "
                    f"zero-sum Normal(0, {GREET_WORD_SD}) around b_greet",
                )
            )
    if layout.n_runs >= 2:
        terms.append(
            GroupEffect(
                name="u_run",
                input="run",
                sd_name="sd_run",
                sd_prior=_half(1.0),
                centred=layout.centred("run"),
                doc="run effect: trials of one fine-tune are correlated",
            )
        )
    return terms


def m1_spec(
    layout: Layout,
    outcome: str = "articulated_early",
    prior_scale: float = 1.0,
    k: int = config.EARLY_K,
) -> ModelSpec:
    """The articulation-success model M1 for a data layout.

    Parameters
    ----------
    layout : Layout
        Which factors vary; terms that the data cannot identify are left out.
    outcome : {"articulated_early", "articulated", "follows_pattern"}
    prior_scale : float, default 1.0
        Multiplier of every prior scale (0.5 and 2 for the sensitivity refits).
    k : int, default config.EARLY_K

    Returns
    -------
    ModelSpec
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown M1 outcome {outcome!r}; valid: {list(OUTCOMES)}")
    terms = [
        Intercept(name="a", prior=_normal(1.5, logit(INTERCEPT_RATE)), doc="intercept (logit)")
    ]
    if layout.n_examples_varies:
        terms.append(
            Slope(name="b_n", input="x_n", prior=_normal(1.0), doc="log2(n_examples/10), per 2 sd")
        )
    if layout.lr_varies:
        terms.append(
            Slope(
                name="b_lr", input="x_lr", prior=_normal(1.0), doc="log2(lr_multiplier), per 2 sd"
            )
        )
    terms += _shared_terms(layout)
    if layout.prompts_within_greeting:
        terms.append(
            GroupEffect(
                name="u_prompt",
                input="prompt",
                sd_name="sd_prompt",
                sd_prior=_half(1.0),
                zero_sum_within="greeting",
                doc="prompt effect (sums to zero within greeting level)",
            )
        )
    spec = ModelSpec("M1", outcome, tuple(terms), 1.0, k)
    return spec.scaled(prior_scale) if prior_scale != 1.0 else spec


def m2_spec(layout: Layout, prior_scale: float = 1.0, k: int = config.EARLY_K) -> ModelSpec:
    """The discrete-time hazard model M2 for a data layout.

    Parameters
    ----------
    layout : Layout
    prior_scale : float, default 1.0
    k : int, default config.EARLY_K
        Lines with ``letters_visible <= k`` get the introspection term.

    Returns
    -------
    ModelSpec
    """
    terms = [
        RandomWalk(
            name="a_line",
            input="line",
            prior=_normal(1.5, logit(INTERCEPT_RATE)),
            step=_normal(RW_STEP),
            doc=f"baseline hazard per line (random walk, steps ~ Normal(0, {RW_STEP}))",
        )
    ]
    if layout.guessability_varies:
        terms.append(
            Slope(name="c", input="logit_g", prior=_normal(1.0), doc="logit guessability, per 2 sd")
        )
    terms += _shared_terms(layout)
    if REFERENCE_ARM in layout.arms and any(a != REFERENCE_ARM for a in layout.arms):
        several = layout.n_words >= 2
        terms.append(
            PositiveGroupEffect(
                name="intro_word",
                input="word",
                multiplier="intro",
                sd_name="sd_intro" if several else None,
                sd_prior=_half(1.0) if several else None,
                zero_sum=several,
                loc_name="b_intro",
                loc_prior=_normal(1.5),
                doc="introspection: extra fine-tuned hazard at lines with <= k letters "
                "visible, softplus(b_intro + v_intro[word]) >= 0",
            )
        )
        if layout.leak_varies:
            terms.append(
                Slope(
                    name="b_leak",
                    input="leak_intro",
                    prior=_normal(1.5),
                    doc="leak: extra fine-tuned hazard at early lines when the prompt "
                    "contains the word (the introspection term is then learnt from "
                    "non-leaking prompts)",
                )
            )
    spec = ModelSpec("M2", "word_line", tuple(terms), 1.0, k)
    return spec.scaled(prior_scale) if prior_scale != 1.0 else spec
