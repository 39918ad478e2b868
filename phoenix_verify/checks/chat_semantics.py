"""Semantic chat checks: questions whose answers any instruction-tuned model gets right, greedy-decoded.

A vLLM that answers with the right shape can still serve garbage (wrong weights, a broken chat template, a
tokenizer mismatch after a clone); asking known questions catches that. The accepted answers are loose patterns
so that an 8B granite and the lab's 135M SmolLM2 both pass, and an echo or a template leak does not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KnownQuestion:
    slug: str
    question: str
    answer: re.Pattern[str]
    wrong: re.Pattern[str]     # text that must not appear: the question echoed back, a raw chat-template token


TEMPLATE_LEAK = r"<\|im_(start|end)\|>|<\|start_of_role\|>|<\|end_of_text\|>"
QUESTIONS = (
    KnownQuestion("capital-of-france", "What is the capital of France?",
                  re.compile(r"\bParis\b", re.IGNORECASE), re.compile(rf"What is the capital|{TEMPLATE_LEAK}")),
    KnownQuestion("two-plus-two", "What is 2+2?",
                  re.compile(r"(?<![\d.])4(?!\.?\d)|\bfour\b", re.IGNORECASE), re.compile(rf"What is 2\+2|{TEMPLATE_LEAK}")),
)


def request(q: KnownQuestion, model: str, max_tokens: int = 32) -> dict[str, Any]:
    """Greedy (temperature 0) so the same model gives the same answer every night."""
    return {"model": model, "messages": [{"role": "user", "content": q.question}], "max_tokens": max_tokens,
            "temperature": 0}


def answer_problems(q: KnownQuestion, completion: dict[str, Any]) -> list[str]:
    try:
        reply = completion["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        return [f"no message content in the completion: {str(completion)[:200]}"]
    problems = []
    if not q.answer.search(reply):
        problems.append(f"{q.question!r} answered {reply[:160]!r}, expected /{q.answer.pattern}/")
    if q.wrong.search(reply):
        problems.append(f"{q.question!r}: the reply echoes the question or leaks the chat template: {reply[:160]!r}")
    return problems
