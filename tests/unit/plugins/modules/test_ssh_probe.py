"""ssh_probe: one ssh per target, mocked at argv level; failures listed by target.

Outputs are OpenSSH's own: ``hostname`` on success; a BatchMode login without a usable key ends with
rc 255 and ``<user>@<host>: Permission denied (publickey,password).``; an unknown host key with
StrictHostKeyChecking=yes ends with rc 255 and ``Host key verification failed.``.
"""

from __future__ import annotations

import threading
from unittest.mock import patch

from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import C_LOCALE
from ansible_collections.gpuforge.cluster.plugins.modules import ssh_probe

from .harness import run_module

DENIED = "cluster@node2: Permission denied (publickey,password).\n"
HOSTKEY = (
    "No ED25519 host key is known for node3 and you have requested strict checking.\n"
    "Host key verification failed.\n"
)
TARGETS = [
    {"target": "node1", "expect": "node1"},
    {"target": "node2", "expect": "node2"},
    {"target": "10.77.0.13", "expect": "node3"},
]


def usr_bin(self, name, *a, **k):
    return "/usr/bin/" + name


def argv_for(target, timeout=10):
    return ["/usr/bin/ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={timeout}", target, "hostname"]


def _run(args, answers, calls=None, check_mode=False):
    lock = threading.Lock()

    def run_command(self, argv, environ_update=None, **kw):
        with lock:
            if calls is not None:
                calls.append((argv, environ_update))
        return answers[argv[-2]]

    return run_module(ssh_probe.main, args, run_command, usr_bin, check_mode=check_mode)


def test_all_targets_answer():
    calls = []
    answers = {"node1": (0, "node1\n", ""), "node2": (0, "node2\n", ""), "10.77.0.13": (0, "node3\n", "")}
    result = _run({"targets": TARGETS}, answers, calls, check_mode=True)
    assert result["failed"] is False and result["changed"] is False
    assert result["failed_targets"] == []
    assert [r["ok"] for r in result["results"]] == [True, True, True]
    assert result["results"][2] == {"target": "10.77.0.13", "expect": "node3", "rc": 0, "stdout": "node3",
                                    "stderr": "", "ok": True, "attempts": 1}
    assert result["throttled"] == 0
    assert sorted(argv for argv, _env in calls) == sorted(argv_for(t["target"]) for t in TARGETS)
    assert all(env == C_LOCALE for _argv, env in calls)  # through module_utils/runner.py


def test_prompt_failure_and_wrong_host_are_listed():
    answers = {
        "node1": (0, "node1\n", ""),
        "node2": (255, "", DENIED),
        "10.77.0.13": (0, "node4\n", ""),  # the address now belongs to another node
    }
    result = _run({"targets": TARGETS}, answers)
    assert result["failed"] is True
    assert result["failed_targets"] == ["node2", "10.77.0.13"]
    assert result["msg"] == (
        "ssh -o BatchMode=yes failed for 2 of 3 targets: "
        "node2: rc=255 stdout='' (expected 'node2') cluster@node2: Permission denied (publickey,password).; "
        "10.77.0.13: rc=0 stdout='node4' (expected 'node3') "
    )
    assert [r["ok"] for r in result["results"]] == [True, False, False]


def test_unknown_host_key_fails():
    answers = {"node1": (0, "node1\n", ""), "node2": (0, "node2\n", ""), "10.77.0.13": (255, "", HOSTKEY)}
    result = _run({"targets": TARGETS}, answers)
    assert result["failed_targets"] == ["10.77.0.13"]
    assert "10.77.0.13: rc=255" in result["msg"] and "Host key verification failed." in result["msg"]


def test_options_reach_argv_and_results_keep_target_order():
    calls = []
    answers = {"node1": (0, "node1\n", ""), "node2": (0, "node2\n", "")}
    args = {"targets": TARGETS[:2], "connect_timeout": 3, "parallel": 1, "self": "node0"}
    result = _run(args, answers, calls)
    assert [argv for argv, _env in calls] == [argv_for("node1", 3), argv_for("node2", 3)]
    assert [r["target"] for r in result["results"]] == ["node1", "node2"]


# What OpenSSH printed when sshd's MaxStartups reset the connection (8 nodes probing 24 names at once).
RESET = ("kex_exchange_identification: read: Connection reset by peer\r\n"
         "Connection reset by 10.80.0.12 port 22\r\n")
CLOSED = ("kex_exchange_identification: Connection closed by remote host\r\n"
          "Connection closed by 10.80.0.12 port 22\r\n")


