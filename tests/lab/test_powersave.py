"""Power saving on the built lab (slurm_powersave), after test_lab.py: node1 and node2 have FAKE BMCs
(lab/bmc, OpenIPMI's ipmi_sim on the BMC network; "power off" stops their slurmd and sshd), node0 is the
controller.

Once power saving is on, runs of slurm.yml pass POWER every time (a run without it would switch it off again).
"""

from __future__ import annotations

import json
import re
import time

import labctl
import pytest
from conftest import NODES, SUBNET, SUBNET_BMC, node_exec
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

# Every test here waits on Slurm's power-save timeouts: run with the machine to itself (conftest.py).
pytestmark = pytest.mark.quiet

# Compute nodes with a BMC (node0, the controller, is never powered down).
POWERED = NODE_NAMES[1:]
PROGRAM = "/usr/local/sbin/gpuforge-powersave"
POWER_LOG = "/var/log/slurm/gpuforge-powersave.log"
BMC_LOG = "/var/log/gpuforge-bmc/power.log"
PASSWORD_FILE = "/etc/slurm/gpuforge-powersave.ipmi"
SSH_KEY = "/etc/slurm/gpuforge-powersave-ssh"
FAKE_POWEROFF = "/usr/local/lib/gpuforge-bmc/fake-poweroff"
# The lab's nodes "boot" (start sshd and slurmd, 3 s after power-on) and power off in seconds: short timeouts,
# so a node leaves idle% (powering down, for SuspendTimeout) soon and a resume is late after 20 s.
# SuspendTimeout covers the program's longest power-off, 2 s soft + 2 s hard + 2 x 3 s commands.
POWER = {"gpuforge_powersave": True, "slurm_powersave_suspend_time": 3600,
         "slurm_powersave_resume_timeout": 20, "slurm_powersave_suspend_timeout": 10,
         "slurm_powersave_soft_off_timeout": 2, "slurm_powersave_power_off_timeout": 2,
         "slurm_powersave_command_timeout": 3, "slurm_powersave_poll_interval": 1,
         # As R3: the BMCs by name (ipminode1), which node0's /etc/hosts maps to each bmc_address.
         "slurm_powersave_bmc_name_rule": "ipmi{node}",
         # node2 is powered off over SSH (a BMC without soft-off); the lab's poweroff is FAKE
         # (lab/bmc/fake-poweroff: a container must not power itself off), node1 through its BMC's soft-off.
         "slurm_powersave_ssh_poweroff": "{{ inventory_hostname == 'node2' }}",
         "slurm_powersave_ssh_poweroff_command": [FAKE_POWEROFF],
         # R3's partition (OverSubscribe so that half-node jobs share a node) on node0, the lab's node without
         # GPUs: munge_slurm gives a memory default to partitions without GPU nodes only.
         "munge_slurm_partitions": [
             {"name": "main", "group": "all", "default": True,
              "options": {"MaxTime": "INFINITE", "OverSubscribe": "NO", "State": "UP"}},
             {"name": "cpu", "nodes": ["node0"], "options": {"MaxTime": "INFINITE", "OverSubscribe": "YES"}}]}
