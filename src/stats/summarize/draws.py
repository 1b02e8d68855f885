"""Delta draws in long form (``delta_draws.parquet``): the report's density plots read them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stats.model.contrasts import Contrast


def delta_draws_table(
    contrasts: list[Contrast], source: str, prior_scale: float, max_draws: int = 4000
) -> pd.DataFrame:
    """Long table of Delta draws per scope (thinned to ``max_draws`` per scope)."""
    frames = []
    for c in contrasts:
        delta = c.delta
        step = max(1, len(delta) // max_draws)
        values = delta[::step]
        frames.append(
            pd.DataFrame(
                {
                    "scope": c.scope,
                    "word": c.word,
                    "greeting": c.greeting,
                    "source": source,
                    "prior_scale": prior_scale,
                    "draw": np.arange(len(values)),
                    "delta": values,
                    "baseline": c.baseline,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
