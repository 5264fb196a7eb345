"""module_utils/slurm_power.py: power saving's slurm.conf settings, BMC addresses, the preflight checks."""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import slurm_power as sp
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_expand

PROGRAM = "/usr/local/sbin/gpuforge-powersave"


def test_settings_for_r3():
    settings = sp.slurm_settings(PROGRAM, suspend_time=300, suspend_timeout=150, resume_timeout=180,
                                 exclude_nodes=["head"], slurm_version="22.05.8")
    assert settings == {
        "SuspendProgram": PROGRAM + "-suspend",
        "ResumeProgram": PROGRAM + "-resume",
        "ResumeFailProgram": PROGRAM + "-resumefail",
        "SuspendTime": "300",
        "SuspendTimeout": "150",
        "ResumeTimeout": "180",
        "ResumeRate": "0",
        "SuspendRate": "0",
        "SuspendExcNodes": "head",
    }


def test_excluded_nodes_are_one_hostlist_of_each_name_once():
    settings = sp.slurm_settings(PROGRAM, 300, 150, 180, exclude_nodes=["node003", "login1", "node001",
                                                                        "node002", "node001"])
    assert sorted(hostlist_expand(settings["SuspendExcNodes"])) == ["login1", "node001", "node002", "node003"]
    assert "SuspendExcNodes" not in sp.slurm_settings(PROGRAM, 300, 150, 180)


def test_exclude_states_need_slurm_23_02():
    settings = sp.slurm_settings(PROGRAM, 300, 150, 180, exclude_states=["down", "drain"],
                                 slurm_version="23.02.7")
    assert settings["SuspendExcStates"] == "DOWN,DRAIN"
    for version in ("22.05.8", None, "garbage"):
        with pytest.raises(ValueError, match=r"SuspendExcStates needs Slurm 23\.02"):
            sp.slurm_settings(PROGRAM, 300, 150, 180, exclude_states=["down"], slurm_version=version)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"suspend_time": -1}, "suspend_time must be a whole number"),
    ({"resume_timeout": 0}, "must be > 0"),
    ({"suspend_timeout": 1.5}, "suspend_timeout must be a whole number"),
    ({"resume_rate": True}, "resume_rate must be a whole number"),
])
def test_bad_numbers_are_refused(kwargs, message):
    args = {"suspend_time": 300, "suspend_timeout": 150, "resume_timeout": 180, **kwargs}
    with pytest.raises(ValueError, match=message):
        sp.slurm_settings(PROGRAM, **args)


def test_the_program_path_is_absolute():
    with pytest.raises(ValueError, match="absolute path"):
        sp.program_paths("gpuforge-powersave")


def test_bmc_address_from_the_host_or_the_rule():
    assert sp.bmc_address("node002", "10.20.0.12", "ipmi{node}") == "10.20.0.12"
    assert sp.bmc_address("node002", None, "ipmi{node}") == "ipminode002"
    assert sp.bmc_address("node002", "", "{node}-bmc.example") == "node002-bmc.example"
    with pytest.raises(ValueError, match="node002: no BMC address"):
        sp.bmc_address("node002", None, None)
    with pytest.raises(ValueError, match=r"has no \{node\}"):
        sp.bmc_address("node002", None, "ipmi-shared")


def test_a_bmc_two_nodes_share_is_named():
    assert sp.duplicate_bmcs({"node1": "10.0.0.1", "node2": "10.0.0.2"}) == []
    assert sp.duplicate_bmcs({"node1": "ipmi-a", "node2": "IPMI-A", "node3": "ipmi-c"}) == [
        "node1 and node2 share the BMC ipmi-a: each node needs its own"]


