"""phoenix-verify: conformance suite for the Phoenix Hypervisor (pytest plugin, `phoenix-verify` CLI).

One wing per product: `suite` (the pytest plugin, parameters, markers, reports), `access` (probes of the live
system), `checks` (pure comparisons), `gateway` (NGINX analysis), `diagnosis`, `remediation`, `promotion`,
`nightly`; `cli` dispatches to them. The declared model lives one floor down, in `phoenix_model`.

The face a conformance test imports is small: `phoenix_verify.suite.params` (parameters from the inventory),
`phoenix_verify.suite.live` (the live facts of the target, probed once per session), one
`phoenix_verify.checks.<concern>` module per concern, and the `phoenix_model.inventory` types.
"""
