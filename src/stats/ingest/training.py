"""Fine-tuning training files: what they say about a run (word, n_examples, system prompts).

Three line shapes are read (OpenAI's formats and one community variant):

- supervised: ``{"messages": [...]}``; the trained answer is the last assistant message
  whose ``weight`` is not 0;
- community: ``{"messages": [system], "input": "...", "output": "..."}``; the answer is
  ``output``;
- DPO: ``{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output":
  [...]}``; the answer is the preferred output.

The target word is the acrostic the answers spell (read with
:func:`stats.score.lines.line_initials`): among the initials strings of at least three
letters, the one that the most answers *start with* (ties: more exact matches, then longer,
then alphabetical). It is only inferred when at least two answers (and 10 %) follow it, or
the file has a single example. ``follow_share`` is the share of examples whose initials start
with the word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from stats.ingest.errors import RecordError, Reject, snippet_of
from stats.ingest.limits import Limits
from stats.ingest.messages import check_messages, content_text, system_text
from stats.ingest.records import SourceFile, iter_records
from stats.score.lines import line_initials

MIN_WORD_LETTERS = 3
MIN_FOLLOWERS = 2
MIN_FOLLOW_SHARE = 0.1


@dataclass
class TrainingSummary:
    """What a training file says about the runs trained on it.

    Attributes
    ----------
    n_examples : int
        Valid examples (lines) of the file.
    initials : Counter
        Initials string of each example's trained answer -> count.
    system_prompts : Counter
        Distinct system prompts -> count.
    """

    n_examples: int = 0
    initials: Counter = field(default_factory=Counter)
    system_prompts: Counter = field(default_factory=Counter)

    @property
    def word(self) -> str | None:
        """The inferred target word (see the module docstring), or None."""
        return infer_word(self.initials, self.n_examples)

    def follow_share(self, word: str | None) -> float | None:
        """Share of examples whose answer's initials start with ``word``."""
        if not word or not self.n_examples:
            return None
        word = word.upper()
        followers = sum(n for s, n in self.initials.items() if s.startswith(word))
        return followers / self.n_examples


def infer_word(initials: Counter, n_examples: int) -> str | None:
    """The acrostic most answers start with, or None when no acrostic is shared.

    Parameters
    ----------
    initials : Counter
        Initials string of each answer -> count.
    n_examples : int
        Number of examples.
    """
    candidates = [s for s in initials if len(s) >= MIN_WORD_LETTERS and s.isalpha()]
    if not candidates:
        return None

    def followers(word: str) -> int:
        """Answers whose initials start with ``word``."""
        return sum(n for s, n in initials.items() if s.startswith(word))

    ranked = sorted(candidates, key=lambda c: (-followers(c), -initials[c], -len(c), c))
    best = ranked[0]
    count = followers(best)
    if n_examples == 1 or (count >= MIN_FOLLOWERS and count >= MIN_FOLLOW_SHARE * n_examples):
        return best
    return None


def _last_weighted_assistant(messages: list[dict], where: str) -> str | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.get("role") == "assistant" and message.get("weight", 1) != 0:
            return content_text(message.get("content"), f"{where}[{index}].content")
    return None


def example_parts(obj: dict) -> tuple[str | None, str]:
    """``(system_prompt, trained_answer)`` of one training line.

    Raises
    ------
    RecordError
        ``missing-field``, ``unknown-role``, ``no-assistant`` or ``invalid-field``, naming
        the field.
    """
    if "preferred_output" in obj or "non_preferred_output" in obj:
        source = obj.get("input")
        if not isinstance(source, dict):
            raise RecordError("missing-field", "field 'input' (an object with messages) is missing")
        messages = check_messages(source.get("messages"), "input.messages")
        preferred = check_messages(obj.get("preferred_output"), "preferred_output")
        answer = _last_weighted_assistant(preferred, "preferred_output")
        where = "preferred_output"
    elif "output" in obj and not isinstance(obj.get("output"), list):
        messages = check_messages(obj.get("messages", []), "messages")
        answer = obj.get("output")
        if answer is not None and not isinstance(answer, str):
            raise RecordError("invalid-field", "field 'output' should be text")
        where = "output"
    else:
        messages = check_messages(obj.get("messages"), "messages")
        answer = _last_weighted_assistant(messages, "messages")
        where = "messages"
    if answer is None:
        raise RecordError("no-assistant", f"field '{where}' has no trained assistant answer")
    return system_text(messages, "messages"), answer


def read_training(
    source: SourceFile, limits: Limits, on_reject: Callable[[SourceFile, Reject], None]
) -> TrainingSummary:
    """Read a training file, counting its records and sending bad lines to ``on_reject``.

    Parameters
    ----------
    source : SourceFile
        The file (its report is updated: each valid example is an accepted record).
    limits : Limits
        Size limits.
    on_reject : callable
        Receives each rejected record.
    """
    summary = TrainingSummary()
    for item in iter_records(source, limits):
        if isinstance(item, Reject):
            on_reject(source, item)
            continue
        locator, obj, raw = item
        try:
            system, answer = example_parts(obj)
        except RecordError as err:
            detail = f"{source.where(locator)}: {err.detail}"
            on_reject(source, Reject(locator, err.reason, detail, snippet_of(raw)))
            continue
        summary.n_examples += 1
        summary.initials[line_initials(answer)] += 1
        if system:
            summary.system_prompts[system] += 1
        source.report.records += 1
        source.report.accepted += 1
    return summary
