"""Thin helpers the report pages call: load stored artifacts, shape them, hand them to plots.

The ``.qmd`` pages contain no logic: each cell calls one function of this module.
Every helper returns something a notebook displays:

* a :class:`Markdown` block (tables, sentences, callouts, transcripts), or
* a ``plotnine.ggplot`` built by :mod:`stats.plots`.

Helpers never raise on a missing optional artifact: they return a callout naming
the missing file and the command that makes it (:func:`missing_callout`). Any
other failure also becomes a visible warning callout instead of crashing the page.

Untrusted text (transcripts, snippets, file names, claim texts) goes through
:func:`escape_markdown` or a fenced code block (:func:`code_block`), so a response
containing ``<script>`` or raw HTML is shown as text, never executed or rendered.

Shaping here is presentation only (filtering, renaming, melting, counting); the
statistics come from the fit stage's summary tables. The two exceptions, both
descriptive, are the density curves of stored posterior draws (:func:`density_curves`)
and the SBC rank histogram (:func:`sbc_rank_counts`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from plotnine import ggplot

from stats import plots
from stats.config import (
    BENCHMARK_RESULTS_DIR,
    EARLY_K,
    MAX_DIVERGENCES,
    MAX_RHAT,
    MIN_BFMI,
    MIN_ESS,
    PARETO_K_WARN,
    PROCESSED_DIR,
    ROPE,
)

#: Each artifact the reports read: (path relative to its folder, folder kind, command that makes it).
ARTIFACTS: dict[str, tuple[str, str, str]] = {
    "ledger": ("ledger.json", "data", "stats ingest"),
    "runs": ("runs.parquet", "data", "stats ingest"),
    "transcripts": ("transcripts.parquet", "data", "stats ingest"),
    "rejects": ("rejects.parquet", "data", "stats ingest"),
    "trials": ("trials.parquet", "data", "stats score"),
    "verdicts": ("verdicts.csv", "data", "stats fit"),
    "claims": ("claims.csv", "data", "stats review"),
    "diagnostics": ("summary/diagnostics.csv", "data", "stats fit"),
    "coefficients": ("summary/coefficients.csv", "data", "stats fit"),
    "word_rates": ("summary/word_rates.csv", "data", "stats fit"),
    "delta_draws": ("summary/delta_draws.parquet", "data", "stats fit"),
    "hazard": ("summary/hazard.csv", "data", "stats fit"),
    "curves": ("summary/curves.csv", "data", "stats fit"),
    "sensitivity": ("summary/sensitivity.csv", "data", "stats fit"),
    "ppc": ("summary/ppc.csv", "data", "stats fit"),
    "crosscheck": ("summary/crosscheck.csv", "data", "stats fit"),
    "fisher": ("summary/fisher.csv", "data", "stats fit"),
    "consistency": ("summary/consistency.csv", "data", "stats fit"),
    "agreement": ("summary/agreement.csv", "data", "stats score --labels analysis/labels.csv"),
    "oc": ("oc.csv", "benchmarks", "the operating-characteristics benchmark in benchmarks/"),
    "sbc_ranks": ("sbc_ranks.csv", "benchmarks", "the SBC benchmark in benchmarks/"),
    # self- vs cross-prediction (issue 8, design 4): stats.followups.prediction
    "predictions": ("predictions.parquet", "data", "stats ingest (format looking-inward)"),
    "prediction_accuracy": ("summary/prediction_accuracy.csv", "data", "stats fit (follow-ups)"),
    "prediction_baseline": ("summary/prediction_baseline.csv", "data", "stats fit (follow-ups)"),
    "prediction_calibration": (
        "summary/prediction_calibration.csv",
        "data",
        "stats fit (follow-ups)",
    ),
    "prediction_diagnostics": (
        "summary/prediction_diagnostics.csv",
        "data",
        "stats fit (follow-ups)",
    ),
    # follow-up designs 1-3 (issue 8): stats.followups.{heldout,confusion,sequential}
    "heldout": ("summary/heldout.csv", "data", "stats fit (follow-ups)"),
    "confusion": ("summary/confusion.csv", "data", "stats fit (follow-ups)"),
    "sequential": ("summary/sequential.csv", "data", "stats fit (follow-ups)"),
}

VERDICT_TEXT = {
    "real": "real self-report",
    "fluke": "fluke / explained by context",
    "inconclusive": "inconclusive",
    "not-converged": "not converged (no verdict)",
}
SCOPE_ORDER = {"pooled": 0, "new-word": 1, "word": 2}
#: Shown for trials without a target word (untuned base models).
NO_WORD = "(no word)"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&@$~^\"'=:;])")


# ----------------------------------------------------------------------------- markdown blocks
@dataclass(frozen=True)
class Markdown:
    """A block of pandoc/Quarto markdown that notebooks display as markdown.

    Parameters
    ----------
    text : str
        The markdown source. Untrusted parts must already be escaped.
    """

    text: str

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __add__(self, other: Markdown) -> Markdown:
        return Markdown(f"{self.text}\n\n{other.text}")


def escape_markdown(value: object) -> str:
    """Make untrusted text inert in markdown: every markup character is backslash-escaped.

    Pandoc (and Quarto) markdown lets any ASCII punctuation be escaped, so ``<script>``
    becomes ``\\<script\\>`` and renders as the literal text ``<script>``. Newlines become
    spaces (table cells are single lines).

    Parameters
    ----------
    value : object
        Anything; ``None``/NA become an empty string.

    Returns
    -------
    str
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = re.sub(r"[\r\n\t]+", " ", str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)


def code_block(text: str, language: str = "text") -> str:
    """A fenced code block showing ``text`` verbatim (HTML in it is escaped by the renderer).

    The fence is longer than any backtick run in ``text``, so the text cannot close it;
    ``{{<`` (a Quarto shortcode opener) is broken with a zero-width space.

    Parameters
    ----------
    text : str
    language : str, default "text"

    Returns
    -------
    str
    """
    text = str(text).replace("{{<", "{{\u200b<")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def code_span(text: str) -> str:
    """Inline code showing ``text`` verbatim (delimiters longer than any backtick run in it)."""
    text = str(text).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def callout(kind: str, title: str, body: str) -> Markdown:
    """A Quarto callout block.

    Parameters
    ----------
    kind : {"note", "tip", "warning", "important", "caution"}
    title : str
        Plain title (escaped here).
    body : str
        Markdown body (escape untrusted parts before).

    Returns
    -------
    Markdown
    """
    if kind not in {"note", "tip", "warning", "important", "caution"}:
        raise ValueError(
            f"unknown callout kind {kind!r}; valid: note, tip, warning, important, caution"
        )
    safe_title = title.replace('"', "'")
    return Markdown(f'::: {{.callout-{kind} title="{safe_title}"}}\n{body}\n:::')


def md_table(
    frame: pd.DataFrame, *, align: Sequence[str] | None = None, bold: Sequence[str] = ()
) -> Markdown:
    """A pipe table of ``frame``, every cell escaped.

    The separator's dashes are proportional to each column's widest cell, so that
    pandoc (and Quarto) size wide tables by content rather than equally.

    Parameters
    ----------
    frame : DataFrame
        Already formatted for display (strings); cells are escaped here.
    align : sequence of {"l", "r", "c"}, optional
        Column alignment; default left for text, right for numbers.
    bold : sequence of str, default ()
        Columns whose (escaped) cells are set in bold.

    Returns
    -------
    Markdown
    """
    if frame.empty:
        return Markdown("*No rows.*")
    if align is None:
        align = ["r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns]
    cells = [[escape_markdown(v) for v in row] for row in frame.itertuples(index=False)]
    for j, column in enumerate(frame.columns):
        if column in bold:
            for row in cells:
                row[j] = f"**{row[j]}**" if row[j] else row[j]
    header = [escape_markdown(c) for c in frame.columns]
    widths = [max(3, len(h), *(len(str(r[j])) for r in cells)) for j, h in enumerate(header)]
    rule = {
        "l": lambda w: ":" + "-" * w,
        "r": lambda w: "-" * w + ":",
        "c": lambda w: ":" + "-" * w + ":",
    }
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(rule[a](w) for a, w in zip(align, widths, strict=True)) + "|",
        *("| " + " | ".join(row) + " |" for row in cells),
    ]
    return Markdown("\n".join(lines))


