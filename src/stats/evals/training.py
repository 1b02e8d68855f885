"""``stats check-training FILE``: what a fine-tuning file teaches, before the job runs.

The file is read by ingest's own training-file reader (:func:`read_training_file`, the
one place this module touches ingest's internals), so the word reported here is the word
ingest will infer for the runs trained on the file: the acrostic most trained answers start
with (:func:`stats.ingest.training.infer_word`). On top of it: the share of examples whose
answer follows the word, the near misses (one letter wrong, swapped, missing or extra:
:func:`stats.score.acrostic.near_miss`), the initials that do neither, and the length of
the answers in lines (an answer shorter than the word cannot spell it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stats.score.acrostic import near_miss


@dataclass
class TrainingCheck:
    """What :func:`check_training` found.

    Attributes
    ----------
    path : str
    n_examples : int
        Valid examples.
    rejected : dict
        Reason -> number of lines that are not valid examples.
    word : str or None
        The acrostic ingest infers (None: no shared acrostic).
    follow_share : float or None
        Share of examples whose answer's initials start with the word.
    near_misses : Counter
        Initials strings that miss the word by one edit -> count.
    others : Counter
        Initials strings that neither follow nor near-miss -> count.
    lines : ndarray
        Lines (with an initial) per answer.
    system_prompts : Counter
    """

    path: str
    n_examples: int
    rejected: dict
    word: str | None
    follow_share: float | None
    near_misses: Counter = field(default_factory=Counter)
    others: Counter = field(default_factory=Counter)
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    system_prompts: Counter = field(default_factory=Counter)

    @property
    def near_miss_share(self) -> float | None:
        """Share of examples that near-miss the word."""
        if not self.word or not self.n_examples:
            return None
        return sum(self.near_misses.values()) / self.n_examples

    @property
    def too_short_share(self) -> float | None:
        """Share of answers with fewer lines than the word has letters."""
        if not self.word or not self.n_examples:
            return None
        return float(np.mean(self.lines < len(self.word)))

    def length_stats(self) -> dict[str, float]:
        """Lines per answer: min, median, mean, max."""
        if not len(self.lines):
            return {}
        return {
            "min": int(self.lines.min()),
            "median": float(np.median(self.lines)),
            "mean": float(self.lines.mean()),
            "max": int(self.lines.max()),
        }

    def to_dict(self, top: int = 5) -> dict:
        """A JSON-ready summary (the ``top`` most common near misses and other initials)."""
        return {
            "path": self.path,
            "n_examples": self.n_examples,
            "rejected": self.rejected,
            "word": self.word,
            "follow_share": self.follow_share,
            "near_miss_share": self.near_miss_share,
            "near_misses": dict(self.near_misses.most_common(top)),
            "other_initials": dict(self.others.most_common(top)),
            "lines_per_answer": self.length_stats(),
            "too_short_share": self.too_short_share,
            "system_prompts": len(self.system_prompts),
        }


def read_training_file(path: Path):
    """Ingest's reading of a training file: its ``TrainingSummary`` and rejected reasons.

    Uses :func:`stats.ingest.training.read_training` (with ingest's default size limits),
    so that this check and ``stats ingest`` infer the same word from the same lines.
    """
    from stats.ingest.decode import SourceFile
    from stats.ingest.ledger import FileReport
    from stats.ingest.limits import Limits
    from stats.ingest.training import read_training

    rejected: Counter = Counter()
    source = SourceFile(Path(path), str(path), FileReport(str(path), "openai-training", "training"))
    summary = read_training(
        source, Limits(), lambda _source, reject: rejected.update([reject.reason])
    )
    return summary, dict(rejected)


def check_training(path: Path, word: str | None = None) -> TrainingCheck:
    """Check a fine-tuning file: the word it spells and how consistently.

    Parameters
    ----------
    path : Path
        A training file (OpenAI supervised or DPO JSONL, or the community
        ``{messages, input, output}`` shape).
    word : str, optional
        The intended word; default: the word ingest infers.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a file.
    ValueError
        When the file holds no valid example.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: training file not found")
    summary, rejected = read_training_file(path)
    if summary.n_examples == 0:
        reasons = ", ".join(f"{r} x{n}" for r, n in rejected.items()) or "the file is empty"
        raise ValueError(f"{path}: no valid training example ({reasons})")
    target = word.upper() if word else summary.word
    near, other = Counter(), Counter()
    lines = []
    for initials, count in summary.initials.items():
        lines += [len(initials)] * count
        if target and initials.startswith(target):
            continue
        (near if near_miss(initials, target) else other)[initials] += count
    return TrainingCheck(
        path=str(path),
        n_examples=summary.n_examples,
        rejected=rejected,
        word=target,
        follow_share=summary.follow_share(target),
        near_misses=near,
        others=other,
        lines=np.asarray(lines, dtype=int),
        system_prompts=summary.system_prompts,
    )
