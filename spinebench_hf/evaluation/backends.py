"""Model backends for lighteval's `custom` command: what every SpineBench model class shares.

lighteval 0.13 loads a custom model from a file (`lighteval custom NAME FILE TASKS`) and gives it only a name, so
the files under models/ are one import each, and settings come from the environment (documented per backend).
A model answers each Doc with a reply string; the harness reads letters from it as from any model.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from lighteval.models.abstract_model import LightevalModel
from lighteval.models.model_output import ModelResponse
from lighteval.tasks.requests import Doc
from lighteval.utils.cache_management import SampleCache


def answer_reply(letters: Sequence[str], task: str) -> str:
    """A reply in the paper's contract, as a compliant model writes it."""
    if task == "diagnosis":
        return f"My final option: [{', '.join(letters)}]"
    return f"My final options: [{', '.join(letters)}]"


class SpineBenchModel(LightevalModel):
    """Generative-only model: subclasses implement `replies(docs)`. No sample cache: lighteval's would silently
    reuse old generations across runs (ecosystem-notes §1.11)."""

    def __init__(self, config):
        self.config = config
        self._cache = SampleCache(config)  # the pipeline expects one; greedy_until does not use it

    @abstractmethod
    def replies(self, docs: list[Doc]) -> list[str]:
        """One reply string per Doc, in order."""

    def greedy_until(self, docs: list[Doc]) -> list[ModelResponse]:
        return [ModelResponse(input=doc.query, text=[reply]) for doc, reply in zip(docs, self.replies(docs))]

    def loglikelihood(self, docs: list[Doc]) -> list[ModelResponse]:
        raise NotImplementedError("SpineBench is scored generatively only")

    def loglikelihood_rolling(self, docs: list[Doc]) -> list[ModelResponse]:
        raise NotImplementedError("SpineBench is scored generatively only")

    @property
    def tokenizer(self):
        return None

    @property
    def add_special_tokens(self) -> bool:
        return False

    @property
    def max_length(self) -> int:
        return 32768
