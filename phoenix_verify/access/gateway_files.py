"""Copy the gateway CT's deployed nginx config to a local directory (one `pct exec`: tar | base64), so the
drift checks lint exactly what nginx runs, symlinks in sites-enabled resolved as nginx resolves them."""
from __future__ import annotations

import base64
import io
import tarfile
from pathlib import Path

from phoenix_verify.access.pct_backend import PctError, pct_host, spec_for

NGINX_DIR = "/etc/nginx"
PARTS = ("nginx.conf", "mime.types", "sites-enabled", "sites-available", "conf.d")


def fetch_nginx_config(ctid: int, access: str, dest: Path) -> Path:
    """Unpack the CT's /etc/nginx parts into `dest`; returns the local nginx.conf."""
    cmd = f"cd {NGINX_DIR} && tar -chf - $(ls -d {' '.join(PARTS)} 2>/dev/null) | base64 -w0"
    out = pct_host(spec_for(ctid, access)).run(cmd)
    if out.rc != 0 or not out.stdout.strip():
        raise PctError(f"ct{ctid}: cannot read {NGINX_DIR}: {out.stderr.strip()[:200]}")
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(out.stdout)), mode="r:") as tar:
        tar.extractall(dest, filter="data")
    return dest / "nginx.conf"
