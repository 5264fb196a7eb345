"""Power saving on the built lab (slurm_powersave), after test_lab.py: node1 and node2 have FAKE BMCs
(lab/bmc, OpenIPMI's ipmi_sim on the BMC network; "power off" stops their slurmd and sshd), node0 is the
controller.

Once power saving is on, runs of slurm.yml pass POWER every time (a run without it would switch it off again).
"""

from __future__ import annotations

import re
import time

import labctl
from conftest import NODES, SUBNET_BMC, node_exec
from test_lab import (
    NODE_NAMES,
    SLURM_STAGE,
    PsSampler,
    changed_tasks,
    failure_text,
    secret_forms,
    slurm_nodes,
    slurm_setting,
)

# Compute nodes with a BMC (node0, the controller, is never powered down).
POWERED = NODE_NAMES[1:]
PROGRAM = "/usr/local/sbin/gpuforge-powersave"
POWER_LOG = "/var/log/slurm/gpuforge-powersave.log"
BMC_LOG = "/var/log/gpuforge-bmc/power.log"
PASSWORD_FILE = "/etc/slurm/gpuforge-powersave.ipmi"
# The lab's nodes "boot" (start sshd and slurmd) and power off in seconds: short timeouts, so a node leaves
# idle% (powering down, for SuspendTimeout) soon. SuspendTimeout covers the program's longest power-off,
# 5 s soft + 5 s hard + 2 x 5 s commands.
POWER = {"gpuforge_powersave": True, "slurm_powersave_suspend_time": 3600,
         "slurm_powersave_resume_timeout": 60, "slurm_powersave_suspend_timeout": 20,
         "slurm_powersave_soft_off_timeout": 5, "slurm_powersave_power_off_timeout": 5,
         "slurm_powersave_command_timeout": 5}
CONF_FILES = ("/etc/slurm/slurm.conf", "/etc/slurm/gpuforge-powersave.json")
SHORT = {**POWER, "slurm_powersave_suspend_time": 15}


def bmc_password(inventory) -> str:
    return (inventory.parent / "bmc" / "password").read_text().strip()


def bmc_log(node: str) -> list[str]:
    return node_exec(node, "cat", BMC_LOG, check=False).stdout.splitlines()


def wait_for(what: str, done, timeout: float, step: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value or time.monotonic() > deadline:
            assert value, f"{what}: not within {timeout:.0f} s"
            return value
        time.sleep(step)


def states() -> dict:
    return {node: state for node, (state, _cpus) in slurm_nodes().items()}


def test_enabling_power_saving_restarts_slurmctld_with_the_programs(inventory, fact_cache):
    assert NODES >= 3, "power saving needs node1 and node2 with BMCs"
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache, extravars=POWER)
    assert run.rc == 0, failure_text(run)
    changed = changed_tasks(run)
    assert ("Restart slurmctld", "node0") in changed, changed
    for key, suffix in (("SuspendProgram", "suspend"), ("ResumeProgram", "resume"),
                        ("ResumeFailProgram", "resumefail")):
        assert slurm_setting(key) == f"{PROGRAM}-{suffix}"
    assert slurm_setting("SuspendExcNodes").startswith("node0")
    assert slurm_setting("ResumeTimeout") == "60 sec"
    # Readable by the SlurmUser and root only.
    stat = node_exec("node0", "stat", "-c", "%a %U:%G", PASSWORD_FILE).stdout.split()
    assert stat == ["400", "slurm:slurm"], stat
    assert states() == dict.fromkeys(NODE_NAMES, "idle")


def test_crossed_bmc_addresses_are_refused_before_any_change(inventory, fact_cache):
    # node1's and node2's BMC addresses swapped: each BMC answers with the other node's system GUID.
    swapped = {"node1": f"{SUBNET_BMC}.12", "node2": f"{SUBNET_BMC}.11"}
    conf = node_exec("node0", "sha256sum", *CONF_FILES).stdout
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache, extravars={
        **POWER, "bmc_address": f"{{{{ {swapped!r}.get(inventory_hostname, '') }}}}"})
    assert run.rc != 0
    text = failure_text(run)
    assert "node1's BMC answers with node2's GUID" in text, text
    assert "node2's BMC answers with node1's GUID" in text, text
    assert run.changed == 0, changed_tasks(run)
    assert node_exec("node0", "sha256sum", *CONF_FILES).stdout == conf


