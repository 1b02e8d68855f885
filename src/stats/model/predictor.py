"""The linear predictor of a :class:`~stats.model.spec.ModelSpec`, written once.

The same function builds the PyMC graph (parameters are PyTensor variables) and
evaluates posterior or prior draws with NumPy (parameters carry a leading draw
axis), so the fitted model, the simulator and every contrast share one formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from stats.model.design import Rows
from stats.model.spec import ModelSpec


@dataclass(frozen=True)
class Ops:
    """How to broadcast parameters against rows.

    ``draws=False``: parameters are scalars / vectors (PyTensor or NumPy) and the
    result has one value per row. ``draws=True``: parameters carry a leading draw
    axis (``(S,)`` scalars, ``(S, K)`` vectors) and the result is ``(S, rows)``.
    """

    draws: bool

    def scalar(self, value: Any) -> Any:
        """A scalar parameter, ready to multiply a row vector."""
        return value[:, None] if self.draws else value

    def take(self, value: Any, index: np.ndarray) -> Any:
        """A per-level parameter looked up for each row."""
        return value[:, index] if self.draws else value[index]

    def column(self, value: Any, k: int) -> Any:
        """The k-th element of a per-level parameter, ready to multiply a row vector."""
        return value[:, k, None] if self.draws else value[k]


GRAPH = Ops(draws=False)
DRAWS = Ops(draws=True)


def linear_predictor(
    spec: ModelSpec,
    params: dict[str, Any],
    rows: Rows,
    ops: Ops = GRAPH,
    *,
    exclude: tuple[str, ...] = (),
) -> Any:
    """Logit of the success probability (M1) or hazard (M2) for each row.

    Parameters
    ----------
    spec : ModelSpec
    params : dict
        Term name -> value (PyTensor variables, or NumPy draws with ``ops=DRAWS``).
        Group and random-walk terms are looked up by their effect name (``u_word``,
        ``a_line``), i.e. after scaling by their standard deviation.
    rows : Rows
    ops : Ops, default GRAPH
    exclude : tuple of str
        Terms to leave out (e.g. ``("intro_word",)`` for the no-introspection
        counterfactual).

    Returns
    -------
    array or tensor
        ``(rows,)`` or ``(S, rows)``.
    """
    eta: Any = np.zeros(rows.size)
    for term in spec.terms:
        if term.name not in exclude:
            eta = term.add_to(eta, params[term.name], rows, ops)
    return eta
