"""Session clients for the vLLM layer: the official openai client through the gateway, and the routed CTs."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from phoenix_verify import gateway_contract, params
from phoenix_verify.access.http import gateway_client
from phoenix_verify.access.openai_client import gateway_openai


@pytest.fixture(scope="session")
def oai() -> Iterator[openai.OpenAI]:
    client = gateway_openai(params.target(), gateway_contract.MAIN_HOST)
    yield client
    client.close()


@pytest.fixture(scope="session")
def gw() -> Iterator[httpx.Client]:
    with gateway_client(params.target(), gateway_contract.MAIN_HOST) as client:
        yield client
