"""Priors and the interface every kind of term implements (plain Python, no PyMC import).

A term owns everything that depends on its kind: its priors and how prior scaling moves
them (:meth:`Term.scaled`), the names of its parameters (sampled, summarised, gated), its
draws from the prior with NumPy (:meth:`Term.draw`), the log density of the priors the spec
sets (:meth:`Term.add_log_prior`), its part of the linear predictor (:meth:`Term.add_to`)
and its PyMC variables (:meth:`Term.build`, through the :class:`stats.model.build.Builder`
it is handed, so that this package never imports PyMC itself). This is bambi's split of
``bambi.terms`` (what a term is) from ``bambi.backend.terms`` (how PyMC builds it), with
one class per kind instead of an ``if kind == ...`` chain in every consumer.

Terms are frozen dataclasses, so a :class:`~stats.model.spec.ModelSpec` of them stays
hashable and serialises to the fit-cache key (:meth:`Term.to_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from stats.model.design import ModelData, Rows
    from stats.model.spec import ModelSpec

PriorKind = Literal["normal", "halfnormal"]
PRIOR_KINDS = ("normal", "halfnormal")
#: PyMC distribution of each prior kind (looked up by the builder).
PYMC_DISTRIBUTIONS = {"normal": "Normal", "halfnormal": "HalfNormal"}


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

    def __post_init__(self) -> None:
        if self.kind not in PRIOR_KINDS:
            raise ValueError(f"unknown prior kind {self.kind!r}; valid: {list(PRIOR_KINDS)}")

    def scaled(self, factor: float) -> Prior:
        """The same prior with its scale multiplied by ``factor`` (location unchanged)."""
        return replace(self, sigma=self.sigma * factor)

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Draws of ``shape`` from the prior."""
        values = rng.normal(self.mu if self.kind == "normal" else 0.0, self.sigma, size=shape)
        return values if self.kind == "normal" else np.abs(values)

    def log_density(self, values: np.ndarray) -> np.ndarray:
        """Log density of ``values`` (leading draw axis), summed over the other axes."""
        from scipy import stats as sps

        values = np.asarray(values)
        values = values.reshape(len(values), -1)
        if self.kind == "normal":
            return sps.norm.logpdf(values, self.mu, self.sigma).sum(axis=1)
        return sps.halfnorm.logpdf(values, scale=self.sigma).sum(axis=1)

    def pymc_arguments(self) -> dict[str, float]:
        """Keyword arguments of the PyMC distribution :data:`PYMC_DISTRIBUTIONS` names."""
        if self.kind == "normal":
            return {"mu": self.mu, "sigma": self.sigma}
        return {"sigma": self.sigma}


def scaled_prior(prior: Prior | None, factor: float) -> Prior | None:
    """``prior.scaled(factor)``, None staying None."""
    return prior.scaled(factor) if prior is not None else None


