"""Proxmox VE text formats, parsed and written the way PVE does (see docs/proxmox-formats.md §2).

The suite parses `pct config` output and `.fw` files into structures (never compares raw strings); the lab
writes the same formats byte-exactly so the suite cannot tell it from a real node.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

# property string: default key (bare value) first, then required keys sorted, then the rest sorted
PROPERTY_LAYOUT: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "net": (None, ("name",)),
    "mp": ("volume", ("mp",)),
    "rootfs": ("volume", ()),
    "features": (None, ()),
    "startup": (None, ()),
}
INT_KEYS = frozenset({"memory", "swap", "cores", "tty", "cpuunits", "snaptime"})
BOOL_KEYS = frozenset({"onboot", "unprivileged", "protection", "template", "console", "debug"})
CT_SECTION = re.compile(r"^\[([a-z][a-z0-9_\-]+)\]\s*$", re.IGNORECASE)
CT_PENDING = re.compile(r"^\[(?:PENDING|pve:pending)\]\s*$", re.IGNORECASE)
TRUE_WORDS, FALSE_WORDS = frozenset({"1", "on", "yes", "true"}), frozenset({"0", "off", "no", "false"})
CT_LINE = re.compile(r"^([a-z][a-z_]*\d*):\s*(.+?)\s*$")
LXC_LINE = re.compile(r"^(lxc\.[a-z0-9_.\-]+)\s*[:=]\s*(.*?)\s*$")


def encode_text(text: str) -> str:
    """PVE::Tools::encode_text: URI-escape control and non-ASCII bytes and ':' only (upper-case hex)."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E and b != 0x3A else f"%{b:02X}" for b in text.encode())


def decode_text(text: str) -> str:
    """PVE::Tools::decode_text (uri_unescape)."""
    return urllib.parse.unquote(text)


def layout_for(key: str) -> tuple[str | None, tuple[str, ...]]:
    base = re.sub(r"\d+$", "", key)
    return PROPERTY_LAYOUT.get(base, (None, ()))


def parse_property_string(text: str, key: str = "") -> dict[str, str]:
    """`name=eth0,bridge=vmbr0,...` -> dict; a bare leading value is the default key (volume of rootfs/mpN)."""
    default_key, _ = layout_for(key)
    out: dict[str, str] = {}
    for part in (p for p in text.split(",") if p != ""):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
        elif default_key and default_key not in out:
            out[default_key] = part.strip()
        else:
            out[part.strip()] = ""
    return out


def print_property_string(values: dict[str, Any], key: str = "") -> str:
    """PVE's canonical order (JSONSchema::print_property_string)."""
    default_key, required = layout_for(key)
    items = {k: ("1" if v is True else "0" if v is False else str(v)) for k, v in values.items() if v is not None}
    parts = []
    if default_key and default_key in items:
        parts.append(items.pop(default_key))
    for k in sorted(r for r in required if r in items):
        parts.append(f"{k}={items.pop(k)}")
    parts += [f"{k}={items[k]}" for k in sorted(items)]
    return ",".join(parts)


@dataclass(frozen=True)
class Net0:
    """Parsed `netN`: what the suite compares against the inventory."""

    name: str | None
    bridge: str | None
    firewall: bool
    gw: str | None
    hwaddr: str | None
    ip: str | None
    type: str
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Net0:
        d = parse_property_string(text, "net0")
        known = {"name", "bridge", "firewall", "gw", "hwaddr", "ip", "type"}
        return cls(d.get("name"), d.get("bridge"), d.get("firewall", "").lower() in TRUE_WORDS, d.get("gw"),
                   (d.get("hwaddr") or "").upper() or None, d.get("ip"), d.get("type", "veth"),
                   {k: v for k, v in d.items() if k not in known})

    def to_property_string(self) -> str:
        """Canonical `netN` value as the API writes it (`firewall=1` only when on)."""
        values = {**self.extra, "name": self.name, "bridge": self.bridge, "firewall": "1" if self.firewall else None,
                  "gw": self.gw, "hwaddr": self.hwaddr, "ip": self.ip, "type": self.type}
        return print_property_string(values, "net0")


@dataclass(frozen=True)
class MountPoint:
    volume: str
    mp: str
    options: dict[str, str]

    @property
    def is_bind(self) -> bool:
        return self.volume.startswith("/")

    @classmethod
    def parse(cls, text: str) -> MountPoint:
        d = parse_property_string(text, "mp0")
        return cls(d.pop("volume", ""), d.pop("mp", ""), d)

    def to_property_string(self) -> str:
        return print_property_string({**self.options, "volume": self.volume, "mp": self.mp}, "mp0")


