"""Model backends for lighteval's `custom` command: what every SpineBench model class shares.

lighteval 0.13 loads a custom model from a file (`lighteval custom NAME FILE TASKS`) and gives it only a name, so
the files under lighteval_models/ are one import each, and settings come from the environment (documented per backend).
A model answers each Doc with a reply string; the harness reads letters from it as from any model.
"""

from __future__ import annotations

from abc import abstractmethod
from concurrent.futures import ThreadPoolExecutor

from lighteval.models.abstract_model import LightevalModel
from lighteval.models.model_output import ModelResponse
from lighteval.tasks.requests import Doc
from lighteval.utils.cache_management import SampleCache

from ..settings import GENERATION_SIZE, model_server
from .openai_chat import BackendError, chat, chat_messages, client_for


class SpineBenchModel(LightevalModel):
    """Generative-only model: subclasses implement `replies(docs)`. No sample cache: lighteval's would silently
    reuse old generations across runs (docs/library-notes.md §1.11)."""

    def __init__(self, config):
        self.config = config
        self._cache = SampleCache(config)  # the pipeline expects one; greedy_until does not use it

    @abstractmethod
    def replies(self, docs: list[Doc]) -> list[str]:
        """One reply string per Doc, in order."""

    def greedy_until(self, docs: list[Doc]) -> list[ModelResponse]:
        """lighteval's generation request: each Doc's reply as a ModelResponse, the prompt kept as its input."""
        return [ModelResponse(input=doc.query, text=[reply]) for doc, reply in zip(docs, self.replies(docs))]

    def loglikelihood(self, docs: list[Doc]) -> list[ModelResponse]:
        """Not supported: raises NotImplementedError (SpineBench is scored generatively only)."""
        raise NotImplementedError("SpineBench is scored generatively only")

    def loglikelihood_rolling(self, docs: list[Doc]) -> list[ModelResponse]:
        """Not supported: raises NotImplementedError (SpineBench is scored generatively only)."""
        raise NotImplementedError("SpineBench is scored generatively only")

    @property
    def tokenizer(self):
        """None: the replies come as text, and nothing here tokenizes."""
        return None

    @property
    def add_special_tokens(self) -> bool:
        """False: lighteval adds no special tokens for these models."""
        return False

    @property
    def max_length(self) -> int:
        """The context length reported to lighteval (32,768 tokens); nothing here enforces it."""
        return 32768


class OpenAIChatModel(SpineBenchModel):
    """Any model behind an OpenAI-compatible chat server (SPINEBENCH_API_BASE), asked in parallel, greedily."""

    def __init__(self, config):
        super().__init__(config)
        server = model_server()
        if not server.base_url:
            raise BackendError(
                "set SPINEBENCH_API_BASE to the server's OpenAI-compatible URL, e.g. http://localhost:8000/v1"
            )
        self.base_url, self.concurrency, self.client = server.base_url, server.concurrency, client_for(server)

    def replies(self, docs):
        """One reply per Doc, SPINEBENCH_API_CONCURRENCY requests in flight, in the Docs' order."""
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self.ask, docs))

    def ask(self, doc) -> str:
        """One Doc's reply: its prompt and images, at most its generation size (else GENERATION_SIZE) tokens."""
        return chat(
            self.client,
            self.config.model_name,
            chat_messages(doc.query, doc.images),
            doc.generation_size or GENERATION_SIZE,
            self.base_url,
        )
