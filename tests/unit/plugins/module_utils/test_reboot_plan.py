"""module_utils/reboot_plan.py: rolling-reboot batches (a number or a percentage, the Slurm controller alone
and last), the batch value's validation, and the Slurm drain / drain-complete / resume decisions of one node.

Nodes come from the real scontrol captures of parsers/fixtures/scontrol_nodes (each with its .source) and,
for the states this role makes itself (IDLE+DRAIN with our reason, MIXED+DRAIN while jobs finish), from
lines in the ``scontrol show node --oneliner`` form through parse_scontrol_nodes; jobs through parse_squeue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter import reboot_plan as filters
from ansible_collections.gpuforge.cluster.plugins.module_utils import reboot_plan as rp
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    parse_scontrol_nodes,
    parse_squeue,
)

FIXTURES = Path(__file__).parent / "parsers" / "fixtures" / "scontrol_nodes"
OURS = "gpuforge: driver reboot"  # roles/nvidia_stack/vars/main.yml __nvidia_stack_drain_reason
STAMP = " [admin@2026-01-02T03:04:05]"  # what scontrol appends to a reason: who set it, when


def fixture_nodes(name: str) -> list[dict]:
    return parse_scontrol_nodes((FIXTURES / f"{name}.out").read_text())


def node(state: str, name: str = "node1", reason: str | None = None) -> dict:
    line = f"NodeName={name} Arch=x86_64 CPUTot=2 State={state}" + (f" Reason={reason}" if reason else "")
    return parse_scontrol_nodes(line)[0]


def jobs(*lines: str) -> list[dict]:
    return parse_squeue("\n".join(lines))


# ---------------------------------------------------------------- batch value


@pytest.mark.parametrize("value", [1, 3, "1", "2", " 4 ", "25%", "100%", "12.5%", "50 %"])
def test_batch_values_accepted(value):
    assert rp.batch_problem(value) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, ">= 1"),
        (-2, ">= 1"),
        ("0", ">= 1"),
        ("0%", "above 0%"),
        ("101%", "at most 100%"),
        ("25 percent", "percentage such as '25%'"),
        ("", "percentage such as '25%'"),
        (None, "percentage such as '25%'"),
        (True, "percentage such as '25%'"),
        (1.5, "percentage such as '25%'"),
        ([2], "percentage such as '25%'"),
    ],
)
def test_batch_values_refused_with_the_value_named(value, words):
    problem = rp.batch_problem(value)
    assert problem is not None and words in problem and "nvidia_stack_reboot_batch" in problem
    assert filters.reboot_batch_problems(value) == [problem]
    with pytest.raises(ValueError, match="nvidia_stack_reboot_batch"):
        rp.batch_size(value, 10)


@pytest.mark.parametrize(
    ("value", "total", "size"),
    [
        (1, 8, 1),
        ("3", 8, 3),
        ("25%", 8, 2),
        ("25%", 3, 1),  # 0.75 rounds down to 0, at least 1 (as serial)
        ("50%", 5, 2),
        ("100%", 5, 5),
        ("12.5%", 16, 2),
        ("10%", 0, 1),
        (10, 3, 10),  # more than the nodes: one batch
    ],
)
def test_batch_size(value, total, size):
    assert rp.batch_size(value, total) == size


# ---------------------------------------------------------------- the plan


def test_plan_one_at_a_time_keeps_the_play_order():
    plan = rp.reboot_plan(["node3", "node1", "node2"], 1, 3)
    assert plan["batches"] == [["node3"], ["node1"], ["node2"]]
    assert plan["size"] == 1 and plan["drain"] == {}
    assert plan["lines"][0] == "batch 1/3: node3 (no drain)"


def test_plan_percentage_of_the_play_and_a_short_last_batch():
    hosts = [f"gpu{i}" for i in range(1, 8)]
    plan = rp.reboot_plan(hosts, "25%", 12)  # 3 per batch: 25% of the play's 12 nodes, 7 need a reboot
    assert plan["batches"] == [["gpu1", "gpu2", "gpu3"], ["gpu4", "gpu5", "gpu6"], ["gpu7"]]


def test_plan_controller_reboots_alone_and_last():
    plan = rp.reboot_plan(["head", "node1", "node2", "node3"], 2, 4, alone=["head"])
    assert plan["batches"] == [["node1", "node2"], ["node3"], ["head"]]
    assert plan["lines"][-1] == "batch 3/3: head (no drain, alone: Slurm controller)"


def test_plan_controller_not_needing_a_reboot_adds_no_batch():
    assert rp.reboot_plan(["node1"], 1, 3, alone=["head"])["batches"] == [["node1"]]


def test_plan_no_hosts_no_batches_and_duplicates_once():
    assert rp.reboot_plan([], "25%", 4)["batches"] == []
    assert rp.reboot_plan(["a", "b", "a"], 5, 2)["batches"] == [["a", "b"]]


def test_plan_drains_only_the_nodes_slurmctld_lists():
    # R2-like: inventory names differ from the cluster names (node model); node9 is not a Slurm node.
    nodes = [node("IDLE", "ws1"), node("MIXED", "ws2"), node("IDLE", "head")]
    names = {"ws1.lab": "ws1", "ws2.lab": "ws2", "node9.lab": "node9"}
    plan = rp.reboot_plan(["ws1.lab", "ws2.lab", "node9.lab"], 2, 3, slurm_names=names, slurm_nodes=nodes)
    assert plan["drain"] == {"ws1.lab": "ws1", "ws2.lab": "ws2"}
    assert plan["lines"] == [
        "batch 1/2: ws1.lab (drain Slurm node ws1), ws2.lab (drain Slurm node ws2)",
        "batch 2/2: node9.lab (not a Slurm node (node9 not in slurmctld's list): no drain)",
    ]


def test_plan_without_slurm_drains_nothing():
    plan = rp.reboot_plan(["ws1"], 1, 1, slurm_names={"ws1": "ws1"}, slurm_nodes=None)
    assert plan["drain"] == {} and plan["lines"] == ["batch 1/1: ws1 (no drain)"]


def test_plan_filter_names_a_bad_batch():
    with pytest.raises(AnsibleFilterError, match="reboot_plan: nvidia_stack_reboot_batch must be >= 1"):
        filters.reboot_plan(["a"], 0, 1)
    assert filters.reboot_plan(["a", "b"], "50%", 2, None)["batches"] == [["a"], ["b"]]


# ---------------------------------------------------------------- reason stamp


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("gpuforge: driver reboot [root@2026-03-28T08:18:20]", OURS),
        ("gpuforge: driver reboot", OURS),
        ("stopping cluster [root@2026-03-28T08:18:20]", "stopping cluster"),
        ("NHC:  [root@2017-08-07T11:01:52]", "NHC:"),
        ("disk [sdb] replaced [slurm@2024-01-02T03:04:05]", "disk [sdb] replaced"),
        ("", None),
        (None, None),
    ],
)
def test_reason_text_drops_the_stamp(reason, text):
    assert rp.reason_text(reason) == text


# ---------------------------------------------------------------- drain decision


@pytest.mark.parametrize("state", ["IDLE", "MIXED", "ALLOCATED", "DOWN*", "IDLE+COMPLETING"])
def test_drain_a_node_in_service_or_down(state):
    decision = rp.drain_decision(node(state), "node1", OURS)
    assert decision["action"] == "drain" and decision["resume"] is True
    assert "node1" in decision["message"]


def test_drain_decision_on_real_captures():
    by_name = {n["NodeName"]: n for n in fixture_nodes("slurm-16.05-oneliner-ten-nodes")}
    assert rp.drain_decision(by_name["r1n03"], "r1n03", OURS)["action"] == "drain"  # ALLOCATED
    # DOWN*+DRAIN, Reason=Not responding [root@...]: someone else's drain, kept and never resumed.
    kept = rp.drain_decision(by_name["datamover2"], "datamover2", OURS)
    assert kept == {"action": "keep", "resume": False, "message": kept["message"]}
    assert "Not responding" in kept["message"] and "not resumed" in kept["message"]


def test_an_administrators_drain_stays_and_is_not_resumed():
    decision = rp.drain_decision(node("IDLE+DRAIN", reason="bad DIMM" + STAMP), "node1", OURS)
    assert decision["action"] == "keep" and decision["resume"] is False
    assert "bad DIMM" in decision["message"]


def test_our_own_earlier_drain_is_kept_and_resumed():
    decision = rp.drain_decision(node("MIXED+DRAIN", reason=OURS + STAMP), "node1", OURS)
    assert decision["action"] == "keep" and decision["resume"] is True


def test_a_node_slurmctld_does_not_list_is_not_drained():
    decision = filters.slurm_drain_decision([node("IDLE", "other")], "node1", OURS)
    assert decision["action"] == "skip" and decision["resume"] is False
    assert "node1 is not in slurmctld's node list" in decision["message"]


# ---------------------------------------------------------------- drain progress

SQUEUE_BUSY = (
    "41|RUNNING|node[1-2]|alice|train|2",
    "42|PENDING|(Resources)|bob|eval|1",
    "43|COMPLETING|node1|carol|wrap|1",
    "44|RUNNING|node3|dave|other|1",
)


def test_draining_node_with_jobs_is_not_done_and_names_them():
    progress = rp.drain_progress(node("MIXED+DRAIN", reason=OURS), jobs(*SQUEUE_BUSY), "node1")
    assert progress == {
        "done": False,
        "state": "drng",
        "jobs": ["41 (RUNNING, alice, train)", "43 (COMPLETING, carol, wrap)"],
    }


def test_drained_node_with_no_job_left_is_done():
    squeue = jobs("42|PENDING||bob|eval|1", *SQUEUE_BUSY[3:])
    progress = rp.drain_progress(node("IDLE+DRAIN", reason=OURS), squeue, "node1")
    assert progress == {"done": True, "state": "drain", "jobs": []}


def test_idle_drain_flag_but_a_job_still_listed_is_not_done():
    # slurmctld already shows IDLE+DRAIN while squeue still lists the job as COMPLETING.
    squeue = jobs("43|COMPLETING|node1|carol|wrap|1")
    progress = rp.drain_progress(node("IDLE+DRAIN", reason=OURS), squeue, "node1")
    assert progress["done"] is False and progress["jobs"] == ["43 (COMPLETING, carol, wrap)"]


@pytest.mark.parametrize(("state", "done"), [("IDLE", False), ("MIXED", False), ("DOWN*+DRAIN", True),
                                             ("IDLE+DRAIN+COMPLETING", False)])
def test_drain_progress_by_state(state, done):
    assert rp.drain_progress(node(state), [], "node1")["done"] is done


def test_drain_progress_of_a_missing_node_and_through_the_filter():
    assert rp.drain_progress(None, [], "node1") == {"done": False, "state": "missing", "jobs": []}
    nodes = fixture_nodes("slurm-16.05-oneliner-ten-nodes")
    assert filters.slurm_drain_progress(nodes, [], "datamover2")["done"] is True  # DOWN*+DRAIN, no job
    assert filters.slurm_drain_progress(nodes, None, "r1n03")["done"] is False  # ALLOCATED


# ---------------------------------------------------------------- resume decision


def test_resume_our_drain_once_slurmd_answers():
    decision = rp.resume_decision(node("IDLE+DRAIN", reason=OURS + STAMP), "node1", OURS)
    assert decision["action"] == "resume"


@pytest.mark.parametrize("state", ["DOWN*+DRAIN", "IDLE*+DRAIN", "IDLE+DRAIN+NOT_RESPONDING"])
def test_wait_while_slurmd_has_not_registered(state):
    assert rp.resume_decision(node(state, reason=OURS), "node1", OURS)["action"] == "wait"


def test_an_administrators_drain_set_during_the_reboot_stays():
    decision = rp.resume_decision(node("IDLE+DRAIN", reason="GPU burn-in" + STAMP), "node1", OURS)
    assert decision["action"] == "leave" and "GPU burn-in" in decision["message"]


def test_nothing_to_resume_when_not_drained_or_missing():
    assert rp.resume_decision(node("IDLE"), "node1", OURS)["action"] == "leave"
    assert rp.resume_decision(None, "node1", OURS)["action"] == "leave"
    by_name = fixture_nodes("slurm-16.05-oneliner-ten-nodes")
    # A real "Not responding" drain is not ours: it stays even once slurmd answers.
    assert filters.slurm_resume_decision(by_name, "datamover2", OURS)["action"] == "leave"


def test_the_reboot_sequence_drain_to_resume():
    """drain -> draining with a job -> drained -> rebooting (not responding) -> registered -> resume."""
    before = rp.drain_decision(node("MIXED"), "node1", OURS)
    assert before["action"] == "drain"
    assert not rp.drain_progress(node("MIXED+DRAIN", reason=OURS), jobs(SQUEUE_BUSY[0]), "node1")["done"]
    assert rp.drain_progress(node("IDLE+DRAIN", reason=OURS), [], "node1")["done"]
    assert rp.resume_decision(node("DOWN*+DRAIN", reason=OURS), "node1", OURS)["action"] == "wait"
    assert rp.resume_decision(node("IDLE+DRAIN", reason=OURS), "node1", OURS)["action"] == "resume"
