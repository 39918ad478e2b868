"""Route correctness by backend identity: a 200 through the gateway counts only when it is the declared CT's answer."""
from __future__ import annotations

import httpx

from phoenix_model.inventory import load_inventory
from phoenix_verify.access.routing import probe_gateway
from phoenix_verify.checks.routing import NO_ANSWER, NO_CONNECTION, Verdict, identity_path, same_backend
from phoenix_verify.gateway.contract import routes


def test_identity_paths_put_the_location_prefix_in_front(lab_dir) -> None:
    by_name = {r.name: r for r in routes(load_inventory(lab_dir))}
    assert identity_path(by_name["qdrant-healthz"]) == "/qdrant/healthz"
    assert identity_path(by_name["n8n"]) == "/n8n/healthz"
    assert identity_path(by_name["portainer"]) == "/api/status"


def test_the_ct_s_own_answer_is_routed() -> None:
    assert same_backend('{"Version": "2.21.0", "InstanceID": "a1"}\n', 200, '{"Version": "2.21.0", "InstanceID": "a1"}') is None


def test_a_200_from_another_backend_is_not_routed() -> None:
    """Another portainer instance, or a catch-all page, answers 200 too."""
    why = same_backend('{"Version": "2.21.0", "InstanceID": "b2"}', 200, '{"Version": "2.21.0", "InstanceID": "a1"}')
    assert why is not None and "differs from the CT's own" in why
    assert not Verdict(298, 200, why).routed


def test_a_200_while_the_declared_ct_does_not_answer_is_not_routed() -> None:
    why = same_backend("healthz check passed", 0, "")
    assert why is not None and "came from elsewhere" in why


def _client_raising(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return httpx.Client(transport=httpx.MockTransport(handler), base_url="https://phoenix.local")


def test_a_gateway_that_takes_the_request_and_never_answers_fails_the_route(lab_dir) -> None:
    """A dropped upstream (nginx waits out proxy_connect_timeout) reads as a timeout: the route is broken, and the
    test must fail rather than be skipped as if the gateway itself were unreachable."""
    route = next(r for r in routes(load_inventory(lab_dir)) if r.name == "vllm-embeddings")
    status, detail = probe_gateway(None, route, _client_raising(httpx.ReadTimeout("timed out")))  # type: ignore[arg-type]
    assert status == NO_ANSWER and "ReadTimeout" in detail
    assert not Verdict(status, 200, detail).routed


def test_a_gateway_that_cannot_be_reached_is_no_connection(lab_dir) -> None:
    route = next(r for r in routes(load_inventory(lab_dir)) if r.name == "vllm-embeddings")
    for exc in (httpx.ConnectError("refused"), httpx.ConnectTimeout("timed out")):
        assert probe_gateway(None, route, _client_raising(exc))[0] == NO_CONNECTION  # type: ignore[arg-type]