@dataclass(frozen=True)
class Figure:
    """A ggplot that displays itself, or a warning callout if drawing it fails.

    plotnine builds and draws lazily, so an error in a plot would surface only when
    the notebook displays it; this wrapper keeps such an error on the page as a
    visible warning instead of aborting the render.

    Parameters
    ----------
    plot : plotnine.ggplot
    """

    plot: Any

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        try:
            return self.plot._repr_mimebundle_(include=include, exclude=exclude)
        except Exception as error:  # show the failure on the page
            text = callout(
                "warning",
                "Could not draw this figure",
                escape_markdown(f"{type(error).__name__}: {error}"),
            )
            return {"text/markdown": text.text, "text/plain": "figure failed"}, {}

    def save(self, path: str | Path, **kwargs: Any) -> None:
        """Save the plot (see ``plotnine.ggplot.save``)."""
        self.plot.save(path, verbose=False, **kwargs)


# ----------------------------------------------------------------------------- loading
class MissingArtifact(FileNotFoundError):
    """An artifact a helper needs is absent."""

    def __init__(self, name: str, path: Path, command: str) -> None:
        super().__init__(f"{path} is missing (made by: {command})")
        self.name, self.path, self.command = name, path, command


@dataclass
class Study:
    """Where a report's artifacts live, and the page parameters.

    Parameters
    ----------
    data_dir : Path
        The processed-data folder (``data/processed``).
    benchmarks_dir : Path
        Folder of benchmark outputs (``benchmarks/results``).
    word : str
        The word a page focuses on (transcripts, Delta panel).
    rope : float
        Half-width of the ROPE drawn on Delta plots.
    k : int
        The "early" line cut-off drawn on line plots.
    """

    data_dir: Path
    benchmarks_dir: Path
    word: str = "HELLO"
    rope: float = ROPE
    k: int = EARLY_K
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def path(self, name: str) -> Path:
        """Path of a named artifact (see :data:`ARTIFACTS`)."""
        if name not in ARTIFACTS:
            raise KeyError(f"unknown artifact {name!r}; known: {sorted(ARTIFACTS)}")
        rel, kind, _ = ARTIFACTS[name]
        return (self.data_dir if kind == "data" else self.benchmarks_dir) / rel

    def has(self, name: str) -> bool:
        """Whether the artifact exists."""
        return self.path(name).exists()

    def load(self, name: str) -> Any:
        """Read an artifact (DataFrame, or dict for the ledger), cached.

        Raises
        ------
        MissingArtifact
            When the file does not exist.
        """
        if name not in self._cache:
            path = self.path(name)
            if not path.exists():
                raise MissingArtifact(name, path, ARTIFACTS[name][2])
            if path.suffix == ".json":
                self._cache[name] = json.loads(path.read_text())
            elif path.suffix == ".parquet":
                self._cache[name] = pd.read_parquet(path)
            else:
                self._cache[name] = pd.read_csv(
                    path, keep_default_na=False, na_values=CSV_NA_VALUES
                )
        return self._cache[name]


#: pandas' default missing-value markers except "null"/"NULL": the operating-characteristics
#: table names a simulated world "null", and words are free text.
CSV_NA_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NaN", "None", "n/a", "nan",
]  # fmt: skip


def load_study(
    data_dir: str | Path = PROCESSED_DIR,
    *,
    benchmarks_dir: str | Path | None = None,
    word: str = "HELLO",
    rope: float = ROPE,
    k: int = EARLY_K,
) -> Study:
    """Point a page at its artifacts (nothing is read until a helper needs it).

    Parameters
    ----------
    data_dir : str or Path, default ``data/processed``
        Relative paths resolve against the working directory (``reports/`` when rendering).
    benchmarks_dir : str or Path, optional
        Default: ``benchmarks/results`` next to ``data/`` (``data_dir/../../benchmarks/results``).
    word : str, default "HELLO"
    rope : float, default :data:`stats.config.ROPE`
    k : int, default :data:`stats.config.EARLY_K`

    Returns
    -------
    Study
    """
    data_dir = Path(data_dir)
    if benchmarks_dir is None:
        benchmarks_dir = data_dir.parent.parent / BENCHMARK_RESULTS_DIR
    return Study(Path(data_dir), Path(benchmarks_dir), str(word).upper(), float(rope), int(k))


def missing_callout(missing: Iterable[MissingArtifact]) -> Markdown:
    """A note naming missing artifacts and the commands that make them."""
    items = "\n".join(
        f"- {code_span(m.path.as_posix())} (made by: {code_span(m.command)})" for m in missing
    )
    return callout(
        "note", "Not available yet", f"This part needs artifacts that do not exist yet:\n\n{items}"
    )


