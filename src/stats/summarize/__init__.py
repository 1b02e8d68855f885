"""Posterior draws -> the tidy tables the reports read (compute only, no plotting, no I/O).

Every function takes fitted models (:class:`stats.model.fit.Fit`) or contrast draws and
returns a DataFrame whose columns are listed in CONTRACTS.md (extra columns are allowed
and documented here):

========================  ===================================================================
table                     columns
========================  ===================================================================
``verdicts``              schemas.VERDICTS + ``baseline, basis, intro_mean, intro_low,
                          intro_high, intro_p_floor, reason, runs_needed_reason, ci_prob``
``diagnostics``           ``fit, model, outcome, prior_scale, sampler, seconds, max_rhat,
                          min_ess_bulk, min_ess_tail, divergences, min_bfmi, pareto_k_max,
                          n_pareto_k_bad, converged`` + ``elpd_loo, failed, cached, n_cells,
                          draws, target_accept, attempts`` (of the reported attempt;
                          ``attempts`` > 1: the first missed a gate and the fit was
                          sampled again), ``loo_warning`` (a plain sentence when PSIS-LOO
                          is unreliable for the fit, else empty)
``coefficients``          ``fit, model, term, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk``
                          + ``input_center, input_scale`` (slopes are per ``input_scale`` raw
                          units: two standard deviations)
``word_rates``            ``scope, word, arm, greeting, outcome, successes, trials, n_runs,
                          raw_rate, exact_low, exact_high, pooled_mean, pooled_low,
                          pooled_high`` + ``guessability_at_k``
``delta_draws``           ``scope, word, greeting, source, prior_scale, draw, delta`` +
                          ``baseline``
``hazard``                ``arm, line, letters_visible, at_risk, events, raw_hazard,
                          hazard_mean, hazard_low, hazard_high, cumulative_raw,
                          cumulative_mean, cumulative_low, cumulative_high, guessability``
``curves``                ``outcome, arm, factor, value, successes, trials, raw_rate,
                          exact_low, exact_high, mean, low, high``
``sensitivity``           ``prior_scale, scope, word, greeting, mean, hdi_low, hdi_high,
                          verdict`` + ``converged``
``ppc``                   ``check, word, greeting, arm, line, trials, observed_rate, rep_mean,
                          rep_low, rep_high``
``crosscheck``            ``term, bayes_mean, bayes_sd, mle, robust_se, z_diff, flag`` + ``fit``
``fisher``                ``word, arm, greet_successes, greet_trials, nogreet_successes,
                          nogreet_trials, odds_ratio, p_value``
``consistency``           ``word, arm, greeting, n_prompts, samples_per_prompt,
                          self_consistency`` + ``outcome``
``prior_predictive``      ``fit, model, share_below_1pct, share_above_99pct, q05, q50, q95, ok``
``intro_draws``           ``scope, word, greeting, prior_scale, draw, delta_intro`` (M2, Parquet)
``cross_terms``           ``word, source, successes, trials, raw_rate, exact_low, exact_high``
                          (:func:`stats.model.frequentist.cross_terms`)
========================  ===================================================================

Model-based rates in ``word_rates`` and ``curves`` are on the probability scale; intervals
are HDIs at ``ci_prob``; posterior predictive intervals are central intervals.

Modules, one idea each: :mod:`~stats.summarize.verdicts` (the rule per contrast, the leak
guard), :mod:`~stats.summarize.diagnostics` (per-fit diagnostics, coefficients),
:mod:`~stats.summarize.rates` (word rates), :mod:`~stats.summarize.curves` (rates by design
factor, hazard by line), :mod:`~stats.summarize.predictive` (posterior and prior predictive
checks), :mod:`~stats.summarize.draws` (Delta draws), :mod:`~stats.summarize.sensitivity`
(verdicts by prior scale), :mod:`~stats.summarize.observed` (counts without a model) and
:mod:`~stats.summarize.gates` (gate rows, verdict stability). The table functions are
importable from :mod:`stats.summarize` itself.
"""

from __future__ import annotations

from stats.summarize.curves import curves_table, hazard_table
from stats.summarize.diagnostics import coefficient_table, diagnostics_table, loo_warning
from stats.summarize.draws import delta_draws_table
from stats.summarize.predictive import ppc_table, prior_predictive_table
from stats.summarize.rates import word_rates_table
from stats.summarize.sensitivity import sensitivity_table
from stats.summarize.verdicts import (
    VERDICT_EXTRA,
    guard_leaking_rows,
    leaking_conditions,
    verdict_rows,
)

__all__ = [
    "VERDICT_EXTRA",
    "coefficient_table",
    "curves_table",
    "delta_draws_table",
    "diagnostics_table",
    "guard_leaking_rows",
    "hazard_table",
    "leaking_conditions",
    "loo_warning",
    "ppc_table",
    "prior_predictive_table",
    "sensitivity_table",
    "verdict_rows",
    "word_rates_table",
]
