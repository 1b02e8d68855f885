"""JSON decoding with orjson where its result is known to equal the standard library's.

:func:`loads_line` is the fast path of every JSON Lines reader: it returns what
``json.loads`` would return for a line, or :data:`SLOW` when the line must go through the
standard library instead (to get the same value, or the same error message). orjson and
``json`` agree on every document orjson accepts except integers beyond the 64-bit range
(orjson reads ``-9223372036854775809`` or ``18446744073709551616`` as floats, ``json`` as
ints): a line holding a run of 19 or more digits is therefore left to ``json``. Everything
orjson rejects (invalid JSON, NaN/Infinity literals, lone surrogates, invalid UTF-8, deep
nesting) is left to ``json`` too, which accepts what it accepts and words the error.

Looking for such a run costs nearly as much as decoding. A reader whose fast path only
uses fields that big integers cannot change (strings, small ints, floats checked for range)
decodes with :func:`loads_line_unchecked` and calls :func:`exact` on the lines that leave
the fast path.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

#: Returned by :func:`loads_line` when the standard library must decode the line.
SLOW: Final = object()
_DIGITS_TO_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_NUMBER = b"0" * 19
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_decode = json.JSONDecoder().decode


def loads_line(line: bytes) -> Any:
    """``json.loads(line)`` through orjson, or :data:`SLOW` (see the module docstring).

    Parameters
    ----------
    line : bytes
        One JSON value (surrounding whitespace allowed).
    """
    try:
        value = _loads(line)
    except _JSONDecodeError:
        return SLOW
    if _LONG_NUMBER in line.translate(_DIGITS_TO_ZERO):
        return SLOW
    return value


def loads_line_unchecked(line: bytes) -> Any:
    """orjson's value of a line (integers beyond 64 bits may be floats: see :func:`exact`),
    or :data:`SLOW` when orjson rejects the line."""
    try:
        return _loads(line)
    except _JSONDecodeError:
        return SLOW


def exact(value: Any, line: bytes) -> Any:
    """``json.loads(line)``, given what :func:`loads_line_unchecked` returned for it.

    Parameters
    ----------
    value : object
        orjson's value of ``line`` (which orjson accepted, so ``json`` accepts it too).
    line : bytes
        The line.
    """
    if _LONG_NUMBER in line.translate(_DIGITS_TO_ZERO):
        return _decode(line.decode("utf-8"))
    return value