def test_idle_nodes_power_off_and_a_job_powers_them_on_without_the_password_showing(inventory, fact_cache,
                                                                                       tmp_path):
    # SuspendTime 3600 -> 15 reconfigures only. node1 and node2 go idle~ through their BMCs (slurmd and sshd
    # stopped there), node0 stays idle; a 3-node job powers them on and runs. Every node's processes are
    # sampled over the whole cycle: the IPMI password is in no argv or environment, and in no log.
    password = bmc_password(inventory)
    artifacts = tmp_path / "artifacts"
    marks = {node: len(bmc_log(node)) for node in POWERED}
    with PsSampler() as ps:
        run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache, extravars=SHORT,
                                  keep_artifacts=artifacts)
        assert run.rc == 0, failure_text(run)
        changed = changed_tasks(run)
        assert ("Reconfigure Slurm", "node0") in changed, changed
        assert not any(task in ("Restart slurmctld", "Restart slurmd") for task, _host in changed), changed
        assert slurm_setting("SuspendTime") == "15 sec"
        started = time.monotonic()
        wait_for("node1 and node2 idle~", lambda: all(states()[node] == "idle~" for node in POWERED), 90)
        print(f"\npowered down {time.monotonic() - started:.0f} s after the reconfigure (SuspendTime 15)")
        assert states()["node0"] == "idle"
        for node in POWERED:
            log = bmc_log(node)[marks[node]:]
            assert any(re.search(r" (soft|off) ok$", line) for line in log), log
            active = node_exec(node, "systemctl", "is-active", "slurmd", "ssh", check=False).stdout.split()
            assert active == ["inactive", "inactive"], (node, active)
        assert node_exec("node0", "systemctl", "is-active", "slurmd").stdout.strip() == "active"

        submitted = time.monotonic()
        job = node_exec("node0", "sbatch", "--parsable", "-N3", "--chdir=/tmp",
                        "--output=/tmp/powersave-%j.out", "--wrap", "srun hostname").stdout.strip()
        wait_for(f"job {job} done",
                 lambda: node_exec("node0", "squeue", "-h", "-j", job).stdout.strip() == "", 120, 2)
        print(f"job {job}: submitted to done in {time.monotonic() - submitted:.0f} s")
    info = node_exec("node0", "scontrol", "show", "job", job).stdout
    assert "JobState=COMPLETED" in info, info
    times = dict(re.findall(r"(SubmitTime|StartTime)=(\S+)", info))
    print(f"job {job}: SubmitTime {times['SubmitTime']} StartTime {times['StartTime']}")
    assert sorted(node_exec("node0", "cat", f"/tmp/powersave-{job}.out").stdout.split()) == NODE_NAMES
    for node in POWERED:
        log = bmc_log(node)[marks[node]:]
        assert any(re.search(r" on ok", line) for line in log), log
    program_log = node_exec("node0", "cat", POWER_LOG).stdout
    assert re.search(r"node=node1 action=suspend result=ok", program_log), program_log
    assert re.search(r"node=node2 action=resume result=ok", program_log), program_log

    texts = {str(path): path.read_text(errors="replace") for path in artifacts.rglob("*") if path.is_file()}
    texts["process samples"] = "\n".join(ps.samples)
    texts["slurmctld.log"] = node_exec("node0", "cat", "/var/log/slurm/slurmctld.log").stdout
    texts["power-save log"] = program_log
    for node in NODE_NAMES:
        texts[f"{node} journal"] = node_exec(node, "journalctl", "--no-pager", "-q", "-o", "cat").stdout
    assert len(ps.samples) > 20
    for where, text in texts.items():
        for form in secret_forms(password.encode()):
            assert form not in text, f"the IPMI password appears in {where}"
    print(f"{len(ps.samples)} process samples, {len(texts)} texts: no IPMI password")
