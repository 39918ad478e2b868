"""The Proxmox host: bridge, API, datacenter firewall, shared volume dirs, subordinate ids, admin user, GPU driver."""
import pytest

from phoenix_verify.checks import host, lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.host, pytest.mark.rung("host")]
INV = params.inventory()
GPU_CT = next((str(ct.ctid) for ct in INV.services() if ct.gpus), "none")   # driver install is manual: see report


@pytest.mark.remediate("host-bridge.sh")
def test_bridge_has_declared_address() -> None:
    assert host.bridge(INV.host, live.host()) == []


@pytest.mark.remediate("host-bridge.sh")
def test_api_version_shape() -> None:
    if not params.target().has_api:
        pytest.skip("no Proxmox API configured in the target (pct/etc-pve mode)")
    assert host.api_version(live.version()) == []


@pytest.mark.remediate("cluster-firewall.sh")
def test_datacenter_firewall_policy() -> None:
    assert host.datacenter_firewall(INV.host, live.cluster_firewall()) == []


@pytest.mark.remediate("shared-volume-owner.sh", "{volume}")
@pytest.mark.parametrize("volume", sorted(INV.shared_volumes), ids=str)
def test_shared_volume_dir_owner_and_mode(volume: str) -> None:
    assert host.shared_dir(INV.shared_volumes[volume], live.host()) == []


@pytest.mark.remediate("subid.sh")
@pytest.mark.parametrize("kind", ["u", "g"], ids=["subuid", "subgid"])
def test_subids_cover_declared_idmaps(kind: str) -> None:
    ranges = [(r[1], r[2]) for ct in INV.containers.values() if ct.unprivileged for r in lxc.DEFAULT_IDMAP]
    facts = live.host()
    assert host.subids_cover(kind, ranges, facts.subuid if kind == "u" else facts.subgid) == []


@pytest.mark.remediate("admin-user.sh")
def test_admin_user_exists() -> None:
    assert host.admin_user(INV.host, live.host()) == []


@pytest.mark.gpu
@pytest.mark.remediate("gpu-passthrough.sh", GPU_CT)
def test_gpu_driver_version() -> None:
    """A host whose CTs are assigned GPUs needs the declared driver; no nvidia-smi there is a failure, not a skip."""
    if GPU_CT == "none":
        pytest.skip("no CT is assigned a GPU: no driver is needed")
    if not params.target().gpus:
        pytest.skip(f"{params.target().source}: host.gpus = false (this target has no GPUs by design): the driver is not checked")
    assert host.gpu_driver(INV.host, live.host()) == []
