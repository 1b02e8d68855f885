"""Model specifications as plain data: terms and priors, no PyMC import.

A :class:`ModelSpec` lists the terms of a logit-linear predictor and their priors.
:mod:`stats.model.build` turns it into a PyMC model; :mod:`stats.model.synthetic`
draws from the same generative process with NumPy. Keeping the specification free
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
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from stats import config

PriorKind = Literal["normal", "halfnormal"]
TermKind = Literal["intercept", "random_walk", "slope", "contrast", "group"]
Link = Literal["identity", "softplus"]
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
class Prior:
    """A prior distribution written as data.

    Parameters
    ----------
    kind : {"normal", "halfnormal"}
        Distribution family.
    sigma : float
        Scale (standard deviation of the normal, or of the half-normal's parent).
    mu : float, default 0.0
        Location (normal only).
    """

    kind: PriorKind
    sigma: float
    mu: float = 0.0

    def scaled(self, factor: float) -> Prior:
        """The same prior with its scale multiplied by ``factor`` (location unchanged)."""
        return replace(self, sigma=self.sigma * factor)


@dataclass(frozen=True)
class Term:
    """One additive term of the linear predictor.

    Parameters
    ----------
    name : str
        Parameter name in the posterior, e.g. ``"b_greet"``, ``"u_word"``.
    kind : {"intercept", "random_walk", "slope", "contrast", "group"}
        ``intercept``: one scalar. ``random_walk``: one value per level of ``input``
        (``a_line``), a Gaussian random walk whose first value has ``prior`` and whose
        steps have the prior ``step`` (a fixed scale: with hundreds of trials at risk
        per line, a learnt step scale made a funnel that NUTS diverged in).
        ``slope``: scalar times the numeric ``input``. ``contrast``: one value per
        non-reference level of the categorical ``input`` (reference level offset 0).
        ``group``: a partially pooled effect per level of ``input``, non-centred:
        ``sd * z`` with ``z`` standard (zero-sum when ``zero_sum``) and ``sd ~ sd_prior``.
    input : str or None
        Design column the term reads (numeric for slopes, a dimension for the others).
    prior : Prior or None
        Prior of the value(s) (intercept, random walk start, slope, contrast).
    multiplier : str or None
        Numeric design column multiplying a group effect (e.g. ``"finetuned"`` turns
        ``d_word`` into a word-specific fine-tuning effect).
    sd_name : str or None
        Name of the standard deviation parameter (group and random-walk terms).
    sd_prior : Prior or None
        Prior of that standard deviation.
    step : Prior or None
        Prior of each random-walk step.
    zero_sum : bool
        Group effects sum to zero over levels (``pm.ZeroSumNormal``); the intercept
        then carries the mean, which removes the intercept/word-effect ridge.
    zero_sum_within : str or None
        Group effects sum to zero within each level of this cell column (prompts within
        greeting level: otherwise the prompt effects and ``b_greet`` trade off, and NUTS
        diverged in that ridge).
    centred : bool
        Sample the effects directly (``Normal(0, sd)``) instead of ``sd * z``. Chosen
        when the data pin every level (see :attr:`Layout.pinned`): then the non-centred
        form is a curved ridge (measured: 125 vs 20 leapfrog steps, and divergences),
        while with weakly informed levels the centred form is a funnel.
    sd_fixed : float or None
        A group term whose sd is this fixed prior scale rather than a parameter
        (``sd_name`` and ``sd_prior`` are then None): the effects are sampled directly,
        ``Normal(0, sd_fixed)`` (zero-sum when ``zero_sum``), with neither funnel nor
        ridge. For terms over a handful of levels, whose sd the data cannot estimate.
    around : str or None
        A zero-sum ``sd_fixed`` group term only: the slope term (Normal prior) whose
        value the effects deviate around. The per-level totals ``t = slope + effect`` are
        multivariate normal with the covariance their priors imply; the slope is their
        mean and the effects their deviations. They are sampled as the per-level
        *levels* ``<name>_level`` = ``base + t``, ``base`` being the intercept and the
        plain group effect over the same input (``a + u_word[w]``): the logit of a word's
        cells with the greeting. The same model (a linear reparametrisation with unit
        Jacobian), but the data pin each level on its own. As totals, a word whose cells
        without the greeting are all zero and with it are not (the greeting leaks HELLO)
        put ``u_word``, ``a`` and the total on a ridge that NUTS diverged in (1-12
        divergences per fit on an independent study, prior x1 and x2; none as levels,
        and 30 instead of 40-45 leapfrog steps).
    link : {"identity", "softplus"}
        Group terms only. ``softplus``: the effect of a level is ``softplus(loc + sd * z)``,
        always positive (introspection can only add to the hazard); ``loc`` is the scalar
        parameter ``loc_name`` with prior ``loc_prior``.
    loc_name : str or None
        Name of the location of a ``softplus`` group term (``b_intro``).
    loc_prior : Prior or None
        Its prior.
    doc : str
        What the term means.
    """

    name: str
    kind: TermKind
    input: str | None = None
    prior: Prior | None = None
    multiplier: str | None = None
    sd_name: str | None = None
    sd_prior: Prior | None = None
    step: Prior | None = None
    zero_sum: bool = False
    zero_sum_within: str | None = None
    centred: bool = False
    sd_fixed: float | None = None
    around: str | None = None
    link: Link = "identity"
    loc_name: str | None = None
    loc_prior: Prior | None = None
    doc: str = ""

    @property
    def sd_free(self) -> bool:
        """Whether the term's sd is a sampled parameter (a group term without ``sd_fixed``)."""
        return self.kind == "group" and self.sd_fixed is None

    def scaled(self, factor: float) -> Term:
        """The term with every prior scale multiplied by ``factor``."""
        return replace(
            self,
            prior=self.prior.scaled(factor) if self.prior else None,
            sd_prior=self.sd_prior.scaled(factor) if self.sd_prior else None,
            step=self.step.scaled(factor) if self.step else None,
            sd_fixed=self.sd_fixed * factor if self.sd_fixed is not None else None,
            loc_prior=self.loc_prior.scaled(factor) if self.loc_prior else None,
        )


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

    def to_dict(self) -> dict:
        """JSON-serialisable form (used for the cache key and the fit's attributes)."""
        return asdict(self)

    def digest(self) -> str:
        """Stable hash of the specification."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Layout:
    """Which factors vary in the data: decides which terms are identifiable.

    Parameters
    ----------
    n_words, n_runs, n_prompts : int
        Number of distinct levels.
    arms : tuple of str
        Arms present.
    greeting_varies : bool
        Both greeting and no-greeting cells exist.
    n_examples_varies, lr_varies : bool
        More than one training-set size / learning-rate multiplier among fine-tunes.
    prompts_within_greeting : bool
        Some greeting level has two or more prompts (otherwise prompt effects are
        confounded with the greeting effect and are left out).
    guessability_varies : bool
        M2 only: the clipped guessability takes more than one value.
    leak_varies : bool
        M2 only: fine-tuned early lines occur both with and without a leaking prompt.
    pinned : frozenset of str
        Group terms (keyed ``"word"``, ``"word*baseline"``, ``"word*greeting"``,
        ``"word*intro"``, ``"run"``) whose every level has a standard error below
        :data:`PINNED_SE` from its own cells and whose levels clearly differ: they are
        sampled centred (see :func:`stats.model.design.pinned_terms`).
    """

    n_words: int
    n_runs: int
    n_prompts: int
    arms: tuple[str, ...]
    greeting_varies: bool
    n_examples_varies: bool
    lr_varies: bool
    prompts_within_greeting: bool
    guessability_varies: bool = False
    leak_varies: bool = False
    pinned: frozenset[str] = frozenset()

    def centred(self, dim: str, multiplier: str | None = None) -> bool:
        """Whether the group term over ``dim`` (times ``multiplier``) is pinned by the data."""
        return group_key(dim, multiplier) in self.pinned


#: A group term is sampled centred when every level's effect has a standard error below
#: this (logit scale) from its own cells: much tighter than the HalfNormal(1) sd prior.
PINNED_SE = 0.2
#: Fixed prior scale of the word x greeting effects ``g_word``. Not learnt: a handful of
#: words cannot estimate it, and a learnt sd made M2 at 32 runs per word miss its gates
#: (R-hat 1.02-1.04, ESS 200-290: the sd/effect ridge, measured on the OC design).
GREET_WORD_SD = 2.5
#: Multipliers that define word-level group terms.
GROUP_KEYS = (
    ("word", None),
    ("word", "baseline"),
    ("word", "greeting"),
    ("word", "intro"),
    ("run", None),
)


def z_name(term: Term) -> str:
    """Name of the standardised (raw) variable of a non-centred group term."""
    return f"{term.name}_z"


def level_name(term: Term) -> str:
    """Name of the sampled per-level levels of a group term with ``around`` set."""
    return f"{term.name}_level"


def group_key(dim: str, multiplier: str | None) -> str:
    """Key of a group term in :attr:`Layout.pinned`."""
    return dim if multiplier is None else f"{dim}*{multiplier}"


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
            Term("b_greet", "slope", "greeting", _normal(1.0), doc="prompt opens with a greeting")
        )
    other_arms = [a for a in config.ARMS if a in layout.arms and a != REFERENCE_ARM]
    if REFERENCE_ARM in layout.arms and other_arms:
        # Arm offsets shift a whole population rate, like the intercept: same scale.
        terms.append(
            Term(
                "b_arm",
                "contrast",
                "arm",
                _normal(1.5),
                doc=f"arm offset from {REFERENCE_ARM} (logit)",
            )
        )
    if layout.n_words >= 2:
        terms.append(
            Term(
                "u_word",
                "group",
                "word",
                sd_name="sd_word",
                sd_prior=_half(1.0),
                zero_sum=True,
                centred=layout.centred("word"),
                doc="word effect (fine-tuned arm, and all arms unless d_word is present)",
            )
        )
        if REFERENCE_ARM in layout.arms and other_arms:
            terms.append(
                Term(
                    "d_word",
                    "group",
                    "word",
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
                Term(
                    "g_word",
                    "group",
                    "word",
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
            Term(
                "u_run",
                "group",
                "run",
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
        Term("a", "intercept", prior=_normal(1.5, logit(INTERCEPT_RATE)), doc="intercept (logit)")
    ]
    if layout.n_examples_varies:
        terms.append(Term("b_n", "slope", "x_n", _normal(1.0), doc="log2(n_examples/10), per 2 sd"))
    if layout.lr_varies:
        terms.append(
            Term("b_lr", "slope", "x_lr", _normal(1.0), doc="log2(lr_multiplier), per 2 sd")
        )
    terms += _shared_terms(layout)
    if layout.prompts_within_greeting:
        terms.append(
            Term(
                "u_prompt",
                "group",
                "prompt",
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
        Term(
            "a_line",
            "random_walk",
            "line",
            prior=_normal(1.5, logit(INTERCEPT_RATE)),
            step=_normal(RW_STEP),
            doc=f"baseline hazard per line (random walk, steps ~ Normal(0, {RW_STEP}))",
        )
    ]
    if layout.guessability_varies:
        terms.append(
            Term("c", "slope", "logit_g", _normal(1.0), doc="logit guessability, per 2 sd")
        )
    terms += _shared_terms(layout)
    if REFERENCE_ARM in layout.arms and any(a != REFERENCE_ARM for a in layout.arms):
        several = layout.n_words >= 2
        terms.append(
            Term(
                "intro_word",
                "group",
                "word",
                multiplier="intro",
                sd_name="sd_intro" if several else None,
                sd_prior=_half(1.0) if several else None,
                zero_sum=several,
                sd_fixed=None if several else 0.0,
                link="softplus",
                loc_name="b_intro",
                loc_prior=_normal(1.5),
                doc="introspection: extra fine-tuned hazard at lines with <= k letters "
                "visible, softplus(b_intro + v_intro[word]) >= 0",
            )
        )
        if layout.leak_varies:
            terms.append(
                Term(
                    "b_leak",
                    "slope",
                    "leak_intro",
                    _normal(1.5),
                    doc="leak: extra fine-tuned hazard at early lines when the prompt "
                    "contains the word (the introspection term is then learnt from "
                    "non-leaking prompts)",
                )
            )
    spec = ModelSpec("M2", "word_line", tuple(terms), 1.0, k)
    return spec.scaled(prior_scale) if prior_scale != 1.0 else spec
