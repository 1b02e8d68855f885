"""Claims files: the keys of a claim, :class:`Claim`, and :func:`parse_claims`.

Reads ``analysis/claims.yaml`` (the format is described in :mod:`stats.review`) and
validates it, raising :class:`ClaimsError` naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stats import schemas
from stats.config import ROPE

CLAIM_KEYS = ("id", "text", "source", "filter", "outcome", "compare", "rope", "notes")
OUTCOME_KEYS = ("column", "max_line", "line_column")
COMPARE_KEYS = ("rate", "vs", "filter", "baseline", "direction")
DIRECTIONS = ("greater", "less", "similar")
BASELINE_ARMS = ("base", "control")
TOP_KEYS = ("claims",)
CLAIM_VERDICTS = ("supported", "contradicted", "inconclusive", "no-data")


class ClaimsError(ValueError):
    """A claims file is malformed; the message names the file, line and field."""


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Claim:
    """One validated claim (see the module docstring for the fields)."""

    claim_id: str
    text: str
    filter: dict[str, Any]
    outcome: dict[str, Any]
    compare: dict[str, Any]
    rope: float
    line: int


def _strip(mapping: Any) -> Any:
    if isinstance(mapping, dict):
        return {k: _strip(v) for k, v in mapping.items() if k != "__line__"}
    if isinstance(mapping, list):
        return [_strip(v) for v in mapping]
    return mapping


def _check_keys(where: str, given: dict[str, Any], valid: tuple[str, ...]) -> None:
    unknown = [k for k in given if k != "__line__" and k not in valid]
    if unknown:
        raise ClaimsError(f"{where}: unknown key(s) {unknown}; valid keys: {', '.join(valid)}")


def _check_filter(where: str, flt: Any) -> None:
    if not isinstance(flt, dict):
        raise ClaimsError(f"{where}: a filter must be a mapping of column: value, got {flt!r}")
    columns = set(schemas.columns("trials"))
    for key, value in _strip(flt).items():
        if not (key in columns or key.startswith("conditions.")):
            raise ClaimsError(
                f"{where}: unknown filter column {key!r}; valid: any trial column "
                f"({', '.join(sorted(columns))}) or conditions.<key>"
            )
        if isinstance(value, dict):
            _check_keys(f"{where}: filter {key}", value, ("min", "max"))


def parse_claims(path: Path) -> list[Claim]:
    """Read and validate a claims file.

    Parameters
    ----------
    path : Path
        A YAML file with a top-level ``claims`` list.

    Returns
    -------
    list of Claim

    Raises
    ------
    ClaimsError
        Naming the file, the line and the field, with the valid keys or values.
    """
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(), Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise ClaimsError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ClaimsError(f"{path}: expected a mapping with a 'claims' list")
    _check_keys(f"{path}", doc, TOP_KEYS)
    claims, seen = [], set()
    boolean_columns = {f.name for f in schemas.TRIALS if f.dtype in ("boolean", "bool")}
    line_columns = {"articulation_line", "word_line", "letters_visible"}
    for index, raw in enumerate(doc["claims"], 1):
        if not isinstance(raw, dict):
            raise ClaimsError(f"{path}: claim {index} is not a mapping")
        line = raw.get("__line__", 0)
        where = f"{path}, line {line}, claim {index} ({raw.get('id', '?')!r})"
        _check_keys(where, raw, CLAIM_KEYS)
        for required in ("id", "text", "filter", "outcome", "compare"):
            if required not in raw:
                raise ClaimsError(f"{where}: missing required key {required!r}")
        claim_id = str(raw["id"])
        if claim_id in seen:
            raise ClaimsError(f"{where}: duplicate id {claim_id!r}")
        seen.add(claim_id)
        _check_filter(f"{where}: filter", raw["filter"])
        outcome = raw["outcome"]
        outcome = {"column": outcome} if isinstance(outcome, str) else outcome
        if not isinstance(outcome, dict):
            raise ClaimsError(f"{where}: outcome must be a column name or a mapping")
        _check_keys(f"{where}: outcome", outcome, OUTCOME_KEYS)
        if outcome.get("column") not in boolean_columns:
            raise ClaimsError(
                f"{where}: outcome column {outcome.get('column')!r} is not a boolean trial column; "
                f"valid: {', '.join(sorted(boolean_columns))}"
            )
        if outcome.get("line_column", "articulation_line") not in line_columns:
            raise ClaimsError(
                f"{where}: outcome line_column must be one of {', '.join(sorted(line_columns))}"
            )
        compare = raw["compare"]
        if not isinstance(compare, dict):
            raise ClaimsError(f"{where}: compare must be a mapping")
        _check_keys(f"{where}: compare", compare, COMPARE_KEYS)
        kinds = [k for k in ("rate", "vs", "filter", "baseline") if k in compare]
        if len(kinds) != 1:
            raise ClaimsError(
                f"{where}: compare needs exactly one of rate, vs, filter, baseline; got {kinds}"
            )
        direction = compare.get("direction", "greater")
        if direction not in DIRECTIONS:
            raise ClaimsError(
                f"{where}: compare direction {direction!r}; valid: {', '.join(DIRECTIONS)}"
            )
        if "baseline" in compare and compare["baseline"] not in BASELINE_ARMS:
            raise ClaimsError(
                f"{where}: baseline {compare['baseline']!r}; valid: {', '.join(BASELINE_ARMS)}"
            )
        if "rate" in compare and not (
            isinstance(compare["rate"], int | float) and 0 <= compare["rate"] <= 1
        ):
            raise ClaimsError(f"{where}: compare rate must be a number in [0, 1]")
        for key in ("vs", "filter"):
            if key in compare:
                _check_filter(f"{where}: compare {key}", compare[key])
        claims.append(
            Claim(
                claim_id=claim_id,
                text=str(raw["text"]),
                filter=_strip(raw["filter"]),
                outcome=_strip(outcome),
                compare={**_strip(compare), "direction": direction},
                rope=float(raw.get("rope", ROPE)),
                line=line,
            )
        )
    return claims
