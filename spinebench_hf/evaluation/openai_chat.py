"""Any model behind the OpenAI chat API (vLLM, SGLang, hosted APIs), image sent as a base64 data URL.

    SPINEBENCH_API_BASE=http://localhost:8000/v1 lighteval custom Qwen/Qwen2.5-VL-7B-Instruct \\
        $(spinebench model-file openai_chat) "spinebench:diagnosis|0" --custom-tasks tasks/spinebench.py

Settings (environment): SPINEBENCH_API_BASE (or OPENAI_BASE_URL), SPINEBENCH_API_KEY (or OPENAI_API_KEY; never
logged), SPINEBENCH_API_CONCURRENCY (8 requests at once), SPINEBENCH_API_TIMEOUT (120 s), SPINEBENCH_API_RETRIES
(5: the openai client retries 408/409/429/5xx and connection errors with exponential backoff). A 4xx answer stops
the run with the server's message. Greedy decoding (temperature 0); max tokens = the task's generation size.
"""

from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import openai
from PIL import Image

from ..errors import SpineBenchError
from ..settings import GENERATION_SIZE, ServerSettings, model_server
from .backends import SpineBenchModel


class BackendError(SpineBenchError):
    """The model server refused a request or could not be reached."""


def data_url(data: bytes) -> str:
    """An image file's bytes as a data URL, sent as they are (PNG, or the JPEG of an imported release)."""
    kind = "jpeg" if data[:3] == b"\xff\xd8\xff" else "png"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def image_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return data_url(buffer.getvalue())


def chat_messages(prompt: str, images: list[Image.Image] | None = None, image_files: list[bytes] = ()) -> list[dict]:
    """One user turn: the prompt, then the image(s) — the paper's prompts end with `<image>`."""
    urls = [image_data_url(image) for image in images or ()] + [data_url(data) for data in image_files]
    parts = [{"type": "text", "text": prompt}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": "user", "content": parts}]


def client_for(server: ServerSettings) -> openai.OpenAI:
    """The openai client retries 408/409/429/5xx and connection errors with exponential backoff."""
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, timeout=server.timeout,
                         max_retries=server.retries)


class OpenAIChatModel(SpineBenchModel):
    def __init__(self, config):
        super().__init__(config)
        server = model_server()
        if not server.base_url:
            raise BackendError("set SPINEBENCH_API_BASE to the server's OpenAI-compatible URL, e.g. http://localhost:8000/v1")
        self.base_url, self.concurrency, self.client = server.base_url, server.concurrency, client_for(server)

    def replies(self, docs):
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self.ask, docs))

    def ask(self, doc) -> str:
        return chat(self.client, self.config.model_name, chat_messages(doc.query, doc.images),
                    doc.generation_size or GENERATION_SIZE, self.base_url)


def chat(client: openai.OpenAI, model: str, messages: list[dict], max_tokens: int, shown_url: str) -> str:
    """One completion's text (greedy); a refused or unreachable request becomes a BackendError naming the server."""
    return complete(client, model, messages, max_tokens, shown_url)[0]


def complete(client: openai.OpenAI, model: str, messages: list[dict], max_tokens: int, shown_url: str,
             temperature: float = 0.0) -> tuple[str, int | None]:
    """(the completion's text, its completion tokens where the server reports usage)."""
    try:
        response = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens,
                                                  temperature=temperature)
    except openai.APIStatusError as exc:
        raise BackendError(f"{shown_url}: the server answered {exc.status_code} for model {model!r}: {exc.message}") from None
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise BackendError(f"{shown_url}: no answer for model {model!r} after retries: {exc}") from None
    usage = getattr(response, "usage", None)
    return response.choices[0].message.content or "", getattr(usage, "completion_tokens", None)
