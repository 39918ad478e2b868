"""Secrets never survive the redactor, whatever they look like (Hypothesis-generated)."""
from __future__ import annotations

import string

from hypothesis import assume, given
from hypothesis import strategies as st

from phoenix_verify.suite.redact import MASK, redact, redact_obj, register_secret

SECRET = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=8, max_size=40)


@given(secret=SECRET)
def test_pve_token_header(secret: str) -> None:
    prefix = "Authorization: PVEAPIToken=root@pam!phoenix-verify="
    assume(secret not in prefix)   # a "secret" like "phoenix-" is part of the token id, which must stay
    out = redact(prefix + secret)
    assert secret not in out and MASK in out and "root@pam!phoenix-verify=" in out


@given(secret=SECRET)
def test_bearer_and_cookies(secret: str) -> None:
    for template in ("Authorization: Bearer {}", "Cookie: PVEAuthCookie={}; x=1", "CSRFPreventionToken: {}",
                     "https://admin:{}@198.18.0.13/", "password={}"):
        assume(secret not in template.format(""))   # the fixed words around it are not the secret
        assert secret not in redact(template.format(secret)), template


@given(secret=st.text(alphabet=string.ascii_letters + string.digits, min_size=10, max_size=40))
def test_hf_tokens(secret: str) -> None:
    assert secret not in redact(f"HF_TOKEN is hf_{secret} ok")


@given(secret=st.text(min_size=6, max_size=40).filter(lambda s: s.strip() == s and s.strip()), before=st.text(max_size=20), after=st.text(max_size=20))
def test_registered_secret_anywhere(secret: str, before: str, after: str) -> None:
    register_secret(secret)
    assert secret not in redact(before + secret + after)
    assert secret not in str(redact_obj({"a": [before + secret, {"b": secret + after}]}))


def test_plain_text_is_untouched() -> None:
    text = "net0: name=eth0,bridge=vmbr0,firewall=1,ip=198.18.0.151/24"
    assert redact(text) == text
