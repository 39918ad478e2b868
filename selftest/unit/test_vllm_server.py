"""The lab's vLLM stand-in, started as its unit starts it (`python -m vllm.entrypoints.openai.api_server ARGS`),
probed with the official openai client (max_retries=0) and httpx on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from selftest.unit.lab_servers import free_port, running

CHAT = "granite-3.3-8b-instruct"
EMBED = "ibm-granite/granite-embedding-english-r2"
ENTRY = ["-m", "vllm.entrypoints.openai.api_server"]


@pytest.fixture(scope="module")
def engine_flag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vllm") / "engine-dead"


@pytest.fixture(scope="module")
def chat_url(engine_flag: Path) -> Iterator[str]:
    port = free_port()
    argv = [*ENTRY, "--model", f"ibm-granite/{CHAT}", "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "64",
            "--gpu-memory-utilization", "0.6", "--tensor-parallel-size", "1", "--quantization", "awq_marlin",
            "--trust-remote-code", "--enable-some-future-flag", "--served-model-name", CHAT]
    with running(argv, f"http://127.0.0.1:{port}/health", env={"VLLM_LAB_ENGINE_DEAD_FLAG": str(engine_flag)}):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def embed_url() -> Iterator[str]:
    port = free_port()
    argv = [*ENTRY, "--model", EMBED, "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "32",
            "--served-model-name", EMBED, "--task", "embed"]
    with running(argv, f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    port = free_port()
    argv = [*ENTRY, "--model", CHAT, "--host", "127.0.0.1", "--port", str(port), "--api-key", "lab-test-key",
            "--served-model-name", CHAT, "granite-alias"]
    with running(argv, f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}"


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


def test_models_card_like_vllm(chat_url: str) -> None:
    body = httpx.get(f"{chat_url}/v1/models", timeout=10).json()
    card = body["data"][0]
    assert body["object"] == "list" and card["id"] == CHAT and card["object"] == "model"
    assert card["owned_by"] == "vllm" and card["root"] == f"ibm-granite/{CHAT}" and card["max_model_len"] == 64
    assert [m.id for m in client(chat_url).models.list()] == [CHAT]


def test_chat_completion_shape(chat_url: str) -> None:
    done = client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "Say hi"}], max_tokens=8)
    assert done.id.startswith("chatcmpl-") and done.object == "chat.completion" and done.model == CHAT
    assert isinstance(done.created, int)
    choice = done.choices[0]
    assert choice.index == 0 and choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert 0 < done.usage.completion_tokens <= 8


def test_chat_is_deterministic(chat_url: str) -> None:
    ask = {"model": CHAT, "messages": [{"role": "user", "content": "same question"}], "max_tokens": 10}
    first, second = (client(chat_url).chat.completions.create(**ask) for _ in range(2))
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage == second.usage


def test_streaming_framing(chat_url: str) -> None:
    request = {"model": CHAT, "messages": [{"role": "user", "content": "stream please"}], "max_tokens": 6,
               "stream": True, "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{chat_url}/v1/chat/completions", json=request, timeout=30) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [line for line in resp.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in events[:-1]]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and {c["created"] for c in chunks} == {chunks[0]["created"]}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    choice_chunks = [c for c in chunks if c["choices"]]
    assert all(c["choices"][0]["finish_reason"] is None for c in choice_chunks[:-1])
    assert choice_chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 6


def test_streaming_with_openai_client_reassembles_the_answer(chat_url: str) -> None:
    ask = {"model": CHAT, "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 12}
    whole = client(chat_url).chat.completions.create(**ask).choices[0].message.content
    parts = [c.choices[0].delta.content or "" for c in client(chat_url).chat.completions.create(**ask, stream=True) if c.choices]
    assert "".join(parts) == whole


def test_embeddings_dimension_order_norm(embed_url: str) -> None:
    texts = ["The cat sits on the mat.", "Quarterly revenue grew by ten percent.", "A kitten rests on a rug."]
    resp = client(embed_url).embeddings.create(model=EMBED, input=texts)
    assert [d.index for d in resp.data] == [0, 1, 2] and resp.model == EMBED
    assert resp.usage.prompt_tokens == resp.usage.total_tokens > 0
    for d in resp.data:
        assert len(d.embedding) == 384
        assert abs(sum(x * x for x in d.embedding) - 1.0) < 1e-3
    single = client(embed_url).embeddings.create(model=EMBED, input=texts[1]).data[0].embedding
    assert max(abs(a - b) for a, b in zip(single, resp.data[1].embedding, strict=True)) < 1e-4


def test_embeddings_are_semantic(embed_url: str) -> None:
    texts = ["How do I reset my password?", "What are the steps to change my login password?",
             "The volcano erupted last night near the village."]
    a, b, c = (d.embedding for d in client(embed_url).embeddings.create(model=EMBED, input=texts).data)

    def cos(x: list[float], y: list[float]) -> float:
        return sum(p * q for p, q in zip(x, y, strict=True))

    assert cos(a, b) > cos(a, c) + 0.05


def test_embeddings_base64(embed_url: str) -> None:
    body = httpx.post(f"{embed_url}/v1/embeddings", json={"model": EMBED, "input": ["hi"], "encoding_format": "base64"},
                      timeout=30).json()
    raw = base64.b64decode(body["data"][0]["embedding"])
    floats = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert len(floats) == 384 and abs(sum(x * x for x in floats) - 1.0) < 1e-3


def test_unknown_model_is_404_nested_envelope(chat_url: str) -> None:
    resp = httpx.post(f"{chat_url}/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "x"}]}, timeout=10)
    assert resp.status_code == 404
    assert resp.json()["error"] == {"message": "The model `nope` does not exist.", "type": "NotFoundError", "param": "model", "code": 404}
    with pytest.raises(openai.NotFoundError):
        client(chat_url).chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])


def test_validation_errors_are_400_not_422(chat_url: str) -> None:
    resp = httpx.post(f"{chat_url}/v1/chat/completions", json={"model": CHAT}, timeout=10)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == 400 and error["type"] == "Bad Request" and "messages" in error["message"]
    assert httpx.post(f"{chat_url}/v1/chat/completions", content=b"{not json", timeout=10).status_code == 400
    with pytest.raises(openai.BadRequestError):
        client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "x"}], max_tokens=0)


def test_context_length_error(chat_url: str, embed_url: str) -> None:
    long = " ".join(["word"] * 80)
    with pytest.raises(openai.BadRequestError) as chat_err:
        client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": long}])
    assert "maximum context length is 64 tokens" in chat_err.value.message
    with pytest.raises(openai.BadRequestError) as too_much:
        client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "hi"}], max_tokens=100)
    assert "in the completion" in too_much.value.message
    with pytest.raises(openai.BadRequestError) as embed_err:
        client(embed_url).embeddings.create(model=EMBED, input=long)
    assert "maximum context length is 32 tokens" in embed_err.value.message


def test_wrong_api_for_the_model_kind(chat_url: str, embed_url: str) -> None:
    with pytest.raises(openai.BadRequestError):
        client(chat_url).embeddings.create(model=CHAT, input="x")
    with pytest.raises(openai.BadRequestError):
        client(embed_url).chat.completions.create(model=EMBED, messages=[{"role": "user", "content": "x"}])


def test_api_key_guards_v1_only(keyed_url: str) -> None:
    resp = httpx.get(f"{keyed_url}/v1/models", timeout=10)
    assert resp.status_code == 401 and resp.json() == {"error": "Unauthorized"}
    with pytest.raises(openai.AuthenticationError):
        client(keyed_url, "wrong-key").models.list()
    keyed = client(keyed_url, "lab-test-key")
    assert [m.id for m in keyed.models.list()] == [CHAT, "granite-alias"]
    assert keyed.chat.completions.create(model="granite-alias", messages=[{"role": "user", "content": "x"}]).choices
    for path in ("/health", "/version", "/metrics"):
        assert httpx.get(f"{keyed_url}{path}", timeout=10).status_code == 200


def test_health_version_metrics(chat_url: str) -> None:
    health = httpx.get(f"{chat_url}/health", timeout=10)
    assert health.status_code == 200 and health.content == b""
    assert httpx.get(f"{chat_url}/version", timeout=10).json() == {"version": "0.10.1.1"}
    client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "count me"}], max_tokens=3)
    metrics = httpx.get(f"{chat_url}/metrics", timeout=10).text
    for name in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                 "vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds"):
        assert f'{name}' in metrics
    generated = next(line for line in metrics.splitlines() if line.startswith("vllm:generation_tokens_total{"))
    assert f'model_name="{CHAT}"' in generated and float(generated.rsplit(" ", 1)[1]) >= 3


def test_dead_engine_makes_health_503(chat_url: str, engine_flag: Path) -> None:
    engine_flag.touch()
    try:
        assert httpx.get(f"{chat_url}/health", timeout=10).status_code == 503
        with pytest.raises(openai.InternalServerError):
            client(chat_url).chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "x"}])
    finally:
        engine_flag.unlink()
    assert httpx.get(f"{chat_url}/health", timeout=10).status_code == 200


def test_unknown_path_is_404(chat_url: str) -> None:
    assert httpx.get(f"{chat_url}/v1/nothing", timeout=10).status_code == 404


def test_wrong_method_is_405_like_fastapi(chat_url: str) -> None:
    resp = httpx.get(f"{chat_url}/v1/chat/completions", timeout=10)
    assert resp.status_code == 405 and resp.json() == {"detail": "Method Not Allowed"} and resp.headers["allow"] == "POST"