CONF_FILES = ("/etc/slurm/slurm.conf", "/etc/slurm/gpuforge-powersave.json")
SHORT = {**POWER, "slurm_powersave_suspend_time": 5}


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
    assert slurm_setting("ResumeTimeout") == "20 sec"
    program = json.loads(node_exec("node0", "cat", CONF_FILES[1]).stdout)
    bmcs = {node: spec["bmc"] for node, spec in program["nodes"].items()}
    assert bmcs == {node: f"ipmi{node}" for node in POWERED}
    for node in POWERED:
        address = node_exec("node0", "getent", "hosts", f"ipmi{node}").stdout.split()[0]
        assert address == f"{SUBNET_BMC}.{10 + int(node[4:])}", (node, address)
    # Readable by the SlurmUser and root only.
    stat = node_exec("node0", "stat", "-c", "%a %U:%G", PASSWORD_FILE).stdout.split()
    assert stat == ["400", "slurm:slurm"], stat
    assert states() == dict.fromkeys(NODE_NAMES, "idle")
    # The SSH power-off: the key on the controller only (SlurmUser 0400); on node2 a sudoers rule for the one
    # command (checked with visudo), and the key let in from node0 only with that command forced.
    assert node_exec("node0", "stat", "-c", "%a %U:%G", SSH_KEY).stdout.split() == ["400", "slurm:slurm"]
    sudoers = "/etc/sudoers.d/gpuforge-powersave"
    assert node_exec("node2", "cat", sudoers).stdout.splitlines()[-1] == (
        f"gpuforge-poweroff ALL=(root) NOPASSWD: {FAKE_POWEROFF}")
    assert node_exec("node2", "visudo", "-cf", sudoers, check=False).returncode == 0
    assert node_exec("node1", "test", "-e", sudoers, check=False).returncode == 1
    [key] = node_exec("node2", "cat", "/home/gpuforge-poweroff/.ssh/authorized_keys").stdout.splitlines()
    assert key.startswith(f'from="{SUBNET}.10",restrict,command="sudo -n {FAKE_POWEROFF}" ssh-ed25519 '), key
    assert program["nodes"]["node2"]["ssh_poweroff"]["identity_file"] == SSH_KEY


def test_two_half_node_jobs_share_a_node_under_oversubscribe():
    # node0 is never powered down. Each job asks half of its CPUs and no memory: munge_slurm's DefMemPerCPU
    # (the partition's smallest RealMemory/CPUs) gives it half the memory, where Slurm would give it all and
    # the second job would wait.
    partition = node_exec("node0", "scontrol", "show", "partition", "cpu").stdout
    assert "OverSubscribe=YES" in partition, partition
    # The partition with GPU nodes keeps no memory default (a GPU job keeps the node's memory there).
    assert "DefMemPerCPU" not in node_exec("node0", "scontrol", "show", "partition", "main").stdout
    mem_per_cpu = int(re.search(r"DefMemPerCPU=(\d+)", partition).group(1))
    node0 = node_exec("node0", "scontrol", "show", "node", "node0").stdout
    cpus = int(re.search(r"CPUTot=(\d+)", node0).group(1))
    assert cpus >= 2 and cpus % 2 == 0, cpus
    half = ["sbatch", "--parsable", "-p", "cpu", "-w", "node0", f"--cpus-per-task={cpus // 2}",
            "--chdir=/tmp", "--output=/dev/null", "--wrap", "sleep 60"]
    jobs = [node_exec("node0", *half).stdout.strip(), node_exec("node0", *half).stdout.strip()]
    try:
        wait_for("both half-node jobs running at once", lambda: len(running(jobs)) == 2, 30)
        for job in jobs:
            tres = re.search(r"\bTRES=(\S+)", job_info(job)).group(1)  # what the job was given
            assert tres.startswith(f"cpu={cpus // 2},mem={mem_per_cpu * cpus // 2}M,node=1"), tres
        assert [line.split()[1] for line in running(jobs)] == ["node0", "node0"]
    finally:
        node_exec("node0", "scancel", *jobs)


def running(jobs: list[str]) -> list[str]:
    out = node_exec("node0", "squeue", "-h", "-t", "R", "-j", ",".join(jobs), "-o", "%i %N")
    return out.stdout.splitlines()


def test_crossed_bmc_addresses_are_refused_before_any_change(inventory, fact_cache):
    # node1's and node2's BMC addresses swapped: each BMC answers with the other node's system GUID. The first
    # run (above) checked the BMCs right after ipmitool's install; this one checks them in preflight.
    swapped = {"node1": f"{SUBNET_BMC}.12", "node2": f"{SUBNET_BMC}.11"}
    conf = node_exec("node0", "sha256sum", *CONF_FILES).stdout
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache, extravars={
        **POWER, "bmc_address": f"{{{{ {swapped!r}.get(inventory_hostname, '') }}}}"})
    assert run.rc != 0
    text = failure_text(run)
    assert "node1's BMC answers with node2's GUID" in text, text
    assert "node2's BMC answers with node1's GUID" in text, text
    assert run.changed == 0, changed_tasks(run)
    # ipmitool is on the controller since power saving was enabled: the check ran in preflight, before the
    # role's install tasks.
    assert not any(task == "Install ipmitool on the controller" for _d, task, _h, _s in run.tasks)
    assert node_exec("node0", "sha256sum", *CONF_FILES).stdout == conf