def test_resume_timeout_against_the_slowest_boot_names_both_numbers():
    assert sp.resume_timeout_errors(180, {"node002": 95, "node003": 140}) == []  # 140 x 1.25 = 175
    [error] = sp.resume_timeout_errors(120, {"node002": 95, "node003": 140})
    assert error.startswith("ResumeTimeout=120 s is shorter than node003's declared power-on to "
                            "slurmd-registered time, 140 s, times the margin 1.25 = 175 s")
    assert "at least 175" in error
    assert sp.resume_timeout_errors(120, {}) == []
    # Equal boot times: the first node by name is named (the same message on every run).
    [error] = sp.resume_timeout_errors(100, {"b": 90, "a": 90}, margin=1.5)
    assert "a's declared power-on" in error and "= 135 s" in error
    # Measured (earlier resumes in the controller's logs) beside declared: the slowest of all counts.
    [error] = sp.resume_timeout_errors(150, {"node002": 95}, measured={"node004": 131.2, "node002": 100})
    assert "node004's measured power-on to slurmd-registered time, 131.2 s, times the margin 1.25 = 164 s" \
        in error
    assert sp.resume_timeout_errors(180, {"node002": 95}, measured={"node004": 131.2}) == []


def test_suspend_timeout_covers_the_programs_longest_power_off():
    assert sp.suspend_timeout_errors(160, 90, 30, 20) == []  # 90 + 30 + 40 = 160
    [error] = sp.suspend_timeout_errors(120, 90, 30, 20)
    assert "SuspendTimeout=120 s is shorter than the longest power-off the program may take, 160 s" in error


def test_one_time_daemon_per_node():
    assert sp.time_daemon_errors({"node1": ["chrony.service"], "node2": []}) == []
    [error] = sp.time_daemon_errors({"node1": ["chrony.service", "ntp.service", "ssh.service"],
                                     "node2": ["chrony.service"]})
    assert error.startswith("node1: chrony.service, ntp.service are all enabled")


def test_accepted_states_are_the_normal_power_states_then_extra_ones_once():
    states = sp.accepted_states(["idle!", "down~"])
    assert states[:6] == list(sp.NORMAL_POWER_STATES) and states[6:] == ["down~"]
    assert all(state[-1] in sp.POWER_SUFFIXES for state in states)


R3_NODES = ("head", "node002", "node003", "node004", "node005")
R3 = {"nodes": dict.fromkeys(R3_NODES),
      "controllers": ["head"], "bmc_name_rule": "ipmi{node}", "program": PROGRAM, "suspend_time": 300,
      "suspend_timeout": 160, "resume_timeout": 180, "boot_seconds": {"node002": 120, "node005": 140}}


def test_plan_for_r3():
    result = sp.plan(R3)
    assert result["problems"] == []
    assert result["bmcs"] == {f"node00{i}": f"ipminode00{i}" for i in range(2, 6)}
    assert result["settings"]["SuspendExcNodes"] == "head" and result["settings"]["ResumeTimeout"] == "180"
    assert result["program_nodes"]["node003"] == {"bmc": "ipminode003"}


def test_plan_names_the_bmcs_by_the_rule_and_maps_the_names_to_the_addresses():
    nodes = {"node002": "192.168.1.12", "node003": "192.168.1.13", "node004": "bmc4.example", "node005": None}
    result = sp.plan({**R3, "nodes": nodes})
    assert result["problems"] == []
    # An IP address and the rule: the name, which the controller's /etc/hosts resolves; a host name as given.
    assert result["bmcs"] == {"node002": "ipminode002", "node003": "ipminode003", "node004": "bmc4.example",
                              "node005": "ipminode005"}
    assert result["hosts_entries"] == [{"ip": "192.168.1.12", "names": ["ipminode002"]},
                                       {"ip": "192.168.1.13", "names": ["ipminode003"]}]
    # Preflight asks the BMCs at their addresses: the names resolve only once the role has written them.
    assert result["probe"] == {**result["bmcs"], "node002": "192.168.1.12", "node003": "192.168.1.13"}
    # Two names for one address is the same crossed wiring as one address twice.
    [problem] = sp.plan({**R3, "nodes": {**nodes, "node003": "192.168.1.12"}})["problems"]
    assert problem.startswith("node002 and node003 share the BMC 192.168.1.12"), problem
    # Without a rule the address is the BMC, and /etc/hosts is not touched.
    result = sp.plan({**R3, "bmc_name_rule": None, "nodes": {"node002": "192.168.1.12"}})
    assert result["bmcs"] == result["probe"] == {"node002": "192.168.1.12"} and result["hosts_entries"] == []


