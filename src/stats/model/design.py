"""From aggregated cells to model inputs: codes, standardised covariates, layout.

Pure pandas/NumPy (no PyMC). A :class:`ModelData` holds everything a builder or
a NumPy predictor needs: the outcome counts, integer codes for every named
dimension (word, run, prompt, arm, line), numeric inputs and how each numeric
input was standardised, so that counterfactual rows (a fine-tuned run of word W
with no greeting) can be coded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from stats import config
from stats.model.layout import Layout, pinned_terms
from stats.model.spec import GUESS_CLIP, REFERENCE_ARM

#: Columns that identify an M1 cell (besides successes/trials).
M1_BY = ["run_id", "word", "arm", "greeting", "n_examples", "lr_multiplier", "prompt_id"]
#: Columns that identify an M2 person-period cell (besides events/at_risk). M2 has no
#: prompt effect, so prompts of one greeting level are pooled (fewer cells, same posterior).
M2_BY = [
    "run_id",
    "word",
    "arm",
    "greeting",
    "line",
    "letters_visible",
    "guessability",
    "early",
]
#: Optional M2 cell column: the prompt leaks the target word (greeting "hello" for HELLO).
#: Cells without it are taken as not leaking.
M2_OPTIONAL = ["leak"]
#: Dimensions of group effects and the cell column each one reads.
DIM_COLUMNS = {"word": "word", "run": "run_id", "prompt": "prompt_id", "line": "line"}


@dataclass
class Rows:
    """Coded rows for the linear predictor (observed cells or counterfactual rows).

    Parameters
    ----------
    inputs : dict of str to ndarray
        Numeric inputs (``greeting``, ``finetuned``, ``x_n``, ``x_lr``, ``logit_g``, ``intro``).
    index : dict of str to ndarray or None
        Integer codes per dimension (``word``, ``run``, ``prompt``, ``arm``, ``line``);
        ``None`` means "a new, unobserved level": the group effect contributes zero
        (callers integrate over it, see :mod:`stats.model.contrasts`). Arm code 0 is
        the reference arm, code k the k-th contrast level.
    n_levels : dict of str to int
        Number of contrast levels per categorical input (``{"arm": 2}``).
    """

    inputs: dict[str, np.ndarray]
    index: dict[str, np.ndarray | None]
    n_levels: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of rows."""
        for values in self.inputs.values():
            return len(values)
        for values in self.index.values():
            if values is not None:
                return len(values)
        return 0


@dataclass
class ModelData:
    """Observed cells coded for one model.

    Parameters
    ----------
    model : {"M1", "M2"}
    cells : DataFrame
        The cells as given (one row per cell), index reset.
    y, n : ndarray of int
        Successes (events) and trials (at risk) per cell.
    rows : Rows
        Coded inputs of the cells.
    coords : dict of str to list
        Labels of every dimension; ``arm`` lists the non-reference arms (contrast levels).
    scaling : dict of str to (float, float)
        Centre and scale of each standardised input: ``x = (raw - centre) / scale``.
    layout : Layout
        Which factors vary (decides the terms of the spec).
    """

    model: str
    cells: pd.DataFrame
    y: np.ndarray
    n: np.ndarray
    rows: Rows
    coords: dict[str, list]
    scaling: dict[str, tuple[float, float]]
    layout: Layout
    guessability: pd.DataFrame = field(default_factory=pd.DataFrame)

    def centring_matrix(self, dim: str, within: str) -> np.ndarray:
        """Matrix ``M`` with ``M @ z`` = ``z`` centred within each level of ``within``.

        Levels of ``dim`` (e.g. prompts) are grouped by their value of the cell column
        ``within`` (e.g. greeting; a level seen with several values takes the first).
        """
        column = DIM_COLUMNS[dim]
        first = self.cells.drop_duplicates(column).set_index(column)[within]
        groups = np.array([first[level] for level in self.coords[dim]])
        same = groups[:, None] == groups[None, :]
        return np.eye(len(groups)) - same / same.sum(axis=1, keepdims=True)

    def digest_frame(self) -> pd.DataFrame:
        """The cells reduced to what determines the fit (for the cache key)."""
        keys = M1_BY if self.model == "M1" else [*M2_BY, *M2_OPTIONAL]
        cols = [c for c in keys if c in self.cells]
        out = self.cells[cols].astype("string").copy()
        out["y"] = self.y
        out["n"] = self.n
        return out.sort_values([*cols, "y", "n"]).reset_index(drop=True)


def log2_n_examples(n_examples: pd.Series) -> pd.Series:
    """``log2(n_examples / N_EXAMPLES_REFERENCE)`` (NA stays NA)."""
    values = pd.to_numeric(n_examples, errors="coerce").astype("float64")
    return np.log2(values / config.N_EXAMPLES_REFERENCE)


def log2_lr(lr_multiplier: pd.Series) -> pd.Series:
    """``log2(lr_multiplier)`` (NA stays NA)."""
    return np.log2(pd.to_numeric(lr_multiplier, errors="coerce").astype("float64"))


