"""OpenAI-API contract checks on plain JSON payloads (docs/contracts.md anchors §5), as vLLM v0.10.1+ returns them.

Each function returns a list of problems (empty = conforms), so tests assert `== []` and the failure shows
every deviation at once. Pure functions: the selftests feed them canned payloads.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter", "abort"}


def _missing(obj: Any, keys: Iterable[str], where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: not an object"]
    return [f"{where}: missing '{k}'" for k in keys if k not in obj]


def chat_completion_problems(body: Any, model: str) -> list[str]:
    """Non-streamed chat completion: ids, object, created, model, choices, finish_reason, usage arithmetic."""
    problems = _missing(body, ("id", "object", "created", "model", "choices", "usage"), "response")
    if problems:
        return problems
    if not str(body["id"]).strip():
        problems.append("id is empty")
    if body["object"] != "chat.completion":
        problems.append(f"object is {body['object']!r}, expected 'chat.completion'")
    if not isinstance(body["created"], int) or body["created"] <= 0:
        problems.append(f"created {body['created']!r} is not a positive unix time")
    if body["model"] != model:
        problems.append(f"model is {body['model']!r}, expected {model!r}")
    choices = body["choices"]
    if not isinstance(choices, list) or not choices:
        return problems + ["choices is empty"]
    for i, choice in enumerate(choices):
        problems += _missing(choice, ("index", "message", "finish_reason"), f"choices[{i}]")
        if isinstance(choice, dict):
            if choice.get("index") != i:
                problems.append(f"choices[{i}].index is {choice.get('index')!r}")
            msg = choice.get("message") or {}
            if msg.get("role") != "assistant" or not isinstance(msg.get("content"), str):
                problems.append(f"choices[{i}].message is not an assistant message with text content")
            if "finish_reason" in choice and choice["finish_reason"] not in FINISH_REASONS:
                problems.append(f"choices[{i}].finish_reason {choice['finish_reason']!r} is not a known reason")
    return problems + usage_problems(body["usage"])


def usage_problems(usage: Any, completion: bool = True) -> list[str]:
    keys = ("prompt_tokens", "total_tokens") + (("completion_tokens",) if completion else ())
    problems = _missing(usage, keys, "usage")
    if problems:
        return problems
    if not all(isinstance(usage[k], int) and usage[k] >= 0 for k in keys):
        return [f"usage counts are not non-negative integers: {usage}"]
    if usage["prompt_tokens"] <= 0:
        problems.append("usage.prompt_tokens is 0 for a non-empty prompt")
    expected = usage["prompt_tokens"] + (usage["completion_tokens"] if completion else 0)
    if usage["total_tokens"] != expected:
        problems.append(f"usage.total_tokens {usage['total_tokens']} != prompt + completion ({expected})")
    return problems


def parse_sse(text: str) -> tuple[list[Any], bool]:
    """The `data:` payloads of an SSE body (JSON-decoded) and whether it ended with `data: [DONE]`."""
    events = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    done = bool(events) and events[-1] == "[DONE]"
    payloads = []
    for ev in events:
        if ev == "[DONE]":
            continue
        try:
            payloads.append(json.loads(ev))
        except json.JSONDecodeError:
            payloads.append(ev)
    return payloads, done


def stream_problems(chunks: list[Any], done: bool, model: str, include_usage: bool = True) -> list[str]:
    """Streaming framing: role first, one id in every chunk, chunk object type, usage chunk, `[DONE]`."""
    problems = [] if done else ["stream did not end with 'data: [DONE]'"]
    if not chunks:
        return problems + ["stream has no chunks"]
    bad = [c for c in chunks if not isinstance(c, dict)]
    if bad:
        return problems + [f"non-JSON data event: {str(bad[0])[:80]!r}"]
    if len({c.get("id") for c in chunks}) != 1:
        problems.append("chunks do not share one id")
    if any(c.get("object") != "chat.completion.chunk" for c in chunks):
        problems.append("a chunk's object is not 'chat.completion.chunk'")
    if any(c.get("model") != model for c in chunks):
        problems.append(f"a chunk names a model other than {model!r}")
    with_choices = [c for c in chunks if c.get("choices")]
    if not with_choices or with_choices[0]["choices"][0].get("delta", {}).get("role") != "assistant":
        problems.append("first chunk's delta does not carry role 'assistant'")
    if not any(ch.get("finish_reason") in FINISH_REASONS for c in with_choices for ch in c["choices"]):
        problems.append("no chunk carries a finish_reason")
    if include_usage:
        last = chunks[-1]
        if last.get("choices") or not isinstance(last.get("usage"), dict):
            problems.append("last chunk is not the usage chunk (empty choices + usage) stream_options asks for")
        else:
            problems += usage_problems(last["usage"])
    return problems


def error_envelope_problems(body: Any, status: int) -> list[str]:
    """vLLM >= 0.10.1: `{"error": {"message", "type", "param", "code"}}` with code == HTTP status."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return [f"error body is not the nested envelope {{'error': {{...}}}}: {str(body)[:120]}"]
    err = body["error"]
    problems = _missing(err, ("message", "type", "code"), "error")
    if not problems:
        if not isinstance(err["message"], str) or not err["message"]:
            problems.append("error.message is empty")
        if err["code"] != status:
            problems.append(f"error.code {err['code']!r} != HTTP status {status}")
    return problems


def embeddings_problems(body: Any, model: str, n_inputs: int, dim: int) -> list[str]:
    """Shape, `index` order, dimension, usage of an embeddings response."""
    problems = _missing(body, ("object", "data", "model", "usage"), "response")
    if problems:
        return problems
    if body["object"] != "list":
        problems.append(f"object is {body['object']!r}, expected 'list'")
    if body["model"] != model:
        problems.append(f"model is {body['model']!r}, expected {model!r}")
    data = body["data"]
    if not isinstance(data, list) or len(data) != n_inputs:
        return problems + [f"data has {len(data) if isinstance(data, list) else '?'} items for {n_inputs} inputs"]
    for i, item in enumerate(data):
        if not isinstance(item, dict) or item.get("index") != i or item.get("object") != "embedding":
            problems.append(f"data[{i}] is not an 'embedding' object with index {i}")
            continue
        vec = item.get("embedding")
        if not isinstance(vec, list) or len(vec) != dim:
            problems.append(f"data[{i}] has dimension {len(vec) if isinstance(vec, list) else '?'}, expected {dim}")
        elif not all(isinstance(x, (int, float)) and math.isfinite(x) for x in vec):
            problems.append(f"data[{i}] has non-finite values")
    return problems + usage_problems(body["usage"], completion=False)


def norm(vec: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vec))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))
