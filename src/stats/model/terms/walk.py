"""The random walk over lines: M2's baseline hazard per line."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from stats.model.terms.base import Prior, Term, add_level_effects

if TYPE_CHECKING:
    from stats.model.design import ModelData, Rows


@dataclass(frozen=True, kw_only=True)
class RandomWalk(Term):
    """One value per level of ``input``: a Gaussian random walk with fixed-scale steps.

    The first value has ``prior``, each step the prior ``step`` (a fixed scale: with
    hundreds of trials at risk per line, a learnt step scale made a funnel that NUTS
    diverged in). Sampled as ``<name>_start`` and ``<name>_step`` (dimension
    ``<input>_step``, absent with a single level).

    Parameters
    ----------
    input : str
        The ordered dimension (``line``).
    prior : Prior
        Prior of the first value.
    step : Prior
        Prior of each step.
    """

    input: str
    prior: Prior
    step: Prior
    kind: ClassVar[str] = "random_walk"

    def __post_init__(self) -> None:
        if self.input is None:
            raise ValueError(f"RandomWalk {self.name!r} needs an input")

    @property
    def start_name(self) -> str:
        """Name of the walk's first value."""
        return f"{self.name}_start"

    @property
    def step_name(self) -> str:
        """Name of the walk's steps."""
        return f"{self.name}_step"

    def scaled(self, factor: float) -> RandomWalk:
        return replace(self, prior=self.prior.scaled(factor), step=self.step.scaled(factor))

    def free_names(self) -> list[str]:
        return [self.start_name, self.step_name]

    def posterior_names(self) -> list[str]:
        return [*self.free_names(), self.name]

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        return {self.name: (self.input,), self.step_name: (f"{self.input}_step",)}

    def coords(self, coords: dict[str, list]) -> dict[str, list]:
        out = {self.input: coords[self.input]}
        if len(coords[self.input]) > 1:
            out[f"{self.input}_step"] = coords[self.input][1:]
        return out

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        start = self.prior.draw(rng, (draws,))
        steps = self.step.draw(rng, (draws, len(data.coords[self.input]) - 1))
        walk = np.concatenate([start[:, None], start[:, None] + np.cumsum(steps, axis=1)], axis=1)
        return {self.start_name: start, self.step_name: steps, self.name: walk}

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        walk = np.asarray(params[self.name])
        walk = walk.reshape(len(walk), -1)
        total = total + self.prior.log_density(walk[:, 0])
        if walk.shape[1] > 1:
            total = total + self.step.log_density(np.diff(walk, axis=1))
        return total

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        return add_level_effects(eta, value, rows, ops, self.input)

    def build(self, builder: Any) -> dict[str, Any]:
        pm, pt = builder.pm, builder.pt
        start = builder.prior(self.start_name, self.prior)
        if builder.levels(self.input) == 1:
            walk = pt.stack([start])
        else:
            steps = builder.prior(self.step_name, self.step, dims=f"{self.input}_step")
            walk = pt.concatenate([pt.stack([start]), start + pt.cumsum(steps)])
        return {self.name: pm.Deterministic(self.name, walk, dims=self.input)}
