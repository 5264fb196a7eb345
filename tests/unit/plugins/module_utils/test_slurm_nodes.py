"""module_utils/slurm_nodes.py: node states as sinfo %t writes them, which are accepted, which nodes a
restart left down, the Gres and PartitionName values. Nodes come from the real scontrol captures of
parsers/fixtures/scontrol_nodes (each with its .source) through parse_scontrol_nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import slurm_nodes
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import parse_scontrol_nodes

FIXTURES = Path(__file__).parent / "parsers" / "fixtures" / "scontrol_nodes"
RESTART_RE = r"^(Not responding|Node unexpectedly rebooted)"  # roles/munge_slurm/vars/main.yml
LOW_RE = r"^Low (socket\*core\*thread count|CPUs|RealMemory|TmpDisk)"
HW = {
    "CPUs": 2,
    "Boards": 1,
    "SocketsPerBoard": 1,
    "CoresPerSocket": 2,
    "ThreadsPerCore": 1,
    "RealMemory": 23081,
}


def nodes(name: str) -> list[dict]:
    return parse_scontrol_nodes((FIXTURES / f"{name}.out").read_text())


def node(state: str, name: str = "n1", reason: str | None = None) -> dict:
    line = f"NodeName={name} Arch=x86_64 CPUTot=2 State={state}" + (f" Reason={reason}" if reason else "")
    return parse_scontrol_nodes(line)[0]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "slurm-20.11-idle-and-down-not-responding",
            {"slurmmaster": "idle", "slurmw1": "idle", "slurmw2": "down*"},
        ),
        ("slurm-17.02-oneliner-gpu-mixed", {"gpu01": "mix"}),
        ("slurm-24.05-mixed-gres-v100", {"hpc3-gpu-16-00": "mix"}),
        ("slurm-24.05-idle-drain-gres-count-low", {"yigou-dev-102-68": "drain"}),
        ("parallelcluster-idle-cloud-powered-down-gpu", {"gpu-large-dy-ml-large-1": "idle~"}),
        ("slurm-23.02-down-cloud-fail-not-responding", {"ip-10-1-232-95": "fail*"}),
    ],
)
def test_compact_state_of_real_captures(fixture, expected):
    got = {n["NodeName"]: slurm_nodes.compact_state(n) for n in nodes(fixture)}
    assert {k: got[k] for k in expected} == expected


def test_compact_state_of_the_16_05_capture_drain_before_down():
    got = {n["NodeName"]: slurm_nodes.compact_state(n) for n in nodes("slurm-16.05-oneliner-ten-nodes")}
    assert got["datamover1"] == "idle"
    assert got["datamover2"] == "drain*"  # DOWN*+DRAIN: sinfo shows drain*, not down*
    assert got["highmem1"] == "down*"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("ALLOCATED", "alloc"),
        ("MIXED+DRAIN", "drng"),
        ("ALLOCATED+DRAIN", "drng"),
        ("IDLE+COMPLETING", "comp"),
        ("MIXED+COMPLETING", "comp"),
        ("ALLOCATED+COMPLETING", "alloc"),
        ("IDLE+POWERING_UP", "idle#"),
        ("IDLE+POWERING_DOWN", "idle%"),
        ("IDLE+POWER_DOWN", "idle!"),
        ("IDLE+NOT_RESPONDING", "idle*"),
        ("IDLE*", "idle*"),
        ("IDLE+MAINT", "idle$"),
        ("IDLE+REBOOT_REQUESTED", "idle@"),
        ("DOWN+REBOOT_ISSUED", "down^"),
        ("FUTURE", "futr"),
        ("UNKNOWN", "unk"),
    ],
)
def test_compact_state_flags_and_suffixes(state, expected):
    assert slurm_nodes.compact_state(node(state)) == expected


def test_accepted_states_default_to_usable_nodes_only():
    ok = [node(s) for s in ("IDLE", "MIXED", "ALLOCATED", "IDLE+COMPLETING")]
    assert [slurm_nodes.node_problem(n, "n1", slurm_nodes.ACCEPTED_STATES) for n in ok] == [None] * 4
    for state in ("IDLE+DRAIN", "MIXED+DRAIN", "DOWN*", "IDLE+POWERED_DOWN", "IDLE+NOT_RESPONDING"):
        assert slurm_nodes.node_problem(node(state), "n1", slurm_nodes.ACCEPTED_STATES), state


def test_power_saving_states_are_accepted_only_when_listed():
    powered = nodes("parallelcluster-idle-cloud-powered-down-gpu")
    name = powered[0]["NodeName"]
    problem = slurm_nodes.node_problem(powered[0], name, slurm_nodes.ACCEPTED_STATES)
    assert problem == (
        f"Slurm node {name}: state IDLE+CLOUD+POWERED_DOWN (idle~), reason: stopping cluster"
        " [root@2026-03-28T08:18:20]; accepted states: idle, alloc, mix, comp"
    )
    accepted = [*slurm_nodes.ACCEPTED_STATES, *slurm_nodes.POWER_SAVING_STATES]
    assert slurm_nodes.node_problem(powered[0], name, accepted) is None


def test_node_problems_names_missing_and_not_accepted_nodes():
    found = nodes("slurm-20.11-idle-and-down-not-responding")
    problems = slurm_nodes.node_problems(found, ["slurmw1", "slurmw2", "slurmw3"], ["IDLE", "mix"])
    assert problems[0].startswith("Slurm node slurmw2: state DOWN* (down*), reason: Not responding [slurm@")
    assert problems[0].endswith("; accepted states: idle, mix")
    assert problems[1] == "Slurm node slurmw3: not in slurmctld's node list"
    assert len(problems) == 2


def test_node_problem_without_a_reason_says_none():
    assert "reason: none;" in slurm_nodes.node_problem(node("IDLE+DRAIN"), "n1", ["idle"])


def test_hardware_shortfall_and_fit():
    assert slurm_nodes.hardware_shortfall(HW, HW) == []
    assert slurm_nodes.hardware_shortfall({**HW, "CPUs": 4, "RealMemory": 30000}, HW) == [
        "CPUs 4 > 2",
        "RealMemory 30000 > 23081",
    ]
    assert slurm_nodes.node_fits({"CPUs": "2", "RealMemory": 22057}, HW)  # a key held back is not compared
    assert not slurm_nodes.node_fits({}, HW)  # no definition (describe did not run): never resumed
    assert not slurm_nodes.node_fits(HW, {})  # slurmd -C not read
    assert not slurm_nodes.node_fits({"Boards": 1}, {"CPUs": 2})  # Boards missing in slurmd -C counts as 0


def test_resume_plan_resumes_restart_losses_and_fitting_low_drains_only():
    found = [
        node("DOWN*", "n0", "Not responding"),
        node("IDLE+DRAIN", "n1", "Low socket*core*thread count, Low CPUs [slurm@2025-01-01T00:00:00]"),
        node("IDLE+DRAIN", "n2", "Low RealMemory [slurm@2025-01-01T00:00:00]"),
        node("IDLE+DRAIN", "n3", "maintenance by admin"),
        node("IDLE", "n4", "Node unexpectedly rebooted"),
        node("DOWN", "other", "Not responding"),
        node("MIXED+DRAIN", "n5", "Node unexpectedly rebooted [slurm@2025-01-01T00:00:00]"),
    ]
    names = ["n0", "n1", "n2", "n3", "n4", "n5"]
    configured = [HW, HW, {**HW, "RealMemory": 64000}, HW, HW, HW]
    detected = [HW] * 6
    plan = slurm_nodes.resume_plan(found, names, configured, detected, RESTART_RE, LOW_RE)
    # n2 really lacks memory, n3 was drained by an admin, n4 is idle, "other" is not this role's node.
    assert [n["NodeName"] for n in plan] == ["n0", "n1", "n5"]


def test_resume_plan_on_the_real_drain_leaves_a_gres_drain_alone():
    found = nodes("slurm-24.05-idle-drain-gres-count-low")
    name = found[0]["NodeName"]
    assert slurm_nodes.resume_plan(found, [name], [HW], [HW], RESTART_RE, LOW_RE) == []


def test_resume_plan_refuses_lists_of_different_length():
    with pytest.raises(ValueError, match=r"differ in length \(2, 1, 1\)"):
        slurm_nodes.resume_plan([], ["a", "b"], [{}], [{}], RESTART_RE, LOW_RE)


def test_gres_value():
    assert slurm_nodes.gres_value(["h100"] * 8) == "gpu:h100:8"
    assert slurm_nodes.gres_value(["h100", "a100", "h100"]) == "gpu:h100:2,gpu:a100:1"
    assert slurm_nodes.gres_value([]) == ""


def test_partition_line_sorts_options_ignoring_case():
    line = slurm_nodes.partition_line(
        "gpu", ["node2", "node0", "node1"], True, {"b": 1, "A": "x y", "MaxTime": "INFINITE"}
    )
    assert line == "PartitionName=gpu Nodes=node[0-2] Default=YES A=x y b=1 MaxTime=INFINITE"
    assert slurm_nodes.partition_line("p", ["n1"]) == "PartitionName=p Nodes=n1 Default=NO"


def test_memory_per_cpu_is_the_smallest_share_of_the_partitions_nodes():
    nodes = [{"CPUs": 8, "RealMemory": 31000}, {"CPUs": 16, "RealMemory": 64000},
             {"CPUs": "4", "RealMemory": "3001"}]
    assert slurm_nodes.memory_per_cpu(nodes) == 750
    assert slurm_nodes.memory_per_cpu(nodes[:2]) == 3875
    # A node without a description, or a nonsense one, gives no default rather than a wrong one.
    assert slurm_nodes.memory_per_cpu([*nodes, {"CPUs": 8}]) is None
    assert slurm_nodes.memory_per_cpu([{"CPUs": 0, "RealMemory": 100}]) is None
    assert slurm_nodes.memory_per_cpu([]) is None
    # A node with GPUs: none (a GPU job asking one CPU and no memory would lose the node's memory).
    assert slurm_nodes.memory_per_cpu(nodes[:2], [0, 8]) is None
    assert slurm_nodes.memory_per_cpu(nodes[:2], [0, 0]) == 3875


def test_partition_line_adds_the_memory_default_only_where_the_options_set_none():
    line = slurm_nodes.partition_line("p", ["n1", "n2"], True, {"OverSubscribe": "YES"}, 3875)
    assert line == "PartitionName=p Nodes=n[1-2] Default=YES DefMemPerCPU=3875 OverSubscribe=YES"
    for key in ("DefMemPerNode", "defmempercpu", "DefMemPerGPU"):
        line = slurm_nodes.partition_line("p", ["n1"], False, {key: 100}, 3875)
        assert line == f"PartitionName=p Nodes=n1 Default=NO {key}=100"
    assert slurm_nodes.partition_line("p", ["n1"], False, None, None) == "PartitionName=p Nodes=n1 Default=NO"