@dataclass(frozen=True)
class Startup:
    order: int | None
    up: int | None
    down: int | None

    @classmethod
    def parse(cls, text: str) -> Startup:
        d = parse_property_string(text, "startup")
        num = lambda k: int(d[k]) if d.get(k, "").isdigit() else None
        return cls(num("order"), num("up"), num("down"))

    def to_property_string(self) -> str:
        return print_property_string({"order": self.order, "up": self.up, "down": self.down}, "startup")


def typed_value(key: str, raw: str) -> Any:
    """Values as the API returns them: ints for sizes/counts, 0/1 for booleans, strings otherwise."""
    if key in INT_KEYS and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if key in BOOL_KEYS and raw.lower() in TRUE_WORDS | FALSE_WORDS:
        return int(raw.lower() in TRUE_WORDS)
    return raw


@dataclass
class CtConfig:
    """/etc/pve/lxc/<id>.conf: current section, snapshot sections, pending section."""

    current: dict[str, Any] = field(default_factory=dict)
    lxc: list[tuple[str, str]] = field(default_factory=list)
    snapshots: dict[str, CtConfig] = field(default_factory=dict)
    pending: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    def as_api(self, current: bool = True) -> dict[str, Any]:
        """GET .../config: the current section, with pending values applied unless `current`."""
        data = dict(self.current)
        if not current:
            data.update({k: v for k, v in self.pending.items() if k != "delete"})
            for key in str(self.pending.get("delete", "")).split(","):
                data.pop(key.strip().lstrip("!"), None)
        if self.lxc:
            data["lxc"] = [[k, v] for k, v in self.lxc]
        data["digest"] = self.digest
        return data


def parse_ct_config(text: str) -> CtConfig:
    root = CtConfig(digest=hashlib.sha1(text.encode()).hexdigest())
    section = root
    description: list[str] = []
    target = root.current
    for line in text.splitlines():
        if not line.strip():
            continue
        match = CT_SECTION.match(line) or CT_PENDING.match(line)
        if match:
            if description:
                target["description"] = "".join(description)
                description = []
            if CT_PENDING.match(line):
                target = root.pending
                section = root
            else:
                name = match.group(1)
                section = CtConfig()
                root.snapshots[name] = section
                target = section.current
            continue
        if line.startswith("#"):
            description.append(decode_text(line[1:]) + "\n")
            continue
        lxc = LXC_LINE.match(line)
        if lxc:
            section.lxc.append((lxc.group(1), lxc.group(2)))
            continue
        kv = CT_LINE.match(line)
        if kv:
            target[kv.group(1)] = typed_value(kv.group(1), kv.group(2))
    if description:
        target["description"] = "".join(description)
    return root


def _section_lines(values: dict[str, Any], lxc: list[tuple[str, str]]) -> list[str]:
    lines = []
    desc = values.get("description")
    if desc:
        lines += ["#" + encode_text(d) for d in str(desc).rstrip("\n").split("\n")]
    skip = {"digest", "description", "pending", "snapshots", "snapname", "env", "lxc"}
    lines += [f"{k}: {values[k]}" for k in sorted(values) if k not in skip]
    lines += [f"{k}: {v}" for k, v in lxc]
    return lines


def write_ct_config(cfg: CtConfig) -> str:
    lines = _section_lines(cfg.current, cfg.lxc)
    if cfg.pending:
        lines += ["", "[pve:pending]"] + _section_lines(cfg.pending, [])
    for name in sorted(cfg.snapshots):
        snap = cfg.snapshots[name]
        lines += ["", f"[{name}]"] + _section_lines(snap.current, snap.lxc)
    return "\n".join(lines) + "\n"


def pct_config_output(cfg: CtConfig, section: CtConfig | None = None) -> str:
    """`pct config`: sorted keys (description URI-encoded), no digest, lxc.* last, no snapshot sections."""
    part = section or cfg
    lines = []
    for key in sorted(part.current):
        if key in ("digest", "lxc"):
            continue
        value = part.current[key]
        if key == "description":
            value = encode_text(str(value))
        lines.append(f"{key}: {value}")
    lines += [f"{k}: {v}" for k, v in part.lxc]
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- firewall files (.fw)
FW_RULE = re.compile(r"^(\|)?\s*(IN|OUT|GROUP|FORWARD)\s+(\S+)\s*(.*)$", re.IGNORECASE)
FW_OPTION_ORDER = ("i", "source", "dest", "p", "dport", "sport", "log", "icmp-type")
FW_OPTION_ALIASES = {"iface": "i", "proto": "p"}
FW_INT_OPTIONS = frozenset({"enable", "dhcp", "ndp", "radv", "macfilter", "ipfilter", "ips", "ebtables", "nftables", "nosmurfs", "tcpflags"})


