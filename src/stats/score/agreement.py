"""Agreement between the rule-based scorer and human or judge labels.

Human labels: ``analysis/labels.csv`` with ``trial_id, articulation_level,
articulation_line`` (line blank when none). They are compared with the scorer's
``articulation_level`` (four categories) and ``articulation_line`` (categories
``"1"``, ``"2"``, ... and ``"none"``).

Judge labels: the transcripts column ``judge_labels`` holds a JSON object
``{scorer: value}`` (inspect-ai scores; a value may itself be an object with a
``"value"`` key). Values ``"C"/"I"/"P"/"N"`` map to 1/0/0.5/0, booleans to 1/0;
numbers are binarised at 0.5. A judge whose values are level names
(``none/vague/mechanism/word``) is compared with ``articulation_level``;
otherwise the judge's name picks the rule outcome: a name containing
``follow`` -> ``follows_pattern``, ``early`` -> ``articulated_early``, anything
else -> ``articulated``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stats.config import ARTICULATION_LEVELS

_LETTER_GRADES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
AGREEMENT_COLUMNS = ["source", "field", "n", "agreement", "kappa"]
CONFUSION_COLUMNS = ["source", "field", "rule", "other", "count"]


def cohen_kappa(rule: list[Any] | pd.Series, other: list[Any] | pd.Series) -> float:
    """Cohen's kappa of two raters over the same items (unweighted).

    Parameters
    ----------
    rule, other : sequence
        Category labels, same length, no missing values.

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; NaN when ``p_e = 1`` (both raters used one
        and the same category: agreement is total but kappa is undefined) or
        when there are no items.
    """
    a = [str(x) for x in rule]
    b = [str(x) for x in other]
    if len(a) != len(b):
        raise ValueError(f"raters rated {len(a)} and {len(b)} items")
    n = len(a)
    if n == 0:
        return float("nan")
    categories = sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def confusion_table(
    rule: list[Any] | pd.Series, other: list[Any] | pd.Series, categories: list[str] | None = None
) -> pd.DataFrame:
    """Counts of (rule, other) label pairs as a square table (rows: rule, columns: other).

    Parameters
    ----------
    rule, other : sequence
        Labels of the same items.
    categories : list of str, optional
        Order of the categories (default: sorted union; unseen ones get zero rows).

    Returns
    -------
    pandas.DataFrame
        Integer counts, index named ``rule``, columns named ``other``.
    """
    a = [str(x) for x in rule]
    b = [str(x) for x in other]
    cats = categories or sorted(set(a) | set(b))
    table = pd.DataFrame(0, index=pd.Index(cats, name="rule"), columns=pd.Index(cats, name="other"))
    for x, y in zip(a, b, strict=True):
        table.loc[x, y] += 1
    return table


def load_labels(path: Path) -> pd.DataFrame:
    """Read human labels, checking every field.

    Parameters
    ----------
    path : Path
        CSV with a header ``trial_id, articulation_level, articulation_line``.

    Returns
    -------
    pandas.DataFrame
        ``trial_id`` (string), ``articulation_level`` (string), ``articulation_line`` (Int64).

    Raises
    ------
    ValueError
        Naming the file, line and field of the first bad value.
    """
    path = Path(path)
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"trial_id", "articulation_level", "articulation_line"} - set(
            reader.fieldnames or []
        )
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {sorted(missing)}")
        for line_no, row in enumerate(reader, start=2):
            trial_id = (row["trial_id"] or "").strip()
            if not trial_id:
                raise ValueError(f"{path}: line {line_no}: field 'trial_id' is empty")
            level = (row["articulation_level"] or "").strip().lower()
            if level not in ARTICULATION_LEVELS:
                raise ValueError(
                    f"{path}: line {line_no}: field 'articulation_level' must be one of "
                    f"{list(ARTICULATION_LEVELS)}, got {row['articulation_level']!r}"
                )
            raw_line = (row["articulation_line"] or "").strip()
            line: int | None = None
            if raw_line and raw_line.lower() not in ("na", "nan", "none"):
                try:
                    line = int(raw_line)
                except ValueError:
                    line = 0
                if line < 1:
                    raise ValueError(
                        f"{path}: line {line_no}: field 'articulation_line' must be a positive "
                        f"integer or blank, got {raw_line!r}"
                    )
            rows.append((trial_id, level, line))
    ids, levels, lines = zip(*rows, strict=True) if rows else ((), (), ())
    return pd.DataFrame(
        {
            "trial_id": pd.Series(ids, dtype="string"),
            "articulation_level": pd.Series(levels, dtype="string"),
            "articulation_line": pd.Series(lines, dtype="Int64"),
        }
    )


def _line_category(value: Any) -> str:
    return "none" if pd.isna(value) else str(int(value))


def _judge_value(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in _LETTER_GRADES:
            return _LETTER_GRADES[text.upper()]
        if text.lower() in ARTICULATION_LEVELS:
            return text.lower()
        try:
            return float(text)
        except ValueError:
            return None
    return None


def judge_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Judge labels in long form.

    Parameters
    ----------
    trials : pandas.DataFrame
        With ``trial_id`` and ``judge_labels`` (JSON object or missing).

    Returns
    -------
    pandas.DataFrame
        ``trial_id, scorer, value`` with values as numbers (0-1) or level names;
        unparseable values are dropped.
    """
    records = []
    if "judge_labels" not in trials.columns:
        return pd.DataFrame(columns=["trial_id", "scorer", "value"])
    for trial_id, raw in zip(trials["trial_id"], trials["judge_labels"], strict=True):
        if pd.isna(raw) or not str(raw).strip():
            continue
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if not isinstance(parsed, dict):
            continue
        for scorer, value in parsed.items():
            converted = _judge_value(value)
            if converted is not None:
                records.append((trial_id, str(scorer), converted))
    return pd.DataFrame(records, columns=["trial_id", "scorer", "value"])


