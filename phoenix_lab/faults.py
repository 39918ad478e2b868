"""The fault catalogue: small, reversible changes that a real Phoenix host has suffered or could suffer.

Each fault names the layer it breaks, the object the diagnosis must name (`ct951`, `host`, `volume:ssl_certs`,
`gateway:/v1/embeddings`), and the remediation that should fix it (or that none is automatic). Applied faults
are recorded in run/faults.json with what `clear` needs to restore the healthy lab exactly.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phoenix_lab import firewall, gateway_config, lifecycle, lxc_runtime, pct, pki, provision, rootfs, service_plan
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError, run
from phoenix_model.deployment import DockerService, docker_service
from phoenix_model.inventory import Container, Inventory, load_inventory
from phoenix_model.pve_formats import FirewallFile, parse_firewall_file, write_firewall_file


@dataclass
class Ctx:
    inv: Inventory
    paths: LabPaths
    ct: Container

    def pct(self, *args: str) -> None:
        code = pct.main(list(args))
        if code != 0:
            raise LabError(f"pct {' '.join(args)} failed ({code})")

    def exec(self, *command: str, ctid: int | None = None, check: bool = True) -> str:
        return run(lxc_runtime.attach_argv(ctid or self.ct.ctid, list(command)), check=check, timeout=60).stdout

    @property
    def gateway(self) -> Container:
        gw = self.inv.gateway()
        assert gw is not None
        return gw


@dataclass(frozen=True)
class Fault:
    name: str
    layer: str
    description: str
    role: str                                  # default CT chosen by role ("" = host-level)
    obj: str                                   # object template: {ctid}, {volume}
    remediation: str                           # remediate/<script> args ({ctid}); "" = manual
    manual: str                                # the manual step when there is no automatic fix
    apply: Callable[[Ctx], Any]
    clear: Callable[[Ctx, Any], object]   # what it returns is not used

    def target(self, inv: Inventory, ctid: int | None) -> Container:
        if ctid is not None:
            return inv.container(ctid)
        if self.role == "vllm-embedding":
            return next(c for c in inv.by_role("vllm") if c.vllm and c.vllm.model_type == "embedding")
        if self.role == "vllm-chat":
            return next(c for c in inv.by_role("vllm") if c.vllm and c.vllm.model_type == "chat")
        if self.role == "clone":
            return next(c for c in inv.services() if c.clone_from and inv.container(c.clone_from).is_template
                        and "vllm" in inv.container(c.clone_from).features)
        if self.role == "template":
            return next(c for c in inv.containers.values() if c.is_template and c.clone_from is not None) 
        return next(iter(inv.by_role(self.role or "gateway")))

    def describe(self, ct: Container) -> dict[str, str]:
        fields = {"ctid": str(ct.ctid), "volume": VOLUME_FOR_FAULT}
        return {"name": self.name, "layer": self.layer, "object": self.obj.format(**fields),
                "remediation": self.remediation.format(**fields) if self.remediation else "",
                "automatic": "yes" if self.remediation else "no", "manual": self.manual, "description": self.description}


VOLUME_FOR_FAULT = "vllm_models"


# ---------------------------------------------------------------- building blocks
def _unit_path(ctx: Ctx) -> Path:
    return rootfs.merged(ctx.ct.ctid) / "etc/systemd/system" / (service_plan.unit_name(ctx.ct) or "")


def _edit_unit(ctx: Ctx, edit: Callable[[str], str]) -> str:
    path = _unit_path(ctx)
    before = path.read_text()
    path.write_text(edit(before))
    ctx.exec("systemctl", "daemon-reload")
    ctx.exec("systemctl", "restart", service_plan.unit_name(ctx.ct) or "")
    return before


def _restore_unit(ctx: Ctx, before: str) -> None:
    _unit_path(ctx).write_text(before)
    ctx.exec("systemctl", "daemon-reload")
    ctx.exec("systemctl", "restart", service_plan.unit_name(ctx.ct) or "")


def _docker_rerun(ctx: Ctx, change: Callable[[list[str], DockerService], list[str]]) -> None:
    """Replace the CT's service container with one the application script would not start (`change` edits argv)."""
    svc = docker_service(ctx.ct)
    assert svc is not None
    argv = change(service_plan.docker_run_command(ctx.ct, ctx.inv), svc)
    ctx.exec("docker", "rm", "-f", svc.name)
    ctx.exec(*argv)


