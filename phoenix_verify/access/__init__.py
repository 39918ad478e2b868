"""Ways into the system under test: `pct://` testinfra backend, Proxmox state, batched CT/host probes.

Importing this package registers the `pct` backend in testinfra's table, so `testinfra.get_host("pct://951")`
works wherever phoenix_verify is loaded (the plugin imports it before collection).
"""
from phoenix_verify.access.pct_backend import register

register()
