"""vLLM chat per CT, inside the CT: the model answers questions with known answers (strategy §5: a model that
loads and answers in the right shape can still be the wrong model). Off when the target sets
`vllm.chat_semantics = false` (the lab's default echo engine cannot answer questions)."""
from __future__ import annotations

import pytest

from phoenix_model.inventory import Container
from phoenix_verify.access.http import direct_request
from phoenix_verify.checks import chat_semantics as cs
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("service"), pytest.mark.vllm, pytest.mark.semantic]
CHAT = params.services(lambda ct: ct.vllm is not None and ct.vllm.model_type != "embedding")
QUESTIONS = [pytest.param(q, id=q.slug) for q in cs.QUESTIONS]


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("ct", CHAT)
def test_chat_model_answers_a_known_question(ct: Container, question: cs.KnownQuestion) -> None:
    if not params.target().chat_semantics:
        pytest.skip(f"{params.target().source}: vllm.chat_semantics is false (a stand-in chat engine)")
    resp = direct_request(ct.ctid, params.target().pct, "POST", ct.vllm.port, "/v1/chat/completions",
                          cs.request(question, ct.vllm.served_model_name), timeout=90)
    assert resp.status == 200, resp.text[:200]
    assert cs.answer_problems(question, resp.json()) == []
