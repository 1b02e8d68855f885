"""The ``truth:`` block of a design file: true follow and articulation parameters, checked.

:func:`_truth` turns the merged ``truth:`` mapping into a
:class:`~stats.simulate.design_types.Truth`.
"""

from __future__ import annotations

from typing import Any

from stats import config
from stats.simulate.design_defaults import LEVELS
from stats.simulate.design_fields import _boolean, _list, _number, _probability, _word
from stats.simulate.design_types import Articulation, DesignError, Follow, Truth


def _articulation(
    raw: dict[str, Any], where: str, words: tuple[str, ...], source: str
) -> Articulation:
    intro = raw["introspection"]
    if not isinstance(intro, dict):
        raise DesignError(f"{source}: {where}.introspection must map words to hazards")
    intro_clean = {}
    for word, value in sorted(intro.items()):
        name = _word(word, f"{where}.introspection", source)
        if name not in words:
            raise DesignError(f"{source}: {where}.introspection names {name}, not in words")
        intro_clean[name] = _probability(value, f"{where}.introspection.{name}", source)
    mix = raw["mix"]
    if not isinstance(mix, dict) or set(mix) - set(LEVELS):
        raise DesignError(f"{source}: {where}.mix must map levels {', '.join(LEVELS)} to shares")
    mix_clean = {
        level: _probability(mix.get(level, 0.0), f"{where}.mix.{level}", source) for level in LEVELS
    }
    if abs(sum(mix_clean.values()) - 1.0) > 1e-9:
        raise DesignError(
            f"{source}: {where}.mix shares must sum to 1, got {sum(mix_clean.values())}"
        )
    return Articulation(
        introspection=intro_clean,
        introspection_default=_probability(
            raw["introspection_default"], f"{where}.introspection_default", source
        ),
        introspection_decay=_probability(
            raw["introspection_decay"], f"{where}.introspection_decay", source
        ),
        guess_scale=_probability(raw["guess_scale"], f"{where}.guess_scale", source),
        leak=_probability(raw["leak"], f"{where}.leak", source),
        leak_decay=_probability(raw["leak_decay"], f"{where}.leak_decay", source),
        background=_probability(raw["background"], f"{where}.background", source),
        sd_run=_number(raw["sd_run"], f"{where}.sd_run", source, low=0.0, high=5.0),
        mix=mix_clean,
    )


def _truth(raw: dict[str, Any], words: tuple[str, ...], source: str) -> Truth:
    f = raw["follow"]
    offsets = f["word_offsets"]
    if not isinstance(offsets, dict):
        raise DesignError(f"{source}: truth.follow.word_offsets must map words to numbers")
    follow = Follow(
        intercept=_number(f["intercept"], "truth.follow.intercept", source),
        per_doubling_n=_number(f["per_doubling_n"], "truth.follow.per_doubling_n", source),
        per_doubling_lr=_number(f["per_doubling_lr"], "truth.follow.per_doubling_lr", source),
        per_zipf=_number(f["per_zipf"], "truth.follow.per_zipf", source),
        zipf_reference=_number(f["zipf_reference"], "truth.follow.zipf_reference", source),
        per_letter=_number(f["per_letter"], "truth.follow.per_letter", source),
        length_reference=_number(f["length_reference"], "truth.follow.length_reference", source),
        word_offsets={
            _word(w, "truth.follow.word_offsets", source): _number(
                v, f"truth.follow.word_offsets.{w}", source
            )
            for w, v in sorted(offsets.items())
        },
        sd_run=_number(f["sd_run"], "truth.follow.sd_run", source, low=0.0, high=5.0),
        near_miss_share=_probability(f["near_miss_share"], "truth.follow.near_miss_share", source),
    )
    arms = {
        arm: _articulation(raw["articulation"][arm], f"truth.articulation.{arm}", words, source)
        for arm in config.ARMS
    }
    for arm in ("base", "control"):
        if arms[arm].introspection or arms[arm].introspection_default:
            raise DesignError(
                f"{source}: truth.articulation.{arm}.introspection must be empty: "
                "an untuned or sham-tuned model has no trained pattern to introspect"
            )
    guess = raw["guessability"]
    if not isinstance(guess, dict):
        raise DesignError(f"{source}: truth.guessability must map words to lists of probabilities")
    guess_clean: dict[str, list[float]] = {}
    for word, values in sorted(guess.items()):
        name = _word(word, "truth.guessability", source)
        values = _list(values, f"truth.guessability.{name}", source)
        if len(values) != len(name):
            raise DesignError(
                f"{source}: truth.guessability.{name} needs {len(name)} values (one per letter), "
                f"got {len(values)}"
            )
        guess_clean[name] = [_probability(v, f"truth.guessability.{name}", source) for v in values]
    lines = raw["plain_lines"]
    if not (isinstance(lines, list) and len(lines) == 2):
        raise DesignError(f"{source}: truth.plain_lines must be [min, max]")
    low, high = (
        _number(v, "truth.plain_lines", source, low=1, high=40, integer=True) for v in lines
    )
    if low > high:
        raise DesignError(f"{source}: truth.plain_lines must be [min, max] with min <= max")
    return Truth(
        follow=follow,
        articulation=arms,
        guessability=guess_clean,
        lexicon_min_zipf=_number(
            raw["lexicon_min_zipf"], "truth.lexicon_min_zipf", source, low=0.0
        ),
        guess_length_known=_boolean(raw["guess_length_known"], "truth.guess_length_known", source),
        plain_lines=(int(low), int(high)),
    )
