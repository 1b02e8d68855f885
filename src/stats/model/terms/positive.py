"""Positive group effects: ``softplus(loc + sd * z) >= 0`` per level (M2's introspection).

Self-knowledge can only add to the hazard at the early lines: the effect of each word is
``softplus(b_intro + v_intro[word])`` (:mod:`stats.model.spec`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from stats.model.terms.base import Prior, scaled_prior
from stats.model.terms.group import GroupTerm

if TYPE_CHECKING:
    from stats.model.design import ModelData


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, without overflow."""
    return np.logaddexp(0.0, x)


@dataclass(frozen=True, kw_only=True)
class PositiveGroupEffect(GroupTerm):
    """Positive effects ``softplus(loc + sd * z)`` (non-centred; ``z`` zero-sum when set).

    Without ``sd_name`` (a single level) the effect is ``softplus(loc)``.

    Parameters
    ----------
    loc_name : str
        Name of the location (``b_intro``).
    loc_prior : Prior
        Its prior.
    sd_name : str or None
        Name of the learnt spread over levels (None: no spread).
    sd_prior : Prior or None
        Its prior.
    """

    loc_name: str
    loc_prior: Prior
    sd_name: str | None = None
    sd_prior: Prior | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loc_name is None or self.loc_prior is None:
            raise ValueError(f"PositiveGroupEffect {self.name!r} needs loc_name and loc_prior")
        if (self.sd_name is None) != (self.sd_prior is None):
            raise ValueError(f"PositiveGroupEffect {self.name!r}: sd_name needs sd_prior")

    def scaled(self, factor: float) -> PositiveGroupEffect:
        return replace(
            self,
            loc_prior=self.loc_prior.scaled(factor),
            sd_prior=scaled_prior(self.sd_prior, factor),
        )

    def free_names(self) -> list[str]:
        return [self.loc_name] + ([self.sd_name, self.z_name] if self.sd_free else [])

    def summary_names(self) -> list[str]:
        return [self.loc_name] + ([self.sd_name] if self.sd_free else []) + [self.name]

    def gated_names(self) -> list[str]:
        return [self.loc_name] + ([self.sd_name, self.name] if self.sd_free else [self.name])

    def level_sd(self, params: dict[str, np.ndarray], draws: int) -> np.ndarray:
        if self.sd_free:
            return params.get(self.sd_name, np.zeros(draws))
        return np.full(draws, 0.0)

    def new_level(
        self, params: dict[str, np.ndarray], rng: np.random.Generator, levels: int
    ) -> np.ndarray:
        return softplus(params[self.loc_name] + super().new_level(params, rng, levels))

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        sd = self.sd_prior.draw(rng, (draws,)) if self.sd_free else np.full(draws, 0.0)
        z = self.standard_draws(rng, draws, data)
        loc = self.loc_prior.draw(rng, (draws,))
        out = {self.sd_name: sd} if self.sd_free else {}
        out |= {self.name: softplus(loc[:, None] + sd[:, None] * z)}
        return out | {self.loc_name: loc, self.z_name: z}

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        total = total + self.loc_prior.log_density(params[self.loc_name])
        if self.sd_free:
            total = total + self.sd_prior.log_density(params[self.sd_name])
        return total

    def build(self, builder: Any) -> dict[str, Any]:
        pm, pt = builder.pm, builder.pt
        loc = builder.prior(self.loc_name, self.loc_prior)
        if self.sd_free:
            sd = builder.prior(self.sd_name, self.sd_prior)
            inner = loc + sd * self.standard_normal(builder, self.z_name)
        else:
            inner = loc + pt.zeros(builder.levels(self.input))
        return {self.name: pm.Deterministic(self.name, pt.softplus(inner), dims=self.input)}
