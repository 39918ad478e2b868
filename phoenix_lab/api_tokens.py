"""API tokens stored as PVE stores them: `/etc/pve/priv/token.cfg` lines `USER@REALM!TOKENID <uuid>`."""
from __future__ import annotations

import os
import uuid

from phoenix_lab.paths import LabPaths


def token_file(paths: LabPaths):
    return paths.pve / "priv" / "token.cfg"


def load_tokens(paths: LabPaths) -> dict[str, str]:
    path = token_file(paths)
    if not path.exists():
        return {}
    tokens = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            tokens[parts[0]] = parts[1]
    return tokens


def ensure_token(paths: LabPaths, token_id: str) -> str:
    """Create the token if missing; the secret also goes to secrets/pve-token (0600) for the target config."""
    tokens = load_tokens(paths)
    if token_id not in tokens:
        tokens[token_id] = str(uuid.uuid4())
        path = token_file(paths)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k} {v}\n" for k, v in tokens.items()))
        os.chmod(path, 0o600)
    secret_file = paths.secrets / "pve-token"
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(tokens[token_id] + "\n")
    os.chmod(secret_file, 0o600)
    return tokens[token_id]