def test_plan_powers_off_over_ssh_where_asked():
    ssh = {"ssh_nodes": {"node003": True, "node004": False, "head": True}, "ssh_user": "gpuforge-poweroff",
           "ssh_command": ["/usr/sbin/poweroff"], "ssh_identity_file": "/etc/slurm/gpuforge-powersave-ssh"}
    result = sp.plan({**R3, **ssh})
    assert result["problems"] == []
    over_ssh = {"user": "gpuforge-poweroff", "command": ["sudo", "-n", "/usr/sbin/poweroff"],
                "identity_file": "/etc/slurm/gpuforge-powersave-ssh"}
    assert result["program_nodes"]["node003"] == {"bmc": "ipminode003", "ssh_poweroff": over_ssh}
    # The others (and the controller, never powered down) through the BMC's soft-off.
    assert result["program_nodes"]["node004"] == {"bmc": "ipminode004"}
    assert "head" not in result["program_nodes"]
    # A command sudoers cannot name exactly, or a relative one, is refused before anything is written.
    good = "gpuforge-poweroff"
    for command, user in ((["poweroff"], good), (["/sbin/shutdown", "-h now"], good), ([], good),
                          (["/usr/sbin/poweroff"], "Bad User")):
        [problem] = sp.plan({**R3, **ssh, "ssh_command": command, "ssh_user": user})["problems"]
        assert problem.startswith("the SSH power-off"), problem


def test_plan_names_every_problem_at_once():
    spec = {**R3, "bmc_name_rule": None, "cipher_suite": 0, "resume_timeout": 120, "suspend_timeout": 60,
            "nodes": {"node002": "10.0.0.5", "node003": "10.0.0.5", "node004": None}}
    problems = sp.plan(spec)["problems"]
    assert len(problems) == 5, problems
    assert problems[0] == "node004: no BMC address (set bmc_address for it, or a BMC name rule)"
    assert problems[1].startswith("node002 and node003 share the BMC 10.0.0.5")
    assert problems[2].startswith("IPMI cipher suite 0 authenticates nothing")
    assert problems[3].startswith("SuspendTimeout=60 s is shorter")
    # Only the nodes being powered down count: node005's boot time is not in this plan.
    assert problems[4].startswith("ResumeTimeout=120 s is shorter than node002's declared")


def test_plan_with_bad_numbers_or_nothing_to_power_down():
    assert sp.plan({**R3, "resume_timeout": "180"})["problems"] == [
        "resume_timeout must be a whole number of seconds (or nodes per minute) >= 0, got '180'"]
    assert sp.plan({**R3, "controllers": list(R3_NODES)})["problems"] == [
        "no node to power down: every node of the group is a controller or excluded"]


def test_crossed_filter_names_both_nodes_of_a_swap():
    from ansible_collections.gpuforge.cluster.plugins.filter.slurm_power import bmc_crossed

    a, b = "42da3da8-cb53-5a14-aa7d-67f7018b2890", "194de16e-58c4-507d-b30b-17e2dba94837"
    assert bmc_crossed({"node1": [a, a + "\n"], "node2": [b, b + "\n"]}) == []
    problems = bmc_crossed({"node1": [b, a + "\n"], "node2": [a, b + "\n"]})
    tail = "'s GUID (same byte order): its inventory BMC address belongs to another node"
    assert problems == ["node1's BMC answers with node2" + tail, "node2's BMC answers with node1" + tail]
    unusable = bmc_crossed({"node1": [a, "Not Settable\n"]})
    assert unusable[0].startswith("node1: the SMBIOS UUID cannot be used")
