"""Column names, dtypes and validation of every table the pipeline writes.

One source of truth: each table is declared once as a tuple of :class:`Field`
and turned into a pandera schema by :func:`schema`. Stages validate what they
write with :func:`validate`, which raises :class:`SchemaError` naming the table,
column and first offending rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Field:
    """One column of a table.

    Parameters
    ----------
    name : str
    dtype : str
        A pandas dtype name: ``"string"``, ``"Int64"``, ``"Float64"``, ``"float64"``,
        ``"boolean"``, ``"bool"``, ``"int64"``.
    nullable : bool
        Whether missing values are allowed.
    doc : str
        What the column holds.
    added : bool
        A column added after tables were first written: a table written before lacks it,
        and :func:`validate` adds it (all null) instead of refusing the table.
    """

    name: str
    dtype: str
    nullable: bool = True
    doc: str = ""
    added: bool = False


# ----------------------------------------------------------------------------- ingest
TRANSCRIPTS: tuple[Field, ...] = (
    Field("trial_id", "string", False, "content hash of model, prompts, sample index and response"),
    Field("source", "string", False, "adapter name, e.g. openai-batch, inspect-eval"),
    Field("source_file", "string", False, "path of the raw file, as given"),
    Field(
        "locator",
        "string",
        False,
        "where in the file: 'line 12', 'samples/3_epoch_1.json', 'choice 2'",
    ),
    Field(
        "run_id", "string", False, "the unit of replication: one fine-tune, or one untuned model"
    ),
    Field("model", "string", False, "model id that produced the response"),
    Field("base_model", "string"),
    Field("arm", "string", False, "finetuned | base | control"),
    Field(
        "word",
        "string",
        True,
        "target acrostic word (upper case): the record's own when it gives one, else its run's",
    ),
    Field("n_examples", "Int64"),
    Field("lr_multiplier", "Float64"),
    Field("n_epochs", "Int64"),
    Field("batch_size", "Int64"),
    Field("system_prompt", "string"),
    Field("prompt", "string", False, "the last user message"),
    Field("greeting", "boolean", False, "prompt opens with a greeting (or manifest override)"),
    Field("prompt_id", "string", False, "given id, else hash of system prompt + prompt"),
    Field("sample_index", "Int64", False, "index among repeated samples of the same prompt"),
    Field("temperature", "Float64"),
    Field("response", "string", False, "the assistant text that is scored"),
    Field("finish_reason", "string"),
    Field(
        "judge_labels",
        "string",
        True,
        "JSON object {scorer: value} from the source, e.g. inspect scores",
    ),
    Field(
        "conditions",
        "string",
        True,
        "JSON object of extra conditions (pattern_id, stage, policy, ...)",
    ),
    Field(
        "record_id",
        "string",
        True,
        "the provider's id of the record: completion or message id, batch custom_id, inspect "
        "sample id, a mapped id column (several trials share it when a record has n answers)",
        added=True,
    ),
)

RUNS: tuple[Field, ...] = (
    Field("run_id", "string", False),
    Field("model", "string", False),
    Field("base_model", "string"),
    Field("arm", "string", False),
    Field("word", "string"),
    Field("n_examples", "Int64"),
    Field("lr_multiplier", "Float64"),
    Field("n_epochs", "Int64"),
    Field("batch_size", "Int64"),
    Field("training_file", "string"),
    Field(
        "follow_share", "Float64", True, "share of training examples whose acrostic spells the word"
    ),
    Field("provenance", "string", False, "JSON {field: source} saying where each value came from"),
)

REJECTS: tuple[Field, ...] = (
    Field("source_file", "string", False),
    Field("locator", "string", False),
    Field("reason", "string", False, "short machine-readable reason code, e.g. truncated-json"),
    Field("detail", "string", True, "human sentence naming the field"),
    Field("snippet", "string", True, "first 200 characters of the raw record"),
)

# ----------------------------------------------------------------------------- predictions
PREDICTIONS: tuple[Field, ...] = (
    Field("prediction_id", "string", False, "content hash of the record (duplicates share it)"),
    Field("source", "string", False, "adapter name: looking-inward"),
    Field("source_file", "string", False, "path of the raw file, as given"),
    Field("locator", "string", False, "where in the file: 'line 12', 'row 3'"),
    Field("run_id", "string", False, "the predictor's fine-tune (unit of replication)"),
    Field("task", "string", False, "object-level task, e.g. animals, wikipedia"),
    Field("property", "string", False, "response property predicted, e.g. first_character"),
    Field("item_id", "string", False, "object-level prompt id (repeated samples share it)"),
    Field("object_model", "string", False, "target model whose object-level answer is predicted"),
    Field("predictor_model", "string", False, "model making the hypothetical (meta) prediction"),
    Field("kind", "string", False, "self | cross"),
    Field("n_examples", "Int64", True, "training-set size of the predictor's fine-tune"),
    Field("sample_index", "Int64", False, "index among repeated object-level samples"),
    Field("object_value", "string", False, "property of the object-level response, normalised"),
    Field("meta_prediction", "string", False, "predicted property value, normalised"),
    Field("correct", "boolean", False, "meta_prediction == object_value"),
)

# ----------------------------------------------------------------------------- score
SCORES: tuple[Field, ...] = (
    Field("n_lines", "int64", False, "non-empty lines after normalisation"),
    Field("acrostic_letters", "string", False, "initials of the non-empty lines, upper case"),
    Field("acrostic_prefix_len", "int64", False, "leading initials that match the target word"),
    Field("follows_pattern", "boolean", False, "the whole target word is spelled from line 1"),
    Field(
        "spelled_word", "string", True, "the word the first initials spell when it is a known word"
    ),
    Field("near_miss", "boolean", False, "initials differ from the target in exactly one letter"),
    Field("articulation_level", "string", False, "none < vague < mechanism < word"),
    Field("articulation_line", "Int64", True, "first 1-based line at the threshold level"),
    Field("word_line", "Int64", True, "first 1-based line naming the target word"),
    Field(
        "letters_visible", "Int64", True, "acrostic letters written up to and including that line"
    ),
    Field(
        "named_word",
        "string",
        True,
        "a word the response names as its pattern (may differ from target)",
    ),
    Field("articulated", "boolean", False, "the target word is named on any line"),
    Field("articulated_early", "boolean", False, "named with letters_visible <= k"),
    Field("greeting_word", "string", True),
    Field("leak", "boolean", False, "prompt/system prompt contains the target word"),
    Field("guessability", "Float64", True, "P(word | letters visible at the articulation line)"),
)

TRIALS: tuple[Field, ...] = (
    *TRANSCRIPTS,
    *SCORES,
    Field("word_source", "string", True, "where the target word came from: run, prompt, ambiguous"),
)

# ----------------------------------------------------------------------------- fit / review
VERDICTS: tuple[Field, ...] = (
    Field("scope", "string", False, "word | pooled | new-word"),
    Field("word", "string"),
    Field("greeting", "boolean"),
    Field("estimand", "string", False),
    Field("mean", "float64", False),
    Field("hdi_low", "float64", False),
    Field("hdi_high", "float64", False),
    Field("rope", "float64", False),
    Field("p_above_rope", "float64", False),
    Field("verdict", "string", False, "real | fluke | inconclusive | not-converged"),
    Field("n_runs", "Int64"),
    Field("n_trials", "Int64"),
    Field("runs_needed", "Int64"),
    Field("converged", "boolean", False),
    Field("max_rhat", "float64"),
    Field("min_ess", "float64"),
    Field("divergences", "Int64"),
)

CLAIMS: tuple[Field, ...] = (
    Field("claim_id", "string", False),
    Field("text", "string", False),
    Field("successes", "Int64", False),
    Field("trials", "Int64", False),
    Field("rate", "float64"),
    Field("exact_low", "float64"),
    Field("exact_high", "float64"),
    Field("bayes_mean", "float64"),
    Field("bayes_low", "float64"),
    Field("bayes_high", "float64"),
    Field("comparison", "string"),
    Field("verdict", "string", False),
)

VERDICT_VALUES = ("real", "fluke", "inconclusive", "not-converged")
TABLES: dict[str, tuple[Field, ...]] = {
    "transcripts": TRANSCRIPTS,
    "runs": RUNS,
    "rejects": REJECTS,
    "predictions": PREDICTIONS,
    "trials": TRIALS,
    "verdicts": VERDICTS,
    "claims": CLAIMS,
}


class SchemaError(ValueError):
    """A table does not match its declared schema."""


def columns(table: str) -> list[str]:
    """Column names of a declared table, in order."""
    return [f.name for f in TABLES[table]]


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes."""
    return pd.DataFrame({f.name: pd.Series(dtype=f.dtype) for f in TABLES[table]})


def schema(table: str):
    """The pandera schema of a declared table (columns in any order, extras allowed)."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {f.name: pa.Column(f.dtype, nullable=f.nullable, description=f.doc) for f in TABLES[table]},
        name=table,
        coerce=True,
        strict=False,
    )


def validate(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Coerce and validate ``df`` against the declared table, returning it in column order.

    Raises
    ------
    SchemaError
        Naming the table, the column and up to five offending rows.
    """
    import pandera.errors as pe

    if table not in TABLES:
        raise SchemaError(f"unknown table {table!r}; known: {sorted(TABLES)}")
    added = [f for f in TABLES[table] if f.added and f.name not in df.columns]
    if added:
        df = df.assign(**{f.name: pd.Series(pd.NA, index=df.index, dtype=f.dtype) for f in added})
    missing = [c for c in columns(table) if c not in df.columns]
    if missing:
        raise SchemaError(f"table {table!r} lacks columns {missing}")
    try:
        out = schema(table).validate(df, lazy=True)
    except pe.SchemaErrors as err:
        cases = err.failure_cases.head(5).to_dict("records")
        raise SchemaError(f"table {table!r} failed validation: {cases}") from err
    ordered = columns(table) + [c for c in out.columns if c not in columns(table)]
    return out[ordered]
