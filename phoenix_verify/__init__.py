"""phoenix-verify: conformance suite for the Phoenix Hypervisor (library, pytest plugin, `phoenix-verify` CLI)."""
