"""Manual validation: a local web page where a person confirms or corrects each answer (``app.py``), and the
reviewed-labels file the decisions are saved to (``store.py``), which ``train`` and ``finetune`` read."""

from .store import DECISIONS, Decision, ReviewFileError, ReviewStore, StaleDecision

__all__ = ["DECISIONS", "Decision", "ReviewFileError", "ReviewStore", "StaleDecision"]
