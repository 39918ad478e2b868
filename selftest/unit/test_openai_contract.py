"""The OpenAI contract checkers on canned vLLM payloads: good ones pass, each kind of breakage is named."""
from __future__ import annotations

import copy
import json

import pytest

from phoenix_verify.checks import headers
from phoenix_verify.checks import openai_contract as oc

MODEL = "granite-3.3-8b-instruct"
CHAT = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


def _chunk(delta: dict, reason: str | None = None, cid: str = "chatcmpl-9") -> dict:
    return {"id": cid, "object": "chat.completion.chunk", "created": 1, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}


USAGE_CHUNK = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": MODEL, "choices": [],
               "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}
STREAM = [_chunk({"role": "assistant", "content": ""}), _chunk({"content": "a b"}), _chunk({}, "stop"), USAGE_CHUNK]


def test_good_chat_completion_conforms() -> None:
    assert oc.chat_completion_problems(CHAT, MODEL) == []


@pytest.mark.parametrize(("path", "value", "needle"), [
    (("usage", "total_tokens"), 7, "total_tokens"),
    (("object",), "text_completion", "object"),
    (("model",), "other", "model"),
    (("choices",), [], "choices is empty"),
    (("created",), -1, "created"),
])
def test_broken_chat_completion_is_named(path: tuple, value, needle: str) -> None:
    body = copy.deepcopy(CHAT)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(needle in p for p in oc.chat_completion_problems(body, MODEL))


def test_good_stream_conforms_and_sse_parses() -> None:
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in STREAM) + "data: [DONE]\n\n"
    chunks, done = oc.parse_sse(sse)
    assert done and oc.stream_problems(chunks, done, MODEL) == []


@pytest.mark.parametrize(("chunks", "done", "needle"), [
    (STREAM, False, "[DONE]"),
    (STREAM[1:], True, "role"),
    (STREAM[:-1], True, "usage chunk"),
    ([STREAM[0], _chunk({"content": "x"}, cid="other"), *STREAM[2:]], True, "one id"),
])
def test_broken_stream_is_named(chunks: list, done: bool, needle: str) -> None:
    assert any(needle in p for p in oc.stream_problems(chunks, done, MODEL))


def test_error_envelope_nested_since_v0_10_1() -> None:
    good = {"error": {"message": "The model `x` does not exist.", "type": "NotFoundError", "param": None, "code": 404}}
    assert oc.error_envelope_problems(good, 404) == []
    assert oc.error_envelope_problems(good, 400) != []
    flat = {"object": "error", "message": "x", "type": "NotFoundError", "code": 404}   # vLLM < 0.10.1
    assert oc.error_envelope_problems(flat, 404) != []


def test_embeddings_shape_order_and_dimension() -> None:
    body = {"object": "list", "model": "e", "data": [{"object": "embedding", "index": i, "embedding": [0.6, 0.8]}
                                                     for i in range(2)], "usage": {"prompt_tokens": 3, "total_tokens": 3}}
    assert oc.embeddings_problems(body, "e", 2, 2) == []
    assert any("dimension" in p for p in oc.embeddings_problems(body, "e", 2, 3))
    swapped = copy.deepcopy(body)
    swapped["data"][0]["index"] = 1
    assert any("index 0" in p for p in oc.embeddings_problems(swapped, "e", 2, 2))
    assert oc.norm([0.6, 0.8]) == pytest.approx(1.0)


def test_security_headers_thresholds() -> None:
    good = {"Strict-Transport-Security": "max-age=63072000", "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"}
    assert headers.all_problems(good) == []
    assert headers.hsts_problems({"strict-transport-security": "max-age=300"}) == ["HSTS max-age 300 < 15768000"]
    assert headers.framing_problems({"Content-Security-Policy": "frame-ancestors 'none'"}) == []
    assert headers.referrer_problems({"Referrer-Policy": "unsafe-url"}) != []
