"""Who may read what: the part of PVE's permission model the suite can observe, read from the lab's user.cfg.

`root@pam` may do everything. A token without privilege separation has its user's rights; a token with
`privsep` 1 has only what `acl:` lines grant the token itself (intersected with its user's rights), so a bare
token gets 403 `Permission check failed (/vms/951, VM.Audit)` on CT paths and `[]` from list endpoints, as on
PVE. The deepest ACL path that applies wins (propagate flag honoured). Built-in roles are modelled by their
privilege families; custom `role:` lines list privileges explicitly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = "root@pam"
BUILTIN_ROLES: dict[str, tuple[str, ...]] = {  # privilege-name prefixes / suffixes each role grants
    "Administrator": ("",),
    "PVEAdmin": ("VM.", "Datastore.", "Sys.Audit", "Sys.Console", "Sys.Syslog", "Pool.", "SDN.", "Mapping."),
    "PVEAuditor": (".Audit",),
    "PVEVMAdmin": ("VM.",),
    "PVEVMUser": ("VM.Audit", "VM.Console", "VM.PowerMgmt", "VM.Backup", "VM.Snapshot", "VM.Config.CDROM"),
    "PVEDatastoreUser": ("Datastore.Audit", "Datastore.AllocateSpace"),
    "NoAccess": (),
}


@dataclass(frozen=True)
class Acl:
    path: str
    propagate: bool
    subjects: frozenset[str]
    roles: tuple[str, ...]

    def applies(self, path: str) -> bool:
        if self.path == path:
            return True
        base = self.path.rstrip("/") + "/"
        return self.propagate and path.startswith(base)


@dataclass
class Permissions:
    acls: list[Acl] = field(default_factory=list)
    privsep: dict[str, bool] = field(default_factory=dict)          # token id -> privilege separation
    custom_roles: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, user_cfg: Path) -> Permissions:
        """Parse `/etc/pve/user.cfg`; a missing file means only root@pam and its tokens exist (full rights)."""
        perms = cls()
        if not user_cfg.exists():
            return perms
        for line in user_cfg.read_text().splitlines():
            parts = line.strip().split(":")
            if parts[0] == "token" and len(parts) >= 4:
                perms.privsep[parts[1]] = parts[3] == "1"   # token:<user>!<id>:<expire>:<privsep>:<comment>:
            elif parts[0] == "acl" and len(parts) >= 5:
                subjects = frozenset(s for s in parts[3].split(",") if s)
                perms.acls.append(Acl(parts[2] or "/", parts[1] == "1", subjects, tuple(r for r in parts[4].split(",") if r)))
            elif parts[0] == "role" and len(parts) >= 3:
                perms.custom_roles[parts[1]] = frozenset(p for p in parts[2].split(",") if p)
        return perms

    def _role_grants(self, role: str, priv: str) -> bool:
        if role in self.custom_roles:
            return priv in self.custom_roles[role]
        return any(priv.startswith(p) or (p.startswith(".") and priv.endswith(p)) for p in BUILTIN_ROLES.get(role, ()))

    def _granted(self, subject: str, path: str, priv: str) -> bool:
        if subject == ROOT:
            return True
        matching = [acl for acl in self.acls if subject in acl.subjects and acl.applies(path)]
        if not matching:
            return False
        depth = max(len(acl.path.rstrip("/")) for acl in matching)
        deepest = [acl for acl in matching if len(acl.path.rstrip("/")) == depth]
        return any(self._role_grants(role, priv) for acl in deepest for role in acl.roles)

    def allowed(self, identity: str, path: str, priv: str) -> bool:
        """`identity` is `user@realm` (ticket) or `user@realm!tokenid` (API token)."""
        user, _, token = identity.partition("!")
        if not token or not self.privsep.get(identity, False):
            return self._granted(user, path, priv)
        return self._granted(identity, path, priv) and self._granted(user, path, priv)
