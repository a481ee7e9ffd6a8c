"""Manual validation: a local web page where a person confirms, corrects, adds or removes every part of each
episode (``app.py``), and the reviewed-labels file the decisions are saved to (``store.py``), which ``train``,
``finetune`` (the intros), ``evaluate`` and ``export`` (every part) read."""

from .store import DECISIONS, Decision, ReviewFileError, ReviewStore, StaleDecision

__all__ = ["DECISIONS", "Decision", "ReviewFileError", "ReviewStore", "StaleDecision"]