def test_idle_nodes_power_off_and_a_job_powers_them_on_without_the_password_showing(
        inventory, fact_cache, tmp_path):
    # SuspendTime 3600 -> 5 reconfigures only. node1 and node2 go idle~ through their BMCs (slurmd and sshd
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
        assert slurm_setting("SuspendTime") == "5 sec"
        started = time.monotonic()
        wait_for("node1 and node2 idle~", lambda: all(states()[node] == "idle~" for node in POWERED), 90)
        print(f"\npowered down {time.monotonic() - started:.0f} s after the reconfigure (SuspendTime 5)")
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
        # slurmd started after the clock was synchronised (chrony-wait, pulled in by the role's drop-in).
        when = {unit: int(node_exec(node, "systemctl", "show", "-P", prop, unit).stdout)
                for unit, prop in (("chrony-wait", "ActiveEnterTimestampMonotonic"),
                                   ("slurmd", "ExecMainStartTimestampMonotonic"))}
        assert 0 < when["chrony-wait"] <= when["slurmd"], (node, when)
    program_log = node_exec("node0", "cat", POWER_LOG).stdout
    assert re.search(r"node=node1 action=suspend result=ok .*soft off", program_log), program_log
    # node2 went off over SSH (the FAKE poweroff through sudo), and its BMC then said off.
    assert re.search(r"node=node2 action=suspend result=ok .*ssh poweroff rc \d+", program_log), program_log
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


# recover_nodes.yml runs on the controller only; the FAKE BMCs' test switches (lab/bmc/chassis-control) make
# the faults: refuse-power-on, refuse-power-off, slow-power-on (seconds).
RECOVER = "recover_nodes.yml"
HELD_FILE = "/var/lib/gpuforge/slurm_powersave/recover-held.json"
BMC_RUN = "/run/gpuforge-bmc"


def bmc_switch(node: str, name: str, value: str | None = "") -> None:
    if value is None:
        node_exec(node, "rm", "-f", f"{BMC_RUN}/{name}")
    else:
        node_exec(node, "sh", "-c", f"echo '{value}' > {BMC_RUN}/{name}")


def wait_state(want: dict, timeout: float = 90) -> None:
    wait_for(f"states {want}", lambda: all(states()[node] in ok for node, ok in want.items()), timeout)


def submit(node: str) -> str:
    return node_exec("node0", "sbatch", "--parsable", "-w", node, "--chdir=/tmp", "--output=/dev/null",
                     "--wrap", "hostname").stdout.strip()


def job_info(job: str) -> str:
    return node_exec("node0", "scontrol", "show", "job", job, check=False).stdout


def node_reason(node: str) -> str:
    text = node_exec("node0", "scontrol", "show", "node", node).stdout
    return text.split("Reason=", 1)[1].strip() if "Reason=" in text else ""