def _docker_redeploy(ctx: Ctx, _saved: Any = None) -> None:
    provision.run_app_scripts(ctx.inv, lambda _: None, only=ctx.ct.ctid)


def _without_data_volume(argv: list[str], svc: DockerService) -> list[str]:
    i = next(i for i, a in enumerate(argv) if a == "-v" and argv[i + 1].endswith(f":{svc.data_path}"))
    return argv[:i] + argv[i + 2:]


def _published_elsewhere(argv: list[str], svc: DockerService) -> list[str]:
    i = argv.index("-p")
    host, _, container = argv[i + 1].partition(":")
    return [*argv[:i + 1], f"{int(host) + 2}:{container}", *argv[i + 2:]]


def _crash_looping(argv: list[str], svc: DockerService) -> list[str]:
    return [*argv[:argv.index(svc.image) + 1], "/usr/bin/python3", "-c", "raise SystemExit(3)"]


def _start_container(ctx: Ctx, _saved: Any = None) -> None:
    ctx.exec("docker", "start", _container_name(ctx))


def _start_daemon(ctx: Ctx, _saved: Any = None) -> None:
    ctx.exec("systemctl", "start", "docker.service")   # the restart policy brings the container back


def _container_name(ctx: Ctx) -> str:
    svc = docker_service(ctx.ct)
    if svc is None:
        raise LabError(f"ct{ctx.ct.ctid} ({ctx.ct.name}) runs no service in Docker")
    return svc.name


def _site(ctx: Ctx, name: str) -> Path:
    return Path(ctx.inv.shared_volumes["nginx_sites"].host_path) / name


def _edit_site(ctx: Ctx, name: str, edit: Callable[[str], str]) -> str:
    path = _site(ctx, name)
    before = path.read_text()
    path.write_text(edit(before))
    ctx.exec("nginx", "-s", "reload", ctid=ctx.gateway.ctid)
    return before


def _restore_site(ctx: Ctx, name: str, before: str) -> None:
    _site(ctx, name).write_text(before)
    ctx.exec("nginx", "-s", "reload", ctid=ctx.gateway.ctid)


def _fw(ctx: Ctx, ctid: int | None) -> tuple[Path, FirewallFile]:
    path = ctx.paths.fw_file(ctid)
    return path, parse_firewall_file(path.read_text())


def _write_fw(ctx: Ctx, path: Path, text: str) -> None:
    path.write_text(text)
    firewall.apply(ctx.paths)


def _conf_text(ctx: Ctx) -> str:
    return ctx.paths.ct_conf(ctx.ct.ctid).read_text()


def _restore_conf(ctx: Ctx, text: str, restart: bool = False) -> None:
    ctx.paths.ct_conf(ctx.ct.ctid).write_text(text)
    if restart:
        _restart_ct(ctx)
    firewall.apply(ctx.paths)


def _restart_ct(ctx: Ctx) -> None:
    lxc_runtime.stop(ctx.ct.ctid, timeout=5)
    rootfs.mount(ctx.ct.ctid)
    lxc_runtime.start(ctx.ct.ctid)
    provision.wait_ready(ctx.inv, lambda _: None, timeout=60)


def _edit_conf(ctx: Ctx, edit: Callable[[str], str], restart: bool = False) -> str:
    before = _conf_text(ctx)
    ctx.paths.ct_conf(ctx.ct.ctid).write_text(edit(before))
    if restart:
        _restart_ct(ctx)
    firewall.apply(ctx.paths)
    return before


