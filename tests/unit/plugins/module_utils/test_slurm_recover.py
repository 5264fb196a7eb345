"""module_utils/slurm_recover: which nodes power saving left stuck, and the repair of each."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import slurm_recover as rec
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import parse_scontrol_nodes
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_nodes import compact_state
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_recover import (
    bmc_power,
    last_resumes,
    recovery_commands,
    recovery_plan,
    resume_timeout,
    step_argv,
)

# Trimmed from `scontrol show node --oneliner` on the lab (Slurm 22.05.8, Debian 12, 2026-12-04): the states
# power saving left there (sinfo %t in the comment).
LINE = ("NodeName={name} CoresPerSocket=2 CPUAlloc=0 CPUEfctv=2 CPUTot=2 Gres=(null) NodeAddr={name} "
        "NodeHostName={name} Sockets=1 Boards=1 State={state} ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A "
        "MCS_label=N/A Partitions=main BootTime=None SlurmdStartTime=None{reason}")
STATES = {
    "idle": "IDLE",                                        # idle
    "idle~": "IDLE+POWERED_DOWN",                          # idle~
    "down~": "DOWN+POWERED_DOWN",                          # down~ (ResumeTimeout missed)
    "down#": "DOWN+NOT_RESPONDING+POWERING_UP",            # down# (the BMC refused power-on)
    "mix#": "MIXED+POWERING_UP",                           # mix# (slurmctld restarted during a resume)
    "idle%": "IDLE+POWERING_DOWN",                         # idle%
    "drain": "IDLE+DRAIN",                                 # an admin's drain
    "drain~": "IDLE+DRAIN+POWERED_DOWN",                   # an admin's drain, then powered down while idle
}
NOW = 1_800_000_000.0
PROGRAM = "/usr/local/sbin/gpuforge-powersave"


def node(name: str, state: str, reason: str = "") -> dict:
    text = LINE.format(name=name, state=STATES[state], reason=f" Reason={reason} [slurm@2026-12-04T22:45:34]"
                       if reason else "")
    [parsed] = parse_scontrol_nodes(text)
    return parsed


def job(job_id: str, state: str, nodes: list[str]) -> dict:
    return {"job_id": job_id, "state": state, "nodes": nodes, "nodelist": ",".join(nodes), "user": "root",
            "name": "wrap", "node_count": len(nodes)}


def plan(nodes, power, jobs=(), pending=(), last=None, force=False, resume_timeout=60):
    return recovery_plan(nodes, list(jobs), list(pending), power, last or {}, NOW, resume_timeout, force)


@pytest.mark.parametrize("state", list(STATES))
def test_the_states_printed_are_what_sinfo_printed(state):
    assert compact_state(node("node1", state)) == state


def test_normal_states_need_nothing():
    nodes = [node("node1", "idle~"), node("node2", "idle"), node("node3", "idle%"), node("node4", "drain")]
    power = {"node1": "off", "node2": "on", "node3": "on", "node4": "on"}
    result = plan(nodes, power, pending=[["7", "Resources"]])
    assert result["repairs"] == [] and result["refused"] == [] and result["hold"] == []
    assert result["states"] == {"node1": "idle~", "node2": "idle", "node3": "idle%", "node4": "drain"}


def test_powered_but_marked_off_is_powered_off_then_up():
    [repair] = plan([node("node1", "idle~")], {"node1": "on"})["repairs"]
    assert repair["problem"] == "powered on but marked powered down"
    assert repair["steps"] == ["bmc_off", "power_up"]
    [repair] = plan([node("node1", "down~")], {"node1": "on"})["repairs"]
    assert repair["steps"] == ["bmc_off", "resume_state", "power_up"]


def test_down_powered_down_is_resumed_and_powered_up():
    [repair] = plan([node("node2", "down~", "gpuforge-powersave: did not register within ResumeTimeout")],
                    {"node2": "off"})["repairs"]
    assert (repair["problem"], repair["steps"]) == ("DOWN and powered down", ["resume_state", "power_up"])


def test_a_drained_node_that_is_down_keeps_its_drain_and_reason():
    # An admin drained node2 (a bad DIMM); then it missed ResumeTimeout: DOWN+DRAIN+POWERED_DOWN. state=resume
    # clears the drain too, so it is drained again at once with the admin's reason, before it is powered up.
    drained = node("node2", "down~", "admin: bad DIMM")
    drained["flags"] = ["drain", "powered_down"]
    assert compact_state(drained) == "drain~"
    [repair] = plan([drained], {"node2": "off"})["repairs"]
    assert repair["problem"] == "DOWN and powered down, drained (the drain is kept)"
    assert repair["steps"] == ["resume_state", "drain_again", "power_up"]
    assert repair["reason"] == "admin: bad DIMM"  # scontrol's [user@time] stamp left out
    assert plan([drained], {"node2": "off"})["reasons"] == {"node2": "admin: bad DIMM"}
    commands = [c["argv"] for c in recovery_commands({"repairs": [repair]}, PROGRAM, "slurm")]
    assert commands == [["scontrol", "update", "nodename=node2", "state=resume"],
                        ["scontrol", "update", "nodename=node2", "state=drain", "reason=admin: bad DIMM"],
                        ["scontrol", "update", "nodename=node2", "state=power_up"]]
    # Powered on while marked down and drained: the same, after the power-off.
    [repair] = plan([drained], {"node2": "on"})["repairs"]
    assert repair["steps"] == ["bmc_off", "resume_state", "drain_again", "power_up"]
    # A drain without a reason gets one saying where it came from (scontrol wants a reason to drain).
    drained.pop("Reason", None)
    [repair] = plan([drained], {"node2": "off"})["repairs"]
    assert repair["reason"] == "drained (no reason was shown)"
    # A node that is only DOWN (no drain) is resumed as before.
    [repair] = plan([node("node2", "down~")], {"node2": "off"})["repairs"]
    assert repair["steps"] == ["resume_state", "power_up"] and "reason" not in repair


def test_a_failed_resume_is_powered_on_through_the_bmc():
    refused = node("node2", "down#", "gpuforge-powersave: BMC refused power on")
    [repair] = plan([refused], {"node2": "off"})["repairs"]
    assert repair["steps"] == ["resume_state", "bmc_on"]
    [repair] = plan([node("node2", "down#")], {"node2": "on"})["repairs"]
    assert repair["steps"] == ["bmc_off", "resume_state", "bmc_on"]


def test_powering_up_is_stuck_only_past_resume_timeout():
    nodes, power = [node("node1", "mix#")], {"node1": "on"}
    assert plan(nodes, power, last={"node1": NOW - 30})["repairs"] == []  # still booting
    [repair] = plan(nodes, power, last={"node1": NOW - 95})["repairs"]
    assert repair["problem"] == "powering up for 95 s, longer than ResumeTimeout (60 s)"
    assert repair["steps"] == ["bmc_off", "bmc_on"]
    [repair] = plan(nodes, {"node1": "off"})["repairs"]  # never resumed by the program, BMC off
    assert repair["problem"].startswith("powering up with no resume in the power-save log")
    assert repair["steps"] == ["bmc_on"]


def test_running_jobs_refuse_the_node_unless_forced():
    nodes = [node("node1", "idle~"), node("node2", "down~")]
    power = {"node1": "on", "node2": "off"}
    jobs = [job("11", "RUNNING", ["node0", "node1"]), job("12", "CONFIGURING", ["node2"]),
            job("13", "PENDING", [])]
    result = plan(nodes, power, jobs=jobs)
    assert result["refused"] == [{"node": "node1", "state": "idle~", "jobs": ["11"]}]
    assert result["refusal"] == "node1 (idle~) runs jobs 11"
    assert [r["node"] for r in result["repairs"]] == ["node2"]  # a configuring job waits for its node
    forced = plan(nodes, power, jobs=jobs, force=True)
    assert forced["refused"] == []
    assert forced["repairs"][0]["steps"] == ["requeue", "bmc_off", "power_up"]
    assert recovery_commands(forced, PROGRAM, "slurm")[0]["argv"] == ["scontrol", "requeue", "11"]


def test_pending_jobs_held_are_those_not_held_already():
    pending = [["10", "BeginTime"], ["9", "JobHeldAdmin"], ["12_[1-3]", "Resources"], ["2", "JobHeldUser"]]
    result = plan([node("node1", "down~")], {"node1": "off"}, pending=pending)
    assert result["hold"] == ["10", "12_[1-3]"]


def test_nodes_without_power_saving_are_not_looked_at():
    result = plan([node("node0", "down~"), node("node1", "idle")], {"node1": "on"})
    assert result["repairs"] == [] and list(result["states"]) == ["node1"]


def test_commands_run_the_program_as_the_slurm_user():
    result = plan([node("node1", "idle~"), node("node2", "down#")], {"node1": "on", "node2": "off"})
    commands = [(c["node"], c["step"], c["argv"]) for c in recovery_commands(result, PROGRAM, "slurm")]
    assert commands == [
        ("node1", "bmc_off", ["runuser", "-u", "slurm", "--", PROGRAM, "suspend", "node1"]),
        ("node1", "power_up", ["scontrol", "update", "nodename=node1", "state=power_up"]),
        ("node2", "resume_state", ["scontrol", "update", "nodename=node2", "state=resume"]),
        ("node2", "bmc_on", ["runuser", "-u", "slurm", "--", PROGRAM, "resume", "node2"]),
    ]


def test_step_argv_refuses_odd_names_and_steps():
    with pytest.raises(ValueError, match="not a Slurm node name"):
        step_argv("bmc_on", {"node": "node1;reboot"}, PROGRAM, "slurm")
    with pytest.raises(ValueError, match="unknown repair step"):
        step_argv("reboot", {"node": "node1"}, PROGRAM, "slurm")


def test_bmc_power_and_last_resumes_read_the_programs_log_lines():
    # The program's own lines (lab, 2026-12-04).
    stamp = "2026-12-04T22:46:15+00:00"
    status = (f'{stamp} node=node1 action=status result=ok seconds=0.1 detail="power on"\n'
              f'{stamp} node=node2 action=status result=ok seconds=0.1 detail="power off"\n'
              f'{stamp} node=node3 action=status result=failed seconds=5.0 detail="failed: BMC '
              'power status failed: Error: Unable to establish IPMI v2 / RMCP+ session"\n')
    assert bmc_power(status) == {"node1": "on", "node2": "off", "node3": None}
    log = ('2026-12-04T22:29:11+00:00 node=node2 action=resume result=ok seconds=0.2 '
           'detail="power on; on after 0.2s"\n'
           '2026-12-04T22:45:34+00:00 node=node2 action=resume result=failed seconds=0.1 detail="failed"\n'
           '2026-12-04T22:45:32+00:00 node=node1 action=suspend result=ok seconds=0.1 detail="already off"\n'
           'garbage line\n')
    assert last_resumes(log) == {"node2": 1796424334.0}


def test_resume_timeout_is_read_from_scontrol_show_config():
    text = ("ResumeRate              = 0 nodes/min\nResumeTimeout           = 60 sec\n"
            "SuspendTime             = 15 sec\n")
    assert resume_timeout(text) == 60
    with pytest.raises(ValueError, match="no ResumeTimeout"):
        resume_timeout("SuspendTime = NONE\n")


LAB_CYCLES = Path(__file__).parent / "fixtures" / "powersave" / "lab-cycles.log"


def test_boot_times_pair_each_registration_with_its_own_power_on():
    # Recorded on the lab: FAKE boots of 3 s, plus ssh, scontrol and slurmd's start. A resume that never
    # registered (ResumeFailProgram at 02:12:48 for node1, node2's resume stuck from 02:12:52) is superseded
    # by the next power-on; node2's slurmd started by hand (registered 02:12:20) had no power-on of its own.
    times = rec.boot_times(LAB_CYCLES.read_text())
    assert times == {"node1": 4.0, "node2": 4.0}, times


def test_boot_times_in_local_time_whatever_the_offset():
    stamp = "2026-06-01T10:00:"
    text = "\n".join([
        f'{stamp}05+02:00 node=n1 action=resume result=ok seconds=5.0 detail="power on; on after 5.0s"',
        f'{stamp}09+02:00 node=n2 action=resume result=ok seconds=1.0 detail="already on"',
        f'{stamp}20+02:00 node=n3 action=resume result=failed seconds=1.0 detail="failed: BMC refused"',
        "[2026-06-01T10:02:00.500] Node n1 now responding",
        "[2026-06-01T10:02:01.000] Node n2 now responding",
        "[2026-06-01T10:02:02.000] Node n3 now responding",
        "[2026-06-01T10:05:00.000] Node n1 now responding",  # again, without a power-on: not a boot
    ])
    assert rec.boot_times(text) == {"n1": 120.5}
    # Past the window the registration is not this power-on's.
    assert rec.boot_times(text, window=60) == {}


def test_wake_powers_up_idle_nodes_waits_for_resuming_ones_and_refuses_the_rest():
    nodes = [node("n1", "idle~"), node("n2", "mix#"), node("n3", "idle"), node("n4", "drain"),
             node("n5", "idle~")]
    result = rec.wake_plan(nodes, ["n1", "n2", "n3", "n4", "n5"])
    assert (result["wake"], result["wait"], result["refused"]) == (["n1", "n5"], ["n2"], [])
    assert result["states"] == {"n1": "idle~", "n2": "mix#", "n3": "idle", "n4": "drain", "n5": "idle~"}
    # Stuck nodes, a node powering down and one Slurm does not know: refused, each with what to do.
    nodes = [node("n1", "down~"), node("n2", "down#"), node("n3", "idle%"), node("n4", "idle~")]
    result = rec.wake_plan(nodes, ["n1", "n2", "n3", "n4", "n9"])
    assert result["wake"] == ["n4"]
    assert result["refusal"] == (
        "n1 (down~) stuck: run playbooks/recover_nodes.yml; "
        "n2 (down#) stuck: run playbooks/recover_nodes.yml; "
        "n3 (idle%) powering down: run again after SuspendTimeout; n9 (unknown) not in Slurm's nodes")


def test_wake_powers_up_a_drained_powered_down_node_and_says_it_stays_drained():
    # An admin drained n2 (a bad DIMM); Slurm powered it down as it was idle: drain~. site.yml must reach it,
    # so it is powered up like idle~ and named as staying drained. A drained node that is down
    # (DOWN+DRAIN+POWERED_DOWN: also drain~ in sinfo) is stuck, not idle: refused like down~.
    down_drained = node("n3", "idle~")
    down_drained.update(state="down", flags=["drain", "powered_down"])
    nodes = [node("n1", "idle~"), node("n2", "drain~", reason="bad DIMM"), down_drained]
    result = rec.wake_plan(nodes, ["n1", "n2", "n3"])
    assert (result["wake"], result["drained"], result["wait"]) == (["n1", "n2"], ["n2"], [])
    assert result["states"] == {"n1": "idle~", "n2": "drain~", "n3": "drain~"}
    assert result["refusal"] == "n3 (drain~) stuck: run playbooks/recover_nodes.yml"
    assert result["reasons"] == {"n2": "bad DIMM"}
    # Powered up and registered, the drained node counts as registered (the wait ends; the drain stays).
    assert rec.unregistered([node("n1", "idle"), node("n2", "drain")], ["n1", "n2"]) == []


def test_a_drain_reason_slurm_dropped_at_registration_is_set_again():
    # Slurm 22.05 on the lab: node2 drained (reason "admin: bad DIMM"), powered down, woken by wake_nodes.yml,
    # registered as State=IDLE+DRAIN with no Reason at all. Only a node still drained whose reason differs.
    keep = {"node1": "admin: bad DIMM", "node2": "admin: fan", "node3": "admin: psu"}
    after = [node("node1", "drain"), node("node2", "drain", reason="admin: fan"), node("node3", "idle")]
    assert rec.lost_reasons(after, keep) == [{"node": "node1", "reason": "admin: bad DIMM"}]
    assert rec.lost_reasons(after, {}) == []


def test_unregistered_names_the_nodes_still_powered_down_or_powering_up():
    nodes = [node("n1", "idle"), node("n2", "mix#"), node("n3", "idle~"), node("n4", "down~"),
             node("n5", "drain")]
    assert rec.unregistered(nodes, ["n1", "n2", "n3", "n4", "n9"]) == ["n2", "n3", "n4", "n9"]
    # A drained node registered (its state is idle; the drain is an admin's).
    assert rec.unregistered(nodes, ["n1", "n5"]) == []
