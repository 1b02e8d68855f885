"""Where a report's artifacts live, and the page parameters (:class:`ReportData`).

Each page opens its study with :func:`open_data` and hands the result to the page
helpers. Artifacts are named as in the one registry :class:`stats.config.Artifacts`
(``verdicts``, ``diagnostics``, ...); the calibration results shipped with the package
(:mod:`stats.calibration`) are loaded by the same :meth:`ReportData.load` under their
names there (``oc``, ``sbc_run``), so no page reads a path of this repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from stats import calibration
from stats.config import EARLY_K, PROCESSED_DIR, ROPE, Artifacts

#: pandas' default missing-value markers except "null"/"NULL": the operating-characteristics
#: table names a simulated world "null", and words are free text.
CSV_NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NaN", "None", "n/a", "nan",
]  # fmt: skip


class MissingArtifact(FileNotFoundError):
    """An artifact a helper needs is absent."""

    def __init__(self, name: str, path: str, command: str) -> None:
        super().__init__(f"{path} is missing (made by: {command})")
        self.name, self.path, self.command = name, path, command


@dataclass
class ReportData:
    """A study's artifacts as one page sees them, with the page parameters.

    Parameters
    ----------
    data_dir : Path
        The processed-data folder (``data/processed`` of a study folder).
    word : str
        The word a page focuses on (transcripts, Delta panel).
    rope : float
        Half-width of the ROPE drawn on Delta plots.
    k : int
        The "early" line cut-off drawn on line plots.
    """

    data_dir: Path
    word: str = "HELLO"
    rope: float = ROPE
    k: int = EARLY_K
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def artifacts(self) -> Artifacts:
        """The registry of stage outputs rooted at :attr:`data_dir`."""
        return Artifacts(self.data_dir)

    def path(self, name: str) -> Path:
        """Path of a study artifact (a name of :attr:`stats.config.Artifacts.FILES`)."""
        return self.artifacts.path(name)

    def has(self, name: str) -> bool:
        """Whether the artifact exists (study artifacts and shipped calibration files)."""
        if name in calibration.FILES:
            return calibration.path(name).is_file()
        return self.path(name).exists()

    def load(self, name: str) -> Any:
        """Read an artifact (DataFrame, dict for JSON, bytes for PNG), cached.

        Raises
        ------
        MissingArtifact
            When the file does not exist.
        """
        if name in self._cache:
            return self._cache[name]
        if name in calibration.FILES:
            source: Any = calibration.path(name)
            shown, command = (
                f"stats/calibration/{calibration.FILES[name]}",
                calibration.MADE_BY[name],
            )
        else:
            source = self.path(name)
            shown, command = source.as_posix(), Artifacts.made_by(name)
        if not source.is_file():
            raise MissingArtifact(name, shown, command)
        suffix = Path(str(source)).suffix
        with source.open("rb") as handle:
            if suffix == ".json":
                value = json.load(handle)
            elif suffix == ".parquet":
                value = pd.read_parquet(handle)
            elif suffix == ".png":
                value = handle.read()
            else:
                value = pd.read_csv(handle, keep_default_na=False, na_values=CSV_NA_VALUES)
        self._cache[name] = value
        return value


def open_data(
    data_dir: str | Path = PROCESSED_DIR,
    *,
    word: str = "HELLO",
    rope: float = ROPE,
    k: int = EARLY_K,
) -> ReportData:
    """Point a page at its study's artifacts (nothing is read until a helper needs it).

    Parameters
    ----------
    data_dir : str or Path, default ``data/processed``
        Relative paths resolve against the working directory (``reports/`` when rendering).
    word : str, default "HELLO"
    rope : float, default :data:`stats.config.ROPE`
    k : int, default :data:`stats.config.EARLY_K`

    Returns
    -------
    ReportData
    """
    return ReportData(Path(data_dir), str(word).upper(), float(rope), int(k))