def _in_current_section(line: str) -> Callable[[str], str]:
    """Add a line to the config's current section (before the first [snapshot] section)."""
    def edit(text: str) -> str:
        head, sep, rest = text.partition("\n[")
        return f"{head.rstrip()}\n{line}\n\n[{rest}" if sep else f"{text.rstrip()}\n{line}\n"
    return edit


def _cert(ctx: Ctx, sans: list[str], **kw: Any) -> dict[str, str]:
    ssl_dir = Path(ctx.inv.shared_volumes["ssl_certs"].host_path)
    name = gateway_config.HOSTNAME
    saved = {ext: (ssl_dir / f"{name}.{ext}").read_text() for ext in ("crt", "key")}
    crt, key = pki.issue(ctx.paths.pki, f"fault-{name}", sans, out_dir=ctx.paths.run, **kw)
    for ext, src in (("crt", crt), ("key", key)):
        dst = ssl_dir / f"{name}.{ext}"
        dst.write_text(src.read_text())
        os.chown(dst, 100000, 100000)
        os.chmod(dst, 0o644)
    ctx.exec("nginx", "-s", "reload", ctid=ctx.gateway.ctid)
    return saved


def _restore_cert(ctx: Ctx, saved: dict[str, str]) -> None:
    ssl_dir = Path(ctx.inv.shared_volumes["ssl_certs"].host_path)
    for ext, text in saved.items():
        (ssl_dir / f"{gateway_config.HOSTNAME}.{ext}").write_text(text)
    ctx.exec("nginx", "-s", "reload", ctid=ctx.gateway.ctid)


def _net0_without_firewall(ctx: Ctx) -> str:
    before = _conf_text(ctx)
    ctx.pct("set", str(ctx.ct.ctid), "--net0", provision.net0(ctx.ct).replace(",firewall=1", ""))
    return before


def _chown_volume(ctx: Ctx) -> dict[str, tuple[int, int]]:
    host = Path(ctx.inv.shared_volumes[VOLUME_FOR_FAULT].host_path)
    saved = {}
    for p in [host, *host.rglob("*")]:
        st = p.lstat()
        saved[str(p)] = (st.st_uid, st.st_gid)
        os.lchown(p, 0, 0)
    return saved


def _restore_owners(ctx: Ctx, saved: dict[str, list[int]]) -> None:
    for p, (uid, gid) in saved.items():
        os.lchown(p, uid, gid)


def _subuid_remove(ctx: Ctx) -> str:
    path = Path("/etc/subuid")
    before = path.read_text()
    path.write_text("".join(line + "\n" for line in before.splitlines() if line != "root:100000:65536"))
    return before


def _route_to_wrong_ct(ctx: Ctx) -> str:
    chat = next(c for c in ctx.inv.by_role("vllm") if c.vllm and c.vllm.model_type == "chat")
    embed = next(c for c in ctx.inv.by_role("vllm") if c.vllm and c.vllm.model_type == "embedding")
    return _edit_site(ctx, "vllm.conf", lambda t: t.replace(f"server {embed.network.ip.ip}:", f"server {chat.network.ip.ip}:"))


def _delete_first_rule(ctx: Ctx) -> str:
    path, fw = _fw(ctx, ctx.ct.ctid)
    before = path.read_text()
    fw.rules = fw.rules[1:]
    _write_fw(ctx, path, write_firewall_file(fw))
    return before


def _set_fw_option(ctx: Ctx, ctid: int | None, key: str, value: Any) -> str:
    path, fw = _fw(ctx, ctid)
    before = path.read_text()
    fw.options[key] = value
    _write_fw(ctx, path, write_firewall_file(fw))
    return before


def _drop_snapshot(ctx: Ctx) -> str:
    """Keep the snapshot's disk layer aside so `clear` restores the template exactly (same snaptime, same layer)."""
    name = ctx.ct.template_snapshot or "pre-configured"
    before = _conf_text(ctx)
    shutil.move(str(rootfs.layer_dir(ctx.ct.ctid, name).parent), str(ctx.paths.run / f"snapshot-{ctx.ct.ctid}-{name}"))
    ctx.pct("delsnapshot", str(ctx.ct.ctid), name)
    return before