def answers_in_turn(per_target):
    """run_command answers: each target's answers in turn (the last one repeats)."""
    seen = {}
    lock = threading.Lock()

    def answer(target):
        with lock:
            n = seen[target] = seen.get(target, -1) + 1
        return per_target[target][min(n, len(per_target[target]) - 1)]
    return answer


class Answers(dict):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __getitem__(self, key):
        return self.fn(key)


def test_a_throttled_connection_is_tried_again_and_counted():
    answers = Answers(answers_in_turn({
        "node1": [(255, "", RESET), (255, "", CLOSED), (0, "node1\n", "")],
        "node2": [(0, "node2\n", "")],
        "10.77.0.13": [(0, "node3\n", "")],
    }))
    with patch.object(ssh_probe.time, "sleep") as sleep:
        result = _run({"targets": TARGETS}, answers)
    assert result["failed"] is False
    assert [r["attempts"] for r in result["results"]] == [3, 1, 1]
    assert result["throttled"] == 2
    assert sleep.call_count == 2
    assert all(0 < call.args[0] <= 6 for call in sleep.call_args_list)


def test_throttling_past_the_retries_fails_and_other_failures_are_not_retried():
    answers = Answers(answers_in_turn({
        "node1": [(255, "", RESET)],
        "node2": [(255, "", DENIED)],
        "10.77.0.13": [(0, "node3\n", "")],
    }))
    with patch.object(ssh_probe.time, "sleep"):
        result = _run({"targets": TARGETS, "retries": 2}, answers)
    assert result["failed"] is True
    assert result["failed_targets"] == ["node1", "node2"]
    assert [r["attempts"] for r in result["results"]] == [3, 1, 1]
    assert "Connection reset by peer" in result["msg"]


def test_schedule_starts_after_self_and_groups_names_by_host():
    targets = [{"target": t, "expect": h} for h in ("node0", "node1", "node2", "node3")
               for t in (h, h + ".lab", "10.0.0." + h[-1])]
    groups = ssh_probe.schedule(targets, "node2")
    assert [[targets[i]["expect"] for i in g] for g in groups] == [
        ["node3"] * 3, ["node0"] * 3, ["node1"] * 3, ["node2"] * 3]
    assert ssh_probe.schedule(targets, "elsewhere")[0] == [0, 1, 2]
    # Without all names: the next host by all its names, every other host (this one too) by its first.
    assert ssh_probe.schedule(targets, "node2", all_names=False) == [[9, 10, 11], [0], [3], [6]]


def test_without_all_names_every_pair_and_every_kind_of_name_once():
    calls = []
    targets = [{"target": t, "expect": h} for h in ("node0", "node1", "node2")
               for t in (h, h + ".lab", "10.0.0." + h[-1])]
    answers = {t["target"]: (0, t["expect"] + "\n", "") for t in targets}
    result = _run({"targets": targets, "all_names": False, "self": "node0", "parallel": 1}, answers, calls)
    assert result["failed"] is False
    assert [argv[-2] for argv, _env in calls] == ["node1", "node1.lab", "10.0.0.1", "node2", "node0"]
    assert [r["target"] for r in result["results"]] == ["node0", "node1", "node1.lab", "10.0.0.1", "node2"]


def test_fan_in_per_host_is_one_and_hosts_at_once_are_bounded():
    """8 hosts x 3 names with parallel=3: never two connections to one host, never more than 3 at once."""
    import time as _time
    hosts = [f"node{i}" for i in range(8)]
    targets = [{"target": f"{h}{s}", "expect": h} for h in hosts for s in ("", ".x", "-ip")]
    lock = threading.Lock()
    live = {}
    peak = {"host": 0, "all": 0}

    def run_command(self, argv, environ_update=None, **kw):
        host = next(t["expect"] for t in targets if t["target"] == argv[-2])
        with lock:
            live[host] = live.get(host, 0) + 1
            peak["host"] = max(peak["host"], live[host])
            peak["all"] = max(peak["all"], sum(live.values()))
        _time.sleep(0.005)
        with lock:
            live[host] -= 1
        return 0, host + "\n", ""

    args = {"targets": targets, "parallel": 3, "self": "node5"}
    results = run_module(ssh_probe.main, args, run_command, usr_bin)
    assert results["failed"] is False and len(results["results"]) == 24
    assert peak == {"host": 1, "all": 3}


def test_target_needs_expect():
    result = _run({"targets": [{"target": "node1"}]}, {})
    assert result["failed"] is True
    assert "expect" in result["msg"]
