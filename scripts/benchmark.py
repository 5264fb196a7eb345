#!/usr/bin/env python3
"""Converge and re-run timings on fresh lab nodes (not part of the timed tests).

Brings up its own lab (prefix gpuforge-bench, 10.80.0.0/24), times a cold site.yml, then
--reruns idempotent re-runs (median reported; each must report changed=0), then validate.yml,
prints a table and removes the lab. Usage: .venv/bin/python scripts/benchmark.py [--nodes 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  (lab/ is not a package)

PREFIX = "gpuforge-bench"


def lab(env: dict, *args: str) -> None:
    subprocess.run(["bash", str(REPO / "lab" / "lab.sh"), *args], env={**os.environ, **env}, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--reruns", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave the benchmark lab running")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    env = {"LAB_PREFIX": PREFIX, "LAB_NETWORK": PREFIX, "LAB_SUBNET": "10.80.0", "LAB_NODES": str(args.nodes)}
    inventory = REPO / ".lab" / PREFIX / "inventory"
    facts = REPO / ".lab" / PREFIX / "facts"
    lab(env, "down")
    lab(env, "up")
    try:
        cold = labctl.run_playbook("site.yml", inventory, fact_cache=facts)
        if cold.rc != 0:
            print(labctl.report([cold], inventory))
            return 1
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        reruns = [labctl.run_playbook("site.yml", inventory, fact_cache=facts) for _run in range(args.reruns)]
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # What the controller (ansible-playbook and its forks) spent per re-run, user + system.
        ctl_cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) / args.reruns
        check = labctl.run_playbook("site.yml", inventory, check=True, fact_cache=facts)
        validate = labctl.run_playbook("validate.yml", inventory, fact_cache=facts)
    finally:
        if not args.keep:
            lab(env, "down")
    rows = {
        "nodes": args.nodes,
        "cold_converge_s": round(cold.wall_s, 1),
        "cold_changed": cold.changed,
        "rerun_median_s": round(statistics.median(r.wall_s for r in reruns), 1),
        "rerun_changed_max": max(r.changed for r in reruns),
        "rerun_tasks_node0": sum(1 for task in reruns[0].tasks if task[2] == "node0"),
        "rerun_host_tasks": len(reruns[0].tasks),
        "rerun_controller_cpu_s": round(ctl_cpu, 1),
        "check_mode_s": round(check.wall_s, 1),
        "check_mode_changed": check.changed,
        "validate_s": round(validate.wall_s, 1),
        "validate_rc": validate.rc,
    }
    for key, value in rows.items():
        print(f"{key:<20} {value}")
    print("slowest tasks of the first re-run:")
    for dur, task, host, status in sorted(reruns[0].tasks, reverse=True)[:8]:
        print(f"  {dur:6.1f}s  {host:<8} {status:<8} {task}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    ok = rows["rerun_changed_max"] == 0 and rows["check_mode_changed"] == 0 and validate.rc == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