def _restore_snapshot(ctx: Ctx, before: str) -> None:
    name = ctx.ct.template_snapshot or "pre-configured"
    saved = ctx.paths.run / f"snapshot-{ctx.ct.ctid}-{name}"
    target = rootfs.layer_dir(ctx.ct.ctid, name).parent
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(saved), str(target))
    ctx.paths.ct_conf(ctx.ct.ctid).write_text(before)


def _touch_engine_dead(ctx: Ctx) -> None:
    ctx.exec("touch", "/run/vllm-engine-dead")


def _portainer_via_ip(ctx: Ctx) -> str:
    portainer = next(iter(ctx.inv.by_role("portainer")))
    location = ("    location /portainer/ {\n        proxy_pass https://portainer_backend/;\n        proxy_ssl_verify off;\n    }\n")
    return _edit_site(ctx, "gateway.conf", lambda t: t.replace("    location / {\n        return 404;", location + "    location / {\n        return 404;", 1)
                      if portainer else t)


def _restart_stopped_ct(c: Ctx) -> None:
    rootfs.mount(c.ct.ctid)
    lxc_runtime.start(c.ct.ctid)
    provision.wait_ready(c.inv, lambda _: None, 60)


CATALOGUE: list[Fault] = [
    Fault("service-stopped", "lxc", "the CT's service unit is stopped (process gone, port closed)", "n8n", "ct{ctid}",
          "service-restart.sh {ctid} n8n.service", "",
          lambda c: c.exec("systemctl", "stop", service_plan.unit_name(c.ct) or ""),
          lambda c, s: c.exec("systemctl", "start", service_plan.unit_name(c.ct) or "")),
    Fault("docker-container-stopped", "lxc", "the service container of a docker CT is stopped", "qdrant", "ct{ctid}",
          "docker-restart.sh {ctid}", "",
          lambda c: c.exec("docker", "stop", _container_name(c)), _start_container),
    Fault("docker-crash-loop", "lxc", "the service container exits at once and Docker restarts it in a loop", "qdrant",
          "ct{ctid}", "app-script.sh {ctid}", "",
          lambda c: _docker_rerun(c, _crash_looping), _docker_redeploy),
    Fault("docker-daemon-stopped", "lxc", "docker.service is stopped in a docker CT (its containers with it)", "qdrant",
          "ct{ctid}", "docker-restart.sh {ctid}", "",
          lambda c: c.exec("systemctl", "stop", "docker.socket", "docker.service"), _start_daemon),
    Fault("docker-no-volume", "lxc", "the service container was started without the CT's declared volume", "qdrant",
          "ct{ctid}", "app-script.sh {ctid}", "",
          lambda c: _docker_rerun(c, _without_data_volume), _docker_redeploy),
    Fault("docker-wrong-port", "lxc", "the service container publishes another port than the declared one", "qdrant",
          "ct{ctid}", "app-script.sh {ctid}", "",
          lambda c: _docker_rerun(c, _published_elsewhere), _docker_redeploy),
    Fault("vllm-stopped", "lxc", "vllm_model_server is stopped in a vLLM CT", "vllm-embedding", "ct{ctid}",
          "vllm-restart.sh {ctid}", "",
          lambda c: c.exec("systemctl", "stop", "vllm_model_server"),
          lambda c, s: c.exec("systemctl", "start", "vllm_model_server")),
    Fault("vllm-engine-dead", "vllm", "the vLLM engine died: /health answers 503, requests fail", "vllm-embedding", "ct{ctid}",
          "vllm-restart.sh {ctid}", "", _touch_engine_dead,
          lambda c, s: c.exec("rm", "-f", "/run/vllm-engine-dead")),
    Fault("service-wrong-port", "lxc", "the service listens on another port than the declared one", "n8n", "ct{ctid}",
          "app-script.sh {ctid}", "",
          lambda c: _edit_unit(c, lambda t: re.sub(r"--port \d+", "--port 5679", t)), _restore_unit),
    Fault("net0-firewall-removed", "firewall", "firewall=1 is missing on net0 (strategy §4.1)", "vllm-embedding", "ct{ctid}",
          "net0-firewall.sh {ctid}", "", _net0_without_firewall,
          lambda c, s: _restore_conf(c, s)),
    Fault("ct-firewall-disabled", "firewall", "the CT's .fw has enable: 0", "qdrant", "ct{ctid}",
          "ct-firewall-enable.sh {ctid}", "",
          lambda c: _set_fw_option(c, c.ct.ctid, "enable", 0),
          lambda c, s: _write_fw(c, c.paths.fw_file(c.ct.ctid), s)),
    Fault("ct-firewall-rule-deleted", "firewall", "a declared firewall rule was deleted", "vllm-chat", "ct{ctid}",
          "ct-firewall-rules.sh {ctid}", "", _delete_first_rule,
          lambda c, s: _write_fw(c, c.paths.fw_file(c.ct.ctid), s)),
    Fault("datacenter-firewall-off", "host", "the datacenter firewall is disabled (cluster.fw enable: 0)", "", "host",
          "cluster-firewall.sh", "",
          lambda c: _set_fw_option(c, None, "enable", 0),
          lambda c, s: _write_fw(c, c.paths.fw_file(), s)),
    Fault("shared-volume-owner-root", "host", "a shared volume's host dir is owned by host root (shows as nobody inside)", "",
          "volume:{volume}", "shared-volume-owner.sh {volume}", "", _chown_volume, _restore_owners),
    Fault("subuid-missing", "host", "/etc/subuid lacks root:100000:65536 (unprivileged CTs cannot start)", "", "host",
          "subid.sh", "", _subuid_remove, lambda c, s: Path("/etc/subuid").write_text(s)),
    Fault("idmap-changed", "lxc", "the CT's lxc.idmap lines differ from the orchestrator's", "n8n", "ct{ctid}",
          "idmap.sh {ctid}", "",
          lambda c: _edit_conf(c, lambda t: t.replace("lxc.idmap: u 0 100000 65536", "lxc.idmap: u 0 200000 65536")),
          lambda c, s: _restore_conf(c, s)),
    Fault("unprivileged-unset", "lxc", "unprivileged is unset in the CT config", "portainer", "ct{ctid}",
          "", "re-create the CT from its template: Proxmox fixes unprivileged at creation (ct-recreate.sh)",
          lambda c: _edit_conf(c, lambda t: t.replace("unprivileged: 1", "unprivileged: 0")),
          lambda c, s: _restore_conf(c, s)),
    Fault("mountpoint-removed", "lxc", "a declared mount point (mp0) was removed and the CT restarted", "vllm-chat", "ct{ctid}",
          "mountpoint.sh {ctid}", "",
          lambda c: _edit_conf(c, lambda t: re.sub(r"(?m)^mp0: .*\n", "", t, count=1), restart=True),
          lambda c, s: _restore_conf(c, s, restart=True)),
    Fault("undeclared-mount", "lxc", "a shared volume is mounted into a CT the config does not name (strategy §5.1)", "qdrant",
          "ct{ctid}", "mountpoint.sh {ctid}", "",
          lambda c: _edit_conf(c, lambda t: t.replace("\nnet0:", f"\nmp9: {c.inv.shared_volumes['ssl_certs'].host_path},mp=/certs\nnet0:", 1), restart=True),
          lambda c, s: _restore_conf(c, s, restart=True)),
    Fault("ct-stopped", "lxc", "a CT that starts at boot is stopped", "n8n", "ct{ctid}", "ct-start.sh {ctid}", "",
          lambda c: lxc_runtime.stop(c.ct.ctid, timeout=5),
          lambda c, s: _restart_stopped_ct(c)),
    Fault("template-snapshot-missing", "lxc", "the template lost its pre-configured snapshot", "template", "ct{ctid}",
          "template-snapshot.sh {ctid}", "", _drop_snapshot, _restore_snapshot),
    Fault("nginx-upstream-port", "gateway", "the gateway's upstream for the embeddings route points at a wrong port",
          "gateway", "gateway:/v1/embeddings", "gateway-config.sh {ctid}", "",
          lambda c: _edit_site(c, "vllm.conf", lambda t: re.sub(r"(upstream vllm_embeddings \{\n\s+server [\d.]+):\d+", r"\1:8001", t)),
          lambda c, s: _restore_site(c, "vllm.conf", s)),
    Fault("route-wrong-ct", "gateway", "the embeddings route points at the chat CT", "gateway", "gateway:/v1/embeddings",
          "gateway-config.sh {ctid}", "", _route_to_wrong_ct, lambda c, s: _restore_site(c, "vllm.conf", s)),
    Fault("hsts-removed", "gateway", "the gateway no longer sends Strict-Transport-Security", "gateway", "ct{ctid}",
          "gateway-config.sh {ctid}", "",
          lambda c: _edit_site(c, "gateway.conf", lambda t: re.sub(r"(?m)^.*Strict-Transport-Security.*\n", "", t)),
          lambda c, s: _restore_site(c, "gateway.conf", s)),
    Fault("tls10-enabled", "gateway", "TLS 1.0 and 1.1 are accepted by the gateway", "gateway", "ct{ctid}",
          "gateway-config.sh {ctid}", "",
          lambda c: _edit_site(c, "gateway.conf", lambda t: t.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n    ssl_ciphers DEFAULT:@SECLEVEL=0;")),
          lambda c, s: _restore_site(c, "gateway.conf", s)),
    Fault("portainer-via-ip", "gateway", "Portainer is reachable through the gateway IP vhost", "gateway", "ct{ctid}",
          "gateway-config.sh {ctid}", "", _portainer_via_ip, lambda c, s: _restore_site(c, "gateway.conf", s)),
    Fault("cert-expired", "gateway", "the gateway certificate has expired", "gateway", "ct{ctid}", "",
          "issue a new certificate for the gateway hostnames into the ssl_certs volume, then remediate/nginx-reload.sh",
          lambda c: _cert(c, [gateway_config.HOSTNAME, gateway_config.N8N_HOST, str(c.gateway.network.ip.ip)],
                          not_after=__import__("datetime").datetime.now(__import__("datetime").timezone.utc) - __import__("datetime").timedelta(days=2)),
          _restore_cert),
    Fault("cert-wrong-name", "gateway", "the gateway certificate does not name the served hostnames", "gateway", "ct{ctid}", "",
          "issue a certificate whose subjectAltNames cover the gateway hostnames, then remediate/nginx-reload.sh",
          lambda c: _cert(c, ["wrong.example.invalid"]), _restore_cert),
    Fault("nginx-stopped", "gateway", "nginx is stopped in the gateway CT", "gateway", "ct{ctid}",
          "service-restart.sh {ctid} nginx.service", "",
          lambda c: c.exec("systemctl", "stop", "nginx"), lambda c, s: c.exec("systemctl", "start", "nginx")),
    Fault("vllm-wrong-served-name", "vllm", "vLLM serves the model under another name than declared", "vllm-chat", "ct{ctid}",
          "app-script.sh {ctid}", "",
          lambda c: _edit_unit(c, lambda t: re.sub(r"--served-model-name \S+", "--served-model-name granite-legacy", t)),
          _restore_unit),
    Fault("embedding-wrong-dimension", "vllm", "the embedding server returns vectors of another dimension", "vllm-embedding",
          "ct{ctid}", "app-script.sh {ctid}", "",
          lambda c: _edit_unit(c, lambda t: t.replace("ExecStart=/opt/vllm/bin/python", "ExecStart=/opt/vllm/bin/python", 1).replace(" --task embed", " --task embed --lab-embedding-dim 256")),
          _restore_unit),
]
# Drift in a clone that the promotion gate (`phoenix-verify promote`) must block; the conformance suite does not
# compare clones with templates, so these are outside the catalogue the fault matrix runs.
PROMOTION_FAULTS: list[Fault] = [
    Fault("clone-unit-drift", "lxc", "a unit the template does not enable was enabled in the clone (nginx)", "clone",
          "ct{ctid}", "", "re-clone from the template (phoenix_orchestrator.sh) or disable the unit",
          lambda c: c.exec("systemctl", "enable", "nginx.service"),
          lambda c, s: c.exec("systemctl", "disable", "nginx.service")),
    Fault("clone-apparmor-drift", "lxc", "the clone's config runs it without AppArmor confinement", "clone", "ct{ctid}",
          "", "re-clone from the template or remove lxc.apparmor.profile from the clone's config",
          lambda c: _edit_conf(c, _in_current_section("lxc.apparmor.profile: unconfined")),
          lambda c, s: _restore_conf(c, s)),
]
BY_NAME = {f.name: f for f in CATALOGUE + PROMOTION_FAULTS}


def state_file(paths: LabPaths) -> Path:
    return paths.run / "faults.json"


def _load_state(paths: LabPaths) -> dict[str, Any]:
    path = state_file(paths)
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(paths: LabPaths, data: dict[str, Any]) -> None:
    state_file(paths).write_text(json.dumps(data))


def _ctx(fault: Fault, ctid: int | None) -> Ctx:
    inv = load_inventory(lifecycle.inventory_dir())
    return Ctx(inv, LabPaths.default(), fault.target(inv, ctid))


def apply(name: str, ctid: int | None = None) -> dict[str, str]:
    fault = BY_NAME.get(name)
    if fault is None:
        raise LabError(f"unknown fault {name!r} (see `phoenix-lab fault list`)")
    ctx = _ctx(fault, ctid)
    state = _load_state(ctx.paths)
    if name in state:
        raise LabError(f"fault {name} is already applied (to ct{state[name]['ctid']}); clear it first")
    saved = fault.apply(ctx)
    state[name] = {"ctid": ctx.ct.ctid, "saved": saved}
    _save_state(ctx.paths, state)
    return fault.describe(ctx.ct)


def clear(name: str | None = None) -> list[str]:
    paths = LabPaths.default()
    state = _load_state(paths)
    names = [name] if name else list(reversed(state))
    cleared = []
    for n in names:
        if n not in state:
            raise LabError(f"fault {n} is not applied")
        fault = BY_NAME[n]
        ctx = _ctx(fault, state[n]["ctid"])
        fault.clear(ctx, state[n]["saved"])
        provision.wait_ready(ctx.inv, lambda _: None, timeout=90)
        del state[n]
        _save_state(paths, state)
        cleared.append(n)
    return cleared


def applied() -> dict[str, int]:
    return {n: s["ctid"] for n, s in _load_state(LabPaths.default()).items()}


def main(args: argparse.Namespace) -> int:
    if args.fault_command == "list":
        inv = load_inventory(lifecycle.inventory_dir())
        rows = [f.describe(f.target(inv, None)) for f in CATALOGUE + PROMOTION_FAULTS]
        width = max(len(r["name"]) for r in rows)
        for i, r in enumerate(rows):
            if i == len(CATALOGUE):
                print("\npromotion faults (drift in a clone; `phoenix-verify promote` blocks them):")
            fix = r["remediation"] or f"manual: {r['manual']}"
            print(f"{r['name']:<{width}}  {r['layer']:<8} {r['object']:<24} {fix}\n{'':<{width}}  {r['description']}")
        return 0
    if args.fault_command == "apply":
        info = apply(args.name, args.ct)
        print(f"applied {info['name']}: {info['layer']} layer, object {info['object']}; fix: {info['remediation'] or 'manual: ' + info['manual']}")
        return 0
    cleared = clear(args.name)
    print("cleared: " + (", ".join(cleared) if cleared else "nothing was applied"))
    return 0
