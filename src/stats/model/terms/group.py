"""Group terms: one effect per level of a dimension (word, run, prompt), partially pooled.

Three kinds, all over the levels of ``input`` and optionally multiplied by a numeric
design column ``multiplier`` (``d_word * baseline``):

* :class:`GroupEffect` -- a learnt standard deviation ``sd ~ sd_prior``; sampled
  non-centred (``sd * z``) or centred;
* :class:`FixedGroupEffect` -- a fixed scale ``sd_fixed`` (a handful of levels cannot
  estimate it), sampled directly, optionally together with the slope it deviates around;
* :class:`~stats.model.terms.positive.PositiveGroupEffect` -- ``softplus(loc + sd * z) >= 0``
  (introspection can only add to the hazard).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from stats.model.terms.base import (
    Prior,
    Term,
    add_level_effects,
    label,
    level_base,
)
from stats.model.terms.population import Slope

if TYPE_CHECKING:
    from stats.model.design import ModelData, Rows
    from stats.model.spec import ModelSpec


@dataclass(frozen=True, kw_only=True)
class GroupTerm(Term):
    """What every group term shares: levels of ``input``, a multiplier, zero-sum levels.

    Parameters
    ----------
    input : str
        Dimension of the levels (``word``, ``run``, ``prompt``).
    multiplier : str or None
        Numeric design column multiplying the effect (``"baseline"`` turns ``d_word`` into
        the word-specific offset of the baseline arms).
    zero_sum : bool
        Effects sum to zero over levels (``pm.ZeroSumNormal``); the intercept then carries
        the mean, which removes the intercept/word-effect ridge.
    """

    input: str
    multiplier: str | None = None
    zero_sum: bool = False
    kind: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        if self.input is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs an input")

    @property
    def z_name(self) -> str:
        """Name of the standardised (raw) effects of a non-centred term."""
        return f"{self.name}_z"

    def posterior_names(self) -> list[str]:
        return [*self.free_names(), self.name]

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        return {self.name: (self.input,), self.z_name: (self.input,)}

    def coords(self, coords: dict[str, list]) -> dict[str, list]:
        return {self.input: coords[self.input]}

    def level_sd(self, params: dict[str, np.ndarray], draws: int) -> np.ndarray:
        """Draws of the spread of the levels."""
        raise NotImplementedError

    def standard_draws(self, rng: np.random.Generator, draws: int, data: ModelData) -> np.ndarray:
        """Standard normal effects ``(draws, levels)``, centred when zero-sum."""
        z = rng.normal(size=(draws, len(data.coords[self.input])))
        if self.zero_sum:
            z = z - z.mean(axis=1, keepdims=True)
        return z

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        return add_level_effects(eta, value, rows, ops, self.input, self.multiplier)

    def level_part(self, dim: str, params: dict[str, Any], ops: Any) -> Any | None:
        if self.input != dim or self.multiplier is not None:
            return None
        return params[self.name]

    def new_level(
        self, params: dict[str, np.ndarray], rng: np.random.Generator, levels: int
    ) -> np.ndarray:
        """Effects of a new level: ``Normal(0, sd^2 (1 + 1/L))`` per draw, ``L`` levels.

        Zero-sum effects are centred iid effects, so a new level's deviation from the
        fitted mean has the extra ``sd^2 / L`` of the unknown population mean.
        """
        draws = len(next(iter(params.values())))
        scale = self.level_sd(params, draws) * np.sqrt(1 + 1 / max(levels, 1))
        return rng.normal(size=draws) * scale

    def design_columns(self, rows: Rows, coords: dict[str, list]) -> dict[str, np.ndarray]:
        """Sum-coded level columns (times the multiplier), matching zero-sum effects."""
        levels = coords[self.input]
        if len(levels) < 2:
            return {}
        codes = rows.index[self.input]
        multiplier = rows.inputs[self.multiplier] if self.multiplier else 1.0
        last = len(levels) - 1
        return {
            label(self.name, self.input, level, j): (
                (codes == j).astype(float) - (codes == last).astype(float)
            )
            * multiplier
            for j, level in enumerate(levels[:-1])
        }

    def standard_normal(self, builder: Any, name: str) -> Any:
        """PyMC standard normal effects (zero-sum when set) called ``name``."""
        pm = builder.pm
        if self.zero_sum:
            return pm.ZeroSumNormal(name, sigma=1.0, dims=self.input)
        return pm.Normal(name, 0.0, 1.0, dims=self.input)


@dataclass(frozen=True, kw_only=True)
class GroupEffect(GroupTerm):
    """Partially pooled effects with a learnt sd: ``sd * z``, ``sd ~ sd_prior``.

    Parameters
    ----------
    sd_name : str
        Name of the standard deviation parameter.
    sd_prior : Prior
        Its prior.
    zero_sum_within : str or None
        Effects sum to zero within each level of this cell column (prompts within greeting
        level: otherwise the prompt effects and ``b_greet`` trade off, and NUTS diverged
        in that ridge).
    centred : bool
        Sample the effects directly (``Normal(0, sd)``) instead of ``sd * z``. Chosen when
        the data pin every level (:attr:`stats.model.layout.Layout.pinned`): then the
        non-centred form is a curved ridge (measured: 125 vs 20 leapfrog steps, and
        divergences), while with weakly informed levels the centred form is a funnel.
    """

    sd_name: str
    sd_prior: Prior
    zero_sum_within: str | None = None
    centred: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sd_name is None or self.sd_prior is None:
            raise ValueError(f"GroupEffect {self.name!r} needs sd_name and sd_prior")

    def scaled(self, factor: float) -> GroupEffect:
        return replace(self, sd_prior=self.sd_prior.scaled(factor))

    def free_names(self) -> list[str]:
        return [self.sd_name, self.name if self.centred else self.z_name]

    def summary_names(self) -> list[str]:
        return [self.sd_name]

    def gated_names(self) -> list[str]:
        # Individual run effects are left out (sd_run is in): with dozens of runs the largest
        # R-hat of well-mixed run effects passes 1.01 by chance (measured: R-hat 1.013 at a
        # bulk ESS of 8,900), and the estimands use runs through sd_run (a new run is
        # integrated over).
        return [self.sd_name] if self.input == "run" else [self.sd_name, self.name]

    def level_sd(self, params: dict[str, np.ndarray], draws: int) -> np.ndarray:
        return params.get(self.sd_name, np.zeros(draws))

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        sd = self.sd_prior.draw(rng, (draws,))
        z = self.standard_draws(rng, draws, data)
        if self.zero_sum_within:
            z = z @ data.centring_matrix(self.input, self.zero_sum_within).T
        return {self.sd_name: sd, self.name: sd[:, None] * z}

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        return total + self.sd_prior.log_density(params[self.sd_name])

    def derived_free(self, spec: ModelSpec, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.centred:
            return {}
        sd = params[self.sd_name][:, None]
        return {self.z_name: params[self.name] / np.where(sd == 0, 1, sd)}

    def build(self, builder: Any) -> dict[str, Any]:
        pm = builder.pm
        sd = builder.prior(self.sd_name, self.sd_prior)
        if self.centred:
            if self.zero_sum:
                return {self.name: pm.ZeroSumNormal(self.name, sigma=sd, dims=self.input)}
            return {self.name: pm.Normal(self.name, 0.0, sd, dims=self.input)}
        z = self.standard_normal(builder, self.z_name)
        if self.zero_sum_within:
            # iid effects centred within groups; the removed directions of z are pure prior
            z = builder.pt.dot(builder.data.centring_matrix(self.input, self.zero_sum_within), z)
        return {self.name: pm.Deterministic(self.name, sd * z, dims=self.input)}


@dataclass(frozen=True, kw_only=True)
class FixedGroupEffect(GroupTerm):
    """Effects of a fixed prior scale, ``Normal(0, sd_fixed)`` (zero-sum when set).

    For terms over a handful of levels, whose sd the data cannot estimate: sampled
    directly, with neither funnel nor ridge.

    Parameters
    ----------
    sd_fixed : float
        The prior scale (prior scaling multiplies it).
    around : str or None
        A zero-sum term only: the slope term (normal prior) whose value the effects
        deviate around. The per-level totals ``t = slope + effect`` are multivariate normal
        with the covariance their priors imply; the slope is their mean and the effects
        their deviations. They are sampled as the per-level *levels* ``<name>_level`` =
        ``base + t``, ``base`` being the intercept and the plain group effect over the same
        input (``a + u_word[w]``): the logit of a word's cells with the greeting. The same
        model (a linear reparametrisation with unit Jacobian), but the data pin each level
        on its own. As totals, a word whose cells without the greeting are all zero and
        with it are not (the greeting leaks HELLO) put ``u_word``, ``a`` and the total on a
        ridge that NUTS diverged in (1-12 divergences per fit on an independent study,
        prior x1 and x2; none as levels, and 30 instead of 40-45 leapfrog steps).
    """

    sd_fixed: float
    around: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sd_fixed is None:
            raise ValueError(f"FixedGroupEffect {self.name!r} needs sd_fixed")

    @property
    def level_name(self) -> str:
        """Name of the sampled per-level levels (a term with ``around``)."""
        return f"{self.name}_level"

    def scaled(self, factor: float) -> FixedGroupEffect:
        return replace(self, sd_fixed=self.sd_fixed * factor)

    def absorbs(self) -> str | None:
        return self.around

    def check(self, spec: ModelSpec) -> None:
        if self.around is None:
            return
        slope = spec.term(self.around)
        if not (self.zero_sum and isinstance(slope, Slope)):
            raise ValueError(f"{self.name}: 'around' needs a zero-sum term and a slope")
        if slope.prior.kind != "normal":
            raise ValueError(f"{slope.name}: 'around' needs a normal prior")

    def free_names(self) -> list[str]:
        return [self.level_name if self.around else self.name]

    def posterior_names(self) -> list[str]:
        return [*super().posterior_names(), *([self.around] if self.around else [])]

    def summary_names(self) -> list[str]:
        return []

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        return {**super().variable_dims(), self.level_name: (self.input,)}

    def level_sd(self, params: dict[str, np.ndarray], draws: int) -> np.ndarray:
        return np.full(draws, self.sd_fixed)

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        z = self.standard_draws(rng, draws, data)
        return {self.name: self.level_sd({}, draws)[:, None] * z}

    def log_density(self, effects: np.ndarray) -> np.ndarray:
        """Log density per draw of the effects (on the zero-sum subspace if zero-sum).

        Up to a constant that does not depend on ``sd_fixed``; what matters in a ratio of
        two specs is the ``-|u|^2 / (2 sd^2) - d log sd`` part, ``d`` the free dimensions.
        """
        effects = np.asarray(effects).reshape(len(effects), -1)
        free = effects.shape[1] - 1 if self.zero_sum else effects.shape[1]
        sd = self.sd_fixed
        return -0.5 * (effects**2).sum(axis=1) / sd**2 - free * np.log(sd)

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        return total + self.log_density(params[self.name])

    def derived_free(self, spec: ModelSpec, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not self.around:
            return {}
        from stats.model.predictor import DRAWS

        level = level_base(spec, self.input, params, DRAWS)
        return {self.level_name: level + params[self.around][:, None] + params[self.name]}

    def build(self, builder: Any) -> dict[str, Any]:
        pm = builder.pm
        if self.around:
            return self._build_levels(builder)
        if self.zero_sum:
            return {self.name: pm.ZeroSumNormal(self.name, sigma=self.sd_fixed, dims=self.input)}
        return {self.name: pm.Normal(self.name, 0.0, self.sd_fixed, dims=self.input)}

    def _build_levels(self, builder: Any) -> dict[str, Any]:
        """Slope + zero-sum effects sampled as per-level levels (see ``around``).

        With ``b ~ Normal(mu, sb)`` and ``g ~ ZeroSumNormal(sg)`` over ``W`` levels, the
        totals ``t = b + g`` are ``MvNormal(mu, sb^2 J + sg^2 (I - J / W))`` (``J`` all
        ones); the levels are ``base + t`` given the base, and ``b = mean(t)``,
        ``g = t - mean(t)`` recover both exactly.
        """
        from stats.model.predictor import GRAPH

        pm, pt = builder.pm, builder.pt
        slope = builder.spec.term(self.around)
        levels = builder.levels(self.input)
        ones = np.ones((levels, levels))
        cov = slope.prior.sigma**2 * ones + self.sd_fixed**2 * (np.eye(levels) - ones / levels)
        base = level_base(builder.spec, self.input, builder.params, GRAPH) + pt.zeros(levels)
        level = pm.MvNormal(self.level_name, mu=base + slope.prior.mu, cov=cov, dims=self.input)
        total = level - base
        mean = total.mean()
        return {
            slope.name: pm.Deterministic(slope.name, mean),
            self.name: pm.Deterministic(self.name, total - mean, dims=self.input),
        }
