"""Clone vs template: what a clone made from a golden template (920 -> 950/951) must still share with it.

Both sides are read the same way, by one read-only shell script over a root directory: inside the running clone
(`pct exec`, root /) and in the stopped template's root filesystem on the host (`pct mount`, as Proxmox mounts it
under /var/lib/lxc/<id>/rootfs). Config comes from `pct config <clone>` and `pct config <template> --snapshot <snap>`,
the state the clone was made from. Only what the inventory declares differently may differ: hostname, net0 (IP,
MAC), mount points, resources, the role unit that carries the model args; anything else is drift.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from phoenix_model.inventory import Container
from phoenix_model.pve_formats import CtConfig

ROOTFS_SCRIPT = r"""R="${ROOT:-}"
awk '/^Package: /{p=$2} /^Status: /{s=$0} /^Version: /{v=$2}
     /^$/{if (s ~ / installed$/) print "pkg", p, v; p=s=v=""} END{if (s ~ / installed$/) print "pkg", p, v}' "$R/var/lib/dpkg/status"
if [ -f "$R/opt/vllm/pyvenv.cfg" ]; then sed -n 's/^version[a-z_]* *= *\(.*\)$/venvpython \1/p' "$R/opt/vllm/pyvenv.cfg" | head -n 1; fi
for d in "$R"/opt/vllm/lib/python3*/site-packages/*.dist-info; do if [ -d "$d" ]; then echo "venvpkg $(basename "$d" .dist-info)"; fi; done
for l in "$R"/etc/systemd/system/*.wants/*; do if [ -e "$l" ] || [ -L "$l" ]; then echo "enabled $(basename "$l")"; fi; done
for f in "$R"/etc/systemd/system/*.service; do if [ -f "$f" ]; then echo "unitfile $(basename "$f") $(sha1sum < "$f" | cut -c1-12)"; fi; done
echo end-of-facts
"""
# Config keys that follow the CT's own declaration (identity, network, storage, resources, boot, bookkeeping).
PER_CT_KEYS = re.compile(r"^(hostname|net\d+|mp\d+|rootfs|memory|swap|cores|cpulimit|cpuunits|onboot|startup|description|"
                         r"tags|lock|parent|snaptime|digest|template)$")
# Keys that may differ when the inventory declares them differently for the two CTs.
DECLARED_BY = {"features": "pct_options", "unprivileged": "unprivileged", "lxc.cgroup2.devices.allow": "gpus",
               "lxc.mount.entry": "gpus"}


class DriftProbeError(RuntimeError):
    """A side could not be read (CT missing, not mountable, script failed); the gate cannot decide."""


@dataclass(frozen=True)
class RootfsFacts:
    packages: dict[str, str]
    venv_python: str | None
    venv_packages: dict[str, str]
    enabled_units: frozenset[str]
    unit_files: dict[str, str]


@dataclass(frozen=True)
class Drift:
    area: str        # packages, vllm-install, units, config
    item: str
    template: str
    clone: str


@dataclass
class Comparison:
    drift: list[Drift] = field(default_factory=list)
    allowed: list[Drift] = field(default_factory=list)   # differences the inventory declares


def parse_rootfs_facts(text: str, where: str) -> RootfsFacts:
    if "end-of-facts" not in text:
        raise DriftProbeError(f"{where}: the facts script did not finish: {text.strip()[-200:]!r}")
    pkgs: dict[str, str] = {}
    venv: dict[str, str] = {}
    enabled: set[str] = set()
    units: dict[str, str] = {}
    python = None
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "pkg" and len(rest.split()) == 2:
            name, version = rest.split()
            pkgs[name] = version
        elif kind == "venvpython":
            python = rest.strip()
        elif kind == "venvpkg" and "-" in rest:
            name, version = rest.strip().rsplit("-", 1)
            venv[name.lower().replace("_", "-")] = version
        elif kind == "enabled":
            enabled.add(rest.strip())
        elif kind == "unitfile" and len(rest.split()) == 2:
            name, digest = rest.split()
            units[name] = digest
    if not pkgs:
        raise DriftProbeError(f"{where}: no installed packages found (no /var/lib/dpkg/status?)")
    return RootfsFacts(pkgs, python, venv, frozenset(enabled), units)


def script_for_root(root: str) -> str:
    return f"ROOT={shlex.quote(root)}\n{ROOTFS_SCRIPT}"


def _dict_drift(area: str, template: dict[str, str], clone: dict[str, str]) -> list[Drift]:
    return [Drift(area, name, template.get(name, "absent"), clone.get(name, "absent"))
            for name in sorted(set(template) | set(clone)) if template.get(name) != clone.get(name)]


def compare_rootfs(template: RootfsFacts, clone: RootfsFacts, role_unit: str | None) -> Comparison:
    """Packages and the vLLM venv must match exactly; units too, except the role unit that carries the model args."""
    out = Comparison()
    out.drift += _dict_drift("packages", template.packages, clone.packages)
    if template.venv_python != clone.venv_python:
        out.drift.append(Drift("vllm-install", "/opt/vllm python", template.venv_python or "absent", clone.venv_python or "absent"))
    out.drift += _dict_drift("vllm-install", template.venv_packages, clone.venv_packages)
    role = {role_unit} if role_unit else set()
    for name in sorted(template.enabled_units ^ clone.enabled_units):
        diff = Drift("units", f"{name} enabled", "yes" if name in template.enabled_units else "no",
                     "yes" if name in clone.enabled_units else "no")
        (out.allowed if name in role else out.drift).append(diff)
    for diff in _dict_drift("units", template.unit_files, clone.unit_files):
        (out.allowed if diff.item in role else out.drift).append(diff)
    return out


def _config_items(cfg: CtConfig) -> dict[str, str]:
    items = {k: str(v) for k, v in cfg.current.items()}
    for key, value in cfg.lxc:
        items[key] = f"{items[key]}\n{value}" if key in items else value
    return items


def compare_config(template_cfg: CtConfig, clone_cfg: CtConfig, template: Container, clone: Container) -> Comparison:
    """Identity keys (arch, ostype, unprivileged, features, idmap, AppArmor, other raw lxc.*) must match unless
    the inventory declares them differently for the two CTs."""
    out = Comparison()
    t_items, c_items = _config_items(template_cfg), _config_items(clone_cfg)
    for key in sorted(set(t_items) | set(c_items)):
        if PER_CT_KEYS.match(key) or t_items.get(key) == c_items.get(key):
            continue
        diff = Drift("config", key, t_items.get(key, "absent"), c_items.get(key, "absent"))
        attr = DECLARED_BY.get(key)
        declared = attr is not None and getattr(template, attr) != getattr(clone, attr)
        (out.allowed if declared else out.drift).append(diff)
    return out