def clipped_logit(g: pd.Series | np.ndarray) -> np.ndarray:
    """Logit of guessability clipped to ``[GUESS_CLIP, 1 - GUESS_CLIP]``; NA -> the lower clip."""
    values = pd.to_numeric(pd.Series(np.asarray(g, dtype=object)), errors="coerce")
    values = values.astype("float64").fillna(GUESS_CLIP).to_numpy()
    p = np.clip(values, GUESS_CLIP, 1 - GUESS_CLIP)
    return np.log(p / (1 - p))


def gelman_scaling(raw: np.ndarray) -> tuple[float, float]:
    """Centre and scale (two standard deviations) of the finite values of ``raw``.

    Returns scale 1 when the values do not vary (the term is then left out anyway).
    """
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return 0.0, 1.0
    centre = float(finite.mean())
    scale = float(2 * finite.std())
    return centre, scale if scale > 1e-12 else 1.0


def standardise(raw: np.ndarray, scaling: tuple[float, float]) -> np.ndarray:
    """``(raw - centre) / scale`` with missing values at the centre (0)."""
    centre, scale = scaling
    out = (raw - centre) / scale
    return np.where(np.isfinite(out), out, 0.0)


def _codes(values: pd.Series, levels: list) -> np.ndarray:
    lookup = {level: i for i, level in enumerate(levels)}
    return np.array([lookup[v] for v in values], dtype=np.int64)


def _levels(values: pd.Series) -> list:
    return sorted(pd.unique(values.dropna()).tolist(), key=str)


def _normalise_cells(
    cells: pd.DataFrame, by: list[str], count_cols: tuple[str, str]
) -> pd.DataFrame:
    missing = [c for c in [*by, *count_cols] if c not in cells.columns]
    if missing:
        raise ValueError(f"cells lack columns {missing}; have {list(cells.columns)}")
    out = cells.reset_index(drop=True).copy()
    out["word"] = out["word"].astype("string").fillna("(none)")
    out["run_id"] = out["run_id"].astype("string")
    if "prompt_id" not in out:
        out["prompt_id"] = "(pooled)"
    out["prompt_id"] = out["prompt_id"].astype("string").fillna("(none)")
    out["arm"] = out["arm"].astype("string")
    out["greeting"] = out["greeting"].astype("boolean").fillna(False).astype(bool)
    unknown = sorted(set(out["arm"]) - set(config.ARMS))
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; valid: {list(config.ARMS)}")
    y, n = count_cols
    out[y] = out[y].astype("int64")
    out[n] = out[n].astype("int64")
    if (out[y] > out[n]).any() or (out[y] < 0).any():
        raise ValueError(f"cells with {y} outside [0, {n}]")
    return out[out[n] > 0].reset_index(drop=True)


def _common_rows(
    cells: pd.DataFrame, coords: dict[str, list]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | None]]:
    finetuned = (cells["arm"] == REFERENCE_ARM).to_numpy(dtype=float)
    inputs = {
        "greeting": cells["greeting"].to_numpy(dtype=float),
        "finetuned": finetuned,
        "baseline": 1.0 - finetuned,
    }
    index: dict[str, np.ndarray | None] = {
        dim: _codes(cells[col], coords[dim]) for dim, col in DIM_COLUMNS.items() if dim in coords
    }
    # arm code 0 = reference, k = k-th contrast level
    arm_levels = [REFERENCE_ARM, *coords["arm"]]
    index["arm"] = _codes(cells["arm"], arm_levels)
    return inputs, index


def _arm_coords(cells: pd.DataFrame) -> list[str]:
    present = set(cells["arm"])
    return [a for a in config.ARMS if a in present and a != REFERENCE_ARM]


def m1_data(cells: pd.DataFrame) -> ModelData:
    """Code binomial cells for M1.

    Parameters
    ----------
    cells : DataFrame
        Columns :data:`M1_BY` + ``successes``, ``trials`` (``stats.tidy.binomial_cells``).

    Returns
    -------
    ModelData
    """
    cells = _normalise_cells(cells, M1_BY, ("successes", "trials"))
    if cells.empty:
        raise ValueError("no cells with trials > 0 to fit")
    coords: dict[str, list] = {
        "word": _levels(cells["word"]),
        "run": _levels(cells["run_id"]),
        "prompt": _levels(cells["prompt_id"]),
        "arm": _arm_coords(cells),
        "cell": list(range(len(cells))),
    }
    inputs, index = _common_rows(cells, coords)
    # covariates are run-level: standardise over runs that have them (fine-tunes)
    runs = cells.drop_duplicates("run_id")
    scaling = {}
    for name, raw_fn, col in (
        ("x_n", log2_n_examples, "n_examples"),
        ("x_lr", log2_lr, "lr_multiplier"),
    ):
        scaling[name] = gelman_scaling(raw_fn(runs[col]).to_numpy())
        inputs[name] = standardise(raw_fn(cells[col]).to_numpy(), scaling[name])
    pinned = pinned_terms(
        cells["successes"].to_numpy(), cells["trials"].to_numpy(), inputs, index, coords
    )
    layout = _layout(cells, coords, runs, pinned=pinned)
    return ModelData(
        "M1",
        cells,
        cells["successes"].to_numpy(),
        cells["trials"].to_numpy(),
        Rows(inputs, index, {"arm": len(coords["arm"])}),
        coords,
        scaling,
        layout,
    )


