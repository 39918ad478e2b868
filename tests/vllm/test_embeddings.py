"""Embeddings through the gateway: shape and order, declared dimension == qdrant collection size, unit norm,
and a semantic paraphrase check with the real model."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import openai_contract as oc
from phoenix_verify.suite import params

if TYPE_CHECKING:   # the SDK takes about a second to import: only runs that use the `oai` fixture pay for it
    import openai

pytestmark = [pytest.mark.rung("service"), pytest.mark.vllm]
ROUTES = {r.name: r for r in params.routes()}
ROUTED_EMBED = params.services(lambda ct: "vllm-embeddings" in ROUTES and ct.ctid == ROUTES["vllm-embeddings"].ct.ctid)
QDRANT = params.services(lambda ct: ct.role == "qdrant")
BATCH = ["the gateway terminates TLS", "qdrant stores vectors", "containers run unprivileged"]


def _embed(oai: openai.OpenAI, ct: Container, texts: list[str]) -> dict:
    return oai.embeddings.create(model=ct.vllm.served_model_name, input=texts).model_dump()


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_EMBED)
def test_batched_embeddings_shape_order_and_declared_dimension(ct: Container, oai: openai.OpenAI,
                                                               routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-embeddings")
    if ct.vllm.embedding_dim is None:
        pytest.skip("the inventory declares no vllm_embedding_dim")
    body = _embed(oai, ct, BATCH)
    assert oc.embeddings_problems(body, ct.vllm.served_model_name, len(BATCH), ct.vllm.embedding_dim) == []


@pytest.mark.remediate("qdrant-collection.sh", str(QDRANT[0].values[0].ctid) if QDRANT else "?")
@pytest.mark.parametrize("ct", ROUTED_EMBED)
def test_dimension_matches_every_qdrant_collection(ct: Container, oai: openai.OpenAI, gw: httpx.Client,
                                                   routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-embeddings")
    dim = len(_embed(oai, ct, ["dimension probe"])["data"][0]["embedding"])
    listing = gw.get("/qdrant/collections")
    if listing.status_code != 200:   # qdrant or its route is broken: the lxc/gateway layers report that
        pytest.skip(f"qdrant does not list collections through the gateway ({listing.status_code})")
    names = [c["name"] for c in listing.json()["result"]["collections"]]
    assert names, "qdrant has no collection to hold the embeddings"
    sizes = {}
    for name in names:
        vectors = gw.get(f"/qdrant/collections/{name}").json()["result"]["config"]["params"]["vectors"]
        sizes[name] = vectors["size"] if "size" in vectors else {k: v["size"] for k, v in vectors.items()}
    assert {n: s for n, s in sizes.items() if s != dim} == {}, f"embedding dimension is {dim}"


@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_EMBED)
def test_embeddings_are_unit_norm(ct: Container, oai: openai.OpenAI,
                                  routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-embeddings")
    norms = [oc.norm(d["embedding"]) for d in _embed(oai, ct, BATCH)["data"]]
    assert norms == pytest.approx([1.0] * len(BATCH), abs=1e-3)


@pytest.mark.semantic
@pytest.mark.remediate("vllm-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", ROUTED_EMBED)
def test_paraphrase_is_closer_than_unrelated_sentence(ct: Container, oai: openai.OpenAI,
                                                      routed_via_gateway: Callable[[str], None]) -> None:
    routed_via_gateway("vllm-embeddings")
    anchor, para, other = (d["embedding"] for d in _embed(oai, ct, [
        "How do I restart the web server?", "What is the way to reboot the HTTP server?", "Bananas are rich in potassium."])["data"])
    assert oc.cosine(anchor, para) > oc.cosine(anchor, other)
