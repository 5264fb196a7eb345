"""The Slurm part on the same fresh 3-node lab: gpuforge.cluster.munge_slurm vs galaxyproject.slurm.

Not part of the tests. Each contender gets a fresh lab (prefix gpuforge-bench), the names and
SSH trust from site.yml (gpuforge_slurm=false, not timed), then its Slurm playbook timed cold and
re-run, then `srun -N3 hostname` as proof the cluster works.

galaxyproject.slurm is not shipped here: fetch it yourself and pass its checkout, e.g.
  git clone https://github.com/galaxyproject/ansible-slurm .cache/third_party/galaxyproject.slurm
  .venv/bin/python scripts/bench_slurm_compare.py --galaxy-role .cache/third_party/galaxyproject.slurm
It gets what it needs to work on Debian 12 in containers: a munge key file made here, node and
partition lines written by hand (it does not read the hardware), linuxproc/task none.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  (lab/ is not a package)

PREFIX = "gpuforge-bench"
ENV = {"LAB_PREFIX": PREFIX, "LAB_NETWORK": PREFIX, "LAB_SUBNET": "10.80.0", "LAB_NODES": "3"}
STATE = REPO / ".lab" / PREFIX
INVENTORY = STATE / "inventory"
FACTS = STATE / "facts"
WORK = REPO / ".lab" / "bench-slurm"


def lab(*args: str) -> None:
    subprocess.run(["bash", str(REPO / "lab" / "lab.sh"), *args], env={**os.environ, **ENV}, check=True)


def write_playbooks(galaxy_role: Path) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "gpuforge.yml").write_text(textwrap.dedent("""\
        - name: Slurm with gpuforge.cluster.munge_slurm
          hosts: all
          gather_facts: true
          roles:
            - gpuforge.cluster.munge_slurm
        """))
    (WORK / "galaxyproject.yml").write_text(textwrap.dedent(f"""\
        - name: Slurm with galaxyproject.slurm
          hosts: all
          gather_facts: true
          become: true
          vars:
            slurm_roles: "{{{{ ['controller', 'exec'] if inventory_hostname == 'node0' else ['exec'] }}}}"
            slurm_munge_key: {WORK}/munge.key
            slurm_create_user: true
            slurm_create_dirs: true
            slurm_nodes:
              - name: "node[0-2]"
                CPUs: 2
                Boards: 1
                SocketsPerBoard: 1
                CoresPerSocket: 2
                ThreadsPerCore: 1
                RealMemory: 23081
            slurm_partitions:
              - name: main
                nodes: "node[0-2]"
                Default: "YES"
                MaxTime: INFINITE
                OverSubscribe: "NO"
            slurm_config:
              SlurmctldHost: node0
              ProctrackType: proctrack/linuxproc
              TaskPlugin: task/none
              SelectType: select/cons_tres
              SelectTypeParameters: CR_Core_Memory
              ReturnToService: 2
          roles:
            - role: {galaxy_role}
        """))
    key = WORK / "munge.key"
    if not key.exists():
        key.write_bytes(os.urandom(128))
        key.chmod(0o600)


def contender(name: str, reruns: int) -> dict:
    lab("down")
    lab("up")
    base = labctl.run_playbook("site.yml", INVENTORY, fact_cache=FACTS, extravars={"gpuforge_slurm": False})
    if base.rc != 0:
        raise SystemExit(f"{name}: site.yml (names, SSH) failed: {base.failures}")
    book = str(WORK / f"{name}.yml")
    cold = labctl.run_playbook(book, INVENTORY, fact_cache=FACTS)
    again = [labctl.run_playbook(book, INVENTORY, fact_cache=FACTS) for _run in range(reruns)]
    proof = subprocess.run(["podman", "exec", f"{PREFIX}-node0", "runuser", "-u", "cluster", "--",
                            "srun", "-N3", "hostname"], capture_output=True, text=True, check=False)
    return {
        "contender": name,
        "cold_s": round(cold.wall_s, 1),
        "cold_rc": cold.rc,
        "cold_tasks": len({t[1] for t in cold.tasks}),
        "rerun_s": round(min(r.wall_s for r in again), 1),
        "rerun_changed": max(r.changed for r in again),
        "srun_N3": sorted(proof.stdout.split()) == ["node0", "node1", "node2"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--galaxy-role", type=Path, required=True)
    ap.add_argument("--reruns", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    write_playbooks(args.galaxy_role.resolve())
    rows = []
    try:
        for name in ("galaxyproject", "gpuforge"):
            rows.append(contender(name, args.reruns))
    finally:
        lab("down")
    header = ("contender", "cold_s", "rerun_s", "rerun_changed", "tasks", "srun -N3")
    print(f"{header[0]:<14} {header[1]:>7} {header[2]:>8} {header[3]:>14} {header[4]:>6} {header[5]:>9}")
    for r in rows:
        print(f"{r['contender']:<14} {r['cold_s']:>7} {r['rerun_s']:>8} {r['rerun_changed']:>14} "
              f"{r['cold_tasks']:>6} {r['srun_N3']!s:>9}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
