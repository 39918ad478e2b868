"""The Proxmox host of the lab: a network namespace with bridge vmbr0, plus root-namespace safety nets."""
from __future__ import annotations

from pathlib import Path

from phoenix_lab.paths import BRIDGE, CT_GATEWAY, HOST_ADDR, LAB_RANGE, NETNS
from phoenix_lab.sh import run

SUBID_LINE = "root:100000:65536"
SUBID_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))
ETC_PVE = Path("/etc/pve")
MARKER = "phoenix-lab"


def netns_exists() -> bool:
    return Path("/run/netns", NETNS).exists()


def ensure_admin_user(paths, user: str) -> list[str]:
    """The hypervisor's admin user (hypervisor_feature_create_admin_user.sh): in group sudo; removed at down."""
    if run(["id", user], check=False).returncode == 0:
        return []
    if run(["getent", "group", "sudo"], check=False).returncode != 0:
        run(["groupadd", "--system", "sudo"])
        (paths.run / "sudo-group-created").write_text("1\n")
    run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", user])
    (paths.run / "admin-user-created").write_text(user + "\n")
    return [f"admin user {user} (group sudo)"]


def remove_admin_user(paths) -> list[str]:
    marker = paths.run / "admin-user-created"
    done = []
    if marker.exists():
        user = marker.read_text().strip()
        run(["userdel", "--remove", user], check=False)
        done.append(f"admin user {user}")
    if (paths.run / "sudo-group-created").exists():
        run(["groupdel", "sudo"], check=False)
    return done


def ensure_host(paths) -> list[str]:
    """Idempotent: netns, vmbr0 with the host address and the CT gateway, the unreachable safety route."""
    done = []
    if not netns_exists():
        run(["ip", "netns", "add", NETNS])
        done.append(f"netns {NETNS}")
    ns = ["ip", "-n", NETNS]
    run([*ns, "link", "set", "lo", "up"])
    if run([*ns, "link", "show", BRIDGE], check=False).returncode != 0:
        run([*ns, "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "netns", "exec", NETNS, "sysctl", "-qw", f"net.ipv6.conf.{BRIDGE}.disable_ipv6=1"])
        done.append(f"bridge {BRIDGE}")
    run([*ns, "link", "set", BRIDGE, "up"])
    addrs = run([*ns, "-4", "-o", "addr", "show", "dev", BRIDGE]).stdout
    for addr in (HOST_ADDR, CT_GATEWAY):
        if f" {addr} " not in addrs:
            run([*ns, "addr", "add", addr, "dev", BRIDGE])
    if "unreachable 198.18.0.0/15" not in run(["ip", "route", "show", "type", "unreachable"]).stdout:
        run(["ip", "route", "add", "unreachable", LAB_RANGE, "metric", "4000"])
        done.append("unreachable route for 198.18.0.0/15 in the root namespace")
    for f in SUBID_FILES:
        text = f.read_text() if f.exists() else ""
        if SUBID_LINE not in text.splitlines():
            backup = paths.run / f"{f.name}.before-lab"
            backup.parent.mkdir(parents=True, exist_ok=True)
            if not backup.exists():
                backup.write_text(text)
            f.write_text(text + ("" if text.endswith("\n") or not text else "\n") + SUBID_LINE + "\n")
            done.append(f"{SUBID_LINE} in {f}")
    _bind_etc_pve(paths)
    return done


def _bind_etc_pve(paths) -> None:
    """`ip netns exec` bind-mounts /etc/netns/<ns>/<x> over /etc/<x>: inside the lab, /etc/pve is the lab state."""
    if not ETC_PVE.exists():
        ETC_PVE.mkdir()
        (paths.run / "etc-pve-created").write_text("1\n")
    link = Path("/etc/netns", NETNS, "pve")
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.mkdir()
    fstab_marker = paths.run / "etc-netns-created"
    fstab_marker.write_text("1\n")
    if run(["mountpoint", "-q", str(link)], check=False).returncode != 0:
        run(["mount", "--bind", str(paths.pve), str(link)])


def teardown_host(paths) -> list[str]:
    done = remove_admin_user(paths)
    link = Path("/etc/netns", NETNS, "pve")
    if link.exists() and run(["mountpoint", "-q", str(link)], check=False).returncode == 0:
        run(["umount", "-l", str(link)])
    if (paths.run / "etc-netns-created").exists():
        if link.exists():
            link.rmdir()
        for parent in (link.parent, link.parent.parent):
            if parent.exists() and not any(parent.iterdir()):
                parent.rmdir()
    if (paths.run / "etc-pve-created").exists() and ETC_PVE.exists() and not any(ETC_PVE.iterdir()):
        ETC_PVE.rmdir()
    if netns_exists():
        run(["ip", "netns", "del", NETNS])
        done.append(f"netns {NETNS}")
    if "unreachable 198.18.0.0/15" in run(["ip", "route", "show", "type", "unreachable"]).stdout:
        run(["ip", "route", "del", "unreachable", LAB_RANGE, "metric", "4000"])
        done.append("unreachable route")
    for f in SUBID_FILES:
        backup = paths.run / f"{f.name}.before-lab"
        if backup.exists():
            f.write_text(backup.read_text())
            backup.unlink()
            done.append(f"restored {f}")
    return done
