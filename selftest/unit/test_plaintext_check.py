"""The plaintext-answer judgement and the `ss -Htlnp` reading behind the gateway's live TLS-everywhere test."""
from phoenix_verify.checks.plaintext import nginx_ports, plaintext_problem

SS = """LISTEN 0      511          0.0.0.0:443        0.0.0.0:*    users:(("nginx",pid=88,fd=7),("nginx",pid=87,fd=7))
LISTEN 0      511          0.0.0.0:80         0.0.0.0:*    users:(("nginx",pid=88,fd=6),("nginx",pid=87,fd=6))
LISTEN 0      511             [::]:8080          [::]:*    users:(("nginx",pid=88,fd=9))
LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=50,fd=3))
"""


def test_only_nginx_ports_are_read() -> None:
    assert nginx_ports(SS) == {80, 443, 8080}
    assert nginx_ports("") == set()


def test_redirects_to_https_and_refusals_pass() -> None:
    assert plaintext_problem(301, "https://phoenix.local/v1/") is None
    assert plaintext_problem(400, None) is None        # plain HTTP sent to a TLS port
    assert plaintext_problem(404, None) is None


def test_served_content_or_a_plaintext_redirect_fails() -> None:
    assert plaintext_problem(200, None) == "served 200 over plaintext"
    assert plaintext_problem(502, None) == "served 502 over plaintext"     # it tried to proxy
    assert plaintext_problem(302, "http://phoenix.local/") == "302 redirect to 'http://phoenix.local/', not https"
