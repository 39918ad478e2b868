"""The lab's `pct`, run as a user runs it (`phoenix-lab run -- pct ...`), against docs/proxmox-formats.md §2 and §4:
byte-exact output (trailing spaces, `status: X`, config printing rules, listsnapshot tree), exit codes (255 for
pct errors, the command's own code / 127 / 126 from `pct exec`) and the clone/snapshot/set/push/pull round trip.

Expected strings are written out here from the reference, not produced by `pve_formats`, so a regression in the
shared formatter fails these tests instead of agreeing with itself."""
from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from phoenix_lab.paths import LabPaths
from phoenix_model.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths.default()
SCRATCH = 990  # not in the lab inventory; created and destroyed by the round-trip test
MISSING = 999


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(REPO / "fixtures" / "lab")


@pytest.fixture(scope="module")
def pct(lab_cli):
    def call(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return lab_cli("run", "--", "pct", *args, timeout=timeout)
    return call


def first_service(inv: Inventory) -> int:
    return min(ct.ctid for ct in inv.services())


def first_template(inv: Inventory) -> int:
    return min(ct.ctid for ct in inv.containers.values() if ct.is_template)


def test_list_is_pct_printf_with_trailing_spaces(pct, inv) -> None:
    result = pct("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[-1] == "", "pct list ends with a newline"
    assert lines[0] == "VMID       Status     Lock         Name                "
    rows = lines[1:-1]
    ids = [int(row.split()[0]) for row in rows]
    assert ids == sorted(inv.containers), "one row per CT, numerically sorted"
    for row in rows:
        fields = re.fullmatch(r"(\d+) +(running|stopped) +(\S*) +(\S+) *", row)
        assert fields, row
        vmid, status, lock, name = fields.groups()
        assert row == f"{vmid:<10} {status:<10} {lock:<12} {name:<20}", f"not printf('%-10s %-10s %-12s %-20s'): {row!r}"
        ct = inv.container(int(vmid))
        assert status == ("stopped" if ct.is_template else "running"), f"CT {vmid}"


def test_status_prints_one_line(pct, inv) -> None:
    service, template = first_service(inv), first_template(inv)
    assert pct("status", str(service)).stdout == "status: running\n"
    assert pct("status", str(template)).stdout == "status: stopped\n"


@pytest.mark.parametrize("command", [["status"], ["config"], ["exec", "--", "true"], ["start"], ["listsnapshot"]])
def test_missing_ct_is_pct_error_255(pct, command: list[str]) -> None:
    result = pct(command[0], str(MISSING), *command[1:])
    assert result.returncode == 255
    assert result.stderr == f"Configuration file 'nodes/pve/lxc/{MISSING}.conf' does not exist\n"
    assert result.stdout == ""


def test_exec_uid_map_is_kernel_format(pct, inv) -> None:
    ctid = next(ct.ctid for ct in inv.services() if ct.unprivileged)
    result = pct("exec", str(ctid), "--", "cat", "/proc/self/uid_map")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "         0     100000      65536\n"


@pytest.mark.parametrize(("command", "rc"), [
    (["sh", "-c", "exit 7"], 7),
    (["/nonexistent-command"], 127),
    (["/etc"], 126),  # a directory: execve gives EACCES,
])
def test_exec_passes_exit_codes_through(pct, inv, command: list[str], rc: int) -> None:
    assert pct("exec", str(first_service(inv)), "--", *command).returncode == rc


def test_exec_sees_pct_path_and_passes_stdout(pct, inv) -> None:
    result = pct("exec", str(first_service(inv)), "--", "sh", "-c", 'echo "$PATH"')
    assert result.stdout == "/sbin:/bin:/usr/sbin:/usr/bin\n"


def test_exec_on_stopped_ct_is_255(pct, inv) -> None:
    template = first_template(inv)
    result = pct("exec", str(template), "--", "true")
    assert result.returncode == 255
    assert result.stderr == f"container '{template}' not running!\n"


def tree_line(prefix: str, name: str, time: str, description: str) -> str:
    """One line of PVE::GuestHelpers::print_snapshot_tree: printf("%s %-${len}s %-23s %s"), len = 30 - length(prefix)."""
    return f"{prefix} {name:<{30 - len(prefix)}} {time:<23} {description}"


def config_lines(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split `pct config` output into (plain key/values, lxc.* pairs), checking the line shape on the way."""
    plain, raw = [], []
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z][a-z0-9_.\-]*): (.*)", line)
        assert match, f"not a `key: value` line: {line!r}"
        (raw if match[1].startswith("lxc.") else plain).append((match[1], match[2]))
    return plain, raw


@pytest.mark.parametrize("which", ["service", "template"])
def test_config_printing_rules(pct, inv, which: str) -> None:
    ctid = first_service(inv) if which == "service" else first_template(inv)
    result = pct("config", str(ctid))
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and "\n\n" not in result.stdout
    plain, raw = config_lines(result.stdout)
    keys = [k for k, _ in plain]
    assert keys == sorted(keys), "keys are printed sorted"
    assert "digest" not in keys and not any(line.startswith("[") for line in result.stdout.splitlines())
    printed = result.stdout.splitlines()
    assert printed[len(printed) - len(raw):] == [f"{k}: {v}" for k, v in raw], "lxc.* lines come last"
    conf_lxc = [tuple(line.split(": ", 1)) for line in PATHS.ct_conf(ctid).read_text().split("\n\n[")[0].splitlines()
                if line.startswith("lxc.")]
    assert raw == conf_lxc, "lxc.* lines come last, in file order"
    values = dict(plain)
    assert "\n" not in values.get("description", ""), "description is URI-encoded"
    net0 = values["net0"]
    assert net0.startswith("name=eth0,"), "net0 property string: name= first"
    rest = [item.split("=")[0] for item in net0.split(",")[1:]]
    assert rest == sorted(rest), "net0 keys after name= are sorted"
    ct = inv.container(ctid)
    assert f"ip={ct.network.ip}" in net0.split(",")
    if ct.unprivileged:
        assert values["unprivileged"] == "1"


def test_config_snapshot_and_listsnapshot_of_template(pct, inv) -> None:
    template = inv.container(first_template(inv))
    snap = template.template_snapshot
    assert snap, "the lab's templates declare a snapshot"
    listing = pct("listsnapshot", str(template.ctid))
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.split("\n")
    assert lines[-1] == "" and lines[-2] == tree_line(" `->", "current", "", "You are here!")
    first = re.fullmatch(r"`-> (\S+) +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)     (.*)", lines[0])
    assert first and first[1] == snap, lines[0]
    assert lines[0] == tree_line("`->", snap, first[2], first[3]), "printf('%s %-*s %-23s %s'), width 30 - len(prefix)"
    current = pct("config", str(template.ctid))
    assert f"parent: {snap}" in current.stdout.splitlines()
    section = pct("config", str(template.ctid), "--snapshot", snap)
    assert section.returncode == 0, section.stderr
    plain, _ = config_lines(section.stdout)
    values = dict(plain)
    assert re.fullmatch(r"\d{10}", values["snaptime"]) and "parent" not in values
    missing = pct("config", str(template.ctid), "--snapshot", "no-such-snap")
    assert missing.returncode == 255 and missing.stderr == "snapshot 'no-such-snap' does not exist\n"


@pytest.fixture
def scratch_clone(pct, inv):
    """A linked clone of the first template from its snapshot, destroyed afterwards whatever happened."""
    template = inv.container(first_template(inv))
    if PATHS.ct_conf(SCRATCH).exists():
        pytest.fail(f"CT {SCRATCH} exists already: remove it with `phoenix-lab run -- pct destroy {SCRATCH}`")
    result = pct("clone", str(template.ctid), str(SCRATCH), "--snapname", str(template.template_snapshot),
                 "--hostname", "lab-selftest", timeout=300)
    assert result.returncode == 0, result.stderr
    try:
        yield template
    finally:
        if pct("status", str(SCRATCH)).stdout == "status: running\n":
            pct("stop", str(SCRATCH))
        pct("destroy", str(SCRATCH))
    assert not PATHS.ct_conf(SCRATCH).exists()


def test_clone_set_snapshot_push_pull_round_trip(pct, scratch_clone, tmp_path: Path) -> None:
    template = scratch_clone
    cloned = dict(config_lines(pct("config", str(SCRATCH)).stdout)[0])
    source = dict(config_lines(pct("config", str(template.ctid), "--snapshot", str(template.template_snapshot)).stdout)[0])
    assert cloned["hostname"] == "lab-selftest"
    assert "parent" not in cloned and "snaptime" not in cloned and "template" not in cloned
    assert cloned["rootfs"].split(",")[0].endswith(f"subvol-{SCRATCH}-disk-0")
    hwaddr = dict(item.split("=", 1) for item in cloned["net0"].split(","))["hwaddr"]
    assert hwaddr != dict(item.split("=", 1) for item in source["net0"].split(","))["hwaddr"], "a clone gets a new MAC"
    assert cloned["memory"] == source["memory"]

    assert pct("set", str(SCRATCH), "--memory", "321", "--onboot", "0").returncode == 0
    assert pct("set", str(SCRATCH), "--net0", "bridge=vmbr0,name=eth0,ip=198.18.1.250/24,gw=198.18.1.1").returncode == 0
    after = dict(config_lines(pct("config", str(SCRATCH)).stdout)[0])
    assert after["memory"] == "321" and after["onboot"] == "0"
    assert after["net0"] == f"name=eth0,bridge=vmbr0,gw=198.18.1.1,hwaddr={hwaddr},ip=198.18.1.250/24,type=veth"
    assert pct("set", str(SCRATCH), "--delete", "onboot").returncode == 0
    assert "onboot" not in dict(config_lines(pct("config", str(SCRATCH)).stdout)[0])
    bad = pct("set", str(SCRATCH), "--no-such-key", "1")
    assert bad.returncode == 255 and bad.stderr.startswith("400 Parameter verification failed.")

    payload = tmp_path / "payload.txt"
    token = uuid.uuid4().hex
    payload.write_text(token + "\n")
    assert pct("push", str(SCRATCH), str(payload), "/root/payload.txt").returncode == 0
    back = tmp_path / "back.txt"
    assert pct("pull", str(SCRATCH), "/root/payload.txt", str(back)).returncode == 0
    assert back.read_text() == token + "\n"

    assert pct("snapshot", str(SCRATCH), "selftest1", "--description", "lab self-test").returncode == 0
    listing = pct("listsnapshot", str(SCRATCH)).stdout.split("\n")
    stamp = re.fullmatch(r"`-> selftest1 +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +lab self-test", listing[0])
    assert stamp and listing[0] == tree_line("`->", "selftest1", stamp[1], "lab self-test"), listing[0]
    assert listing[1] == tree_line(" `->", "current", "", "You are here!")
    assert "parent: selftest1" in pct("config", str(SCRATCH)).stdout.splitlines()
    conf = PATHS.ct_conf(SCRATCH).read_text()
    assert "\n[selftest1]\n#lab self-test\n" in conf, "snapshot section as PVE writes it, description as #-line"
    dup = pct("snapshot", str(SCRATCH), "selftest1")
    assert dup.returncode == 255 and dup.stderr == "snapshot name 'selftest1' already used\n"
    assert pct("delsnapshot", str(SCRATCH), "selftest1").returncode == 0
    assert "parent:" not in pct("config", str(SCRATCH)).stdout
    assert pct("listsnapshot", str(SCRATCH)).stdout == tree_line("`->", "current", "", "You are here!") + "\n"


def test_config_current_is_a_bare_boolean(pct, inv) -> None:
    """`pct config N --current` (PVE booleans take an optional value) prints the same as without it."""
    ctid = str(first_service(inv))
    bare = pct("config", ctid, "--current")
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout == pct("config", ctid).stdout == pct("config", ctid, "--current", "1").stdout


def test_exec_keeps_later_double_dashes_for_the_command(pct, inv) -> None:
    """Only the first `--` ends pct's options; `phoenix-lab run --` must not swallow the command's own `--`."""
    result = pct("exec", str(first_service(inv)), "--keep-env", "1", "--", "ls", "-d", "--", "/")
    assert (result.returncode, result.stdout) == (0, "/\n"), result.stderr
