"""The slurm_power filters: the inputs they read from the playbooks' command outputs, and their errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.slurm_power import powersave_recovery
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import parse_scontrol_nodes

# Lines as the lab printed them (Slurm 22.05.8, the power-save program, 2026-12-04), trimmed.
NODES = ("NodeName=node1 CPUTot=2 State=IDLE+POWERED_DOWN Partitions=main\n"
         "NodeName=node2 CPUTot=2 State=DOWN+POWERED_DOWN Partitions=main "
         "Reason=gpuforge-powersave: did not register within ResumeTimeout [slurm@2026-12-04T23:05:01]\n")
STATUS = ('2026-12-04T23:05:40+00:00 node=node1 action=status result=ok seconds=0.1 detail="power on"\n'
          '2026-12-04T23:05:40+00:00 node=node2 action=status result=ok seconds=0.1 detail="power off"\n')
CONFIG = "ResumeRate              = 0 nodes/min\nResumeTimeout           = 20 sec\n"
PROGRAM = "/usr/local/sbin/gpuforge-powersave"


def recovery(pending="4|BeginTime\n5|JobHeldAdmin\n", status=STATUS, config=CONFIG, slurm=None):
    slurm = slurm if slurm is not None else {"nodes": parse_scontrol_nodes(NODES), "jobs": []}
    return powersave_recovery(slurm, pending, status, "", "1796425600", config, PROGRAM, "slurm")


def test_the_plan_and_its_commands_from_the_command_outputs():
    result = recovery()
    assert [(r["node"], r["problem"]) for r in result["repairs"]] == [
        ("node1", "powered on but marked powered down"), ("node2", "DOWN and powered down")]
    assert result["hold"] == ["4"] and result["power"] == {"node1": "on", "node2": "off"}
    assert [c["step"] for c in result["commands"]] == ["bmc_off", "power_up", "resume_state", "power_up"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pending": "4 BeginTime\n"}, "line 1 of squeue -o '%i|%r' is '4 BeginTime'"),
    ({"status": ""}, "gpuforge-powersave status named no node"),
    ({"config": "SuspendTime = NONE\n"}, "names no ResumeTimeout"),
    ({"slurm": {"jobs": []}}, "expected gpuforge.cluster.slurm_info's result"),
])
def test_bad_inputs_are_named(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("|", r"\|").replace("(", r"\(")):
        recovery(**kwargs)
