"""The scorer: streams images through decode -> embed -> match -> write (every write via ``db``)."""
from .run import score_dataset
from .scorer import LocalStage, Scorer, ScoreSummary

__all__ = ["LocalStage", "ScoreSummary", "Scorer", "score_dataset"]
