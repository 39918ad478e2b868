"""testinfra backend `pct://<vmid>`: commands run as `pct exec <vmid> -- /bin/sh -c CMD` on the Proxmox host.

The host is this machine (`pct://951`) or an ssh target (`pct://951?host=ssh://root@pve`). testinfra's own
spec parser drops unknown query keys, so `pct_host()` parses the spec itself; through testinfra's registry the
equivalent allowed form is `pct://root@pve?container=951`. The ssh transport is testinfra's SshBackend command
builder; rc 255 (pct's and ssh's error code) raises `PctError` naming the CT instead of passing as a result.
"""
from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import testinfra.backend
import testinfra.host
from testinfra.backend import base
from testinfra.backend.ssh import SshBackend

from phoenix_verify.access import probe_log
from phoenix_verify.suite import stats

EXEC_TIMEOUT_S = 60


class PctError(RuntimeError):
    """`pct exec` itself failed (CT missing or stopped, ssh down): one line naming the CT."""


def _ctid(text: str, spec: str) -> str:
    if not text.isdigit() or not 100 <= int(text) <= 999999999:
        raise PctError(f"{spec}: {text!r} is not a CTID")
    return str(int(text))


class PctBackend(base.BaseBackend):
    """Commands inside a Proxmox CT, optionally through ssh to its host."""

    NAME = "pct"

    def __init__(self, hostname: str, container: str | None = None, via: str | None = None,
                 timeout: Any = None, ssh_config: str | None = None, ssh_identity_file: str | None = None,
                 **kwargs: Any) -> None:
        if container:                       # registry form pct://root@pve?container=951
            via = via or f"ssh://{hostname}"
            hostname = container
        self.vmid = _ctid(hostname, f"pct://{hostname}")
        self.timeout = int(timeout or EXEC_TIMEOUT_S)
        self.ssh = SshBackend(via.removeprefix("ssh://"), ssh_config=ssh_config, ssh_identity_file=ssh_identity_file,
                              ssh_extra_args="-o BatchMode=yes") if via else None
        self.via = via
        super().__init__(self.vmid, **{k: v for k, v in kwargs.items() if k in ("sudo", "sudo_user")})

    def get_pytest_id(self) -> str:
        return f"pct://{self.vmid}" + (f"@{self.ssh.host.name}" if self.ssh else "")

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        inner = self.get_command(command, *args)
        pct = self.quote("timeout %s pct exec %s -- /bin/sh -c %s", str(self.timeout), self.vmid, inner)
        stats.count("pct exec", self.vmid)
        if self.ssh:
            cmd, cmd_args = self.ssh._build_ssh_command(pct)
            probe_log.record("sh", command=self.get_command(" ".join(cmd), *cmd_args))
            out = self.run_local(" ".join(cmd), *cmd_args)
        else:
            probe_log.record("sh", command=pct)
            out = self.run_local(pct)
        out.command = self.encode(inner)
        if out.rc == 255:
            where = f" on {self.ssh.host.name}" if self.ssh else ""
            reason = (out.stderr.strip().splitlines() or ["no error text"])[0]
            raise PctError(f"ct{self.vmid}{where}: pct exec failed: {reason}")
        if out.rc == 124:
            raise PctError(f"ct{self.vmid}: pct exec timed out after {self.timeout}s")
        return out


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`pct://951` or `pct://951?host=ssh://root@pve` -> ("951", via)."""
    url = urllib.parse.urlparse(spec)
    if url.scheme != "pct":
        raise PctError(f"{spec}: not a pct:// spec")
    via = urllib.parse.parse_qs(url.query).get("host", [None])[0]
    if via is not None and not via.startswith("ssh://"):
        raise PctError(f"{spec}: host must be ssh://user@host")
    return _ctid(url.netloc, spec), via


@functools.cache
def pct_host(spec: str) -> testinfra.host.Host:
    """A testinfra Host for `pct://<vmid>[?host=ssh://...]`, cached per spec like testinfra's get_host."""
    vmid, via = parse_spec(spec)
    host = testinfra.host.Host(PctBackend(vmid, via=via))
    host.backend.set_host(host)
    return host


def spec_for(ctid: int, access: str) -> str:
    """The spec for a CT given the target's `access.pct` ("local" or "ssh://root@pve")."""
    return f"pct://{ctid}" if access == "local" else f"pct://{ctid}?host={access}"


def register() -> None:
    testinfra.backend.BACKENDS.setdefault("pct", f"{__name__}.PctBackend")
