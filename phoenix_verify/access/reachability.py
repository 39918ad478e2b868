"""The firewall reachability matrix on the wire.

Cells are planned from the inventory alone (so tests can be parametrized at collection): for every declared
port of a service CT, probe from the gateway CT, from the host, and from another CT. Each source runs ALL its
probes in one round trip (one `pct exec` per source CT, probes in parallel with a short connect timeout), and
the observations are cached for the session.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from phoenix_model.inventory import Container, Inventory
from phoenix_verify.access import probe_log
from phoenix_verify.access.host_facts import host
from phoenix_verify.access.pct_backend import PctError, pct_host, spec_for

CONNECT_TIMEOUT_S = 1.5
PROBE = r'''
import concurrent.futures, socket, sys
src, timeout = sys.argv[1], float(sys.argv[2])
def probe(target):
    ip, port = target.rsplit(":", 1)
    s = socket.socket(); s.settimeout(timeout)
    try:
        s.bind((src, 0)); s.connect((ip, int(port))); out = "connected"
    except ConnectionRefusedError: out = "refused"
    except socket.timeout: out = "timeout"
    except OSError as e: out = "error-%s" % e.errno
    finally: s.close()
    return target, out
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    for target, out in pool.map(probe, sys.argv[3:]): print(target, out)
'''


@dataclass(frozen=True)
class Source:
    name: str            # "ct953" or "host"
    ip: str
    ctid: int | None     # None: the host


@dataclass(frozen=True)
class Cell:
    source: str
    destination: str     # "ct952"
    dest_ip: str
    port: int
    expected: str        # "allowed" (must reach the CT: connected or refused) | "blocked" (must not connect)
    observed: str = ""   # "connected" | "refused" | "timeout" | "error-N"


def sources_for(inv: Inventory, dest: Container) -> list[Source]:
    """The gateway CT, the host, and one other running service CT (not the gateway, not the destination)."""
    out = [Source("host", str(inv.host.address.ip), None)]
    gw = inv.gateway()
    if gw and gw.ctid != dest.ctid and gw.start_at_boot:
        out.insert(0, Source(f"ct{gw.ctid}", str(gw.network.ip.ip), gw.ctid))
    other = next((c for c in inv.services() if c.start_at_boot and c.ctid not in (dest.ctid, gw.ctid if gw else None)), None)
    if other:
        out.append(Source(f"ct{other.ctid}", str(other.network.ip.ip), other.ctid))
    return out


def plan(inv: Inventory, allowed: Callable[[Container, str, int], bool]) -> list[tuple[Container, Source, Cell]]:
    cells = []
    for dest in inv.services():
        if not dest.start_at_boot:
            continue
        for port in sorted({p.container for p in dest.ports}):
            for src in sources_for(inv, dest):
                expected = "allowed" if allowed(dest, src.ip, port) else "blocked"
                cells.append((dest, src, Cell(src.name, f"ct{dest.ctid}", str(dest.network.ip.ip), port, expected)))
    return cells


def _run(src: Source, targets: tuple[str, ...], access: str) -> dict[str, str]:
    args = [src.ip, str(CONNECT_TIMEOUT_S), *targets]
    cmd = "python3 -c %s " + " ".join(["%s"] * len(args))
    runner = host(access) if src.ctid is None else pct_host(spec_for(src.ctid, access))
    out = probe_log.shell(runner, cmd, PROBE, *args)
    if out.rc != 0:
        raise PctError(f"{src.name}: reachability probe failed (rc {out.rc}): {(out.stderr.strip().splitlines() or [''])[-1]}")
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


@functools.cache
def observe_all(src: Source, targets: tuple[str, ...], access: str) -> dict[str, str] | PctError:
    try:
        return _run(src, targets, access)
    except PctError as exc:
        return exc


def observe(inv: Inventory, allowed: Callable[[Container, str, int], bool], src: Source, cell: Cell, access: str) -> Cell:
    """The cell with its observed outcome; the first call per source probes every cell of that source."""
    targets = tuple(sorted({f"{c.dest_ip}:{c.port}" for _, s, c in plan(inv, allowed) if s == src}))
    result = observe_all(src, targets, access)
    if isinstance(result, PctError):
        raise result
    return Cell(cell.source, cell.destination, cell.dest_ip, cell.port, cell.expected,
                result.get(f"{cell.dest_ip}:{cell.port}", "not probed"))
