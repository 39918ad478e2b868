"""Secrets never survive the redactor, whatever they look like (Hypothesis-generated)."""
from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from phoenix_verify.redact import MASK, redact, redact_obj, register_secret

SECRET = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=8, max_size=40)


@given(secret=SECRET)
def test_pve_token_header(secret: str) -> None:
    out = redact(f"Authorization: PVEAPIToken=root@pam!phoenix-verify={secret}")
    assert secret not in out and MASK in out and "root@pam!phoenix-verify=" in out


@given(secret=SECRET)
def test_bearer_and_cookies(secret: str) -> None:
    for text in (f"Authorization: Bearer {secret}", f"Cookie: PVEAuthCookie={secret}; x=1",
                 f"CSRFPreventionToken: {secret}", f"https://admin:{secret}@198.18.0.13/", f"password={secret}"):
        assert secret not in redact(text), text


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
