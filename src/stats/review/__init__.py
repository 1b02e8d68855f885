"""Claims review: check claims written as data against the trials and the pooled model.

A claim in ``analysis/claims.yaml`` is a filter of trials, an outcome and a
comparison::

    claims:
      - id: hello-by-line-2-greeting
        text: HELLO is articulated by line 2 when the prompt says hello
        filter: {word: HELLO, arm: finetuned, greeting: true}
        outcome: {column: articulated, max_line: 2, line_column: word_line}
        compare: {baseline: base, direction: greater}

Filters match trial columns (``word``, ``greeting``, ``arm``, ``n_examples``,
``lr_multiplier``, ... any column of ``schemas.TRIALS``) or keys of the JSON
``conditions`` column (``conditions.stage``). A value is a scalar (equality), a
list (any of) or ``{min: .., max: ..}`` (inclusive range). Outcomes are a boolean
trial column, optionally restricted to ``<line_column> <= max_line``.

Comparisons (``compare``):

* ``rate: r`` - the claim's rate against a fixed rate;
* ``vs: {...}`` - against the claim's filter with these keys replaced (``null`` drops a key);
* ``filter: {...}`` - against another filter;
* ``baseline: base | control`` - against that arm with the same word/greeting/prompt filters.

``direction`` is ``greater`` (default), ``less`` or ``similar`` (within the ROPE).

Each claim gets counts, an exact Clopper-Pearson interval, a Bayesian interval
(Jeffreys Beta posterior; when the trials come from several runs, the counts are
divided by the design effect 1 + (m - 1) * ICC estimated from the runs, so
correlated samples of one fine-tune are not counted as independent), the verdict
(``supported | contradicted | inconclusive | no-data``) and the pooled model's
verdict for the claim's word from ``verdicts.csv``.

The package: :mod:`~stats.review.claims_file` (parsing and validation),
:mod:`~stats.review.counting` (selecting and counting trials),
:mod:`~stats.review.intervals` (intervals and verdicts) and
:mod:`~stats.review.claim_review` (one row per claim, and :func:`review`).
"""

from stats.model.frequentist import exact_interval
from stats.review.claim_review import (
    RUN_LEVEL_KEYS,
    comparison_filter,
    review,
    review_claim,
)
from stats.review.claims_file import (
    BASELINE_ARMS,
    CLAIM_KEYS,
    CLAIM_VERDICTS,
    COMPARE_KEYS,
    DIRECTIONS,
    OUTCOME_KEYS,
    TOP_KEYS,
    Claim,
    ClaimsError,
    parse_claims,
)
from stats.review.counting import Counts, count, design_effect, outcome_values, select
from stats.review.intervals import (
    DIFF_DRAWS,
    JEFFREYS,
    bayes_interval,
    beta_posterior,
    decide,
    difference_interval,
)

__all__ = [
    "BASELINE_ARMS",
    "CLAIM_KEYS",
    "CLAIM_VERDICTS",
    "COMPARE_KEYS",
    "DIFF_DRAWS",
    "DIRECTIONS",
    "JEFFREYS",
    "OUTCOME_KEYS",
    "RUN_LEVEL_KEYS",
    "TOP_KEYS",
    "Claim",
    "ClaimsError",
    "Counts",
    "bayes_interval",
    "beta_posterior",
    "comparison_filter",
    "count",
    "decide",
    "design_effect",
    "difference_interval",
    "exact_interval",
    "outcome_values",
    "parse_claims",
    "review",
    "review_claim",
    "select",
]
