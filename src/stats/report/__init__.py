"""The report layer: one module per page of the site, plus shared formatting.

The ``.qmd`` pages (package data in ``stats/report/site/``) contain no logic: each cell
calls one helper re-exported here, on the :class:`ReportData` the page opened with
:func:`open_data`. A helper returns a :class:`Markdown` block or a drawn
:class:`Figure` (see :mod:`stats.report.blocks` for missing data, failures and strict
mode). The report computes nothing: every number comes from a table the fit stage wrote
(:class:`stats.config.Artifacts`) or from the calibration results shipped with the
package (:mod:`stats.calibration`); helpers only select, format and lay out.

================================  =============================================
module                            page
================================  =============================================
:mod:`~stats.report.verdicts`     ``index.qmd``: the answer, reasons, rule, checks
:mod:`~stats.report.greeting`     ``greeting.qmd``
:mod:`~stats.report.words`        ``words.qmd``
:mod:`~stats.report.lines`        ``lines.qmd``
:mod:`~stats.report.claims`       ``claims.qmd``
:mod:`~stats.report.data`         ``data.qmd``
:mod:`~stats.report.diagnostics`  ``diagnostics.qmd``
:mod:`~stats.report.prediction`   ``prediction.qmd``
:mod:`~stats.report.followups`    ``heldout.qmd``, ``confusion.qmd``, ``sequential.qmd``
================================  =============================================

Shared: :mod:`~stats.report.markdown` (escaping, tables, callouts),
:mod:`~stats.report.text` (numbers and labels), :mod:`~stats.report.reasons` (verdict
reasons in words), :mod:`~stats.report.artifacts` (loading), :mod:`~stats.report.common`.
"""

from importlib import resources

from stats.report.artifacts import MissingArtifact, ReportData, open_data
from stats.report.blocks import STRICT_ENV, Figure, block, strict_mode
from stats.report.claims import claims_details, claims_figure, claims_table
from stats.report.common import artifact_status, simulated_banner
from stats.report.data import (
    agreement_table,
    conditions_table,
    ledger_notes,
    ledger_table,
    raw_grid_figure,
    reject_examples,
    rejects_table,
    runs_table,
)
from stats.report.diagnostics import (
    calibration_note,
    coefficients_table,
    crosscheck_table,
    diagnostics_table,
    gate_summary,
    oc_figure,
    ppc_figure,
    prior_figure,
    sbc_figure,
    sensitivity_figure,
    sensitivity_table,
)
from stats.report.followups import (
    design_status,
    followup_contrasts_table,
    followup_figure,
    followup_gates,
    followup_rates_table,
)
from stats.report.greeting import greeting_figure, greeting_table, leak_table
from stats.report.lines import example_transcripts, guessability_table, hazard_figure
from stats.report.markdown import (
    FAILED_CLASS,
    UNAVAILABLE_CLASS,
    Markdown,
    callout,
    code_block,
    code_span,
    escape_markdown,
    md_table,
    not_available,
)
from stats.report.prediction import (
    prediction_accuracy_figure,
    prediction_accuracy_table,
    prediction_baseline_table,
    prediction_calibration_figure,
    prediction_curves_figure,
    prediction_gates,
    prediction_status,
)
from stats.report.verdicts import (
    answer,
    checks,
    decision_rule,
    delta_figure,
    verdict_sentences,
    verdict_table,
)
from stats.report.words import consistency_table, curves_figure, forest_figure, word_table

#: The Quarto project shipped with the package (``_quarto.yml``, the pages, styles, filter).
SITE = resources.files(__name__) / "site"

__all__ = [
    "FAILED_CLASS", "SITE", "STRICT_ENV", "UNAVAILABLE_CLASS", "Figure", "Markdown",
    "MissingArtifact", "ReportData", "agreement_table", "answer", "artifact_status", "block",
    "calibration_note", "callout", "checks", "claims_details", "claims_figure", "claims_table",
    "code_block", "code_span", "coefficients_table", "conditions_table", "consistency_table",
    "crosscheck_table", "curves_figure", "decision_rule", "delta_figure", "design_status",
    "diagnostics_table", "escape_markdown", "example_transcripts", "followup_contrasts_table",
    "followup_figure", "followup_gates", "followup_rates_table", "forest_figure",
    "gate_summary", "greeting_figure", "greeting_table", "guessability_table", "hazard_figure",
    "leak_table", "ledger_notes", "ledger_table", "md_table", "not_available", "oc_figure", "open_data",
    "ppc_figure", "prediction_accuracy_figure", "prediction_accuracy_table",
    "prediction_baseline_table", "prediction_calibration_figure", "prediction_curves_figure",
    "prediction_gates", "prediction_status", "prior_figure", "raw_grid_figure",
    "reject_examples", "rejects_table", "runs_table", "sbc_figure", "sensitivity_figure", "sensitivity_table",
    "simulated_banner", "strict_mode", "verdict_sentences", "verdict_table", "word_table",
]  # fmt: skip
