"""The scorer: streams images through decode -> embed -> match -> write (every write via ``db``)."""
from .scorer import ScoreSummary, Scorer, score_dataset

__all__ = ["ScoreSummary", "Scorer", "score_dataset"]
