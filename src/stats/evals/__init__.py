"""Running the eval: the seeds' prompts as batch requests and as an inspect-ai task.

Modules:

- :mod:`stats.evals.prompts` - the eval's prompts (paraphrases x greeting) and sampling plan,
  read from a simulator design file (the same texts the simulator asks);
- :mod:`stats.evals.batch` - ``stats make-batch``: OpenAI Batch input files and Anthropic
  Message Batch requests for a list of models;
- :mod:`stats.evals.training` - ``stats check-training``: what a fine-tuning file spells;
- :mod:`stats.evals.inspect_task` - the inspect-ai Task (optional extra ``stats[inspect]``);
- :mod:`stats.evals.cli` - the commands, registered on :data:`stats.cli.app`.
"""
