"""The model stage: specs (plain data), PyMC builders, sampling with gates, verdicts.

Modules: :mod:`~stats.model.spec` (model specs as plain data, no PyMC) built from
:mod:`~stats.model.terms` (one class per kind of term: its priors, names, NumPy draw, part of
the linear predictor and PyMC build) and :mod:`~stats.model.layout` (which factors vary),
:mod:`~stats.model.design` (cells -> coded inputs), :mod:`~stats.model.predictor` (the one
linear predictor), :mod:`~stats.model.build` (PyMC backend), :mod:`~stats.model.fit` (a fit:
sample or load from the cache; :mod:`~stats.model.sample`, :mod:`~stats.model.cache`,
:mod:`~stats.model.diagnostics`, :mod:`~stats.model.loo`, :mod:`~stats.model.refit`),
:mod:`~stats.model.marginal` (marginal rates), :mod:`~stats.model.contrasts` (Delta and the
introspective share), :mod:`~stats.model.decision` (verdict rule, runs_needed),
:mod:`~stats.model.reasons` (the registry of verdict reasons in words),
:mod:`~stats.model.frequentist` (statsmodels/scipy cross-checks), :mod:`~stats.model.prior`
(NumPy prior draws), :mod:`~stats.model.synthetic` (parameter-level simulator),
:mod:`~stats.model.study` (study spec) and :mod:`~stats.model.pipeline` (:func:`fit_study`).

Heavy imports (PyMC) happen only when a model is built, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stats.model.pipeline import analyse, fit_study

__all__ = ["analyse", "fit_study"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from stats.model import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'stats.model' has no attribute {name!r}")
