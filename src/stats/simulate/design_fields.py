"""Checks of single design-file fields: numbers, booleans, probabilities, words and lists.

Each check returns the clean value or raises :class:`~stats.simulate.design_types.DesignError`
naming the file and the key; :func:`_merge` overlays a design file on its defaults.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from stats.simulate.design_types import DesignError


def _merge(defaults: Any, given: Any, where: str, source: str) -> Any:
    """Recursively overlay ``given`` on ``defaults``, rejecting keys the defaults lack.

    Mappings whose defaults are empty (word -> value tables) accept any key.
    """
    if isinstance(defaults, dict) and defaults and isinstance(given, dict):
        label = f"{where}." if where else ""
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise DesignError(
                f"{source}: unknown key {label}{unknown[0]}; valid keys"
                f"{' under ' + where if where else ''}: {', '.join(sorted(defaults))}"
            )
        merged = copy.deepcopy(defaults)
        for key in sorted(given):
            merged[key] = _merge(defaults[key], given[key], f"{label}{key}", source)
        return merged
    if isinstance(defaults, dict) and defaults and given is not None:
        raise DesignError(f"{source}: {where} must be a mapping, got {type(given).__name__}")
    return copy.deepcopy(defaults) if given is None else given


def _number(
    value: Any,
    where: str,
    source: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> float:
    """Check a number and its bounds; return it (as int when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignError(f"{source}: {where} must be a number, got {value!r}")
    if integer and int(value) != value:
        raise DesignError(f"{source}: {where} must be a whole number, got {value!r}")
    if low is not None and value < low:
        raise DesignError(f"{source}: {where} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise DesignError(f"{source}: {where} must be <= {high}, got {value!r}")
    return int(value) if integer else float(value)


def _boolean(value: Any, where: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise DesignError(f"{source}: {where} must be true or false, got {value!r}")
    return value


def _probability(value: Any, where: str, source: str) -> float:
    return _number(value, where, source, low=0.0, high=1.0)


def _word(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,20}", value):
        raise DesignError(f"{source}: {where} must be a word of 2-20 letters, got {value!r}")
    return value.upper()


def _list(value: Any, where: str, source: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise DesignError(f"{source}: {where} must be a non-empty list, got {value!r}")
    return value
