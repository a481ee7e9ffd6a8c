"""The evaluation corpus: series of episodes assembled from real recordings in Debian packages, with truth.

``build_corpus(folder, size, seed)`` plans (``plan.py``), renders (``render.py``) and writes truth files and a
manifest (``build.py``); ``sources.py`` says which packages and files are used and under which licence.
"""

from .build import CorpusResult, build_corpus
from .plan import SIZES

__all__ = ["SIZES", "CorpusResult", "build_corpus"]
