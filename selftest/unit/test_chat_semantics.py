"""The known-question checks accept right answers from big and tiny models and reject echoes and template leaks."""
from __future__ import annotations

import pytest

from phoenix_verify.checks import chat_semantics as cs

FRANCE, MATH = cs.QUESTIONS


def completion(text: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}}]}


@pytest.mark.parametrize("q, reply", [
    (FRANCE, "The capital of France is Paris."),
    (FRANCE, "paris"),
    (MATH, "The answer to this classic math problem is 4."),
    (MATH, "2 + 2 equals four."),
])
def test_right_answers_pass(q: cs.KnownQuestion, reply: str) -> None:
    assert cs.answer_problems(q, completion(reply)) == []


@pytest.mark.parametrize("q, reply, why", [
    (FRANCE, ("Hello! I am granite-3.3-8b-instruct, served by the phoenix-lab vLLM stand-in. You said: What is the "
              "capital of France?"), "expected"),
    (FRANCE, "Lyon", "expected"),
    (FRANCE, "Paris<|im_end|>", "leaks the chat template"),
    (MATH, "It is 14.", "expected"),
    (MATH, "4.5", "expected"),
    (MATH, "You said: What is 2+2? 4", "echoes the question"),
])
def test_wrong_answers_fail_with_the_reply_quoted(q: cs.KnownQuestion, reply: str, why: str) -> None:
    problems = cs.answer_problems(q, completion(reply))
    assert problems and why in " ".join(problems)


def test_a_malformed_completion_is_a_problem_not_a_crash() -> None:
    assert cs.answer_problems(FRANCE, {"choices": []}) != []


def test_requests_are_greedy() -> None:
    assert cs.request(FRANCE, "m")["temperature"] == 0
