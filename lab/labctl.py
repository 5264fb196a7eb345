#!/usr/bin/env python3
"""Run the lab's playbooks through ansible-runner and print a short report.

The event stream gives per-task timings, changed counts and failures without scraping
ansible-playbook's text. Used by ``lab/lab.sh converge`` and by scripts/benchmark.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

REPO = Path(__file__).resolve().parents[1]


@dataclass
class PlaybookRun:
    playbook: str
    rc: int
    status: str
    wall_s: float
    stats: dict
    tasks: list = field(default_factory=list)  # (duration_s, task, host, status)
    failures: list = field(default_factory=list)  # (host, task, msg)
    verified: list = field(default_factory=list)  # task names that passed on every host
    messages: list = field(default_factory=list)  # success messages of assert tasks
    shown: list = field(default_factory=list)  # (host, msg) of debug tasks
    report_said: list = field(default_factory=list)  # the validation_report callback: verdict, skips, path

    @property
    def changed(self) -> int:
        return sum((self.stats.get("changed") or {}).values())

    @property
    def failed(self) -> int:
        return sum((self.stats.get("failures") or {}).values()) + sum(
            (self.stats.get("dark") or {}).values()
        )


def run_playbook(playbook: str, inventory: Path, extravars: dict | None = None,
                 tags: str | None = None, quiet: bool = True, check: bool = False,
                 fact_cache: Path | None = None, password: str | None = None, verbosity: int = 0,
                 keep_artifacts: Path | None = None, cancel_when=None,
                 limit: str | None = None, watch=None, project_dir: Path | None = None) -> PlaybookRun:
    """Run one playbook of this repo with ansible-runner; return what its events said.

    ``password``: the login password, for nodes that take only a password at first (ansible-playbook -k);
    it answers the prompt in memory and reaches ssh through sshpass's pipe, never a command line.
    ``keep_artifacts``: a directory that receives ansible-runner's artifacts (stdout, job_events) before
    they are removed. ``cancel_when(event) -> bool``: ansible-runner kills the run (its process group)
    after the first event for which it is true, as an operator's Ctrl-C or a lost laptop would.
    ``watch(event)``: called with every event as it arrives (a test acting on the node mid-run).
    ``project_dir``: the directory the playbook runs from (default the repository), where relative paths
    such as rental.yml's logs/ land.
    """
    (REPO / ".lab").mkdir(exist_ok=True)
    pdd = Path(tempfile.mkdtemp(prefix="runner-", dir=REPO / ".lab"))
    tasks: list = []
    failures: list = []
    per_task: dict[str, set] = {}
    messages: list = []
    shown: list = []
    report_lines: list = []
    verify_tasks: dict[str, None] = {}  # insertion-ordered names of tasks from verify.yml files

    cancel = []

    def on_event(ev: dict) -> bool:
        if watch is not None:
            watch(ev)
        said = (ev.get("stdout") or "").replace("\r\n", "\n")
        if ev.get("event") == "verbose" and said.startswith("validation report:"):
            report_lines.extend(said.splitlines())
        if cancel_when is not None and not cancel and cancel_when(ev):
            cancel.append(ev.get("event"))
        data = ev.get("event_data") or {}
        kind = ev.get("event", "")
        if kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            task = data.get("task", "?")
            host = data.get("host", "?")
            dur = float(data.get("duration") or 0.0)
            res = data.get("res") or {}
            status = "changed" if res.get("changed") else kind.rsplit("_", 1)[-1]
            tasks.append((dur, task, host, status))
            per_task.setdefault(task, set()).add(status)
            if kind == "runner_on_ok" and data.get("task_action", "").endswith("assert"):
                # A loop's messages are its items'.
                items = [i for i in res.get("results") or [] if isinstance(i, dict)]
                for said in [i.get("msg") for i in items] or [res.get("msg")]:
                    if said and said not in ("All assertions passed", "All items completed", *messages):
                        messages.append(said)
            if kind == "runner_on_ok" and data.get("task_action", "").endswith("debug") and res.get("msg"):
                shown.append((host, res["msg"]))
            if "/tasks/verify.yml" in (data.get("task_path") or ""):
                verify_tasks.setdefault(task, None)
            if kind != "runner_on_ok" and not data.get("ignore_errors"):
                msg = res.get("msg") or res.get("stderr") or ""
                items = [i.get("msg") for i in res.get("results") or []
                         if isinstance(i, dict) and i.get("failed")]
                failures.append((host, task, "; ".join([msg, *map(str, items)]) if items else msg))
        return True

    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "0",
        # ansible-runner switches host-key checking off unless the environment names it, and ssh
        # keeps the first StrictHostKeyChecking it is given: it stays on, as in ansible.cfg.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
    }
    start = time.monotonic()
    r = ansible_runner.run(
        private_data_dir=str(pdd),
        project_dir=str(project_dir or REPO),
        playbook=playbook if os.path.isabs(playbook) else str(REPO / "playbooks" / playbook),
        inventory=str(inventory.resolve()),
        extravars=extravars or {},
        tags=tags,
        limit=limit,
        cmdline=" ".join([*(["--check", "--diff"] if check else []), *(["--ask-pass"] if password else [])])
        or None,
        passwords={r"^SSH password:\s*?$": password} if password else None,
        envvars=env,
        # An absolute path (by default ansible.cfg's): ansible-runner would otherwise keep the fact cache
        # in the artifact folder (removed below), and every run would gather again.
        fact_cache=str((fact_cache or REPO / ".cache" / "facts").resolve()),
        event_handler=on_event,
        cancel_callback=lambda: bool(cancel),
        # ansible-runner asks the cancel callback each time its wait for a password prompt times out.
        settings={"pexpect_timeout": 0.2} if cancel_when is not None else None,
        verbosity=verbosity or None,
        quiet=quiet,
    )
    wall = time.monotonic() - start
    stats = r.stats or {}  # read from the artifacts, before they go
    if keep_artifacts is not None:
        shutil.copytree(pdd / "artifacts", keep_artifacts, dirs_exist_ok=True)
    shutil.rmtree(pdd, ignore_errors=True)
    verified = [t for t in verify_tasks if per_task[t] <= {"ok"}]
    return PlaybookRun(playbook, r.rc, r.status, wall, stats, tasks, failures, verified, messages, shown,
                       report_lines)


def summary_line(run: PlaybookRun) -> str:
    hosts = sorted((run.stats.get("processed") or {}).keys())
    return (f"{run.playbook:<28} {run.status:<10} hosts={len(hosts)} "
            f"changed={run.changed:<4} failed={run.failed:<2} wall={run.wall_s:6.1f}s")


def report(runs: list[PlaybookRun], inventory: Path) -> str:
    lines = ["", "=" * 78, "gpuforge lab report", "=" * 78]
    hosts: set = set()
    for r in runs:
        hosts |= set((r.stats.get("processed") or {}).keys())
    lines.append(f"inventory : {inventory}")
    lines.append(f"nodes     : {', '.join(sorted(hosts))}")
    lines.append("")
    for r in runs:
        lines.append(summary_line(r))
    for r in runs:
        if r.playbook.startswith("site") and r.tasks:
            lines.append("")
            lines.append(f"slowest tasks of {r.playbook} (first run):")
            for dur, task, host, status in sorted(r.tasks, reverse=True)[:5]:
                lines.append(f"  {dur:6.1f}s  {host:<8} {status:<8} {task}")
            break
    val = [r for r in runs if r.playbook.startswith("validate")]
    if val:
        lines.append("")
        lines.append("verified (passed on every host it ran on):")
        for t in val[-1].verified:
            lines.append(f"  ok  {t}")
    said = [line for r in runs for line in r.report_said]
    if said:  # the callback's own lines: the verdict, each skipped check and why, each failure, where it is
        lines.append("")
        lines.extend(said)
    notes = [m for r in runs for m in r.messages]
    if notes:
        lines.append("")
        lines.append("results:")
        lines.extend(f"  {m}" for m in notes)
    fails = [f for r in runs for f in r.failures]
    if fails:
        lines.append("")
        lines.append("FAILURES:")
        for host, task, msg in fails[:20]:
            lines.append(f"  {host}: {task}: {str(msg)[:300]}")
    lines.append("=" * 78)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--inventory", type=Path, default=REPO / "inventories" / "lab")
    ap.add_argument("--no-rerun", action="store_true",
                    help="skip the second site.yml run that proves changed=0")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--verbose", action="store_true", help="show ansible-playbook output")
    ap.add_argument("--password-file", type=Path,
                    help="answer the first site.yml's SSH password prompt (-k) with this file's first line")
    ap.add_argument("--torch-wheel", type=Path,
                    help="install this torch wheel on the nodes and run the DDP smoke job in validate.yml")
    args = ap.parse_args(argv)
    quiet = not args.verbose
    runs = []
    print("[lab] site.yml (converge)", file=sys.stderr, flush=True)
    password = args.password_file.read_text().splitlines()[0] if args.password_file else None
    runs.append(run_playbook("site.yml", args.inventory, quiet=quiet, password=password))
    if runs[-1].rc == 0 and not args.no_rerun:
        print("[lab] site.yml again (must change nothing)", file=sys.stderr, flush=True)
        rerun = run_playbook("site.yml", args.inventory, quiet=quiet)
        rerun.playbook = "site.yml (re-run)"
        runs.append(rerun)
    validate_vars = {}
    if all(r.rc == 0 for r in runs) and args.torch_wheel:
        print(f"[lab] torch for the DDP smoke job ({args.torch_wheel.name})", file=sys.stderr, flush=True)
        torch = run_playbook(str(REPO / "lab" / "torch.yml"), args.inventory, quiet=quiet,
                             extravars={"lab_torch_wheel": str(args.torch_wheel.resolve())})
        torch.playbook = "lab/torch.yml"
        runs.append(torch)
        validate_vars = {"munge_slurm_validate_ddp": True,
                         "munge_slurm_ddp_python": "/opt/gpuforge-torch/bin/python"}
    if all(r.rc == 0 for r in runs):
        print("[lab] validate.yml", file=sys.stderr, flush=True)
        runs.append(run_playbook("validate.yml", args.inventory, quiet=quiet, extravars=validate_vars))
    print(report(runs, args.inventory))
    if args.json:
        args.json.write_text(json.dumps([
            {"playbook": r.playbook, "rc": r.rc, "wall_s": round(r.wall_s, 2),
             "changed": r.changed, "failed": r.failed} for r in runs], indent=2))
    ok = all(r.rc == 0 for r in runs)
    rerun = [r for r in runs if r.playbook.endswith("(re-run)")]
    if rerun and rerun[0].changed:
        changed = sorted({(task[1], task[2]) for task in rerun[0].tasks if task[3] == "changed"})
        print(f"[lab] NOT IDEMPOTENT: the re-run changed {changed}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
