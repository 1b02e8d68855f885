"""Planning the experiment: prospective design analysis by simulation (``stats plan``).

For a grid of runs per word x samples per run, simulated studies (one word of each word
type: a common word like HELLO, a rare word, a non-word) go through the verdict pipeline of
``stats fit``, in worlds with and without introspection; the shares of ``real``, ``fluke``,
``inconclusive`` and ``not-converged`` verdicts, with Monte Carlo errors, say how likely a
design is to reach a verdict, and which.

Modules: :mod:`~stats.plan.design` (planning designs, settings, cache keys),
:mod:`~stats.plan.simulation` (one setting's simulated studies, judged),
:mod:`~stats.plan.runner` (process pool, per-study cache, resume),
:mod:`~stats.plan.summary` (shares and Monte Carlo errors), :mod:`~stats.plan.plots` (the
figure), :mod:`~stats.plan.outputs` (files written) and :mod:`~stats.plan.cli` (the command).
"""
