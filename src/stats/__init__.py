"""LLM self-report experiments: is a self-report real or a fluke?"""

__version__ = "0.1.0"
