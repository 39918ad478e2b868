"""nginx's own verdict: `nginx -t -p <scratch> -c <conf>` over the config as the gateway CT would load it.

The given files are copied to a scratch prefix line for line: includes point at the copies (resolved as
`nginx_lint` resolves them), certificate and key paths at a throwaway certificate, logs and pid into the
scratch dir, and the modules the nginx package ships (modules-enabled/, mime.types) are the local ones. Each
error nginx reports becomes a Finding at the original file and line. nginx stops at its first fatal error, so a
reported simple directive is commented out in the copy and nginx runs again (at most MAX_RUNS times).
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import crossplane

from phoenix_verify.gateway.nginx_lint import Finding, _Loader, load

MAX_RUNS = 10
WRAPPER = "phoenix-verify-wrapper.conf"
TIMEOUT_S = 20
CERT_DIRECTIVES = {"ssl_certificate", "ssl_trusted_certificate", "ssl_client_certificate", "proxy_ssl_certificate",
                   "proxy_ssl_trusted_certificate", "grpc_ssl_certificate", "grpc_ssl_trusted_certificate",
                   "ssl_stapling_file", "ssl_crl", "proxy_ssl_crl"}
KEY_DIRECTIVES = {"ssl_certificate_key", "proxy_ssl_certificate_key", "grpc_ssl_certificate_key"}
LOG_DIRECTIVES = {"error_log", "access_log"}
SECRET_FILES = {"ssl_dhparam", "ssl_session_ticket_key", "ssl_password_file"}
PACKAGE_FILES = re.compile(r"(^|/)(mime\.types|[a-z]+_params|koi-utf|koi-win|win-utf|modules-enabled/.*)$")
LOCAL_NGINX = Path("/etc/nginx")
LOCAL_MODULES = Path("/usr/lib/nginx/modules")
MESSAGE = re.compile(r"^nginx: \[(emerg|alert|crit|error|warn)\] (.*?)(?: in (\S+):(\d+))?$")


class _Stage:
    """The scratch copy: original file -> copy, and the line rewrites that keep line numbers."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root, self.scratch = root, scratch
        self.conf = scratch / "conf"
        self.loader = _Loader(root)
        self.copies: dict[Path, Path] = {}
        self.given: dict[str, str] = {}      # absolute path -> the path as the operator gave it
        self.notes: list[Finding] = []
        self._throwaway_cert()

    def _throwaway_cert(self) -> None:
        for sub in ("logs", "cache", "empty", "temp"):
            (self.scratch / sub).mkdir(parents=True, exist_ok=True)
        if LOCAL_MODULES.is_dir():      # `load_module modules/x.so` is relative to the prefix
            (self.scratch / "modules").symlink_to(LOCAL_MODULES)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stub.invalid",
                        "-keyout", str(self.scratch / "stub.key"), "-out", str(self.scratch / "stub.crt")],
                       check=True, capture_output=True, timeout=TIMEOUT_S)

    def copy_of(self, original: Path, raw: bool = False) -> Path:
        """The copy at the same relative place (symlinks copied as files where they are: sites-enabled/ keeps
        only the enabled sites, as a glob include over it must)."""
        given, original = str(original), original.absolute()
        self.given.setdefault(str(original), given)
        if original not in self.copies:
            try:
                rel = original.relative_to(self.root.absolute())
            except ValueError:
                rel = Path(original.name)
            dest = self.conf / rel
            self.copies[original] = dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(original.read_text(errors="replace") if raw else self._rewrite(original))
        return self.copies[original]

    def original_of(self, copy: str) -> str:
        for orig, dest in self.copies.items():
            if str(dest) == copy:
                return self.given.get(str(orig), str(orig))
        return copy

    def _rewrite(self, path: Path) -> str:
        lines = path.read_text(errors="replace").split("\n")
        payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False, comments=False)
        for d in _walk(payload["config"][0]["parsed"] if payload["config"] else []):
            new = self._replacement(d, path)
            if new is not None and d["args"]:
                i = d["line"] - 1
                lines[i] = lines[i].replace(_path_arg(d), new, 1)
        return "\n".join(lines)

    def _replacement(self, d: dict, path: Path) -> str | None:
        """The scratch value of the directive's path argument (`_path_arg`), or None to keep the line."""
        name, args = d["directive"], d["args"]
        if not args or "$" in _path_arg(d):
            return None
        if name == "user":
            return pwd.getpwuid(os.getuid()).pw_name   # the CT's user need not exist here; nginx -t only resolves it
        if name in ("include", "js_import", "js_path"):
            target = _path_arg(d)
            hits = self.loader.resolve(target, path)
            if hits:
                copies = [self.copy_of(h, raw=name != "include") for h in hits]
                if any(c in ("*", "?") for c in target):
                    return str(copies[0].parent / Path(target).name)
                return str(copies[0])
            if PACKAGE_FILES.search(target) and list(LOCAL_NGINX.glob(target.split("/etc/nginx/")[-1])):
                return str(LOCAL_NGINX / target.split("/etc/nginx/")[-1])
            if any(c in ("*", "?") for c in target):
                return str(self.scratch / "empty" / Path(target).name)       # a glob matching nothing is fine
            self.notes.append(Finding(str(path), d["line"], "nginx-t",
                                      f"{name} {target}: not among the given files (nginx -t cannot check it)"))
            empty = self.scratch / "empty-include.conf"
            empty.touch()
            return str(empty)
        if name in CERT_DIRECTIVES and not args[0].startswith("data:"):
            return str(self.scratch / "stub.crt")
        if name in KEY_DIRECTIVES and not args[0].startswith(("data:", "engine:")):
            return str(self.scratch / "stub.key")
        if name in LOG_DIRECTIVES and args[0] not in ("off", "stderr") and not args[0].startswith(("syslog:", "memory:")):
            return str(self.scratch / "logs" / (Path(args[0]).name or "x.log"))
        if name == "pid":
            return str(self.scratch / "nginx.pid")
        if name == "proxy_cache_path":
            return str(self.scratch / "cache" / str(abs(hash((str(path), d["line"])))))
        if name.endswith("_temp_path"):
            return str(self.scratch / "temp" / name)
        if name in SECRET_FILES:      # files that live on the CT only: throwaway stand-ins of the right shape
            return str(self._stand_in(name))
        return None

    def _stand_in(self, name: str) -> Path:
        out = self.scratch / f"stand-in-{name}"
        if not out.exists():
            if name == "ssl_dhparam":
                subprocess.run(["openssl", "dhparam", "-dsaparam", "-out", str(out), "2048"], check=True,
                               capture_output=True, timeout=TIMEOUT_S)
            elif name == "ssl_session_ticket_key":
                out.write_bytes(os.urandom(80))
            else:
                out.write_text("stand-in\n")
        return out


