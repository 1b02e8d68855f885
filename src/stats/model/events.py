"""Progress events of the model stage (what ``stats fit`` shows while it samples).

The model stage calls ``progress(event)`` with a :class:`FitEvent` around every fit; the
command line renders them (fit k of n, the fit's name, elapsed time, retries) and prints
the total at the end. Library users may pass any callable, or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FitEvent:
    """One step of one fit.

    Parameters
    ----------
    kind : {"start", "retry", "done", "cached"}
        ``start`` before sampling; ``retry`` when a fit missed a gate and is sampled
        again; ``done`` after the last attempt (``converged`` says how it ended);
        ``cached`` when the fit was read from the fit cache instead of sampled.
    index : int
        1-based position of this fit among the fits of the stage ("fit k of n").
    total : int
        Fits planned so far (may grow when a check asks for a refit).
    name : str
        The fit's name, e.g. ``M1-articulated_early-x1``.
    attempt : int
        1 for the first attempt, 2 for the first retry, ...
    elapsed : float
        Seconds since this fit started.
    converged : bool, optional
        Whether the fit passed every gate (``done`` and ``cached`` only).
    """

    kind: Literal["start", "retry", "done", "cached"]
    index: int
    total: int
    name: str
    attempt: int = 1
    elapsed: float = 0.0
    converged: bool | None = None


#: What the model stage accepts as ``progress``: called with events (and, for steps that
#: are not fits, such as "summary tables", with a short message).
Progress = Callable[[FitEvent | str], None]