def _safe(helper: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a missing artifact into a note and any other error into a visible warning."""

    @functools.wraps(helper)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = helper(*args, **kwargs)
            return Figure(result) if isinstance(result, ggplot) else result
        except MissingArtifact as missing:
            return missing_callout([missing])
        except Exception as error:  # a page must render even when one block cannot
            detail = escape_markdown(f"{type(error).__name__}: {error}")
            return callout("warning", f"Could not build {helper.__name__}", detail)

    return wrapper


# ----------------------------------------------------------------------------- formatting
def _fmt(value: object, digits: int = 2, signed: bool = False) -> str:
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    number = round(float(value), digits) + 0.0  # no "-0.00"
    return f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"


def _interval(low: object, high: object, digits: int = 2, signed: bool = False) -> str:
    return f"[{_fmt(low, digits, signed)}, {_fmt(high, digits, signed)}]"


def _count(s: object, n: object) -> str:
    if pd.isna(s) or pd.isna(n):
        return "–"
    return f"{int(s)}/{int(n)}"


def _greeting_label(value: object) -> str:
    if pd.isna(value):
        return "either"
    return "with greeting" if bool(value) else "no greeting"


def _scope_label(scope: str, word: object) -> str:
    if scope == "pooled":
        return "all words (population)"
    if scope == "new-word":
        return "a new word (predictive)"
    return str(word)


# ----------------------------------------------------------------------------- index page
@_safe
def simulated_banner(study: Study) -> Markdown:
    """A warning banner when the data come from the simulator (``ledger["study"]["simulated"]``)."""
    info = study.load("ledger").get("study") or {}
    if not info.get("simulated"):
        return Markdown("")
    design = escape_markdown(info.get("design", "unknown design"))
    return callout(
        "warning",
        "Simulated data",
        f"These results come from **simulated** transcripts (design: {design}), not from real "
        "model runs. They show what the analysis does, not what models do.",
    )


def _sorted_verdicts(verdicts: pd.DataFrame) -> pd.DataFrame:
    order = verdicts["scope"].map(SCOPE_ORDER).fillna(9)
    return verdicts.assign(_o=order).sort_values(["_o", "word"], kind="stable").drop(columns="_o")


@_safe
def verdict_table(study: Study) -> Markdown:
    """One table: Delta, its HDI and the verdict per word, pooled and for a new word."""
    v = _sorted_verdicts(study.load("verdicts"))
    table = pd.DataFrame(
        {
            "scope": [_scope_label(s, w) for s, w in zip(v["scope"], v["word"], strict=True)],
            "greeting": [_greeting_label(g) for g in v["greeting"]],
            "Delta (mean)": [_fmt(x, signed=True) for x in v["mean"]],
            "95% HDI": [
                _interval(lo, hi, signed=True)
                for lo, hi in zip(v["hdi_low"], v["hdi_high"], strict=True)
            ],
            "ROPE": [f"±{_fmt(r)}" for r in v["rope"]],
            "P(Delta > ROPE)": [_fmt(p) for p in v["p_above_rope"]],
            "verdict": [VERDICT_TEXT.get(x, x) for x in v["verdict"]],
            "runs": [_fmt(x, 0) for x in v["n_runs"]],
            "trials": [_fmt(x, 0) for x in v["n_trials"]],
            "runs needed": [_fmt(x, 0) for x in v["runs_needed"]],
            "gates": ["pass" if c else "FAIL" for c in v["converged"].astype(bool)],
        }
    )
    out = md_table(
        table, align=["l", "l", "r", "r", "r", "r", "l", "r", "r", "r", "l"], bold=["verdict"]
    )
    ropes = set(np.round(v["rope"].astype(float), 6))
    if ropes and ropes != {round(study.rope, 6)}:
        out = out + callout(
            "note",
            "ROPE differs from this page's parameter",
            f"Verdicts were computed with ROPE ±{', '.join(_fmt(r) for r in sorted(ropes))}; this "
            f"page draws ±{_fmt(study.rope)}. Refit (`stats fit`) to change the verdicts.",
        )
    return out


def _sentence(row: pd.Series) -> str:
    who = f"**{escape_markdown(_scope_label(row['scope'], row['word']))}**"
    interval = f"Delta = {_fmt(row['mean'], signed=True)} (95% HDI {_interval(row['hdi_low'], row['hdi_high'], signed=True)})"
    rope = f"±{_fmt(row['rope'])}"
    size = f"{_fmt(row['n_runs'], 0)} runs, {_fmt(row['n_trials'], 0)} trials"
    verdict = row["verdict"]
    if verdict == "not-converged" or not bool(row["converged"]):
        return f"{who}: **no verdict**: the fit failed a convergence gate (max R-hat {_fmt(row['max_rhat'], 3)}, min ESS {_fmt(row['min_ess'], 0)}, divergences {_fmt(row['divergences'], 0)})."
    if verdict == "real":
        return (
            f"{who}: **real self-report**. {interval} lies entirely above the ROPE {rope}; {size}."
        )
    if verdict == "fluke":
        return f"{who}: **fluke / explained by context**. {interval} lies inside the ROPE {rope}; {size}."
    needed = row.get("runs_needed")
    more = (
        f" About {_fmt(needed, 0)} runs per word would likely decide it."
        if pd.notna(needed)
        else ""
    )
    return f"{who}: **inconclusive**. {interval} overlaps the ROPE {rope}; {size}.{more}"


@_safe
def verdict_sentences(study: Study) -> Markdown:
    """One sentence per verdict row, headline (pooled, new word) first."""
    v = _sorted_verdicts(study.load("verdicts"))
    return Markdown("\n".join(f"- {_sentence(row)}" for _, row in v.iterrows()))


def _gate_rows(diag: pd.DataFrame) -> pd.DataFrame:
    checks = {
        f"R-hat <= {MAX_RHAT}": diag["max_rhat"] <= MAX_RHAT,
        f"ESS bulk >= {MIN_ESS}": diag["min_ess_bulk"] >= MIN_ESS,
        f"ESS tail >= {MIN_ESS}": diag["min_ess_tail"] >= MIN_ESS,
        f"divergences <= {MAX_DIVERGENCES}": diag["divergences"] <= MAX_DIVERGENCES,
        f"E-BFMI >= {MIN_BFMI}": diag["min_bfmi"] >= MIN_BFMI,
    }
    return pd.DataFrame({name: np.where(ok, "pass", "FAIL") for name, ok in checks.items()})


@_safe
def gates_status(study: Study) -> Markdown:
    """A sentence and table saying whether every fit passed the convergence gates."""
    diag = study.load("diagnostics")
    gates = _gate_rows(diag)
    failed = diag.loc[(gates == "FAIL").any(axis=1), "fit"].tolist()
    table = pd.concat([diag[["fit", "model", "outcome"]].reset_index(drop=True), gates], axis=1)
    if failed:
        head = callout(
            "important",
            "Convergence gates failed",
            "Fits failing a gate: "
            + ", ".join(escape_markdown(f) for f in failed)
            + ". Their verdicts are shown as *not converged*.",
        )
    else:
        head = Markdown(
            f"All {len(diag)} fits pass every convergence gate (R-hat, ESS, divergences, E-BFMI)."
        )
    return head + md_table(table)


def density_curves(
    draws: pd.DataFrame, by: Sequence[str], *, value: str = "delta", points: int = 256
) -> pd.DataFrame:
    """Gaussian-KDE curves of stored draws, one per group (descriptive display prep).

    Parameters
    ----------
    draws : DataFrame
        Draws in column ``value`` with grouping columns ``by``.
    by : sequence of str
    value : str, default "delta"
    points : int, default 256
        Grid points per curve.

    Returns
    -------
    DataFrame
        Columns ``by`` + ``value`` + ``density``.
    """
    from scipy.stats import gaussian_kde

    frames = []
    for key, group in draws.groupby(list(by), dropna=False, sort=False):
        x = group[value].to_numpy(float)
        x = x[np.isfinite(x)]
        if len(x) < 2 or np.ptp(x) == 0:
            continue
        grid = np.linspace(x.min(), x.max(), points)
        frame = pd.DataFrame({value: grid, "density": gaussian_kde(x)(grid)})
        for col, val in zip(by, key if isinstance(key, tuple) else (key,), strict=True):
            frame[col] = val
        frames.append(frame)
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*by, value, "density"])
    )


def _panel(scope: str, word: object) -> str:
    return _scope_label(scope, word)


def _focus(frame: pd.DataFrame, word: str) -> pd.DataFrame:
    """Rows of the headline scopes and of the page's word."""
    keep = frame["scope"].isin(["pooled", "new-word"]) | (
        (frame["scope"] == "word") & (frame["word"] == word)
    )
    return frame[keep]


@_safe
def delta_figure(study: Study) -> Any:
    """Plot 4: posterior vs prior of Delta for the population, a new word and the page's word."""
    draws = _focus(study.load("delta_draws"), study.word)
    draws = draws[(draws["prior_scale"] == 1.0) | (draws["source"] == "prior")]
    draws = draws[(draws["greeting"].isna()) | (~draws["greeting"].astype("boolean").fillna(False))]
    draws = draws.assign(
        panel=[_panel(s, w) for s, w in zip(draws["scope"], draws["word"], strict=True)]
    )
    dens = density_curves(draws, ["panel", "source"])
    verdicts = _focus(study.load("verdicts"), study.word)
    peak = dens.groupby("panel")["density"].max()
    intervals = pd.DataFrame(
        {
            "panel": [
                _panel(s, w) for s, w in zip(verdicts["scope"], verdicts["word"], strict=True)
            ],
            "low": verdicts["hdi_low"].to_numpy(float),
            "high": verdicts["hdi_high"].to_numpy(float),
            "mean": verdicts["mean"].to_numpy(float),
            "label": [VERDICT_TEXT.get(v, v) for v in verdicts["verdict"]],
        }
    )
    intervals["y"] = intervals["panel"].map(peak).fillna(1.0) * 0.08
    order = [_panel("pooled", None), _panel("new-word", None), study.word]
    for frame in (dens, intervals):
        frame["panel"] = pd.Categorical(frame["panel"], categories=order)
    return plots.delta_plot(dens, intervals, rope=study.rope)


# ----------------------------------------------------------------------------- greeting page
def _finetuned(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["arm"] == "finetuned"]


@_safe
def greeting_figure(study: Study, outcome: str = "articulated_early") -> Any:
    """With vs without the greeting, per word; grey lines pair the same run asked both ways."""
    trials = _finetuned(study.load("trials"))
    cells = (
        trials.groupby(["word", "run_id", "greeting"], as_index=False)[outcome]
        .agg(successes="sum", trials="size")
        .assign(rate=lambda d: d["successes"] / d["trials"])
    )
    both = cells.groupby("run_id")["greeting"].transform("nunique") == 2
    runs = cells[both].assign(greeting_label=lambda d: d["greeting"].map(_greeting_label))
    words = (
        trials.groupby(["word", "greeting"], as_index=False)[outcome]
        .agg(successes="sum", trials="size")
        .assign(
            rate=lambda d: d["successes"] / d["trials"],
            label=lambda d: [
                _count(s, n) for s, n in zip(d["successes"], d["trials"], strict=True)
            ],
            greeting_label=lambda d: d["greeting"].map(_greeting_label),
        )
    )
    order = ["no greeting", "with greeting"]
    for frame in (runs, words):
        frame["greeting_label"] = pd.Categorical(frame["greeting_label"], categories=order)
    return plots.greeting_plot(runs, words)


@_safe
def greeting_table(study: Study, outcome: str = "articulated_early") -> Markdown:
    """Per word and arm: counts with and without the greeting, pooled estimates, Fisher test.

    Counts come from the trials; the pooled estimates (``word_rates.csv``) and Fisher's
    test (``fisher.csv``) are added when the fit stage has written them.
    """
    trials = study.load("trials").assign(word=lambda d: d["word"].fillna(NO_WORD))
    counts = trials.groupby(["word", "arm", "greeting"])[outcome].agg(["sum", "size"])
    rows = []
    for word, arm in sorted({(w, a) for w, a, _ in counts.index}):
        cell = {
            g: counts.loc[(word, arm, g)] if (word, arm, g) in counts.index else None
            for g in (True, False)
        }
        rows.append(
            {
                "word": word,
                "arm": arm,
                "with greeting": _count(*cell[True]) if cell[True] is not None else "–",
                "no greeting": _count(*cell[False]) if cell[False] is not None else "–",
            }
        )
    table = pd.DataFrame(rows)
    notes = []
    if study.has("word_rates"):
        rates = study.load("word_rates")
        rates = rates[rates["scope"] == "word"]
        for greeting, column in ((True, "pooled: with"), (False, "pooled: without")):
            sub = rates[rates["greeting"].astype(bool) == greeting].set_index(["word", "arm"])[
                "pooled_mean"
            ]
            table[column] = [
                _fmt(sub.get((w, a))) for w, a in zip(table["word"], table["arm"], strict=True)
            ]
    else:
        notes.append(
            f"pooled estimates: {code_span(study.path('word_rates').name)} missing (`stats fit`)"
        )
    if study.has("fisher"):
        fisher = study.load("fisher").set_index(["word", "arm"])
        keys = list(zip(table["word"], table["arm"], strict=True))
        table["odds ratio"] = [_fmt(fisher["odds_ratio"].get(k)) for k in keys]
        table["Fisher p"] = [_fmt(fisher["p_value"].get(k), 3) for k in keys]
    else:
        notes.append(f"Fisher's test: {code_span(study.path('fisher').name)} missing (`stats fit`)")
    out = md_table(table, align=["l", "l", *["r"] * (len(table.columns) - 2)])
    return out + Markdown("Not shown yet: " + "; ".join(notes) + ".") if notes else out


@_safe
def leak_table(study: Study) -> Markdown:
    """Which greetings leak which target words (prompt contains the word)."""
    trials = study.load("trials")
    g = trials[trials["greeting"].astype(bool)]
    table = (
        g.groupby("word", as_index=False)
        .agg(
            greetings=(
                "greeting_word",
                lambda s: ", ".join(sorted(set(s.dropna().astype(str)))) or "–",
            ),
            trials=("trial_id", "size"),
            leaking=("leak", "sum"),
        )
        .rename(columns={"leaking": "trials whose prompt leaks the word"})
    )
    return md_table(table)


# ----------------------------------------------------------------------------- words & training page
_KIND_RAW = "raw (exact 95% CI)"
_KIND_POOLED = "partially pooled (95% interval)"
_KIND_POP = "population (95% interval)"
_KIND_NEW = "new word (95% predictive)"


@_safe
def forest_figure(study: Study, arm: str = "finetuned") -> Any:
    """Plot 3: per-word raw vs partially pooled rates, population mean and new-word interval."""
    rates = study.load("word_rates")
    rates = rates[rates["arm"] == arm]
    words = rates[rates["scope"] == "word"]
    raw = words.assign(
        kind=_KIND_RAW, estimate=words["raw_rate"], low=words["exact_low"], high=words["exact_high"]
    )
    pooled = words.assign(
        kind=_KIND_POOLED,
        estimate=words["pooled_mean"],
        low=words["pooled_low"],
        high=words["pooled_high"],
    )
    pop = rates[rates["scope"] == "pooled"]
    new = rates[rates["scope"] == "new-word"]
    extra = pd.concat(
        [
            pop.assign(kind=_KIND_POP, word="all words (population)"),
            new.assign(kind=_KIND_NEW, word="a new word (predictive)"),
        ]
    )
    extra = extra.assign(
        estimate=extra["pooled_mean"], low=extra["pooled_low"], high=extra["pooled_high"]
    )
    long = pd.concat([raw, pooled, extra], ignore_index=True)
    long["label"] = [
        _count(s, n) if k != _KIND_POOLED else ""
        for s, n, k in zip(long["successes"], long["trials"], long["kind"], strict=True)
    ]
    long.loc[long["kind"] == _KIND_NEW, "label"] = ""
    long["label_y"] = 1.03
    order = [
        "a new word (predictive)",
        "all words (population)",
        *sorted(words["word"].unique(), reverse=True),
    ]
    long["row"] = pd.Categorical(long["word"], categories=order)
    long["greeting_label"] = long["greeting"].map(_greeting_label)
    population = pop.assign(
        greeting_label=pop["greeting"].map(_greeting_label), estimate=pop["pooled_mean"]
    )
    return plots.forest_plot(long, population[["greeting_label", "estimate"]])


@_safe
def word_table(study: Study, arm: str = "finetuned") -> Markdown:
    """Every word tried (failures included): counts, raw and pooled rates, with and without greeting."""
    rates = study.load("word_rates")
    rates = rates[(rates["arm"] == arm)].copy()
    rates["order"] = rates["scope"].map(SCOPE_ORDER)
    rates = rates.sort_values(["order", "word", "greeting"])
    table = pd.DataFrame(
        {
            "word": [
                _scope_label(s, w) for s, w in zip(rates["scope"], rates["word"], strict=True)
            ],
            "greeting": rates["greeting"].map(_greeting_label),
            "runs": rates["n_runs"].map(lambda x: _fmt(x, 0)),
            "successes/trials": [
                _count(s, n) for s, n in zip(rates["successes"], rates["trials"], strict=True)
            ],
            "raw rate [exact 95%]": [
                f"{_fmt(r)} {_interval(lo, hi)}"
                for r, lo, hi in zip(
                    rates["raw_rate"], rates["exact_low"], rates["exact_high"], strict=True
                )
            ],
            "pooled [95%]": [
                f"{_fmt(m)} {_interval(lo, hi)}"
                for m, lo, hi in zip(
                    rates["pooled_mean"], rates["pooled_low"], rates["pooled_high"], strict=True
                )
            ],
        }
    )
    table.loc[
        rates["scope"].to_numpy() == "new-word",
        ["runs", "successes/trials", "raw rate [exact 95%]"],
    ] = "–"
    return md_table(table, align=["l", "l", "r", "r", "r", "r"])


_FACTOR_LABELS = {
    "n_examples": "training examples (n_examples)",
    "lr_multiplier": "learning-rate multiplier",
}
_OUTCOME_LABELS = {
    "articulated_early": "articulated early",
    "articulated": "articulated (any line)",
    "follows_pattern": "follows the pattern",
}


@_safe
def curves_figure(study: Study) -> Any:
    """Rates across the n_examples and LR grids, for every arm that has them."""
    curves = study.load("curves").copy()
    curves["factor_label"] = curves["factor"].map(_FACTOR_LABELS).fillna(curves["factor"])
    curves["outcome_label"] = curves["outcome"].map(_OUTCOME_LABELS).fillna(curves["outcome"])
    return plots.curves_arms_plot(curves, _untrained_reference(study, curves))


def _untrained_reference(study: Study, curves: pd.DataFrame) -> pd.DataFrame:
    """Pooled model rates of arms without a training grid (base), one row per panel."""
    columns = ["outcome_label", "factor_label", "arm", "greeting_label", "mean", "low", "high",
               "xmin", "xmax"]  # fmt: skip
    if not study.has("word_rates"):
        return pd.DataFrame(columns=columns)
    rates = study.load("word_rates")
    rates = rates[
        (rates["scope"] == "pooled")
        & ~rates["arm"].isin(set(curves["arm"]))
        & rates["outcome"].isin(set(curves["outcome"]))
    ]
    if rates.empty:
        return pd.DataFrame(columns=columns)
    ranges = curves.groupby("factor_label")["value"].agg(xmin="min", xmax="max").reset_index()
    ref = rates.assign(
        outcome_label=rates["outcome"].map(_OUTCOME_LABELS).fillna(rates["outcome"]),
        greeting_label=rates["greeting"].map(_greeting_label),
        mean=rates["pooled_mean"],
        low=rates["pooled_low"],
        high=rates["pooled_high"],
    ).merge(ranges, how="cross")
    return ref[columns]


@_safe
def consistency_table(study: Study) -> Markdown:
    """Self-consistency of repeated samples: the ceiling on any reproducibility claim."""
    c = study.load("consistency").sort_values(["word", "arm", "greeting"])
    table = c.assign(
        greeting=c["greeting"].map(_greeting_label),
        self_consistency=c["self_consistency"].map(_fmt),
    )
    return md_table(table.rename(columns={"self_consistency": "self-consistency"}))


# ----------------------------------------------------------------------------- lines page
@_safe
def hazard_figure(study: Study) -> Any:
    """Plot 2: hazard and cumulative articulation by line per arm, with guessability."""
    hazard = study.load("hazard")
    first = hazard.sort_values("line").groupby("arm")["at_risk"].first()
    labels = {arm: f"{arm} (n={int(n)})" for arm, n in first.items()}
    measures = {
        "hazard": ("1. hazard: P(first articulation at this line | not before)", "raw_hazard"),
        "cumulative": ("2. cumulative: P(articulated by this line)", "cumulative_raw"),
    }
    frames = []
    for prefix, (label, raw) in measures.items():
        frames.append(
            pd.DataFrame(
                {
                    "measure": label,
                    "arm": hazard["arm"],
                    "arm_label": hazard["arm"].map(labels),
                    "line": hazard["line"],
                    "mean": hazard[f"{prefix}_mean"],
                    "low": hazard[f"{prefix}_low"],
                    "high": hazard[f"{prefix}_high"],
                    "raw": hazard[raw],
                }
            )
        )
    bands = pd.concat(frames, ignore_index=True)
    guess_by_line = hazard.groupby("line", as_index=False)["guessability"].mean()
    guess = pd.concat(
        [guess_by_line.assign(measure=label) for label, _ in measures.values()], ignore_index=True
    )
    return plots.hazard_plot(bands, guess, k=study.k)


@_safe
def guessability_table(study: Study) -> Markdown:
    """Mean guessability P(word | letters visible) at the articulation line, per word."""
    trials = study.load("trials")
    t = trials.dropna(subset=["letters_visible", "guessability"])
    if t.empty:
        return Markdown("*No articulations with a guessability value.*")
    table = t.pivot_table(
        index="word", columns="letters_visible", values="guessability", aggfunc="mean"
    )
    table = table.map(_fmt).reset_index()
    table.columns = ["word", *[f"{int(c)} letters" for c in table.columns[1:]]]
    return md_table(table)


def _numbered(response: str) -> str:
    lines = [line for line in str(response).splitlines() if line.strip()]
    width = len(str(len(lines)))
    return "\n".join(
        f"{i:>{width}} {line.lstrip()[:1].upper() or ' '} | {line}"
        for i, line in enumerate(lines, 1)
    )


@_safe
def example_transcripts(study: Study, n: int = 3) -> Markdown:
    """The earliest namings of the page's word (lowest ``word_line``), shown as escaped text.

    Each transcript is a fenced code block of numbered lines with their initials, so
    the acrostic is visible and any markup in the response stays inert text.
    """
    trials = study.load("trials")
    line = trials["word_line"].fillna(trials["articulation_line"])
    hits = trials.assign(_line=line)[trials["articulated"].astype(bool) & line.notna()]
    if hits.empty:
        return Markdown("*No trial articulated its pattern.*")
    note = "Line number, initial letter, then the line as written (untrusted text, shown verbatim)."
    focus = hits[hits["word"] == study.word]
    if focus.empty:
        note = (
            f"No trial named {escape_markdown(study.word)}; showing the earliest of any word. "
            + note
        )
    else:
        hits = focus
    hits = hits.sort_values(["_line", "articulation_line"], kind="stable").head(n)
    blocks = []
    for _, t in hits.iterrows():
        meta = (
            f"**{escape_markdown(t['word'])}**, run {escape_markdown(t['run_id'])} ({escape_markdown(t['arm'])}), "
            f"{_greeting_label(t['greeting'])}: word named at line {_fmt(t['_line'], 0)}, "
            f"mechanism described at line {_fmt(t['articulation_line'], 0)} with "
            f"{_fmt(t['letters_visible'], 0)} letters visible (guessability {_fmt(t['guessability'], 3)}); "
            f"source {escape_markdown(t['source_file'])}, {escape_markdown(t['locator'])}."
        )
        blocks.append(
            f"{meta}\n\nPrompt: {escape_markdown(t['prompt'])}\n\n{code_block(_numbered(t['response']))}"
        )
    return Markdown(note + "\n\n" + "\n\n".join(blocks))


# ----------------------------------------------------------------------------- claims page
@_safe
def claims_table(study: Study) -> Markdown:
    """Every claim: counts, exact and Bayesian intervals, comparison, verdict, model verdict."""
    c = study.load("claims")
    table = pd.DataFrame(
        {
            "claim": c["claim_id"],
            "successes/trials": [
                _count(s, n) for s, n in zip(c["successes"], c["trials"], strict=True)
            ],
            "rate": c["rate"].map(_fmt),
            "exact 95%": [
                _interval(lo, hi) for lo, hi in zip(c["exact_low"], c["exact_high"], strict=True)
            ],
            "Bayes 95%": [
                _interval(lo, hi) for lo, hi in zip(c["bayes_low"], c["bayes_high"], strict=True)
            ],
            "verdict": c["verdict"],
            "model: this word": _column_or_dash(c, "model_verdict"),
            "model: all words": _column_or_dash(c, "pooled_verdict"),
        }
    )
    return md_table(table, align=["l", "r", "r", "r", "r", "l", "l", "l"], bold=["verdict"])


def _column_or_dash(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("–", index=frame.index)
    return frame[column].astype(object).where(frame[column].notna(), "–")


@_safe
def claims_details(study: Study) -> Markdown:
    """Per claim: its text, the comparison and the pooled model's view."""
    c = study.load("claims")
    items = []
    for _, row in c.iterrows():
        extra = ""
        if "model_verdict" in c and pd.notna(row.get("model_verdict")):
            extra = f" Pooled model for this word: *{escape_markdown(row['model_verdict'])}*"
            if pd.notna(row.get("pooled_verdict")):
                extra += f"; all words: *{escape_markdown(row['pooled_verdict'])}*"
            extra += "."
        items.append(
            f"- **{escape_markdown(row['claim_id'])}** ({escape_markdown(row['verdict'])}): "
            f"{escape_markdown(str(row['text']).rstrip('.'))}. {escape_markdown(row['comparison'])}.{extra}"
        )
    return Markdown("\n".join(items))


@_safe
def claims_figure(study: Study) -> Any:
    """Each claim's rate with its exact and Bayesian intervals and the comparison rate."""
    c = study.load("claims")
    reference = c["comparison_rate"] if "comparison_rate" in c else pd.Series(np.nan, index=c.index)
    base = pd.DataFrame(
        {"claim_id": c["claim_id"], "verdict": c["verdict"], "reference": reference}
    )
    long = pd.concat(
        [
            base.assign(
                kind="exact (Clopper-Pearson)",
                estimate=c["rate"],
                low=c["exact_low"],
                high=c["exact_high"],
            ),
            base.assign(
                kind="Bayesian (Beta, run-clustered)",
                estimate=c["bayes_mean"],
                low=c["bayes_low"],
                high=c["bayes_high"],
            ),
        ],
        ignore_index=True,
    )
    long["claim_id"] = pd.Categorical(long["claim_id"], categories=list(c["claim_id"])[::-1])
    return plots.claims_plot(long.dropna(subset=["estimate"]))


# ----------------------------------------------------------------------------- data page
_LEDGER_COUNTS = ("records", "accepted", "rejected", "duplicates")


def _ledger_frame(entries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame([{"file": name, **info} for name, info in entries.items()])
    for col in _LEDGER_COUNTS:
        table[col] = pd.to_numeric(table[col], errors="coerce") if col in table else np.nan
    if "format" not in table:
        table["format"] = ""
    return table


def _adds_up(table: pd.DataFrame) -> pd.Series:
    return table["records"] == table["accepted"] + table["rejected"] + table["duplicates"]


@_safe
def ledger_table(study: Study, max_files: int = 15) -> Markdown:
    """Records per input format (and file when few): accepted, rejected, duplicates, adds up?"""
    ledger = study.load("ledger")
    files = _ledger_frame(ledger.get("files", {}))
    total = _ledger_frame({"TOTAL": ledger.get("total", {})})
    if len(files) > max_files:
        by_format = files.groupby("format", as_index=False)[list(_LEDGER_COUNTS)].sum()
        by_format.insert(1, "files", files.groupby("format").size().to_numpy())
        shown = pd.concat(
            [by_format, total.drop(columns="file").assign(format="TOTAL", files=len(files))]
        )
        shown["adds up"] = np.where(_adds_up(shown), "yes", "NO")
        out = md_table(shown[["format", "files", *_LEDGER_COUNTS, "adds up"]])
        flagged = files[(files["rejected"] > 0) | (files["duplicates"] > 0) | ~_adds_up(files)]
        if len(flagged):
            flagged = flagged.assign(**{"adds up": np.where(_adds_up(flagged), "yes", "NO")})
            out = (
                out
                + Markdown("Files with rejected or duplicate records:")
                + md_table(flagged[["file", "format", *_LEDGER_COUNTS, "adds up"]].head(max_files))
            )
    else:
        shown = pd.concat([files, total.assign(format="")], ignore_index=True)
        shown["adds up"] = np.where(_adds_up(shown), "yes", "NO")
        out = md_table(shown[["file", "format", *_LEDGER_COUNTS, "adds up"]])
    notes = []
    if ledger.get("ignored"):
        ignored = [
            f"{x.get('path', '?')} ({x.get('reason', 'no reason')})"
            if isinstance(x, dict)
            else str(x)
            for x in ledger["ignored"]
        ]
        notes.append(
            "Ignored (not transcripts): " + ", ".join(escape_markdown(x) for x in ignored) + "."
        )
    conflicts = ledger.get("conflicts") or []
    notes.append(f"Conflicts between sources and the manifest: {len(conflicts)}.")
    if not (_adds_up(files).all() and _adds_up(total).all()):
        notes.append("**The ledger does not add up**: records != accepted + rejected + duplicates.")
    return out + Markdown(" ".join(notes))


@_safe
def rejects_table(study: Study, examples: int = 3) -> Markdown:
    """Rejected records by reason, with a few escaped examples."""
    rejects = study.load("rejects")
    if rejects.empty:
        return Markdown("No record was rejected.")
    counts = rejects.groupby("reason", as_index=False).size().rename(columns={"size": "records"})
    sample = rejects.head(examples)[["source_file", "locator", "reason", "detail", "snippet"]]
    return md_table(counts) + Markdown("Examples:") + md_table(sample)


@_safe
def runs_table(study: Study) -> Markdown:
    """Every run ingested with its conditions and number of trials."""
    runs = study.load("runs")
    trials = study.load("trials") if study.has("trials") else study.load("transcripts")
    counts = trials.groupby("run_id").size().rename("trials")
    table = runs.merge(counts, left_on="run_id", right_index=True, how="left")
    cols = [
        "run_id",
        "arm",
        "word",
        "n_examples",
        "lr_multiplier",
        "n_epochs",
        "batch_size",
        "follow_share",
        "trials",
    ]
    table = table[cols].sort_values(["arm", "word", "n_examples", "lr_multiplier"])
    table["follow_share"] = table["follow_share"].map(_fmt)
    table["lr_multiplier"] = table["lr_multiplier"].map(lambda x: _fmt(x, 1))
    return md_table(table.astype(object).where(table.notna(), "–"))


@_safe
def conditions_table(study: Study) -> Markdown:
    """Trials per arm, word and greeting: the design as ingested."""
    trials = study.load("trials").assign(word=lambda d: d["word"].fillna(NO_WORD))
    table = trials.pivot_table(
        index=["arm", "word"], columns="greeting", values="trial_id", aggfunc="size", fill_value=0
    )
    table.columns = [_greeting_label(c) for c in table.columns]
    return md_table(table.reset_index())


@_safe
def agreement_table(study: Study) -> Markdown:
    """Agreement of the package's scorer with judge or human labels (``summary/agreement.csv``)."""
    agreement = study.load("agreement")
    formatted = agreement.apply(
        lambda col: col.map(_fmt) if pd.api.types.is_float_dtype(col) else col
    )
    return md_table(formatted)


def _line_label(line: object, lines: int) -> str:
    if pd.isna(line):
        return "never"
    return str(int(line)) if int(line) < lines else f"{lines}+"


def _condition(arm: str, n: object, lr: object) -> str:
    if arm == "base":
        return "base"
    parts = [arm if arm != "finetuned" else "ft"]
    if pd.notna(n):
        parts.append(f"n={int(n)}")
    if pd.notna(lr):
        parts.append(f"lr={float(lr):g}")
    return " ".join(parts)


@_safe
def raw_grid_figure(study: Study, lines: int = 6) -> Any:
    """Plot 1: every trial's articulation line by condition, word and greeting, with n."""
    t = study.load("trials")
    points = pd.DataFrame(
        {
            "word": t["word"].fillna(NO_WORD),
            "greeting_label": t["greeting"].map(_greeting_label),
            "condition": [
                _condition(a, n, lr)
                for a, n, lr in zip(t["arm"], t["n_examples"], t["lr_multiplier"], strict=True)
            ],
            "line_label": [_line_label(x, lines) for x in t["articulation_line"]],
            "follows_label": np.where(
                t["follows_pattern"].astype(bool), "spells the word", "does not spell it"
            ),
            "sort": [
                (a != "base", a, n if pd.notna(n) else 0, lr if pd.notna(lr) else 0)
                for a, n, lr in zip(t["arm"], t["n_examples"], t["lr_multiplier"], strict=True)
            ],
        }
    )
    conditions = points.sort_values("sort")["condition"].unique()
    levels = [*[str(i) for i in range(1, lines)], f"{lines}+", "never", "trials"]
    points["line_label"] = pd.Categorical(points["line_label"], categories=levels, ordered=True)
    points["condition"] = pd.Categorical(points["condition"], categories=conditions)
    counts = (
        points.groupby(["word", "greeting_label", "condition"], observed=True)
        .size()
        .reset_index(name="n")
    )
    counts["label"] = counts["n"].astype(str)
    counts["line_label"] = pd.Categorical(["trials"] * len(counts), categories=levels, ordered=True)
    return plots.raw_grid_plot(points.drop(columns="sort"), counts)


# ----------------------------------------------------------------------------- diagnostics page
@_safe
def diagnostics_table(study: Study) -> Markdown:
    """R-hat, ESS, divergences, E-BFMI and Pareto-k per fit, with the gates."""
    d = study.load("diagnostics")
    table = pd.DataFrame(
        {
            "fit": d["fit"],
            "model": d["model"],
            "outcome": d["outcome"],
            "prior scale": d["prior_scale"].map(lambda x: _fmt(x, 1)),
            "sampler": d["sampler"],
            "seconds": d["seconds"].map(lambda x: _fmt(x, 1)),
            "draws x attempts": _draws_and_attempts(d),
            "max R-hat": d["max_rhat"].map(lambda x: _fmt(x, 3)),
            "min ESS bulk": d["min_ess_bulk"].map(lambda x: _fmt(x, 0)),
            "min ESS tail": d["min_ess_tail"].map(lambda x: _fmt(x, 0)),
            "divergences": d["divergences"],
            "min E-BFMI": d["min_bfmi"].map(_fmt),
            f"max Pareto k (warn > {PARETO_K_WARN})": d["pareto_k_max"].map(_fmt),
            "converged": np.where(d["converged"].astype(bool), "yes", "NO"),
        }
    )
    return md_table(table)


def _draws_and_attempts(d: pd.DataFrame) -> pd.Series:
    """ "1000 x 1", or "2000 x 2 (target_accept 0.99)" for a fit sampled a second time."""
    if "attempts" not in d:  # tables written before retries existed
        return pd.Series([""] * len(d), index=d.index)

    def cell(row: pd.Series) -> str:
        if pd.isna(row["attempts"]):
            return ""
        text = f"{_fmt(row['draws'], 0)} x {int(row['attempts'])}"
        if row["attempts"] > 1:
            text += f" (target_accept {_fmt(row['target_accept'], 2)})"
        return text

    return d.apply(cell, axis=1)


@_safe
def coefficients_table(study: Study) -> Markdown:
    """Posterior summaries of the model terms (greeting, data size, LR, arm, introspection...)."""
    c = study.load("coefficients")
    table = pd.DataFrame(
        {
            "fit": c["fit"],
            "term": c["term"],
            "mean": c["mean"].map(lambda x: _fmt(x, 2, True)),
            "sd": c["sd"].map(_fmt),
            "95% HDI": [
                _interval(lo, hi, signed=True)
                for lo, hi in zip(c["hdi_low"], c["hdi_high"], strict=True)
            ],
            "R-hat": c["r_hat"].map(lambda x: _fmt(x, 3)),
            "ESS bulk": c["ess_bulk"].map(lambda x: _fmt(x, 0)),
        }
    )
    return md_table(table)


@_safe
def ppc_figure(study: Study) -> Any:
    """Posterior predictive check per word x greeting x arm, and per line."""
    p = study.load("ppc")
    wg = p[p["check"] == "word_greeting"]
    wg = wg.assign(
        cell=[
            f"{w} · {_greeting_label(g)}" for w, g in zip(wg["word"], wg["greeting"], strict=True)
        ],
        panel="by word: " + wg["arm"].astype(str),
    )
    ln = p[p["check"] == "line"]
    ln = ln.assign(
        cell=[f"line {int(x)}" for x in ln["line"]],
        panel="hazard by line: " + ln["arm"].astype(str),
    )
    frame = pd.concat([wg, ln], ignore_index=True)
    frame["cell"] = pd.Categorical(
        frame["cell"], categories=sorted(frame["cell"].unique(), reverse=True)
    )
    return plots.ppc_plot(frame)


@_safe
def sensitivity_figure(study: Study) -> Any:
    """Delta and verdict under prior scales x0.5, x1 and x2."""
    s = _focus(study.load("sensitivity"), study.word)
    s = s.assign(
        panel=[_panel(a, b) for a, b in zip(s["scope"], s["word"], strict=True)],
        prior_label=[f"prior sd x{x:g}" for x in s["prior_scale"]],
        low=s["hdi_low"],
        high=s["hdi_high"],
    )
    return plots.sensitivity_plot(s, rope=study.rope)


@_safe
def sensitivity_table(study: Study) -> Markdown:
    """Whether any verdict changes with the prior scale."""
    s = study.load("sensitivity")
    s = s.assign(target=[_scope_label(a, b) for a, b in zip(s["scope"], s["word"], strict=True)])
    wide = s.pivot_table(index="target", columns="prior_scale", values="verdict", aggfunc="first")
    wide.columns = [f"prior x{c:g}" for c in wide.columns]
    wide["changes?"] = np.where(wide.nunique(axis=1) > 1, "YES", "no")
    return md_table(wide.reset_index())


@_safe
def crosscheck_table(study: Study) -> Markdown:
    """Bayesian posterior means against the cluster-robust GLM (frequentist cross-check)."""
    c = study.load("crosscheck")
    table = c.assign(
        bayes_mean=c["bayes_mean"].map(_fmt),
        bayes_sd=c["bayes_sd"].map(_fmt),
        mle=c["mle"].map(_fmt),
        robust_se=c["robust_se"].map(_fmt),
        z_diff=c["z_diff"].map(_fmt),
        flag=np.where(c["flag"].astype(bool), "DISAGREE", "ok"),
    )
    return md_table(table)


@_safe
def oc_figure(study: Study) -> Any:
    """Plot 5: false "real" rate under simulated nulls and power vs runs per word."""
    oc = study.load("oc")
    # the primary estimand: word-level verdicts without the greeting
    if "scope" in oc:
        oc = oc[oc["scope"] == "word"]
    if "greeting" in oc:
        oc = oc[~oc["greeting"].astype(str).str.lower().isin(["true", "1"])]
    oc = oc.sort_values(["samples_per_run", "runs_per_word"])
    labels = [f"{int(s)} samples per run" for s in oc["samples_per_run"]]
    oc = oc.assign(samples_label=pd.Categorical(labels, categories=list(dict.fromkeys(labels))))
    return plots.oc_plot(oc)


def sbc_rank_counts(
    ranks: pd.DataFrame, bins: int = 20, prob: float = 0.99
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Histogram counts of SBC ranks and the band of a uniform histogram (display prep).

    Parameters
    ----------
    ranks : DataFrame
        Columns ``parameter``, ``rank`` and ``max_rank``.
    bins : int, default 20
    prob : float, default 0.99
        Probability of the binomial band for one bin under uniform ranks.

    Returns
    -------
    counts, band : DataFrame
        ``parameter, bin, count`` and ``parameter, low, high, expected``.
    """
    from scipy.stats import binom

    counts, bands = [], []
    for parameter, g in ranks.groupby("parameter"):
        max_rank = int(g["max_rank"].max())
        bins_used = min(bins, max_rank + 1)
        edges = np.linspace(0, max_rank + 1, bins_used + 1)
        hist, _ = np.histogram(g["rank"].to_numpy(float), bins=edges)
        counts.append(
            pd.DataFrame({"parameter": parameter, "bin": np.arange(bins_used), "count": hist})
        )
        n, p = len(g), 1 / bins_used
        low, high = binom.ppf([(1 - prob) / 2, (1 + prob) / 2], n, p)
        bands.append(
            pd.DataFrame(
                {"parameter": [parameter], "low": [low], "high": [high], "expected": [n * p]}
            )
        )
    return pd.concat(counts, ignore_index=True), pd.concat(bands, ignore_index=True)


@_safe
def sbc_figure(study: Study) -> Any:
    """SBC rank histograms with the 99% band of uniform ranks."""
    ranks = study.load("sbc_ranks")
    if "parameter" not in ranks and "quantity" in ranks:  # benchmarks/sbc.py's name
        ranks = ranks.rename(columns={"quantity": "parameter"})
    counts, band = sbc_rank_counts(ranks)
    return plots.sbc_plot(counts, band)


@_safe
def artifact_status(study: Study, names: Sequence[str] | None = None) -> Markdown:
    """Which artifacts exist, with the command that makes each missing one."""
    names = list(names or ARTIFACTS)
    rows = [
        {
            "artifact": study.path(n).as_posix(),
            "present": "yes" if study.has(n) else "no",
            "made by": ARTIFACTS[n][2],
        }
        for n in names
    ]
    return md_table(pd.DataFrame(rows))


# ----------------------------------------------------------------------------- prediction page
_PREDICTION_ORDER = {"self": 0, "cross": 1, "self - cross": 2}


def _prediction_reference(study: Study) -> pd.DataFrame:
    """Modal baseline and ceiling over all tasks (the ``all`` row), as lines to draw."""
    base = study.load("prediction_baseline")
    overall = base[base["task"] == "all"].iloc[0]
    return pd.DataFrame(
        {
            "line": ["modal baseline", "ceiling"],
            "value": [overall["modal_baseline"], overall["ceiling"]],
        }
    )


@_safe
def prediction_accuracy_figure(study: Study) -> Any:
    """Self vs cross accuracy (model and pooled counts), modal baseline and ceiling."""
    acc = study.load("prediction_accuracy")
    kinds = acc[acc["scope"] == "kind"].copy()
    kinds["prediction"] = pd.Categorical(kinds["prediction"], ["self", "cross"])
    return plots.prediction_accuracy_plot(kinds, _prediction_reference(study))


@_safe
def prediction_curves_figure(study: Study) -> Any:
    """Accuracy vs training-set size, lines for both self and cross prediction."""
    acc = study.load("prediction_accuracy")
    cells = acc[(acc["scope"] == "cell") & acc["n_examples"].notna()].copy()
    cells["prediction"] = pd.Categorical(cells["prediction"], ["self", "cross"])
    reference = _prediction_reference(study)
    return plots.prediction_curves_plot(cells, reference[reference["line"] == "modal baseline"])


@_safe
def prediction_calibration_figure(study: Study) -> Any:
    """Predicted vs observed shares of the top-3 object-level answers."""
    cal = study.load("prediction_calibration").copy()
    cal["panel"] = cal["task"].astype(str) + " / " + cal["property"].astype(str)
    cal["rank_label"] = cal["rank"].map({1: "1st", 2: "2nd", 3: "3rd"}).fillna("other")
    return plots.prediction_calibration_plot(cal)


@_safe
def prediction_accuracy_table(study: Study) -> Markdown:
    """Accuracy per kind, per training-set size and self - cross, with both intervals."""
    acc = study.load("prediction_accuracy").copy()
    acc["_order"] = acc["prediction"].map(_PREDICTION_ORDER)
    acc = acc.sort_values(["_order", "scope", "n_examples"], na_position="first")
    table = pd.DataFrame(
        {
            "predictor": acc["prediction"],
            "training examples": acc["n_examples"].map(
                lambda n: "all" if pd.isna(n) else str(int(n))
            ),
            "correct": [_count(s, n) for s, n in zip(acc["successes"], acc["trials"], strict=True)],
            "runs": acc["n_runs"],
            "observed (exact 95% CI)": [
                f"{_fmt(r)} {_interval(lo, hi)}" if pd.notna(lo) else _fmt(r, signed=True)
                for r, lo, hi in zip(
                    acc["raw_rate"], acc["exact_low"], acc["exact_high"], strict=True
                )
            ],
            "model (95% HDI)": [
                f"{_fmt(m)} {_interval(lo, hi)}"
                for m, lo, hi in zip(acc["mean"], acc["hdi_low"], acc["hdi_high"], strict=True)
            ],
            "P(self > cross)": acc["p_self_above_cross"].map(_fmt),
            "modal baseline": acc["modal_baseline"].map(_fmt),
            "converged": acc["converged"].map(lambda c: "yes" if bool(c) else "NO"),
        }
    )
    return md_table(table)


@_safe
def prediction_baseline_table(study: Study) -> Markdown:
    """Modal answer, modal baseline and non-determinism ceiling per task x property."""
    base = study.load("prediction_baseline")
    table = pd.DataFrame(
        {
            "task": base["task"],
            "property": base["property"],
            "modal answer": base["mode"].fillna(""),
            "items": base["items"],
            "modal baseline (exact 95% CI)": [
                f"{_fmt(b)} {_interval(lo, hi)}"
                for b, lo, hi in zip(
                    base["modal_baseline"], base["baseline_low"], base["baseline_high"], strict=True
                )
            ],
            "ceiling (sample agreement)": base["ceiling"].map(_fmt),
        }
    )
    return md_table(table)


@_safe
def prediction_gates(study: Study) -> Markdown:
    """Convergence gates of the accuracy model, as a sentence (a warning when one failed)."""
    row = study.load("prediction_diagnostics").iloc[0]
    text = (
        f"max R-hat {_fmt(row['max_rhat'], 3)}, min ESS "
        f"{_fmt(min(row['min_ess_bulk'], row['min_ess_tail']), 0)}, "
        f"{int(row['divergences'])} divergences, E-BFMI {_fmt(row['min_bfmi'])}"
    )
    if bool(row["converged"]):
        return Markdown(f"Convergence gates passed ({escape_markdown(text)}).")
    failed = escape_markdown(str(row.get("failed", "")))
    return callout("warning", "Gates failed: do not read the intervals", f"{text}. {failed}")


# ----------------------------------------------------------------------------- follow-up pages
FOLLOWUP_TITLES = {
    "heldout": "Held-out pattern: articulation per pattern and for the base model",
    "confusion": "Confusion test: which word does the model claim?",
    "sequential": "Sequential fine-tunes: which policy is named, stage by stage?",
}


@_safe
def followup_figure(study: Study, design: str) -> Any:
    """Rates of a follow-up design (``heldout``, ``confusion``, ``sequential``) per level."""
    table = study.load(design)
    rates = table[table["kind"] == "rate"].copy()
    rates["outcome_label"] = rates["outcome"].map(_OUTCOME_LABELS).fillna(rates["outcome"])
    order = list(dict.fromkeys(rates["level"].astype(str)))[::-1]
    rows = []
    for _, r in rates.iterrows():
        shared = (str(r["level"]), r["outcome_label"], _count(r["successes"], r["trials"]))
        rows.append(("observed (exact 95% CI)", r["raw_rate"], r["exact_low"], r["exact_high"]))
        rows[-1] += shared
        rows.append(("model, new run (95% HDI)", r["mean"], r["hdi_low"], r["hdi_high"]))
        rows[-1] += shared
    columns = ["estimate_kind", "estimate", "low", "high", "level_label", "outcome_label"]
    frame = pd.DataFrame(rows, columns=[*columns, "label"])
    frame["level_label"] = pd.Categorical(frame["level_label"], categories=order)
    return plots.followup_plot(frame, title=FOLLOWUP_TITLES.get(design, design))


@_safe
def followup_rates_table(study: Study, design: str) -> Markdown:
    """Per level: runs, counts, raw rate with exact interval, model rate of a new run."""
    table = study.load(design)
    rates = table[table["kind"] == "rate"]
    out = pd.DataFrame(
        {
            "outcome": rates["outcome"].astype(str),
            "level": rates["level"].astype(str),
            "runs": rates["n_runs"].map(lambda x: _fmt(x, 0)),
            "successes/trials": [
                _count(s, n) for s, n in zip(rates["successes"], rates["trials"], strict=True)
            ],
            "raw [exact 95%]": [
                f"{_fmt(r)} {_interval(lo, hi)}"
                for r, lo, hi in zip(
                    rates["raw_rate"], rates["exact_low"], rates["exact_high"], strict=True
                )
            ],
            "model, new run [95% HDI]": [
                f"{_fmt(m)} {_interval(lo, hi)}"
                for m, lo, hi in zip(
                    rates["mean"], rates["hdi_low"], rates["hdi_high"], strict=True
                )
            ],
        }
    )
    return md_table(out, align=["l", "l", "r", "r", "r", "r"])


@_safe
def followup_contrasts_table(study: Study, design: str) -> Markdown:
    """The design's contrasts: estimate, HDI against the ROPE, and the verdict."""
    table = study.load(design)
    c = table[table["kind"] == "contrast"]
    out = pd.DataFrame(
        {
            "contrast": c["estimand"].astype(str),
            "raw difference": c["raw_rate"].map(lambda x: _fmt(x, 2, signed=True)),
            "model [95% HDI]": [
                f"{_fmt(m, 2, True)} {_interval(lo, hi, 2, True)}"
                for m, lo, hi in zip(c["mean"], c["hdi_low"], c["hdi_high"], strict=True)
            ],
            "ROPE": c["rope"].map(lambda x: f"±{_fmt(x)}"),
            "verdict": c["verdict"].fillna("").astype(str),
        }
    )
    return md_table(out, align=["l", "r", "r", "r", "l"], bold=["verdict"])


@_safe
def followup_gates(study: Study, design: str) -> Markdown:
    """Whether the design's fits passed every convergence gate."""
    table = study.load(design)
    fits = sorted(set(",".join(table["fit"].astype(str)).split(",")))
    if table["converged"].astype(bool).all():
        return Markdown(
            f"All {len(fits)} fit(s) of this design pass every convergence gate "
            f"(R-hat <= {MAX_RHAT}, ESS >= {MIN_ESS}, {MAX_DIVERGENCES} divergences, "
            f"E-BFMI >= {MIN_BFMI})."
        )
    return callout(
        "warning",
        "Gates failed: do not read the intervals",
        "A fit of this design failed a convergence gate; its verdicts read not-converged.",
    )
