"""gpuforge.cluster.packages: dpkg first; apt only for what is missing, with the same options."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.gpuforge.cluster.plugins.action import packages

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
        return dict(answers[module_name])
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
    assert calls[1] == ("ansible.builtin.apt", {"name": ["munge", "slurmd"], "state": "present",
                                                "install_recommends": False, "cache_valid_time": 3600})
    assert result["changed"] is True and result["missing"] == ["slurmd"]


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
])
def test_bad_arguments_fail_before_anything_runs(args, message):
    mod, calls = action(args, {})
    with pytest.raises(AnsibleActionFail, match=message):
        mod.run(task_vars={})
    assert calls == []
