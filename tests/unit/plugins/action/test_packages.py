"""gpuforge.cluster.packages: dpkg first; apt only for what is missing, with the same options."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.gpuforge.cluster.plugins.action import packages
from ansible_collections.gpuforge.cluster.plugins.module_utils import apt_faults

INSTALLED = {"openmpi-bin": "4.1.4-3+b1", "libnccl2": "2.28.3-1+cuda13.0", "munge": "0.5.15-2"}


def test_split_spec():
    assert packages.split_spec("munge") == ("munge", None)
    assert packages.split_spec("libnccl2=2.28.3-1+cuda13.0") == ("libnccl2", "2.28.3-1+cuda13.0")
    assert packages.split_spec("libc6:amd64=2.36-9") == ("libc6", "2.36-9")


def test_missing_names_and_pins():
    assert packages.missing(["munge", "openmpi-bin"], INSTALLED) == []
    assert packages.missing(["munge", "slurmd"], INSTALLED) == ["slurmd"]
    assert packages.missing(["libnccl2=2.28.3-1+cuda13.0"], INSTALLED) == []
    assert packages.missing(["libnccl2=2.27.7-1+cuda12.9"], INSTALLED) == ["libnccl2=2.27.7-1+cuda12.9"]


def action(args, answers):
    """The action with its task args; _execute_module answers from ``answers`` by module name."""
    task = MagicMock()
    task.args = args
    task.async_val = 0
    mod = packages.ActionModule(task, MagicMock(), MagicMock(), MagicMock(), MagicMock(), MagicMock())
    calls = []

    def execute(module_name, module_args, task_vars=None, **kw):
        calls.append((module_name, module_args))
        no_cloud_init = {"stat": {"exists": False}} if module_name == "ansible.builtin.stat" else None
        answer = answers.get(module_name, no_cloud_init)
        if isinstance(answer, list):  # one answer per call, in order
            return dict(answer.pop(0))
        return dict(answer)
    mod._execute_module = execute
    return mod, calls


def test_everything_installed_runs_no_apt():
    mod, calls = action({"name": ["openmpi-bin", "munge"], "update_cache": True, "cache_valid_time": 3600},
                        {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []}})
    result = mod.run(task_vars={})
    assert calls == [("gpuforge.cluster.dpkg_versions", {"names": ["munge", "openmpi-bin"]})]
    assert result["changed"] is False and result["missing"] == []
    assert result["msg"] == "all 2 package(s) installed"


def test_a_missing_package_runs_apt_with_the_whole_list_and_options():
    mod, calls = action({"name": ["munge", "slurmd"], "install_recommends": False,
                         "cache_valid_time": 3600},
                        {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []},
                         "ansible.builtin.apt": {"changed": True, "stdout": "Setting up slurmd"}})
    result = mod.run(task_vars={})
    assert calls[1] == ("ansible.builtin.stat", {"path": "/usr/bin/cloud-init", "get_checksum": False})
    assert calls[2] == ("ansible.builtin.apt", {"name": ["munge", "slurmd"], "state": "present",
                                                "install_recommends": False, "cache_valid_time": 3600,
                                                "lock_timeout": 600})
    assert result["changed"] is True and result["missing"] == ["slurmd"] and result["attempts"] == 1


def test_a_failed_query_fails_and_apt_does_not_run():
    failed = {"failed": True, "msg": "dpkg-query failed (rc=2)"}
    mod, calls = action({"name": "munge"}, {"gpuforge.cluster.dpkg_versions": failed})
    result = mod.run(task_vars={})
    assert result["failed"] is True and result["msg"] == "dpkg-query failed (rc=2)"
    assert len(calls) == 1


@pytest.mark.parametrize(("args", "message"), [
    ({"name": ["munge"], "state": "absent"}, "state must be present"),
    ({"name": ["munge"], "purge": True}, "Invalid options for .*: purge"),
    ({"name": [""]}, "name must be a package name"),
    ({"name": ["munge"], "retries": -1}, "retries must be a whole number of tries, got -1"),
    ({"name": ["munge"], "lock_timeout": "ten"}, "lock_timeout must be a whole number of seconds"),
])
def test_bad_arguments_fail_before_anything_runs(args, message):
    mod, calls = action(args, {})
    with pytest.raises(AnsibleActionFail, match=message):
        mod.run(task_vars={})
    assert calls == []


FIX = Path(__file__).parents[1] / "module_utils" / "fixtures" / "apt"
UNREACHABLE = json.loads((FIX / "install-temporary-failure-resolving.json").read_text())
UNREACHABLE["failed"] = True


def test_cloud_init_is_waited_for_before_apt(monkeypatch):
    mod, calls = action({"name": ["slurmd"], "cloud_init_timeout": 60},
                        {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []},
                         "ansible.builtin.stat": {"stat": {"exists": True}},
                         "ansible.builtin.command": {"rc": 0, "stdout": "\nstatus: done"},
                         "ansible.builtin.apt": {"changed": True}})
    result = mod.run(task_vars={})
    assert [c[0] for c in calls] == ["gpuforge.cluster.dpkg_versions", "ansible.builtin.stat",
                                     "ansible.builtin.command", "ansible.builtin.apt"]
    assert calls[2][1] == {"argv": ["timeout", "60", "cloud-init", "status", "--wait"]}
    assert result["cloud_init"] == "status: done"


def test_an_unreachable_repository_is_retried_with_backoff_then_named(monkeypatch):
    sleeps = []
    monkeypatch.setattr(packages.time, "sleep", sleeps.append)
    mod, calls = action({"name": ["slurmd"], "retries": 2, "retry_delay": 5},
                        {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []},
                         "ansible.builtin.apt": [UNREACHABLE] * 3})
    result = mod.run(task_vars={})
    assert sleeps == [5, 10] and [c[0] for c in calls].count("ansible.builtin.apt") == 3
    assert result["failed"] is True and result["attempts"] == 3
    assert result["msg"].startswith(
        "repository unreachable after 3 attempts: http://mirrors.linode.com/ubuntu "
        "(Temporary failure resolving 'mirrors.linode.com'). apt said: E: Failed to fetch")


def test_a_repository_that_comes_back_is_fine(monkeypatch):
    monkeypatch.setattr(packages.time, "sleep", lambda s: None)
    mod, _calls = action({"name": ["slurmd"]},
                         {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []},
                          "ansible.builtin.apt": [UNREACHABLE, {"changed": True}]})
    result = mod.run(task_vars={})
    assert result.get("failed") is not True and result["attempts"] == 2


def test_a_missing_file_is_not_retried(monkeypatch):
    monkeypatch.setattr(packages.time, "sleep", lambda s: pytest.fail("no retry for a 404"))
    gone = {"failed": True, "msg": "E: Failed to fetch http://deb.debian.org/debian/pool/main/s/slurm/x.deb  "
                                   "404  Not Found [IP: 151.101.2.132 80]"}
    mod, _calls = action({"name": ["slurmd"]},
                         {"gpuforge.cluster.dpkg_versions": {"packages": INSTALLED, "held": []},
                          "ansible.builtin.apt": gone})
    result = mod.run(task_vars={})
    assert result["attempts"] == 1 and "repository unreachable: http://deb.debian.org/debian" in result["msg"]


def test_apt_faults_reads_an_update_failure():
    text = (FIX / "update-could-not-resolve.txt").read_text()
    info = apt_faults.classify({"msg": "Failed to update apt cache: " + text})
    assert info == {"transient": True, "repositories": ["https://acme.com/mirror-Debian/debs"],
                    "reasons": ["Could not resolve 'acme.com'"]}
