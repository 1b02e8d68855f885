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
BENCHMARK_RESULTS_DIR = Path("benchmarks/results")


@dataclass(frozen=True)
class Artifacts:
    """File names of every stage output inside a processed-data folder.

    Parameters
    ----------
    root : Path
        The processed-data folder (default :data:`PROCESSED_DIR`).
    """

    root: Path = PROCESSED_DIR

    # ingest
    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts.parquet"

    @property
    def runs(self) -> Path:
        return self.root / "runs.parquet"

    @property
    def rejects(self) -> Path:
        return self.root / "rejects.parquet"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.json"

    @property
    def predictions(self) -> Path:
        """Self/cross-prediction records (Looking Inward layout), when any were ingested."""
        return self.root / "predictions.parquet"

    # score
    @property
    def trials(self) -> Path:
        return self.root / "trials.parquet"

    # fit
    @property
    def fits(self) -> Path:
        return self.root / "fits"

    @property
    def verdicts(self) -> Path:
        return self.root / "verdicts.csv"

    @property
    def summary(self) -> Path:
        """Folder of tidy tables derived from the fits (read by the reports)."""
        return self.root / "summary"

    # review
    @property
    def claims(self) -> Path:
        return self.root / "claims.csv"

    # provenance: which simulator design produced the raw data, if any
    @property
    def provenance(self) -> Path:
        return self.root / "provenance.json"


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
DRAWS = 1000
TUNE = 1000
TARGET_ACCEPT = 0.95  # small group SDs diverge at PyMC's default 0.8 (measured)
#: PyMC NUTS; "dense" takes fewer steps on the bundled M1 but diverged more often (measured)
MASS_MATRIX = "diag"
#: A fit that misses a gate is sampled again (twice the draws; target_accept RETRY_TARGET_ACCEPT
#: after divergences) this many times before it is reported as not converged.
RETRIES = 1
RETRY_TARGET_ACCEPT = 0.99