@dataclass(frozen=True, kw_only=True)
class Term:
    """One additive term of the linear predictor (subclasses: one per kind).

    Parameters
    ----------
    name : str
        Parameter name in the posterior, e.g. ``"b_greet"``, ``"u_word"``.
    doc : str
        What the term means.

    Attributes
    ----------
    kind : str
        Family of the term (``intercept``, ``slope``, ``contrast``, ``random_walk``,
        ``group``), stored in the spec's dictionary form.
    population : bool
        A population-level coefficient (intercept, slope, contrast): summarised as is and
        compared with the frequentist GLM.
    input : str or None
        Design column (numeric) or dimension (categorical) the term reads.
    sd_name : str or None
        Name of the term's sampled standard deviation, if it has one.
    """

    name: str
    doc: str = ""

    kind: ClassVar[str] = ""
    population: ClassVar[bool] = False
    input: ClassVar[str | None] = None
    sd_name: ClassVar[str | None] = None

    # ----------------------------------------------------------------- spec
    @property
    def sd_free(self) -> bool:
        """Whether the term has a sampled standard deviation (:attr:`sd_name`)."""
        return self.sd_name is not None

    def scaled(self, factor: float) -> Term:
        """The term with every prior scale multiplied by ``factor``."""
        return self

    def absorbs(self) -> str | None:
        """Name of a term this one samples together with its own values (None: none)."""
        return None

    def check(self, spec: ModelSpec) -> None:
        """Raise ``ValueError`` when the term does not fit the rest of ``spec``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (its kind and every field), for the cache key."""
        return {"kind": self.kind, "class": type(self).__name__, **asdict(self)}

    # ----------------------------------------------------------------- names
    def free_names(self) -> list[str]:
        """Sampled (free) variables, as in the posterior."""
        return [self.name]

    def posterior_names(self) -> list[str]:
        """Every variable kept from a posterior: the free ones and the effects."""
        return self.free_names()

    def summary_names(self) -> list[str]:
        """Interpretable parameters of the coefficient table (no raw ``z``)."""
        return [self.name]

    def gated_names(self) -> list[str]:
        """Parameters whose R-hat and ESS gate a fit (on the scale they are read on)."""
        return [self.name]

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        """Dimensions (beyond chain and draw) of each variable the term puts in a posterior."""
        return {}

    def coords(self, coords: dict[str, list]) -> dict[str, list]:
        """Coordinates the PyMC model needs for this term."""
        return {}

    # ----------------------------------------------------------------- NumPy
    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        """Prior draws of the term's parameters and effects, ``(draws, ...)`` each."""
        raise NotImplementedError

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        """``total`` plus the log density, per draw, of the priors the spec's scales set.

        Standardised ``z`` and group effects of a learnt sd are left out: their density
        depends on parameters, not on the spec (prior-sensitivity power-scaling).
        """
        return total

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        """``eta`` plus this term's part of the linear predictor for ``rows``.

        ``value`` is the term's parameter (a PyTensor variable, or NumPy draws);
        ``ops`` (:class:`stats.model.predictor.Ops`) broadcasts it against the rows.
        """
        raise NotImplementedError

    def level_part(self, dim: str, params: dict[str, Any], ops: Any) -> Any | None:
        """This term's share of a level of ``dim`` (:func:`level_base`); None when none."""
        return None

    def new_level(
        self, params: dict[str, np.ndarray], rng: np.random.Generator, levels: int
    ) -> np.ndarray | None:
        """Draws of the effect of a new, unobserved level (None: not a group term)."""
        return None

    def design_columns(self, rows: Rows, coords: dict[str, list]) -> dict[str, np.ndarray]:
        """Fixed-effect design columns mirroring the term (the frequentist GLM)."""
        return {}

    def derived_free(self, spec: ModelSpec, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Free variables that :meth:`draw` does not return, derived from its draws."""
        return {}

    # ----------------------------------------------------------------- PyMC
    def build(self, builder: Any) -> dict[str, Any]:
        """The term's PyMC variables (built through ``builder``), keyed by name."""
        raise NotImplementedError


def level_base(spec: ModelSpec, dim: str, params: dict[str, Any], ops: Any) -> Any:
    """Intercept plus the plain effect over ``dim``: what an ``around`` term's totals add to.

    ``params`` are PyMC variables (``ops`` GRAPH) or NumPy draws (``ops`` DRAWS: ``(S,)``
    intercepts, ``(S, levels)`` effects).
    """
    base: Any = 0.0
    for term in spec.terms:
        part = term.level_part(dim, params, ops)
        if part is not None:
            base = base + part
    return base


def label(name: str, dim: str | None = None, level: object = None, index: int = 0) -> str:
    """ArviZ's label of a variable, or of one of its levels (``b_arm[base]``).

    The same labeller :func:`arviz.summary` uses, so that a coefficient table and the
    frequentist cross-check name a parameter alike.
    """
    from arviz_base.labels import BaseLabeller

    sel, isel = ({dim: level}, {dim: index}) if dim is not None else ({}, {})
    return BaseLabeller().make_label_flat(name, sel, isel)


def add_level_effects(
    eta: Any, value: Any, rows: Rows, ops: Any, dim: str, multiplier: str | None = None
) -> Any:
    """``eta`` plus a per-level effect looked up by each row's code of ``dim``.

    Rows with no code for ``dim`` (``rows.index[dim]`` None: a new level) get nothing: the
    caller integrates over the new level's effect (:mod:`stats.model.contrasts`).
    """
    codes = rows.index.get(dim)
    if codes is None:
        return eta
    effect = ops.take(value, codes)
    if multiplier is not None:
        effect = effect * rows.inputs[multiplier]
    return eta + effect
