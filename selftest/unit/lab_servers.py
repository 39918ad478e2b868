"""Run a lab service in a subprocess on 127.0.0.1 (random free port), the way its systemd unit runs it in the CT."""
from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

SERVICES = Path(__file__).resolve().parents[2] / "phoenix_lab" / "services"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(argv: list[str], probe: str, env: dict[str, str] | None = None, verify: ssl.SSLContext | bool = False,
            timeout: float = 30) -> Iterator[subprocess.Popen[bytes]]:
    """Start `python ARGV` with the services on PYTHONPATH; yield once `probe` answers; always stop it."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, *argv], cwd=SERVICES, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(SERVICES), **(env or {})})
        yield from _serve(proc, log, argv, probe, verify, timeout)


def _serve(proc: subprocess.Popen[bytes], log: IO[bytes], argv: list[str], probe: str, verify: ssl.SSLContext | bool,
           timeout: float) -> Iterator[subprocess.Popen[bytes]]:
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {log.read().decode()[-2000:]}")
            try:
                httpx.get(probe, timeout=2, verify=verify)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not answer {probe} in {timeout}s") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