def _compare(source: str, field: str, rule: list[str], other: list[str], cats: list[str] | None):
    n = len(rule)
    agreement = float(np.mean([a == b for a, b in zip(rule, other, strict=True)])) if n else np.nan
    summary = {
        "source": source,
        "field": field,
        "n": n,
        "agreement": agreement,
        "kappa": cohen_kappa(rule, other),
    }
    table = confusion_table(rule, other, cats)
    long = table.stack().rename("count").reset_index()
    long.insert(0, "field", field)
    long.insert(0, "source", source)
    return summary, long[CONFUSION_COLUMNS]


def agreement_tables(
    trials: pd.DataFrame,
    labels: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agreement of the scorer with human labels and with each judge.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials.
    labels : pandas.DataFrame, optional
        From :func:`load_labels`; trials without a label are left out. Human
        lines are compared with ``articulation_line`` as scored (at the
        threshold used for scoring).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``agreement`` (source, field, n, agreement, kappa) and
        ``confusion`` (source, field, rule, other, count).
    """
    summaries: list[dict[str, Any]] = []
    confusions: list[pd.DataFrame] = []
    if labels is not None and len(labels):
        merged = labels.merge(trials, on="trial_id", how="inner", suffixes=("_human", ""))
        s, c = _compare(
            "human",
            "articulation_level",
            [str(x) for x in merged["articulation_level"]],
            [str(x) for x in merged["articulation_level_human"]],
            list(ARTICULATION_LEVELS),
        )
        summaries.append(s)
        confusions.append(c)
        s, c = _compare(
            "human",
            "articulation_line",
            [_line_category(x) for x in merged["articulation_line"]],
            [_line_category(x) for x in merged["articulation_line_human"]],
            None,
        )
        summaries.append(s)
        confusions.append(c)
    judges = judge_table(trials)
    if len(judges):
        indexed = trials.set_index("trial_id")
        for scorer, group in judges.groupby("scorer", sort=True):
            group = group[group["trial_id"].isin(indexed.index)]
            values = group["value"].tolist()
            if all(isinstance(v, str) for v in values):
                field = "articulation_level"
                rule = [str(indexed.at[t, field]) for t in group["trial_id"]]
                other = [str(v) for v in values]
                cats = list(ARTICULATION_LEVELS)
            else:
                name = str(scorer).lower()
                field = (
                    "follows_pattern"
                    if "follow" in name
                    else "articulated_early"
                    if "early" in name
                    else "articulated"
                )
                rule = [str(bool(indexed.at[t, field])) for t in group["trial_id"]]
                other = [str(isinstance(v, float) and v >= 0.5) for v in values]
                cats = ["False", "True"]
            s, c = _compare(f"judge:{scorer}", field, rule, other, cats)
            summaries.append(s)
            confusions.append(c)
    agreement = pd.DataFrame(summaries, columns=AGREEMENT_COLUMNS)
    confusion = (
        pd.concat(confusions, ignore_index=True)
        if confusions
        else pd.DataFrame(columns=CONFUSION_COLUMNS)
    )
    return agreement, confusion


def write_agreement(
    trials: pd.DataFrame,
    summary_dir: Path,
    *,
    labels: Path | None = None,
) -> tuple[Path, Path] | None:
    """Write ``agreement.csv`` and ``agreement_confusion.csv`` when there is anything to compare.

    Parameters
    ----------
    trials : pandas.DataFrame
        Scored trials.
    summary_dir : Path
        Output folder (created).
    labels : Path, optional
        Human labels CSV.

    Returns
    -------
    (Path, Path) or None
        The files written, or None when there are neither labels nor judge labels.
    """
    human = load_labels(labels) if labels is not None else None
    agreement, confusion = agreement_tables(trials, human)
    if agreement.empty:
        return None
    summary_dir = Path(summary_dir)
    summary_dir.mkdir(parents=True, exist_ok=True)
    paths = (summary_dir / "agreement.csv", summary_dir / "agreement_confusion.csv")
    agreement.to_csv(paths[0], index=False)
    confusion.to_csv(paths[1], index=False)
    return paths
