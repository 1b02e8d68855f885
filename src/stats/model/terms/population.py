"""Population-level terms: an intercept, a slope on a numeric input, contrasts of a factor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from stats.model.terms.base import Prior, Term, label

if TYPE_CHECKING:
    from stats.model.design import ModelData, Rows


def _required(term: Term, **values: Any) -> None:
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ValueError(f"{type(term).__name__} {term.name!r} needs {missing}")


@dataclass(frozen=True, kw_only=True)
class Coefficient(Term):
    """A population-level coefficient with its own prior (the common part of this family).

    Parameters
    ----------
    prior : Prior
    """

    prior: Prior
    population: ClassVar[bool] = True

    def scaled(self, factor: float) -> Coefficient:
        return replace(self, prior=self.prior.scaled(factor))

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        return {self.name: self.prior.draw(rng, (draws,))}

    def add_log_prior(self, total: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        return total + self.prior.log_density(params[self.name])

    def build(self, builder: Any) -> dict[str, Any]:
        return {self.name: builder.prior(self.name, self.prior)}


@dataclass(frozen=True, kw_only=True)
class Intercept(Coefficient):
    """One scalar added to every row.

    Parameters
    ----------
    prior : Prior
    """

    kind: ClassVar[str] = "intercept"

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        return eta + ops.scalar(value)

    def level_part(self, dim: str, params: dict[str, Any], ops: Any) -> Any | None:
        return ops.scalar(params[self.name])

    def design_columns(self, rows: Rows, coords: dict[str, list]) -> dict[str, np.ndarray]:
        return {self.name: np.ones(rows.size)}


@dataclass(frozen=True, kw_only=True)
class Slope(Coefficient):
    """A scalar times the numeric design column ``input``.

    Parameters
    ----------
    input : str
        Numeric input (``greeting``, ``x_n``, ``logit_g``, ...).
    prior : Prior
    """

    input: str
    kind: ClassVar[str] = "slope"

    def __post_init__(self) -> None:
        _required(self, input=self.input)

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        return eta + ops.scalar(value) * rows.inputs[self.input]

    def design_columns(self, rows: Rows, coords: dict[str, list]) -> dict[str, np.ndarray]:
        return {self.name: rows.inputs[self.input]}


@dataclass(frozen=True, kw_only=True)
class Contrast(Coefficient):
    """One value per non-reference level of the factor ``input`` (the reference level: 0).

    Parameters
    ----------
    input : str
        The factor's dimension (``arm``); its coordinates list the non-reference levels.
    prior : Prior
    """

    input: str
    kind: ClassVar[str] = "contrast"

    def __post_init__(self) -> None:
        _required(self, input=self.input)

    def variable_dims(self) -> dict[str, tuple[str, ...]]:
        return {self.name: (self.input,)}

    def coords(self, coords: dict[str, list]) -> dict[str, list]:
        return {self.input: coords[self.input]}

    def draw(self, rng: np.random.Generator, draws: int, data: ModelData) -> dict[str, np.ndarray]:
        return {self.name: self.prior.draw(rng, (draws, len(data.coords[self.input])))}

    def add_to(self, eta: Any, value: Any, rows: Rows, ops: Any) -> Any:
        codes = rows.index[self.input]
        for k in range(rows.n_levels[self.input]):
            eta = eta + ops.column(value, k) * (codes == k + 1)
        return eta

    def design_columns(self, rows: Rows, coords: dict[str, list]) -> dict[str, np.ndarray]:
        codes = rows.index[self.input]
        return {
            label(self.name, self.input, level, k): (codes == k + 1).astype(float)
            for k, level in enumerate(coords[self.input])
        }

    def build(self, builder: Any) -> dict[str, Any]:
        return {self.name: builder.prior(self.name, self.prior, dims=self.input)}