def recover_both_ways(inventory, fact_cache, nodes: list[str], drained=()) -> labctl.PlaybookRun:
    """recover_nodes.yml repairs (changed > 0, the nodes registered, the before/after states printed) and a
    second run changes nothing. ``drained``: nodes an admin drained, which must come back drained."""
    run = labctl.run_playbook(RECOVER, inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert run.changed > 0
    said = " ".join(str(msg) for _host, msg in run.shown)
    assert "'before'" in said and "'after'" in said, said
    after = states()
    for node in nodes:
        ok = ("drain", "drain%") if node in drained else ("idle", "mix", "alloc", "idle%")
        assert after[node] in ok, (after, said)
        assert node_exec(node, "systemctl", "is-active", "slurmd").stdout.strip() == "active"
    again = labctl.run_playbook(RECOVER, inventory, fact_cache=fact_cache)
    assert again.rc == 0 and again.changed == 0, failure_text(again) or changed_tasks(again)
    return run


def test_a_refused_power_on_and_a_failed_power_off_are_recovered(inventory, fact_cache):
    # node2's BMC refuses power-on: the program sets it DOWN with the reason at once and its job is requeued.
    # node1's BMC refuses power-off: Slurm marks it powered down while it runs (idle~ and on). Both BMCs then
    # work again, and an admin drains node2, now down~ (state=resume, which clears DOWN, clears a drain too).
    # One recover_nodes.yml run brings both back (the requeued job held meanwhile), node2 still drained with
    # the admin's reason; a second run changes nothing.
    admin = "admin: bad DIMM"
    wait_state({"node1": ("idle~",), "node2": ("idle~",)})
    bmc_switch("node2", "refuse-power-on")
    bmc_switch("node1", "refuse-power-off")
    try:
        job = submit("node2")
        wait_state({"node2": ("down#", "down~", "down")}, 30)
        reason = node_reason("node2")
        assert reason.startswith("gpuforge-powersave: BMC refused power on"), reason
        wait_for(f"job {job} requeued", lambda: "Restarts=1" in job_info(job), 30)
        assert "JobState=PENDING" in job_info(job)
        node_exec("node0", "scontrol", "update", "nodename=node1", "state=power_up")
        wait_state({"node1": ("idle",)}, 30)
        wait_state({"node1": ("idle~",)}, 60)  # its power-off refused: still running
        assert node_exec("node1", "systemctl", "is-active", "slurmd").stdout.strip() == "active"
        last = bmc_log("node1")[-5:]
        assert any("refused (refuse-power-off)" in line for line in last), last
    finally:
        bmc_switch("node2", "refuse-power-on", None)
        bmc_switch("node1", "refuse-power-off", None)
    # Drained once down~: Slurm 22.05 drops a drain set while the resume is still failing (down#) when it
    # gives the node up at ResumeTimeout (seen here: DOWN+DRAIN+NOT_RESPONDING+POWERING_UP became
    # DOWN+POWERED_DOWN+NOT_RESPONDING), so nothing could keep that one.
    wait_state({"node2": ("down~",)}, 60)
    node_exec("node0", "scontrol", "update", "nodename=node2", "state=drain", f"reason={admin}")
    assert states()["node2"] == "drain~", states()
    try:
        run = recover_both_ways(inventory, fact_cache, ["node1", "node2"], drained=["node2"])
        said = " ".join(str(msg) for _host, msg in run.shown)
        assert "'node1', 'powered on but marked powered down'" in said, said
        assert "'node2', 'DOWN and powered down, drained (the drain is kept)'" in said, said
        assert "'resume_state', 'drain_again', 'power_up'" in said, said
        assert node_reason("node2").startswith(admin), node_reason("node2")
        assert f"'{job}'" in said  # held during the repair
        held = node_exec("node0", "squeue", "-h", "-j", job, "-o", "%r").stdout
        assert "JobHeld" not in held  # and released
    finally:
        node_exec("node0", "scancel", job, check=False)
        node_exec("node0", "scontrol", "update", "nodename=node2", "state=resume", check=False)


def test_slurmd_by_hand_a_late_resume_and_a_resume_stuck_after_a_restart_are_recovered(inventory, fact_cache):
    wait_state({"node1": ("idle~",), "node2": ("idle~",)})
    # slurmd started by hand on a powered-down node: the node is on (its BMC says so) and Slurm 22.05 takes
    # its registration: idle, nothing stuck; recover_nodes.yml agrees and changes nothing.
    node_exec("node2", "systemctl", "start", "slurmd")
    wait_state({"node2": ("idle",)}, 30)
    run = labctl.run_playbook(RECOVER, inventory, fact_cache=fact_cache)
    assert run.rc == 0 and run.changed == 0, failure_text(run) or changed_tasks(run)
    assert "'node2': 'on'" in " ".join(str(msg) for _host, msg in run.shown)
    jobs = []
    try:
        # node1 boots in 40 s, ResumeTimeout is 20: Slurm gives up, ResumeFailProgram sets it DOWN and off
        # (down~).
        bmc_switch("node1", "slow-power-on", "40")
        jobs.append(submit("node1"))
        wait_state({"node1": ("down~",)}, 45)
        assert "did not register within ResumeTimeout" in node_reason("node1"), node_reason("node1")
        # node2 (powered down again) boots in 600 s; slurmctld restarts during the resume and forgets its
        # ResumeTimeout: the node stays powering up (mix#/alloc#) past it.
        wait_state({"node2": ("idle~",)}, 60)
        bmc_switch("node2", "slow-power-on", "600")
        jobs.append(submit("node2"))
        wait_state({"node2": ("alloc#", "mix#")}, 30)
        node_exec("node0", "systemctl", "restart", "slurmctld")
        time.sleep(25)
        assert states()["node2"] in ("alloc#", "mix#"), states()
    finally:
        bmc_switch("node1", "slow-power-on", None)
        bmc_switch("node2", "slow-power-on", None)
    # What a recover_nodes.yml run that died after holding the pending jobs leaves: node1's requeued job held
    # and listed. The next run releases it first.
    node_exec("node0", "scontrol", "hold", jobs[0])
    held = json.dumps([jobs[0]])
    node_exec("node0", "sh", "-c", f"mkdir -p {HELD_FILE.rsplit('/', 1)[0]} && echo '{held}' > {HELD_FILE}")
    run = recover_both_ways(inventory, fact_cache, ["node1", "node2"])
    assert ("Release the jobs an earlier run held (that run stopped before its release)", "node0") in \
        changed_tasks(run)
    assert "JobHeld" not in node_exec("node0", "squeue", "-h", "-j", jobs[0], "-o", "%r").stdout
    assert node_exec("node0", "test", "-e", HELD_FILE, check=False).returncode == 1
    said = " ".join(str(msg) for _host, msg in run.shown)
    assert "DOWN and powered down" in said and "longer than ResumeTimeout (20 s)" in said, said
    # Each node's power-on to registered time, measured from the logs of the cycles so far: the FAKE boot
    # (3 s) plus slurmd's start; node1's 40 s resume never registered (ResumeFailProgram) and is not one.
    measured = {node: float(took) for node, took in re.findall(r"'(node\d)': ([0-9.]+)", re.search(
        r"'boot_seconds': \{[^}]*\}", said).group(0))}
    print(f"measured power-on to registered: {measured}")
    assert set(measured) == set(POWERED) and all(3 <= took < 16 for took in measured.values()), measured
    assert "'resume_timeout': 'long enough'" in said, said
    node_exec("node0", "scancel", *jobs)


def test_wake_nodes_powers_up_the_powered_down_nodes(inventory, fact_cache):
    # Before site.yml on a power-saving cluster: node1 and node2 are idle~ (SuspendTime 5 s), and an admin
    # drains node2 while it is powered down (drain~: a drained node made wake_nodes.yml refuse the whole run).
    # wake_nodes.yml, on the controller only, powers both up and returns once both registered; node2 stays
    # drained with its reason. --check first: says, changes nothing.
    wait_state({"node1": ("idle~",), "node2": ("idle~",)})
    reason = "admin: bad DIMM"
    node_exec("node0", "scontrol", "update", "nodename=node2", "state=drain", f"reason={reason}")
    try:
        assert states()["node2"] == "drain~", states()
        check = labctl.run_playbook("wake_nodes.yml", inventory, fact_cache=fact_cache, check=True)
        assert check.rc == 0 and check.changed == 0, failure_text(check) or changed_tasks(check)
        assert states()["node1"] == "idle~" and states()["node2"] == "drain~", states()
        run = labctl.run_playbook("wake_nodes.yml", inventory, fact_cache=fact_cache)
        assert run.rc == 0, failure_text(run)
        power_up = "Power up the powered-down nodes (ResumeProgram through slurmctld)"
        assert (power_up, "node0") in changed_tasks(run)
        said = " ".join(str(msg) for _host, msg in run.shown)
        assert "'power_up': ['node1', 'node2']" in said and "'stay_drained': ['node2']" in said, said
        assert "'after': {'node1': 'idle', 'node2': 'drain'}" in said, said
        shown = node_exec("node0", "scontrol", "show", "node", "node2").stdout
        assert f"Reason={reason}" in shown, shown  # the admin's drain and its reason kept
        for node in POWERED:
            active = node_exec(node, "systemctl", "is-active", "ssh", "slurmd").stdout.split()
            assert active == ["active", "active"], (node, active)
    finally:
        node_exec("node0", "scontrol", "update", "nodename=node2", "state=resume", check=False)
