"""Paths and defaults shared by every stage (the one place for global settings).

Paths are relative to the study folder, the working directory of every ``stats``
command: a folder made by ``stats init`` (:mod:`stats.study_folder`), or this
repository's root, the bundled study's folder (``make`` runs there). They never point
into the repository from elsewhere. Numbers used by more than one stage
(credible-interval probability, ROPE, the "early" line cut-off k, seeds) live
here so that no module scatters its own literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

# --- folders (the DAG's edges) -------------------------------------------------
RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
ANALYSIS_DIR = Path("analysis")
REPORTS_DIR = Path("reports")
SITE_DIR = REPORTS_DIR / "_site"

MANIFEST_PATH = ANALYSIS_DIR / "runs.yaml"
STUDY_PATH = ANALYSIS_DIR / "study.yaml"
CLAIMS_PATH = ANALYSIS_DIR / "claims.yaml"
LABELS_PATH = ANALYSIS_DIR / "labels.csv"
DESIGNS_DIR = ANALYSIS_DIR / "designs"
DEFAULT_DESIGN = DESIGNS_DIR / "default.yaml"
#: Where the benchmark scripts write; the calibration results the report shows are shipped
#: as package data in ``stats/calibration/`` (see :mod:`stats.calibration`).
BENCHMARK_RESULTS_DIR = Path("benchmarks/results")


@dataclass(frozen=True)
class Artifact:
    """One stage output: its path inside a processed-data folder and the command that writes it.

    Parameters
    ----------
    path : str
        Relative to the processed-data folder (POSIX separators).
    made_by : str
        The command a user runs to make it (shown when it is missing).
    """

    path: str
    made_by: str


def _file(name: str) -> property:
    """A property giving the path of the registered artifact ``name``."""
    return property(lambda self: self.path(name), doc=f"Path of the artifact ``{name}``.")


@dataclass(frozen=True)
class Artifacts:
    """The one registry of stage outputs, and their paths inside a processed-data folder.

    :data:`FILES` names every file a stage writes and a later stage (or the report)
    reads; ``Artifacts(root).path(name)`` is its location, ``Artifacts.made_by(name)``
    the command that writes it. The common ones are also attributes
    (``Artifacts(root).trials``).

    Parameters
    ----------
    root : Path
        The processed-data folder (default :data:`PROCESSED_DIR`).
    """

    root: Path = PROCESSED_DIR

    #: name -> artifact. Summary tables are written by :func:`stats.model.tables.write_tables`
    #: as ``summary/<name>.csv`` (``.parquet`` for draws) and by :mod:`stats.followups`.
    FILES: ClassVar[dict[str, Artifact]] = {
        # ingest
        "transcripts": Artifact("transcripts.parquet", "stats ingest"),
        "runs": Artifact("runs.parquet", "stats ingest"),
        "rejects": Artifact("rejects.parquet", "stats ingest"),
        "ledger": Artifact("ledger.json", "stats ingest"),
        "predictions": Artifact("predictions.parquet", "stats ingest (format looking-inward)"),
        "provenance": Artifact("provenance.json", "stats simulate"),
        # score
        "trials": Artifact("trials.parquet", "stats score"),
        "agreement": Artifact("summary/agreement.csv", "stats score --labels analysis/labels.csv"),
        # fit
        "verdicts": Artifact("verdicts.csv", "stats fit"),
        "diagnostics": Artifact("summary/diagnostics.csv", "stats fit"),
        "coefficients": Artifact("summary/coefficients.csv", "stats fit"),
        "word_rates": Artifact("summary/word_rates.csv", "stats fit"),
        "delta_draws": Artifact("summary/delta_draws.parquet", "stats fit"),
        "intro_draws": Artifact("summary/intro_draws.parquet", "stats fit"),
        "hazard": Artifact("summary/hazard.csv", "stats fit"),
        "curves": Artifact("summary/curves.csv", "stats fit"),
        "sensitivity": Artifact("summary/sensitivity.csv", "stats fit"),
        "ppc": Artifact("summary/ppc.csv", "stats fit"),
        "prior_predictive": Artifact("summary/prior_predictive.csv", "stats fit"),
        "crosscheck": Artifact("summary/crosscheck.csv", "stats fit"),
        "cross_terms": Artifact("summary/cross_terms.csv", "stats fit"),
        "fisher": Artifact("summary/fisher.csv", "stats fit"),
        "consistency": Artifact("summary/consistency.csv", "stats fit"),
        # fit: observed tables and checks (stats.summarize.observed, stats.summarize.gates)
        "outcomes": Artifact("summary/outcomes.csv", "stats fit"),
        "greeting_runs": Artifact("summary/greeting_runs.csv", "stats fit"),
        "leaks": Artifact("summary/leaks.csv", "stats fit"),
        "guessability": Artifact("summary/guessability.csv", "stats fit"),
        "conditions": Artifact("summary/conditions.csv", "stats fit"),
        "gates": Artifact("summary/gates.csv", "stats fit"),
        "verdict_stability": Artifact("summary/verdict_stability.csv", "stats fit"),
        # fit: follow-up designs (stats.followups)
        "heldout": Artifact("summary/heldout.csv", "stats fit (follow-ups)"),
        "confusion": Artifact("summary/confusion.csv", "stats fit (follow-ups)"),
        "sequential": Artifact("summary/sequential.csv", "stats fit (follow-ups)"),
        "prediction_accuracy": Artifact(
            "summary/prediction_accuracy.csv", "stats fit (follow-ups)"
        ),
        "prediction_baseline": Artifact(
            "summary/prediction_baseline.csv", "stats fit (follow-ups)"
        ),
        "prediction_calibration": Artifact(
            "summary/prediction_calibration.csv", "stats fit (follow-ups)"
        ),
        "prediction_diagnostics": Artifact(
            "summary/prediction_diagnostics.csv", "stats fit (follow-ups)"
        ),
        # review
        "claims": Artifact("claims.csv", "stats review"),
        # planning (stats.plan.outputs, PLAN_SUBDIR)
        "plan": Artifact("plan/plan.csv", "stats plan analysis/plans/default.yaml --quick"),
        "plan_run": Artifact(
            "plan/plan_run.json", "stats plan analysis/plans/default.yaml --quick"
        ),
    }

    def path(self, name: str) -> Path:
        """Path of the registered artifact ``name`` inside :attr:`root`.

        Raises
        ------
        KeyError
            Naming the known artifacts, when ``name`` is not registered.
        """
        if name not in self.FILES:
            raise KeyError(f"unknown artifact {name!r}; known: {sorted(self.FILES)}")
        return self.root / self.FILES[name].path

    @classmethod
    def made_by(cls, name: str) -> str:
        """The command that writes artifact ``name``."""
        return cls.FILES[name].made_by

    transcripts = _file("transcripts")
    runs = _file("runs")
    rejects = _file("rejects")
    ledger = _file("ledger")
    predictions = _file("predictions")
    provenance = _file("provenance")
    trials = _file("trials")
    verdicts = _file("verdicts")
    claims = _file("claims")

    @property
    def fits(self) -> Path:
        """Folder of fitted models (NetCDF), also the fit cache."""
        return self.root / "fits"

    @property
    def summary(self) -> Path:
        """Folder of tidy tables derived from the fits (read by the reports)."""
        return self.root / "summary"


# --- statistical defaults ------------------------------------------------------
CI_PROB = 0.95  # HDI probability used for verdicts (analysis plan section 5)
ROPE = 0.05  # |Delta| below this is practically zero
EARLY_K = 2  # articulated_early: word named with letters_visible <= k
ARTICULATION_THRESHOLD = "mechanism"  # level counted by articulation_line
ARTICULATION_LEVELS = ("none", "vague", "mechanism", "word")
ARMS = ("finetuned", "base", "control")
N_EXAMPLES_REFERENCE = 10  # log2(n_examples / 10) in M1
#: Guessability is clipped to [GUESS_CLIP, 1 - GUESS_CLIP] wherever its logit is taken (the
#: person-period table of stats.tidy and M2's logit_g covariate), so that impossible (g = 0)
#: and fully visible (g = 1) words stay finite. Below 1 in 1,000 the word-frequency prior
#: cannot say how guessable a word is from one or two initials, and smaller values would give
#: those lines the largest covariate values of all.
GUESS_CLIP = 1e-3

# --- convergence gates (analysis plan section 4) -------------------------------
MAX_RHAT = 1.01
MIN_ESS = 400
MAX_DIVERGENCES = 0
MIN_BFMI = 0.3
PARETO_K_WARN = 0.7

# --- sampling ------------------------------------------------------------------
SEED = 20261122
CHAINS = 4
#: nutpie on the bundled study (benchmarks/results/fit_breakdown.md): M2's slowest-mixing
#: quantities (b_intro, sd_intro) reached a bulk ESS of 370-440 in 1000 draws per chain, at
#: the gate (400); 2000 draws give 640-900. nutpie's adaptation needs far fewer tuning
#: steps than PyMC's: 500 kept every ESS and R-hat of 1000 (3 seeds each model).
DRAWS = 2000
TUNE = 500
TARGET_ACCEPT = 0.95  # small group SDs diverge at PyMC's default 0.8 (measured)
#: PyMC NUTS; "dense" takes fewer steps on the bundled M1 but diverged more often (measured)
MASS_MATRIX = "diag"
#: A fit that misses a gate is sampled again (twice the draws; target_accept RETRY_TARGET_ACCEPT
#: after divergences) this many times before it is reported as not converged.
RETRIES = 1
RETRY_TARGET_ACCEPT = 0.99