@dataclass(frozen=True)
class FwRule:
    type: str                      # in | out | group | forward (lower-case, as the API returns it)
    action: str                    # ACCEPT | DROP | REJECT | group name
    macro: str | None = None
    enable: bool = True
    iface: str | None = None
    source: str | None = None
    dest: str | None = None
    proto: str | None = None
    dport: str | None = None
    sport: str | None = None
    log: str | None = None
    icmp_type: str | None = None
    comment: str | None = None

    def matches(self, other: FwRule) -> bool:
        """Same rule, ignoring comments and logging: what 'the declared rule exists' means."""
        keys = ("type", "action", "macro", "iface", "source", "dest", "proto", "dport", "sport")
        return all(getattr(self, k) == getattr(other, k) for k in keys)

    def as_api(self, pos: int, digest: str) -> dict[str, Any]:
        data: dict[str, Any] = {"pos": pos, "type": self.type, "action": self.action, "enable": int(self.enable)}
        for key in ("macro", "iface", "source", "dest", "proto", "dport", "sport", "log", "comment"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.icmp_type:
            data["icmp-type"] = self.icmp_type
        version = _ip_version(self.source) or _ip_version(self.dest)
        if version:
            data["ipversion"] = version
        data["digest"] = digest
        return data


def _ip_version(value: str | None) -> int | None:
    """4/6 when a rule's source/dest is a literal address or network (PVE adds `ipversion` then)."""
    if not value:
        return None
    try:
        return ipaddress.ip_network(value.split(",")[0], strict=False).version
    except ValueError:
        return None


def rules_as_api(rules: list[FwRule]) -> list[dict[str, Any]]:
    """GET .../firewall/rules: PVE's copy_list_with_digest (SHA-1 over each rule's sorted `k:v\n`), then `pos`."""
    entries = []
    for rule in rules:
        entry = rule.as_api(0, "")
        del entry["pos"], entry["digest"]
        entries.append(entry)
    sha = hashlib.sha1()
    for entry in entries:
        for key in sorted(entry):
            sha.update(f"{key}:{entry[key]}\n".encode())
    digest = sha.hexdigest()
    return [{**entry, "pos": pos, "digest": digest} for pos, entry in enumerate(entries)]


def parse_fw_rule(line: str) -> FwRule | None:
    comment = None
    if "#" in line:
        line, comment = line.split("#", 1)
        comment = comment.strip() or None
    match = FW_RULE.match(line.strip())
    if not match:
        return None
    disabled, rtype, action, rest = match.groups()
    macro = None
    macro_match = re.fullmatch(r"([A-Za-z0-9_]+)\((ACCEPT|DROP|REJECT)\)", action)
    if macro_match:
        macro, action = macro_match.groups()
    opts: dict[str, str] = {}
    tokens = rest.split()
    i = 0
    while i < len(tokens):
        name = tokens[i].lstrip("-")
        name = FW_OPTION_ALIASES.get(name, name)
        value = tokens[i + 1] if i + 1 < len(tokens) else ""
        opts[name] = value
        i += 2
    return FwRule(
        type=rtype.lower(), action=action if rtype.upper() == "GROUP" else action.upper(), macro=macro,
        enable=not disabled, iface=opts.get("i"), source=opts.get("source"), dest=opts.get("dest"),
        proto=opts.get("p"), dport=opts.get("dport"), sport=opts.get("sport"), log=opts.get("log"),
        icmp_type=opts.get("icmp-type"), comment=comment,
    )


def print_fw_rule(rule: FwRule) -> str:
    action = f"{rule.macro}({rule.action})" if rule.macro else rule.action
    parts = [("|" if not rule.enable else "") + rule.type.upper(), action]
    values = {"i": rule.iface, "source": rule.source, "dest": rule.dest, "p": rule.proto, "dport": rule.dport,
              "sport": rule.sport, "log": rule.log, "icmp-type": rule.icmp_type}
    parts += [f"-{k} {values[k]}" for k in FW_OPTION_ORDER if values[k]]
    text = " ".join(parts)
    return f"{text} # {rule.comment}" if rule.comment else text


@dataclass
class FirewallFile:
    options: dict[str, Any] = field(default_factory=dict)
    rules: list[FwRule] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    ipsets: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[FwRule]] = field(default_factory=dict)

    def options_digest(self) -> str:
        return hashlib.sha1("".join(f"{k}:{self.options[k]}\n" for k in sorted(self.options)).encode()).hexdigest()


