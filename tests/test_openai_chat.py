"""The OpenAI-compatible backend against a small chat server started here on 127.0.0.1."""

import base64
import io

import pytest
from conftest import ROW, ChatServer, completion
from lighteval.models.custom.custom_model import CustomModelConfig
from PIL import Image

from spinebench_hf.evaluation.backends import OpenAIChatModel
from spinebench_hf.evaluation.lighteval_models import model_file
from spinebench_hf.evaluation.lighteval_task import spinebench_doc
from spinebench_hf.evaluation.openai_chat import BackendError

SECRET = "sk-test-secret-key"


@pytest.fixture
def serve(monkeypatch):
    servers = []

    def start(script, delay=0.0, **settings):
        server = ChatServer(script, delay)
        servers.append(server)
        monkeypatch.setenv("SPINEBENCH_API_BASE", server.url)
        monkeypatch.setenv("SPINEBENCH_API_KEY", SECRET)
        for name, value in settings.items():
            monkeypatch.setenv(f"SPINEBENCH_API_{name.upper()}", str(value))
        model = OpenAIChatModel(
            CustomModelConfig(model_name="served-vlm", model_definition_file_path=str(model_file("openai_chat")))
        )
        return server, model

    yield start
    for server in servers:
        server.close()


def doc():
    row = dict(ROW, image=Image.new("RGB", (40, 30), (200, 10, 10)))
    result = spinebench_doc(row, "spinebench:localization")
    result.generation_size = 77
    return result


def test_request_carries_the_prompt_verbatim_and_the_image(serve):
    server, model = serve([completion("My final options: [B, D]")])
    (response,) = model.greedy_until([doc()])
    assert response.text == ["My final options: [B, D]"]
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == f"Bearer {SECRET}"
    body = request["body"]
    assert body["model"] == "served-vlm" and body["max_tokens"] == 77 and body["temperature"] == 0.0
    (message,) = body["messages"]
    text, image = message["content"]
    assert text == {"type": "text", "text": doc().query}  # the prompt, word for word, before the image
    url = image["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size == (40, 30) and decoded.getpixel((0, 0)) == (200, 10, 10)


def test_rate_limits_and_server_errors_are_retried(serve):
    server, model = serve(
        [
            (429, {"error": {"message": "slow down"}}),
            (503, {"error": {"message": "busy"}}),
            completion("My final option: [A]"),
        ],
        retries=3,
    )
    assert model.greedy_until([doc()])[0].text == ["My final option: [A]"]
    assert len(server.requests) == 3


def test_a_4xx_is_a_clear_error_without_retry_or_key(serve):
    server, model = serve([(400, {"error": {"message": "image too large"}})], retries=3)
    with pytest.raises(BackendError) as error:
        model.greedy_until([doc()])
    assert "answered 400 for model 'served-vlm'" in str(error.value) and "image too large" in str(error.value)
    assert server.url in str(error.value) and SECRET not in str(error.value)
    assert len(server.requests) == 1


def test_timeouts_end_in_a_clear_error(serve):
    server, model = serve([completion("late")], delay=1.0, timeout=0.2, retries=1)
    with pytest.raises(BackendError, match="no answer for model 'served-vlm' after retries"):
        model.greedy_until([doc()])
    assert len(server.requests) == 2  # the first try and one retry


def test_concurrency_is_limited(serve):
    server, model = serve([completion("My final options: [A]")], delay=0.15, concurrency=2)
    assert len(model.greedy_until([doc() for _ in range(6)])) == 6
    assert server.max_in_flight == 2


def test_missing_base_url_is_explained(monkeypatch):
    monkeypatch.delenv("SPINEBENCH_API_BASE", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="set SPINEBENCH_API_BASE"):
        OpenAIChatModel(CustomModelConfig(model_name="m", model_definition_file_path=str(model_file("openai_chat"))))
