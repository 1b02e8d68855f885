"""SCORE stage: turn each response into the outcomes the models need.

Pure functions (no I/O) except :func:`score_file`. Modules:

- :mod:`stats.score.lines` - line splitting, normalisation, initials;
- :mod:`stats.score.acrostic` - prefix match, near misses, spelled word;
- :mod:`stats.score.articulation` - articulation levels and the naming rules (a package:
  its ``vocabulary`` holds the rules, the other modules match them);
- :mod:`stats.score.leakage` - greeting and leak detection;
- :mod:`stats.score.guess` - guessability from a wordfreq lexicon prior;
- :mod:`stats.score.agreement` - Cohen's kappa against human and judge labels;
- :mod:`stats.score.targets` - the target word of each trial;
- :mod:`stats.score.batch` - the text pass (lines, initials, articulation);
- :mod:`stats.score.workers` - the worker processes that share the text pass;
- :mod:`stats.score.columns` - the table pass: derived outcomes as typed columns;
- :mod:`stats.score.core` - the entry points re-exported here.

The re-exports are imported on first use, so that a worker process, which
imports :mod:`stats.score.batch`, does not import pandas or the lexicon.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stats.score.core import score_file, score_response, score_transcripts
    from stats.score.guess import guessability, guessability_curve

_EXPORTS = {
    "guessability": "stats.score.guess",
    "guessability_curve": "stats.score.guess",
    "score_file": "stats.score.core",
    "score_response": "stats.score.core",
    "score_transcripts": "stats.score.core",
}

__all__ = [
    "guessability",
    "guessability_curve",
    "score_file",
    "score_response",
    "score_transcripts",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