def m2_data(cells: pd.DataFrame, k: int = config.EARLY_K) -> ModelData:
    """Code person-period hazard cells for M2.

    Parameters
    ----------
    cells : DataFrame
        Columns :data:`M2_BY` + ``events``, ``at_risk`` (``stats.tidy.hazard_cells``).
    k : int, default config.EARLY_K
        Lines with ``letters_visible <= k`` are "early" (recomputed here so that the
        ``intro`` input matches the spec's k even if the cells were made with another).

    Returns
    -------
    ModelData
    """
    cells = _normalise_cells(cells, M2_BY, ("events", "at_risk"))
    if cells.empty:
        raise ValueError("no person-period cells with at_risk > 0 to fit")
    cells["line"] = cells["line"].astype("int64")
    max_line = int(cells["line"].max())
    coords: dict[str, list] = {
        "word": _levels(cells["word"]),
        "run": _levels(cells["run_id"]),
        "prompt": _levels(cells["prompt_id"]),
        "arm": _arm_coords(cells),
        "line": list(range(1, max_line + 1)),
        "cell": list(range(len(cells))),
    }
    inputs, index = _common_rows(cells, coords)
    letters = pd.to_numeric(cells["letters_visible"], errors="coerce").fillna(cells["line"])
    early = (letters <= k).to_numpy(dtype=float)
    inputs["intro"] = inputs["finetuned"] * early
    leak = cells["leak"].astype("boolean").fillna(False) if "leak" in cells else False
    cells["leak"] = leak
    # a leaking prompt gives the word away at early lines: its own term, so that the
    # introspection term is learnt from prompts that do not leak
    inputs["leak_intro"] = inputs["intro"] * cells["leak"].to_numpy(dtype=float)
    raw_g = clipped_logit(cells["guessability"])
    scaling = {"logit_g": gelman_scaling(np.unique(raw_g))}
    inputs["logit_g"] = standardise(raw_g, scaling["logit_g"])
    runs = cells.drop_duplicates("run_id")
    layout = _layout(cells, coords, runs, guess_values=np.unique(np.round(raw_g, 9)).size)
    tuned_early = inputs["intro"] > 0
    layout = replace(
        layout, leak_varies=bool(np.unique(inputs["leak_intro"][tuned_early]).size > 1)
    )
    guess = _guessability_by_line(cells.assign(letters_visible=letters, logit_g_raw=raw_g))
    return ModelData(
        "M2",
        cells,
        cells["events"].to_numpy(),
        cells["at_risk"].to_numpy(),
        Rows(inputs, index, {"arm": len(coords["arm"])}),
        coords,
        scaling,
        layout,
        guessability=guess,
    )


def _guessability_by_line(cells: pd.DataFrame) -> pd.DataFrame:
    """Letters visible and logit guessability per word x line, as a fine-tuned run sees them.

    At-risk weighted over fine-tuned cells (all cells when there are none): the
    introspective share is evaluated for fine-tuned runs, whose followers and
    non-followers see different guessability at the same line.
    """
    tuned = cells[cells["arm"] == REFERENCE_ARM]
    source = tuned if len(tuned) else cells
    weight = source["at_risk"].clip(lower=1).astype(float)
    frame = source.assign(
        _w=weight,
        _lv=source["letters_visible"].astype(float) * weight,
        _g=source["logit_g_raw"] * weight,
    )
    out = frame.groupby(["word", "line"], as_index=False)[["_w", "_lv", "_g"]].sum()
    out["letters_visible"] = out["_lv"] / out["_w"]
    out["logit_g_raw"] = out["_g"] / out["_w"]
    return out[["word", "line", "letters_visible", "logit_g_raw"]]


def _layout(
    cells: pd.DataFrame,
    coords: dict[str, list],
    runs: pd.DataFrame,
    guess_values: int = 1,
    pinned: frozenset[str] = frozenset(),
) -> Layout:
    tuned = runs[runs["arm"] != "base"]
    prompts_per_greeting = cells.groupby("greeting")["prompt_id"].nunique()
    return Layout(
        n_words=len(coords["word"]),
        n_runs=len(coords["run"]),
        n_prompts=len(coords["prompt"]),
        arms=tuple(a for a in config.ARMS if a in set(cells["arm"])),
        greeting_varies=cells["greeting"].nunique() > 1,
        n_examples_varies=log2_n_examples(tuned["n_examples"]).dropna().nunique() > 1
        if "n_examples" in tuned
        else False,
        lr_varies=log2_lr(tuned["lr_multiplier"]).dropna().nunique() > 1
        if "lr_multiplier" in tuned
        else False,
        prompts_within_greeting=bool((prompts_per_greeting >= 2).any()),
        guessability_varies=guess_values > 1,
        pinned=pinned,
    )
