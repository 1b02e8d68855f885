"""Terms of the linear predictor, one class per kind (plain Python, no PyMC import).

==========================  ==============  =================================================
class                       kind            what it is
==========================  ==============  =================================================
:class:`Intercept`          intercept       one scalar
:class:`Slope`              slope           a scalar times a numeric input
:class:`Contrast`           contrast        one value per non-reference level of a factor
:class:`RandomWalk`         random_walk     one value per line, a Gaussian random walk
:class:`GroupEffect`        group           partially pooled effects with a learnt sd
:class:`FixedGroupEffect`   group           effects of a fixed prior scale
:class:`PositiveGroupEffect`  group         ``softplus(loc + sd * z)`` per level
==========================  ==============  =================================================

Each class owns its priors, parameter names, NumPy prior draws, log prior, part of the
linear predictor and PyMC build (:mod:`stats.model.terms.base`).
"""

from stats.model.terms.base import PRIOR_KINDS, Prior, Term, level_base
from stats.model.terms.group import FixedGroupEffect, GroupEffect, GroupTerm
from stats.model.terms.population import Coefficient, Contrast, Intercept, Slope
from stats.model.terms.positive import PositiveGroupEffect, softplus
from stats.model.terms.walk import RandomWalk

#: Every concrete term class (the registry of kinds).
TERM_CLASSES = (
    Intercept,
    Slope,
    Contrast,
    RandomWalk,
    GroupEffect,
    FixedGroupEffect,
    PositiveGroupEffect,
)

__all__ = [
    "PRIOR_KINDS",
    "TERM_CLASSES",
    "Coefficient",
    "Contrast",
    "FixedGroupEffect",
    "GroupEffect",
    "GroupTerm",
    "Intercept",
    "PositiveGroupEffect",
    "Prior",
    "RandomWalk",
    "Slope",
    "Term",
    "level_base",
    "softplus",
]