def parse_fw_option(key: str, value: str) -> Any:
    if key in FW_INT_OPTIONS and value in ("0", "1"):
        return int(value)
    if key.startswith("policy_"):
        return value.upper()
    if key.startswith("log_level"):
        return value.lower()
    return value


def parse_firewall_file(text: str) -> FirewallFile:
    fw = FirewallFile()
    section, name = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or (line.startswith("#") and section != "rules"):
            continue
        header = re.fullmatch(r"\[(\w+)(?:\s+([^\]\s]+))?\]\s*(?:#.*)?", line)  # PVE may add `# comment`
        if header:
            section, name = header.group(1).lower(), header.group(2) or ""
            if section == "ipset":
                fw.ipsets[name] = []
            elif section == "group":
                fw.groups[name] = []
            continue
        if section == "options" and ":" in line:
            key, value = (p.strip() for p in line.split(":", 1))
            fw.options[key] = parse_fw_option(key, value)
        elif section == "rules":
            rule = parse_fw_rule(line)
            if rule:
                fw.rules.append(rule)
        elif section == "group":
            rule = parse_fw_rule(line)
            if rule:
                fw.groups[name].append(rule)
        elif section == "aliases":
            parts = line.split()
            if len(parts) >= 2:
                fw.aliases[parts[0]] = parts[1]
        elif section == "ipset":
            fw.ipsets[name].append(line)
    return fw


def write_firewall_file(fw: FirewallFile) -> str:
    """PVE writer layout; an empty config is the empty string (PVE then deletes the file)."""
    blocks = []
    if fw.options:
        blocks.append("[OPTIONS]\n\n" + "".join(f"{k}: {v}\n" for k, v in fw.options.items()))
    if fw.aliases:
        blocks.append("[ALIASES]\n\n" + "".join(f"{k} {v}\n" for k, v in fw.aliases.items()))
    for name, entries in fw.ipsets.items():
        blocks.append(f"[IPSET {name}]\n\n" + "".join(f"{e}\n" for e in entries))
    if fw.rules:
        blocks.append("[RULES]\n\n" + "".join(print_fw_rule(r) + "\n" for r in fw.rules))
    for name, rules in fw.groups.items():
        blocks.append(f"[group {name}]\n\n" + "".join(print_fw_rule(r) + "\n" for r in rules))
    return "\n".join(blocks)


# ---------------------------------------------------------------- pct output
def pct_list_output(rows: list[tuple[int, str, str, str]]) -> str:
    """rows: (vmid, status, lock, name); empty list -> no output at all (not even the header)."""
    if not rows:
        return ""
    fmt = "%-10s %-10s %-12s %-20s\n"
    out = fmt % ("VMID", "Status", "Lock", "Name")
    for vmid, status, lock, name in sorted(rows):
        out += fmt % (vmid, status, lock, name)
    return out


def pct_status_output(status: str | None) -> str:
    """`pct status <vmid>`: `status: running|stopped` (`unknown` when unset)."""
    return f"status: {status or 'unknown'}\n"


def parse_pct_list(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        rows.append({"vmid": line[0:10].strip(), "status": line[11:21].strip(), "lock": line[22:34].strip(), "name": line[35:].strip()})
    return rows


def _snapshot_line(prefix: str, name: str, when: str, desc: str) -> str:
    """printf("%s %-${len}s %-23s %s") with len = 30 - length(prefix) (GuestHelpers::print_snapshot_tree)."""
    return f"{prefix} {name:<{30 - len(prefix)}} {when:<23} {desc}"


def listsnapshot_output(snapshots: dict[str, dict[str, Any]], parent: str | None) -> str:
    """`pct listsnapshot`: tree by parent links, `current` last ("You are here!")."""
    children: dict[str | None, list[str]] = {}
    for name, snap in snapshots.items():
        children.setdefault(snap.get("parent"), []).append(name)
    lines: list[str] = []

    def walk(node: str | None, depth: int) -> None:
        for name in sorted(children.get(node, []), key=lambda n: snapshots[n].get("snaptime", 0)):
            prefix = " " * depth + "`->"
            snap = snapshots[name]
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(snap.get("snaptime", 0))))
            desc = (str(snap.get("description") or "").split("\n")[0]) or "no-description"
            lines.append(_snapshot_line(prefix, name, when, desc))
            walk(name, depth + 1)
            if name == parent:
                cprefix = " " * (depth + 1) + "`->"
                lines.append(_snapshot_line(cprefix, "current", "", "You are here!"))

    walk(None, 0)
    if parent is None:
        lines.append(_snapshot_line("`->", "current", "", "You are here!"))
    return "".join(line + "\n" for line in lines)


def parse_listsnapshot(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"`->\s+(\S+)", text)]
