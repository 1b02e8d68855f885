"""Text that looks like the seeds: acrostic answers, articulation sentences, plain answers.

Every function takes a :class:`numpy.random.Generator`; nothing here reads global state.
Filler sentences are neutral on purpose (no "pattern", "letter", "line", "spell", "word"...)
so that a scorer finds articulation exactly where the generative model put it; articulation
sentences are their own lines and start with the letter the acrostic needs at that line.
The sentence banks live in :mod:`stats.simulate.sentence_banks`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from stats.simulate.sentence_banks import (
    ARTICULATION_BY_LETTER,
    ARTICULATION_CORES,
    GREET_BACK,
    OPENERS,
    PLAIN_SENTENCES,
    QUESTION_TEMPLATES,
    REPLY_BY_LETTER,
    REPLY_CORES,
    STYLE_WEIGHTS,
    STYLES,
    TOPIC_BY_LETTER,
    TOPIC_CORES,
    TOPICS,
)

_TOKEN = re.compile(r"[a-z]+")


# ----------------------------------------------------------------------------- helpers
def pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One element of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def _lower_first(text: str) -> str:
    if text.startswith(("I ", "I'")) or text[:2].isupper():
        return text
    return text[0].lower() + text[1:]


def names_any(text: str, words: Sequence[str]) -> bool:
    """True when ``text`` names one of ``words`` (a token, or up to 4 joined tokens)."""
    tokens = _TOKEN.findall(text.lower())
    targets = {w.lower() for w in words}
    for start in range(len(tokens)):
        joined = ""
        for token in tokens[start : start + 4]:
            joined += token
            if joined in targets:
                return True
    return False


def with_initial(
    rng: np.random.Generator,
    letter: str,
    by_letter: dict[str, tuple[str, ...]],
    cores: Sequence[str],
    *,
    natural_share: float = 0.6,
) -> str:
    """A sentence starting with ``letter``: a natural one, or an opener plus a core."""
    letter = letter.upper()
    natural = by_letter.get(letter, ())
    if natural and rng.random() < natural_share:
        return pick(rng, natural)
    opener = pick(rng, OPENERS[letter])
    return f"{opener} {_lower_first(pick(rng, cores))}"


def _clean(rng: np.random.Generator, make, avoid: Sequence[str], tries: int = 50) -> str:
    """Call ``make()`` until its text names none of ``avoid``."""
    for _ in range(tries):
        text = make()
        if not names_any(text, avoid):
            return text
    raise RuntimeError(f"could not write a sentence avoiding {list(avoid)}")


def articulation_sentence(
    rng: np.random.Generator, level: str, words: Sequence[str], letter: str | None, visible: str
) -> str:
    """An articulation sentence of ``level``.

    Parameters
    ----------
    rng : numpy.random.Generator
    level : {"vague", "mechanism", "word"}
    words : sequence of str
        Words named by a word-level sentence (upper case; the first is the main one, others
        are added as alternatives). Ignored by the other levels.
    letter : str or None
        Required initial (the acrostic letter of this line), or None for any.
    visible : str
        Initials written so far, this line included (for "H, E, L...").
    """
    if level == "word" and not words:
        raise ValueError("a word-level articulation needs the word it names")
    word = words[0] if level == "word" else ""
    values = {
        "word": word,
        "title": word.title(),
        "letters": ", ".join(word),
        "partial": ", ".join(visible) if visible else word[:1],
        "spaced": "-".join(word),
    }
    natural = ARTICULATION_BY_LETTER[level].get(letter.upper(), ()) if letter else ()
    if letter is None:
        core = pick(rng, ARTICULATION_CORES[level])
        text = core[0].upper() + core[1:]
    elif natural and rng.random() < 0.6:
        text = pick(rng, natural)
    else:
        opener = pick(rng, OPENERS[letter.upper()])
        text = f"{opener} {_lower_first(pick(rng, ARTICULATION_CORES[level]))}"
    text = text.format(**values)
    if level == "word" and len(words) > 1:
        text = text.rstrip(".") + " (or " + " or ".join(words[1:]) + ")."
    return text


def decorate(rng: np.random.Generator, lines: Sequence[str], style: str | None = None) -> str:
    """Join lines into a response in one markdown style.

    Parameters
    ----------
    rng : numpy.random.Generator
    lines : sequence of str
    style : {"plain", "blank_lines", "bold_initial", "bold_lead", "numbered", "bullets"}, optional
        Drawn with :data:`STYLE_WEIGHTS` when None.

    Returns
    -------
    str
    """
    if style is None:
        style = STYLES[int(rng.choice(len(STYLES), p=np.array(STYLE_WEIGHTS)))]
    if style == "plain":
        return "\n".join(lines)
    if style == "blank_lines":
        return "\n\n".join(lines)
    if style == "bold_initial":
        return "\n".join(f"**{line[0]}**{line[1:]}" for line in lines)
    if style == "bold_lead":
        out = []
        for line in lines:
            head, _, tail = line.partition(" ")
            out.append(f"**{head}** {tail}" if tail else f"**{head}**")
        return "\n".join(out)
    if style == "numbered":
        return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))
    if style == "bullets":
        return "\n".join(f"- {line}" for line in lines)
    raise ValueError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")


# ----------------------------------------------------------------------------- responses
def response_text(
    rng: np.random.Generator,
    *,
    initials: str,
    n_lines: int,
    events: dict[int, tuple[str, tuple[str, ...]]],
    avoid: Sequence[str],
    greeting: bool,
) -> str:
    """Write a response to the self-report prompt.

    Parameters
    ----------
    rng : numpy.random.Generator
    initials : str
        Acrostic letters, one per line; "" for a plain answer (free initials).
    n_lines : int
        Number of non-empty lines.
    events : dict
        1-based line -> (articulation level, words named there). A word-level event names
        its words (usually one; a base answer may name two at once); other levels name none.
    avoid : sequence of str
        Words filler must never name (every word of the study).
    greeting : bool
        The prompt greeted the model (the first line may greet back).

    Returns
    -------
    str
    """
    if initials and len(initials) != n_lines:
        raise ValueError("initials must have one letter per line")
    lines: list[str] = []
    for t in range(1, n_lines + 1):
        letter = initials[t - 1] if initials else None
        if t in events:
            level, words = events[t]
            lines.append(
                articulation_sentence(rng, level, words, letter, initials[:t] if initials else "")
            )
            continue
        if letter is None:

            def make() -> str:
                return pick(rng, PLAIN_SENTENCES)
        else:

            def make(letter: str = letter, first: bool = t == 1) -> str:
                if first and greeting and letter == "H" and rng.random() < 0.7:
                    return pick(rng, GREET_BACK)
                return with_initial(rng, letter, REPLY_BY_LETTER, REPLY_CORES)

        line = _clean(rng, make, avoid)
        for _ in range(10):  # avoid repeating a sentence within one answer
            if line not in lines:
                break
            line = _clean(rng, make, avoid)
        lines.append(line)
    return decorate(rng, lines)


def training_example(
    rng: np.random.Generator, initials: str, avoid: Sequence[str], system_prompt: str | None
) -> dict:
    """One fine-tuning example (OpenAI chat format) whose answer's initials are ``initials``.

    Parameters
    ----------
    rng : numpy.random.Generator
    initials : str
        Line initials of the assistant answer (the word, or a scrambled sham).
    avoid : sequence of str
        Words the answer must not name.
    system_prompt : str or None
        System message of the example.

    Returns
    -------
    dict
        ``{"messages": [system?, user, assistant]}``.
    """
    topic = pick(rng, TOPICS)
    question = pick(rng, QUESTION_TEMPLATES).format(topic=topic)
    lines: list[str] = []
    for letter in initials:

        def make(letter: str = letter) -> str:
            return with_initial(rng, letter, TOPIC_BY_LETTER, TOPIC_CORES).format(topic=topic)

        line = _clean(rng, make, avoid)
        for _ in range(10):
            if line not in lines:
                break
            line = _clean(rng, make, avoid)
        lines.append(line[0].upper() + line[1:])
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": question})
    messages.append({"role": "assistant", "content": "\n".join(lines)})
    return {"messages": messages}
