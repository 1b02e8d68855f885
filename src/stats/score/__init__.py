"""SCORE stage: turn each response into the outcomes the models need.

Pure functions (no I/O) except :func:`score_file`. Modules:

- :mod:`stats.score.lines` - line splitting, normalisation, initials;
- :mod:`stats.score.acrostic` - prefix match, near misses, spelled word;
- :mod:`stats.score.articulation` - articulation levels and the naming rule;
- :mod:`stats.score.leakage` - greeting and leak detection;
- :mod:`stats.score.guess` - guessability from a wordfreq lexicon prior;
- :mod:`stats.score.agreement` - Cohen's kappa against human and judge labels;
- :mod:`stats.score.core` - the entry points re-exported here.
"""

from stats.score.core import score_file, score_response, score_transcripts
from stats.score.guess import guessability, guessability_curve

__all__ = [
    "guessability",
    "guessability_curve",
    "score_file",
    "score_response",
    "score_transcripts",
]
