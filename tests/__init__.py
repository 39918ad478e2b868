"""Conformance tests (shipped in the wheel as phoenix_verify.tests; `pytest --pyargs phoenix_verify.tests`)."""
