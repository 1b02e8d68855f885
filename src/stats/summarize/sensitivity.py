"""Delta and verdict per scope under each prior scale (``sensitivity.csv``)."""

from __future__ import annotations

import pandas as pd


def sensitivity_table(verdicts_by_scale: dict[float, pd.DataFrame]) -> pd.DataFrame:
    """Delta and verdict per scope under each prior scale."""
    frames = []
    for scale, verdicts in sorted(verdicts_by_scale.items()):
        if verdicts.empty:
            continue
        frame = verdicts[
            ["scope", "word", "greeting", "mean", "hdi_low", "hdi_high", "verdict", "converged"]
        ].copy()
        frame.insert(0, "prior_scale", scale)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
