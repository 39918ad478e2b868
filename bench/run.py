"""`make bench`: how fast the suite and the lab are, measured on the lab; a table and reports/bench.json.

Figures (seconds unless named a ratio or count):
  lab_up_cold_s / lab_up_warm_s       bench/lab_up.py (cold uses a scratch image cache)
  lab_rss_mib                          RSS of every lab process (CTs' trees, API emulation) after the warm up   target < 8192
  gateway_subset_s                     `pytest tests -m gateway`              target < 15
  full_suite_s / full_suite_n2_s       `pytest tests` and with `-n 2`         target < 90
  scaling_<n>_s, pct_exec_per_ct_<n>   the suite on the lab's topology and on 24 and 48 CTs (light CTs added)
  marginal_cost_per_ct_s               least-squares slope of wall time over CT count   target < 1.5
  overhead_ratio_<layer>               `pytest -m <layer>` wall / the same probes replayed in a tight loop   target < 2
  overhead_ratio_after_startup_<layer> the same without the run's fixed start (`pytest --collect-only` time)
  vllm_one_hung_embeddings_s / hung_ratio  `pytest -m vllm` with the embeddings server frozen / healthy   target < 2
It tears the lab down and rebuilds it (several times); never run it while others test against the lab. The
default lab is left up at the end. Usage: .venv/bin/python bench/run.py [--skip-cold] [--skip-scaling]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_up  # bench/ is a directory of scripts, not a package

REPO = Path(__file__).resolve().parents[1]
LAB = [sys.executable, "-m", "phoenix_lab.cli"]
LAYERS = ("host", "lxc", "firewall", "gateway", "vllm")
SIZES = (24, 48)   # besides the lab's own topology
TARGETS = {"gateway_subset_s": 15.0, "full_suite_s": 90.0, "marginal_cost_per_ct_s": 1.5, "lab_up_cold_s": 360.0,
           "lab_up_warm_s": 45.0, "lab_rss_mib": 8192.0, **{f"overhead_ratio_{layer}": 2.0 for layer in LAYERS},
           **{f"overhead_startup_{layer}_s": 0.8 for layer in LAYERS}, "hung_ratio": 2.0}
PCT_EXEC = re.compile(r"\bpct exec (\d+)\b")


def pytest_wall(args: list[str], env: dict[str, str] | None = None) -> tuple[float, dict]:
    """Wall time of one suite run (as an operator types it) and its latest.json."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--report-dir", tmp, *args],
                              cwd=REPO, env=env or dict(os.environ), capture_output=True, text=True, timeout=1800, check=False)
        elapsed = time.monotonic() - started
        report = Path(tmp) / "latest.json"
        if not report.exists():
            sys.exit(f"bench: pytest {' '.join(args)} wrote no report (exit {proc.returncode}):\n"
                     + "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:]))
        doc = json.loads(report.read_text())
    return elapsed, doc


def startup_seconds(args: list[str], env: dict[str, str], repeats: int = 5) -> float:
    """`pytest --collect-only` with the same selection: the fixed cost of a run before any probe (the best of
    `repeats` runs, so another process on the machine does not count as start-up)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--no-phoenix-reports",
                        "--collect-only", *args], cwd=REPO, env=env, capture_output=True, timeout=600, check=False)
        best = min(best, time.monotonic() - started)
    return best


def replay_seconds(log: Path) -> float:
    """bench/replay.py in its own process: it enters the lab's network and mount namespaces, this process must not."""
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("replay.py")), str(log)], cwd=REPO,
                          capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: replay of {log} failed: {proc.stderr.strip()[-400:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def lab(*args: str, env: dict[str, str]) -> None:
    proc = subprocess.run([*LAB, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: phoenix-lab {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")


def topology(n: int, out: Path) -> Path:
    """The lab inventory plus light CTs (Debian + systemd, a firewall rule, no service) up to n CTs."""
    shutil.copytree(REPO / "fixtures" / "lab", out)
    path = out / "phoenix_lxc_configs.json"
    configs = json.loads(path.read_text())
    cts = configs["lxc_configs"]
    free = [ctid for ctid in range(960, 1000) if str(ctid) not in cts]   # at 198.18.0.160-199
    for ctid in free[:max(0, n - len(cts))]:
        cts[str(ctid)] = {
            "name": f"light-{ctid}", "start_at_boot": True, "boot_order": 5, "boot_delay": 0, "memory_mb": 256, "cores": 1,
            "storage_pool": "lab-lxc-disks", "storage_size_gb": 4, "unprivileged": True, "clone_from_ctid": "900",
            "network_config": {"name": "eth0", "bridge": "vmbr0", "ip": f"198.18.0.{ctid - 800}/24", "gw": "198.18.0.1"},
            "mac_address": f"52:54:00:BE:{ctid // 256:02X}:{ctid % 256:02X}", "features": ["base_setup"],
            "gpu_assignment": "none", "portainer_role": "none", "pct_options": [],
            "firewall": {"enabled": True, "rules": [{"type": "in", "action": "ACCEPT", "source": "198.18.0.0/15",
                                                     "proto": "tcp", "port": "22"}]},
        }
    path.write_text(json.dumps(configs, indent=2))
    return out


def scaling(env: dict[str, str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    points = []
    own = len(json.loads((REPO / "fixtures" / "lab" / "phoenix_lxc_configs.json").read_text())["lxc_configs"])
    for n in (own, *SIZES):
        with tempfile.TemporaryDirectory(prefix=f"phoenix-bench-{n}-") as tmp:
            run_env = dict(env, PHOENIX_LAB_INVENTORY=str(topology(n, Path(tmp) / "inventory")),
                           PHOENIX_PROBE_LOG=str(Path(tmp) / "probes.jsonl"))
            lab("down", env=run_env)
            try:
                lab("up", env=run_env)
                wall, doc = pytest_wall([], run_env)
                calls = Counter(PCT_EXEC.findall(Path(run_env["PHOENIX_PROBE_LOG"]).read_text()))
            finally:
                lab("down", env=run_env)   # before its inventory (in tmp) goes away
        running = max(1, len(calls))
        figures[f"scaling_{n}_s"] = round(wall, 2)
        figures[f"scaling_{n}_tests"] = sum(doc["summary"].values())
        figures[f"pct_exec_per_ct_{n}"] = round(sum(calls.values()) / running, 2)
        figures[f"pct_exec_max_per_ct_{n}"] = max(calls.values(), default=0)
        points.append((n, wall))
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    slope = sum((n - mean_n) * (t - mean_t) for n, t in points) / sum((n - mean_n) ** 2 for n, _ in points)
    figures["marginal_cost_per_ct_s"] = round(slope, 3)
    lab("up", env=env)
    return figures


def overhead(env: dict[str, str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for layer in LAYERS:
        with tempfile.TemporaryDirectory(prefix=f"phoenix-bench-{layer}-") as tmp:
            log = Path(tmp) / "probes.jsonl"
            wall, _ = pytest_wall(["-m", layer], dict(env, PHOENIX_PROBE_LOG=str(log)))
            probes = log.read_text().splitlines() if log.exists() else []
            raw = replay_seconds(log) if probes else 0.0
        figures[f"overhead_wall_{layer}_s"] = round(wall, 2)
        figures[f"overhead_raw_{layer}_s"] = round(raw, 2)
        figures[f"overhead_probes_{layer}"] = len(probes)
        figures[f"overhead_ratio_{layer}"] = round(wall / raw, 2) if raw else float("nan")
        fixed = startup_seconds(["-m", layer], env)   # interpreter, imports, collection: paid once per run
        figures[f"overhead_startup_{layer}_s"] = round(fixed, 2)
        figures[f"overhead_ratio_after_startup_{layer}"] = round((wall - fixed) / raw, 2) if raw else float("nan")
    return figures


def hung_service(env: dict[str, str]) -> dict[str, float]:
    """`pytest -m vllm` healthy, then with the embeddings server frozen (SIGSTOP through its systemd unit: the port
    still accepts, nothing answers), then thawed. Target: the hung run under twice the healthy one."""
    from phoenix_model.deployment import role_unit
    from phoenix_model.inventory import load_inventory
    from phoenix_verify.target import load_target

    inv = load_inventory(load_target(None).inventory_dir)
    ct = next(c for c in inv.services() if c.vllm and c.vllm.model_type == "embedding")
    unit = role_unit(ct) or "vllm_model_server"
    healthy = pytest_wall(["-m", "vllm"], env)[0]
    lab("run", "--", "pct", "exec", str(ct.ctid), "--", "systemctl", "kill", "-s", "STOP", unit, env=env)
    try:
        frozen = pytest_wall(["-m", "vllm"], env)[0]
    finally:
        lab("run", "--", "pct", "exec", str(ct.ctid), "--", "systemctl", "kill", "-s", "CONT", unit, env=env)
    return {"vllm_healthy_s": round(healthy, 2), "vllm_one_hung_embeddings_s": round(frozen, 2),
            "hung_ratio": round(frozen / healthy, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="do not rebuild the image from scratch")
    parser.add_argument("--skip-scaling", action="store_true", help="do not bring up the 24- and 48-CT topologies")
    parser.add_argument("--startup-only", action="store_true", help="only the fixed start-up per layer (lab left as it is)")
    args = parser.parse_args(argv)
    if args.startup_only:
        return report({f"overhead_startup_{layer}_s": round(startup_seconds(["-m", layer], dict(os.environ)), 2)
                       for layer in LAYERS}, "bench-startup.json")
    if not lab_up.is_root():
        return 2
    env = {k: v for k, v in os.environ.items() if k not in ("PHOENIX_LAB_INVENTORY", "PHOENIX_PROBE_LOG", "PHOENIX_TARGET")}
    figures: dict[str, float] = {}
    lab_up.BUSY.write_text(f"the lab is being rebuilt by bench/run.py (pid {os.getpid()})\n")
    try:
        if not args.skip_cold:
            figures["lab_up_cold_s"] = round(lab_up.measure_cold(), 1)
        figures["lab_up_warm_s"] = round(lab_up.measure_warm(), 1)
        figures["lab_rss_mib"] = lab_up.lab_rss_mib()
        figures["gateway_subset_s"] = round(pytest_wall(["-m", "gateway"], env)[0], 2)
        figures["full_suite_s"] = round(pytest_wall([], env)[0], 2)
        figures["full_suite_n2_s"] = round(pytest_wall(["-n", "2"], env)[0], 2)
        figures.update(overhead(env))
        figures.update(hung_service(env))
        if not args.skip_scaling:
            figures.update(scaling(env))
    finally:
        lab_up.BUSY.unlink(missing_ok=True)
    return report(figures)


def report(figures: dict[str, float], name: str = "bench.json") -> int:
    out = REPO / "reports" / name
    out.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "targets": TARGETS,
                               "figures": figures}, indent=2) + "\n")
    print(f"{'figure':<34}{'value':>10}  target")
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = "" if target is None else f"< {target:g}  {'ok' if value < target else 'MISSED'}"
        print(f"{key:<34}{value:>10}  {verdict}")
    print(f"bench: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
