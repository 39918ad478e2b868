"""Every declared shared and dedicated mount is configured, mounted, owned right inside (the host side is
tests/host's shared volume check) and writable;
and no CT carries a mount the config does not name (strategy §5.1 `apply_shared_volumes` scope bug)."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import host, lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("ct-config")]
INV = params.inventory()
SHARED = params.pairs((ct, m, m.mount_path.strip("/").replace("/", "-")) for ct in INV.containers.values() for m in ct.shared_mounts)
ALL = params.pairs(
    [(ct, (m.mount_path, m.host_path, m.owner_uid), m.mount_path.strip("/").replace("/", "-")) for ct in INV.containers.values() for m in ct.shared_mounts]
    + [(ct, (v.mount_point, f"{v.pool}:", 100000), v.mount_point.strip("/").replace("/", "-")) for ct in INV.containers.values() for v in ct.dedicated_volumes])


@pytest.mark.remediate("mountpoint.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "mount"), ALL)
def test_mount_in_config(ct: Container, mount: tuple) -> None:
    assert lxc.mount_in_config(ct, live.config(ct), mount[0], mount[1]) == []


@pytest.mark.rung("service")
@pytest.mark.remediate("mountpoint.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "mount"), ALL)
def test_mount_present_inside(ct: Container, mount: tuple) -> None:
    assert lxc.mount_inside(ct, live.facts(ct), mount[0]) == []


def _host_side_conforms(mount) -> None:
    """Inside ownership mirrors the host dir (host uid = 100000 + CT uid); a wrong host dir is the host layer's."""
    if host.shared_dir(INV.shared_volumes[mount.volume], live.host()):
        pytest.skip(f"host dir of volume {mount.volume} does not conform: host layer (test_shared_volume_dir_owner_and_mode)")


@pytest.mark.rung("service")
@pytest.mark.remediate("shared-volume-owner.sh", "{mount.volume}")
@pytest.mark.parametrize(("ct", "mount"), SHARED)
def test_shared_mount_owner_inside(ct: Container, mount) -> None:
    _host_side_conforms(mount)
    assert lxc.owner_inside(ct, live.facts(ct), mount.mount_path, mount.owner_uid, mount.owner_gid) == []


@pytest.mark.rung("service")
@pytest.mark.remediate("shared-volume-owner.sh", "{mount.volume}")
@pytest.mark.parametrize(("ct", "mount"), SHARED)
def test_shared_mount_writable_by_owner(ct: Container, mount) -> None:
    _host_side_conforms(mount)
    uid = mount.owner_uid - 100000 if mount.owner_uid >= 100000 else mount.owner_uid
    assert lxc.writable_inside(ct, live.facts(ct), mount.mount_path, uid) == []


@pytest.mark.remediate("mountpoint.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_no_undeclared_mounts(ct: Container) -> None:
    assert lxc.undeclared_mounts(ct, live.config(ct)) == []
