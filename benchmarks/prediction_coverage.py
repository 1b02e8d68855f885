"""Coverage of the self/cross prediction intervals over simulated studies (not a timed test).

Simulates ``analysis/designs/prediction.yaml`` with seeds 1..N, ingests, fits, and counts how
often each true accuracy (per kind x size, per kind, self - cross) lies inside its 95% HDI.
Usage: ``python benchmarks/prediction_coverage.py [N]``; writes
``benchmarks/results/prediction_coverage.csv``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from stats.followups.prediction import run_prediction
from stats.ingest import ingest
from stats.model.sample import SamplerSettings
from stats.simulate.prediction import simulate_prediction

DESIGN = Path("analysis/designs/prediction.yaml")
OUT = Path("benchmarks/results/prediction_coverage.csv")


def one(seed: int) -> list[dict]:
    """Coverage rows of one simulated study."""
    with tempfile.TemporaryDirectory() as tmp:
        raw, proc = Path(tmp) / "raw", Path(tmp) / "proc"
        truth = simulate_prediction(DESIGN, raw, seed=seed)
        ingest([raw], raw / "runs.yaml", proc)
        acc = run_prediction(proc, settings=SamplerSettings())["prediction_accuracy"]
    rows = []
    for row in acc.itertuples():
        if row.scope == "cell":
            true = truth["accuracy"][row.prediction][str(int(row.n_examples))]
        elif row.scope == "kind":
            true = truth["kind_accuracy"][row.prediction]
        else:
            true = truth["self_minus_cross"]
        rows.append(
            {
                "seed": seed,
                "scope": row.scope,
                "prediction": row.prediction,
                "n_examples": row.n_examples,
                "truth": true,
                "mean": row.mean,
                "hdi_low": row.hdi_low,
                "hdi_high": row.hdi_high,
                "covered": row.hdi_low <= true <= row.hdi_high,
                "converged": row.converged,
            }
        )
    return rows


def main(n: int) -> pd.DataFrame:
    """Run ``n`` seeds and write the table."""
    table = pd.DataFrame([r for seed in range(1, n + 1) for r in one(seed)])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    print(table.groupby(["scope", "prediction"])["covered"].mean().to_string())
    print(json.dumps({"studies": n, "coverage": float(table["covered"].mean())}))
    return table


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
