"""One setting's simulated studies, each judged by the verdict pipeline of ``stats fit``.

Worlds are drawn from the hazard process of :class:`stats.model.synthetic.World` (M2's
generative model) at cell level; each simulated study is fitted with M1 and M2 under the
study's sampler settings and gates, and judged by :func:`stats.model.pipeline.judge` (the
contrasts and the combined rule ``stats fit`` applies, leak guard included).

This module is the planner's one contact with the model stage: both models of a setting are
built (and, with nutpie, compiled) once by :class:`stats.model.refit.Refitter` and refitted on
each study's counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import yaml

from stats.plan.design import PlanDesign, Setting


def plan_study(design: PlanDesign, quick: bool = False) -> Any:
    """The study spec the verdicts follow: the design's ``study`` file with its sampler changes.

    Sensitivity refits and extra outcomes are left out: they do not enter the verdicts.
    """
    from stats.model.study import StudyError, parse_study

    raw: dict[str, Any] = {}
    if design.study is not None:
        if not design.study.is_file():
            raise StudyError(f"{design.source}: study: {design.study} not found")
        raw = yaml.safe_load(design.study.read_text(encoding="utf-8")) or {}
    raw = {**raw, "sensitivity": [], "extra_outcomes": []}
    sampler = dict(raw.get("sampler") or {})
    sampler.update(design.sampler_changes(quick))
    raw["sampler"] = sampler
    return parse_study(raw, f"{design.study or '(defaults)'} + {design.source}")


def study_groups(design: PlanDesign, setting: Setting) -> pd.DataFrame:
    """Runs x prompts of one simulated study: every word type at its own follow rate."""
    from stats.model.synthetic import design_grid

    samples_per_prompt = setting.samples_per_run // (2 * design.prompts_per_greeting)
    parts = []
    for word_type in design.word_types:
        # one base run answers every word's prompts (the same run_id in each part)
        part = design_grid(
            [word_type.word],
            runs_per_cell=setting.runs_per_word,
            prompts_per_greeting=design.prompts_per_greeting,
            samples_per_prompt=samples_per_prompt,
            base_runs=design.base_runs,
            follow_rate=word_type.follow_rate,
        )
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


class SimulatedSetting:
    """One world x design: both models built once, refitted on each simulated study.

    Parameters
    ----------
    design : PlanDesign
    setting : Setting
    study : stats.model.study.Study
    """

    def __init__(self, design: PlanDesign, setting: Setting, study: Any) -> None:
        from stats.model import design as model_design
        from stats.model import refit, spec, synthetic

        self.setting, self.study = setting, study
        self.world = synthetic.World(**design.world_params(setting.world))
        self.word_type = design.word_type_of()
        self.groups = study_groups(design, setting)
        m1_cells, m2_cells = self.simulate(setting.seed)
        d1 = model_design.m1_data(m1_cells)
        d2 = model_design.m2_data(
            m2_cells.assign(at_risk=m2_cells["at_risk"].clip(lower=1)), k=study.k
        )
        scale = study.prior_scale
        self.m1 = refit.Refitter(
            spec.m1_spec(d1.layout, study.outcome, scale, study.k), d1, study.sampler_for("M1")
        )
        self.m2 = refit.Refitter(
            spec.m2_spec(d2.layout, scale, study.k), d2, study.sampler_for("M2")
        )
        table = synthetic.guessability_table(design.words)
        at_k = table[table["letters_visible"] == study.k]
        self.guess = dict(zip(at_k["word"], at_k["guessability"], strict=True))

    def simulate(self, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Cells of one simulated study (fixed shapes: empty person-period cells kept)."""
        from stats.model.synthetic import simulate_world

        rng = np.random.default_rng(seed)
        return simulate_world(self.world, self.groups, rng, k=self.study.k, keep_empty=True)

    def one_study(self, seed: int) -> pd.DataFrame:
        """Verdicts (both greeting levels) of one simulated study, with what made them.

        Columns: the verdict table of ``stats fit`` plus ``word_type``, ``verdict_m1_only``
        (the verdict had M1's Delta alone decided), ``seed``, ``seconds``, ``m1_attempts``,
        ``m2_attempts``, ``m1_converged`` and ``m2_converged``.
        """
        from stats.model.decision import decide_draws
        from stats.model.pipeline import judge

        m1_cells, m2_cells = self.simulate(seed)
        m1 = self.m1.fit(m1_cells["successes"], m1_cells["trials"], seed, "M1")
        m2 = self.m2.fit(m2_cells["events"], m2_cells["at_risk"], seed, "M2")
        result = judge(self.study, self.study.prior_scale, m1, m2, self.guess, seed)
        verdicts = result.verdicts.copy()
        verdicts["greeting"] = verdicts["greeting"].astype(bool)
        m1_only = {
            (c.scope, c.word, bool(c.greeting)): decide_draws(
                c.delta, self.study.rope, converged=m1.converged, prob=self.study.ci_prob
            ).verdict
            for c in result.contrasts
        }
        words = [None if pd.isna(w) else w for w in verdicts["word"]]
        verdicts["word_type"] = [
            self.word_type.get(w, s) if s == "word" else s
            for s, w in zip(verdicts["scope"], words, strict=True)
        ]
        verdicts["verdict_m1_only"] = [
            m1_only[(s, w, g)]
            for s, w, g in zip(verdicts["scope"], words, verdicts["greeting"], strict=True)
        ]
        verdicts["seed"] = seed
        verdicts["seconds"] = m1.diagnostics["seconds"] + m2.diagnostics["seconds"]
        verdicts["m1_attempts"] = len(m1.diagnostics["attempts"])
        verdicts["m2_attempts"] = len(m2.diagnostics["attempts"])
        verdicts["m1_converged"] = m1.converged
        verdicts["m2_converged"] = m2.converged
        return verdicts
