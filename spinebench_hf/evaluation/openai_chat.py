"""Any model behind the OpenAI chat API (vLLM, SGLang, hosted APIs), image sent as a base64 data URL.

    SPINEBENCH_API_BASE=http://localhost:8000/v1 lighteval custom Qwen/Qwen2.5-VL-7B-Instruct \\
        $(spinebench model-file openai_chat) "spinebench:diagnosis|0" --custom-tasks tasks/spinebench.py

The lighteval model class is `backends.OpenAIChatModel`; this module is the client side, shared with the sweep and
the judge, and imports no harness. Settings (environment, defaults in settings.API_DEFAULTS): SPINEBENCH_API_BASE (or
OPENAI_BASE_URL), SPINEBENCH_API_KEY (or OPENAI_API_KEY; never logged), SPINEBENCH_API_CONCURRENCY,
SPINEBENCH_API_TIMEOUT, SPINEBENCH_API_RETRIES (the openai client retries 408/409/429/5xx and connection errors with
exponential backoff). A 4xx answer stops the run with the server's message; so does an answer that is not a chat
completion, after as many tries. Greedy decoding (temperature 0); max tokens = the task's generation size.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Sequence
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from PIL import Image

from ..errors import SpineBenchError
from ..settings import ServerSettings


class BackendError(SpineBenchError):
    """The model server refused a request, could not be reached, or answered with something that is not a reply."""


class AccessDenied(BackendError):
    """401/403: the key is wrong or lacks the right; no later request of that model can succeed."""


def data_url(data: bytes) -> str:
    """An image file's bytes as a data URL, sent as they are (PNG, or the JPEG of an imported release)."""
    kind = "jpeg" if data[:3] == b"\xff\xd8\xff" else "png"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def image_data_url(image: Image.Image) -> str:
    """A PIL image as the data URL of its RGB PNG."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return data_url(buffer.getvalue())


def chat_messages(
    prompt: str, images: Sequence[Image.Image] | None = None, image_files: Sequence[bytes] = ()
) -> list[ChatCompletionMessageParam]:
    """One user turn: the prompt, then the image(s) — the paper's prompts end with `<image>`."""
    urls = [image_data_url(image) for image in images or ()] + [data_url(data) for data in image_files]
    parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [cast("ChatCompletionMessageParam", {"role": "user", "content": parts})]


def client_for(server: ServerSettings) -> openai.OpenAI:
    """The openai client retries 408/409/429/5xx and connection errors with exponential backoff."""
    return openai.OpenAI(
        base_url=server.base_url, api_key=server.api_key, timeout=server.timeout, max_retries=server.retries
    )


def chat(
    client: openai.OpenAI, model: str, messages: Sequence[ChatCompletionMessageParam], max_tokens: int, shown_url: str
) -> str:
    """One completion's text (greedy); a refused or unreachable request becomes a BackendError naming the server."""
    return complete(client, model, messages, max_tokens, shown_url)[0]


def complete(
    client: openai.OpenAI,
    model: str,
    messages: Sequence[ChatCompletionMessageParam],
    max_tokens: int,
    shown_url: str,
    temperature: float = 0.0,
) -> tuple[str, int | None]:
    """(the completion's text, its completion tokens where the server reports usage).

    Args:
        client: the openai client (`client_for`); its `max_retries` also bounds the tries of a malformed answer.
        model: the model name the server serves.
        messages: the chat messages (`chat_messages`).
        max_tokens: the most tokens the completion may have.
        shown_url: the server's URL as error messages name it.
        temperature: the sampling temperature; 0, greedy, by default.

    Returns:
        The completion's text ("" when the server sends no content) and its completion token count, or None where
        the server reports no usage.

    Raises:
        AccessDenied: the server answered 401 or 403 (with its message).
        BackendError: any other refusal, no answer after the client's retries, or an answer that is not a chat
            completion (a 200 with a non-JSON body, no `choices`, no message), asked again up to the client's
            `max_retries` times first.
    """
    malformed = None
    for attempt in range(client.max_retries + 1):
        if attempt:
            time.sleep(min(0.25 * 2 ** (attempt - 1), 4.0))
        try:
            response = client.chat.completions.create(
                model=model, messages=messages, max_tokens=max_tokens, temperature=temperature
            )
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise AccessDenied(
                f"{shown_url}: the server answered {exc.status_code} for model {model!r}: {exc.message}"
            ) from None
        except openai.APIStatusError as exc:
            raise BackendError(
                f"{shown_url}: the server answered {exc.status_code} for model {model!r}: {exc.message}"
            ) from None
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise BackendError(f"{shown_url}: no answer for model {model!r} after retries: {exc}") from None
        except (ValueError, openai.APIResponseValidationError) as exc:  # a body that is not JSON (JSONDecodeError)
            malformed = f"not JSON ({' '.join(str(exc).split())[:200]})"
            continue
        found = completion_text(response)
        if isinstance(found, tuple):
            return found
        malformed = found
    raise BackendError(
        f"{shown_url}: model {model!r} answered {client.max_retries + 1} time(s) with something that is "
        f"not a chat completion: {malformed}"
    )


def completion_text(response: object) -> tuple[str, int | None] | str:
    """(text, completion tokens) of a chat completion, or what is wrong with it."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        return f"no choices in {str(response)[:200]!r}"
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None) if message is not None else None
    if message is None or not isinstance(content, (str, type(None))):
        return f"no message text in the first choice {str(choices[0])[:200]!r}"
    tokens = getattr(getattr(response, "usage", None), "completion_tokens", None)
    return content or "", tokens if isinstance(tokens, int) else None
