"""Where the lab keeps its state: one directory is the lab's /etc/pve, the LXC path, storage, PKI and secrets."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

NETNS = "phx-host"
NODE = "pve"
BRIDGE = "vmbr0"
HOST_ADDR = "198.18.0.13/24"
CT_GATEWAY = "198.18.0.1/24"
LAB_RANGE = "198.18.0.0/15"
API_PORT = 8006
TOKEN_ID = "root@pam!phoenix-verify"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LabPaths:
    home: Path
    cache: Path

    @classmethod
    def default(cls) -> LabPaths:
        return cls(Path(os.environ.get("PHOENIX_LAB_HOME", "/var/lib/phoenix-lab")),
                   Path(os.environ.get("PHOENIX_LAB_CACHE", "/var/cache/phoenix-lab")))

    @property
    def pve(self) -> Path:
        return self.home / "pve"

    @property
    def lxc(self) -> Path:
        return self.home / "lxc"

    @property
    def storage(self) -> Path:
        return self.home / "storage"

    @property
    def pki(self) -> Path:
        return self.home / "pki"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def bin(self) -> Path:
        return self.home / "bin"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def options(self) -> Path:
        return self.home / "options.json"

    @property
    def model_layer(self) -> Path:
        """An extra overlay layer under every CT with torch and SmolLM2 in /opt/vllm (only for `--chat-engine smollm2`)."""
        return self.cache / "layer-smollm2"

    @property
    def target(self) -> Path:
        return self.home / "target.toml"

    @property
    def base_image(self) -> Path:
        return self.cache / "base-rootfs"

    def ct_conf(self, ctid: int) -> Path:
        return self.pve / "lxc" / f"{ctid}.conf"

    def ct_dir(self, ctid: int) -> Path:
        return self.lxc / str(ctid)

    def fw_file(self, ctid: int | None = None) -> Path:
        return self.pve / "firewall" / ("cluster.fw" if ctid is None else f"{ctid}.fw")
