"""ssh_probe: one ssh per target, mocked at argv level; failures listed by target.

Outputs are OpenSSH's own: ``hostname`` on success; a BatchMode login without a usable key ends with
rc 255 and ``<user>@<host>: Permission denied (publickey,password).``; an unknown host key with
StrictHostKeyChecking=yes ends with rc 255 and ``Host key verification failed.``.
"""

from __future__ import annotations

import threading
from unittest.mock import patch

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.gpuforge.cluster.plugins.modules import ssh_probe

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


def argv_for(target, timeout=10):
    return ["/usr/bin/ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={timeout}", target, "hostname"]


class Exit(Exception):
    pass


def _run(args, answers, calls=None, check_mode=False):
    results = {}
    lock = threading.Lock()

    def exit_json(self, **kw):
        results.update(kw, failed=False)
        raise Exit

    def fail_json(self, **kw):
        results.update(kw, failed=True)
        raise Exit

    def run_command(self, argv, environ_update=None, **kw):
        with lock:
            if calls is not None:
                calls.append((argv, environ_update))
        return answers[argv[-2]]

    with (
        patch_module_args(dict(args, _ansible_check_mode=check_mode)),
        patch.object(basic.AnsibleModule, "exit_json", exit_json),
        patch.object(basic.AnsibleModule, "fail_json", fail_json),
        patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name),
        patch.object(basic.AnsibleModule, "run_command", run_command),
        pytest.raises(Exit),
    ):
        ssh_probe.main()
    return results


def test_all_targets_answer():
    calls = []
    answers = {"node1": (0, "node1\n", ""), "node2": (0, "node2\n", ""), "10.77.0.13": (0, "node3\n", "")}
    result = _run({"targets": TARGETS}, answers, calls, check_mode=True)
    assert result["failed"] is False and result["changed"] is False
    assert result["failed_targets"] == []
    assert [r["ok"] for r in result["results"]] == [True, True, True]
    assert result["results"][2] == {"target": "10.77.0.13", "expect": "node3", "rc": 0, "stdout": "node3",
                                    "stderr": "", "ok": True}
    assert sorted(argv for argv, _env in calls) == sorted(argv_for(t["target"]) for t in TARGETS)
    assert all(env == {"LC_ALL": "C"} for _argv, env in calls)


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
    result = _run({"targets": TARGETS[:2], "connect_timeout": 3, "parallel": 1}, answers, calls)
    assert [argv for argv, _env in calls] == [argv_for("node1", 3), argv_for("node2", 3)]
    assert [r["target"] for r in result["results"]] == ["node1", "node2"]


def test_target_needs_expect():
    result = _run({"targets": [{"target": "node1"}]}, {})
    assert result["failed"] is True
    assert "expect" in result["msg"]