def _path_arg(d: dict) -> str:
    """The argument naming a file: the last of `js_import name from path`, else the first."""
    return d["args"][-1] if d["directive"] == "js_import" else d["args"][0]


def _walk(parsed: list[dict]) -> list[dict]:
    out = []
    for d in parsed:
        out.append(d)
        out += _walk(d.get("block", []))
    return out


def _top_level(path: Path) -> set[str]:
    payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False, comments=False)
    return {d["directive"] for d in (payload["config"][0]["parsed"] if payload["config"] else [])}


def _wrapper(stage: _Stage, files: list[Path]) -> Path:
    """nginx.conf around the given files: site files inside `http {}` (stream.d/ ones inside `stream {}`), files
    that open their own http/stream block at main level."""
    tops = {f: _top_level(f) for f in files}
    main_level = [f for f in files if tops[f] & {"http", "stream", "events"}]
    http = [f for f in files if f not in main_level and "stream" not in f.parent.name]
    stream = [f for f in files if f not in main_level and "stream" in f.parent.name]
    text = [f"include {LOCAL_NGINX}/modules-enabled/*.conf;"] + [f"include {stage.copy_of(f)};" for f in main_level]
    if not any("events" in tops[f] for f in main_level):
        text.append("events {}")
    text += ["http {", f"    include {LOCAL_NGINX}/mime.types;"] + [f"    include {stage.copy_of(f)};" for f in http] + ["}"]
    if stream:
        text += ["stream {"] + [f"    include {stage.copy_of(f)};" for f in stream] + ["}"]
    main = stage.conf / WRAPPER
    main.write_text("\n".join(text) + "\n")
    return main


def verdict(path: Path) -> list[Finding]:
    """nginx -t over PATH; [] when nginx accepts it. Raises FileNotFoundError when no nginx binary exists."""
    nginx = shutil.which("nginx")
    if nginx is None:
        raise FileNotFoundError("nginx is not installed: nginx's own verdict cannot be taken")
    files = load(path).files       # the top-level files (those included by others are read where included)
    with tempfile.TemporaryDirectory(prefix="phoenix-nginx-t-") as tmp:
        stage = _Stage(path if path.is_dir() else path.parent, Path(tmp))
        entry = [f for f in files if f.name == "nginx.conf"]
        main = stage.copy_of(entry[0]) if entry else _wrapper(stage, files)
        out = list(stage.notes)
        for _ in range(MAX_RUNS):
            proc = subprocess.run([nginx, "-t", "-q", "-p", f"{tmp}/", "-c", str(main), "-e", f"{tmp}/logs/error.log"],
                                  capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
            found = [_finding(line, stage, tmp) for line in proc.stderr.splitlines() if MESSAGE.match(line)]
            out += [f for f in found if f is not None]
            fatal = next((f for f in found if f and f.rule == "nginx-t"), None)
            if proc.returncode == 0 or fatal is None or not _comment_out(stage, fatal):
                break
        return list(dict.fromkeys(out))


def _finding(line: str, stage: _Stage, tmp: str) -> Finding | None:
    m = MESSAGE.match(line)
    if not m:
        return None
    level, message, file, lineno = m.groups()
    message = message.replace(f"{tmp}/conf/", "").replace(tmp, "<scratch>")
    rule = "nginx-t-warn" if level == "warn" else "nginx-t"
    if file is None or file.endswith(WRAPPER):
        return Finding("-", 0, rule, f"{message} (reported for the configuration as a whole)")
    return Finding(stage.original_of(file), int(lineno), rule, message)


def _comment_out(stage: _Stage, finding: Finding) -> bool:
    """Drop the reported directive from the copy so the next run can reach the next error (simple ones only)."""
    copy = stage.copies.get(Path(finding.file).absolute())
    if copy is None:
        return False
    lines = copy.read_text().split("\n")
    i = finding.line - 1
    if not 0 <= i < len(lines) or not re.fullmatch(r"\s*[^{}#]*;\s*", lines[i]):
        return False
    lines[i] = "#" + lines[i]
    copy.write_text("\n".join(lines))
    return True
