"""The official `openai` client pointed at the gateway (SNI/Host = the main hostname) with no retries, so a
flaky backend shows up as a failure instead of being papered over."""
from __future__ import annotations

import httpx
import openai

from phoenix_verify.access.http import TIMEOUT, gateway_client
from phoenix_verify.target import Target

NO_KEY = "phoenix-verify"   # vLLM without --api-key ignores it; the client insists on one


def gateway_openai(target: Target, hostname: str, api_key: str = NO_KEY,
                   timeout: httpx.Timeout = TIMEOUT) -> openai.OpenAI:
    http = gateway_client(target, hostname, timeout=timeout)
    # openai's stubs name its vendored httpx fork; the client accepts a plain httpx.Client at run time
    return openai.OpenAI(base_url=f"{str(http.base_url).rstrip('/')}/v1", api_key=api_key, max_retries=0,
                         timeout=timeout, http_client=http)  # type: ignore[arg-type]
