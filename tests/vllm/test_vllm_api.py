"""vLLM per CT, directly (inside the CT) and through the gateway: health, model list, process args, the
OpenAI chat and embeddings contract of the pinned vLLM version (docs/contracts.md anchors §5)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.access.ct_facts import ct_facts
from phoenix_verify.access.http import direct_request
from phoenix_verify.checks import openai_contract as oc
from phoenix_verify.checks.vllm_process import arg_problems
from phoenix_verify.suite import params

if TYPE_CHECKING:   # the SDK takes about a second to import: only the tests using `oai` load it (via the fixture)
    import openai

pytestmark = [pytest.mark.rung("service"), pytest.mark.vllm]
ROUTES = {r.name: r for r in params.routes()}
VLLM = params.services(lambda ct: ct.vllm is not None)
CHAT = params.services(lambda ct: ct.vllm is not None and ct.vllm.model_type != "embedding")
ROUTED_CHAT = [p for p in CHAT if "vllm-chat" in ROUTES and p.values[0].ctid == ROUTES["vllm-chat"].ct.ctid]
ROUTED_EMBED = params.services(lambda ct: "vllm-embeddings" in ROUTES and ct.ctid == ROUTES["vllm-embeddings"].ct.ctid)
ACCESS = params.target().pct
HELLO = [{"role": "user", "content": "Hello! What is your name?"}]


def _direct(ct: Container, method: str, path: str, body: object = None):
    return direct_request(ct.ctid, ACCESS, method, ct.vllm.port, path, body)


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", VLLM)
def test_health_is_200_inside_the_ct(ct: Container) -> None:
    assert _direct(ct, "GET", "/health").status == 200


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", VLLM)
def test_models_lists_exactly_the_served_name_with_max_model_len(ct: Container) -> None:
    resp = _direct(ct, "GET", "/v1/models")
    assert resp.status == 200, resp.text[:200]
    models = [(m["id"], m.get("max_model_len")) for m in resp.json()["data"]]
    assert models == [(ct.vllm.served_model_name, ct.vllm.max_model_len)]


@pytest.mark.rung("process")
@pytest.mark.remediate("app-script.sh", "{ctid}")   # the unit carries the args: re-deploy it from the inventory
@pytest.mark.parametrize("ct", VLLM)
def test_process_runs_with_declared_args(ct: Container) -> None:
    assert arg_problems(ct_facts(ct, ACCESS), ct.vllm) == []


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", CHAT)
def test_chat_completion_shape_inside_the_ct(ct: Container) -> None:
    resp = _direct(ct, "POST", "/v1/chat/completions", {"model": ct.vllm.served_model_name, "messages": HELLO, "max_tokens": 16})
    assert resp.status == 200, resp.text[:200]
    assert oc.chat_completion_problems(resp.json(), ct.vllm.served_model_name) == []


@pytest.mark.rung("gateway-route")
@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_CHAT)
def test_chat_completion_shape_through_gateway(ct: Container, oai: openai.OpenAI,
                                               routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-chat")
    completion = oai.chat.completions.create(model=ct.vllm.served_model_name, messages=HELLO, max_tokens=16)
    assert oc.chat_completion_problems(completion.model_dump(), ct.vllm.served_model_name) == []


@pytest.mark.rung("gateway-route")
@pytest.mark.remediate("gateway-config.sh", str(params.inventory().gateway().ctid if params.inventory().gateway() else "?"))
@pytest.mark.parametrize("ct", ROUTED_CHAT)
def test_streaming_framing_through_gateway(ct: Container, gw: httpx.Client,
                                           routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-chat")
    body = {"model": ct.vllm.served_model_name, "messages": HELLO, "max_tokens": 16, "stream": True,
            "stream_options": {"include_usage": True}}
    with gw.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        text = resp.read().decode()
    chunks, done = oc.parse_sse(text)
    assert oc.stream_problems(chunks, done, ct.vllm.served_model_name) == []


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_CHAT)
def test_unknown_model_is_404_with_error_envelope(ct: Container, oai: openai.OpenAI,
                                                  routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-chat")
    from openai import NotFoundError  # loaded already by the `oai` fixture

    with pytest.raises(NotFoundError) as err:
        oai.chat.completions.create(model="no-such-model-phoenix-verify", messages=HELLO, max_tokens=4)
    assert oc.error_envelope_problems(err.value.response.json(), 404) == []


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_CHAT)
def test_invalid_body_is_400_with_error_envelope(ct: Container, gw: httpx.Client,
                                                 routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-chat")
    resp = gw.post("/v1/chat/completions", json={"model": ct.vllm.served_model_name, "messages": "not-a-list"})
    assert resp.status_code == 400, resp.text[:200]
    assert oc.error_envelope_problems(resp.json(), 400) == []


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_CHAT)
def test_prompt_beyond_max_model_len_is_400(ct: Container, oai: openai.OpenAI,
                                            routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-chat")
    prompt = "word " * ((ct.vllm.max_model_len or 4096) + 16)
    from openai import BadRequestError  # loaded already by the `oai` fixture

    with pytest.raises(BadRequestError) as err:
        oai.chat.completions.create(model=ct.vllm.served_model_name, messages=[{"role": "user", "content": prompt}], max_tokens=4)
    assert oc.error_envelope_problems(err.value.response.json(), 400) == []
