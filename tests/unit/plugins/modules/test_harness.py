"""harness.run_module (also the module_runner fixture): flags, get_bin_path forms, run_command guard."""

from __future__ import annotations

import pytest
from ansible.module_utils.basic import AnsibleModule

from .harness import NOT_FOUND, fixed_bin_path, run_module


def probe():
    """A module that reports its flags and where get_bin_path finds two tools, and runs one when asked."""
    module = AnsibleModule(argument_spec={"run": {"type": "bool", "default": False}},
                           supports_check_mode=True)
    if module.params["run"]:
        rc, out, _err = module.run_command(["tool"])
        module.fail_json(msg=out, rc=rc)
    module.exit_json(changed=False, check_mode=module.check_mode, diff=module._diff,
                     found=[module.get_bin_path(name) for name in ("tool", "other")])


def test_fixture_is_the_harness(module_runner):
    assert module_runner is run_module


@pytest.mark.parametrize(("kwargs", "flags"), [
    ({}, (False, False)),
    ({"check_mode": True}, (True, False)),
    ({"check_mode": True, "diff": True}, (True, True)),
])
def test_check_mode_and_diff(module_runner, kwargs, flags):
    result = module_runner(probe, {}, **kwargs)
    assert (result["check_mode"], result["diff"]) == flags and result["failed"] is False


def test_flags_in_args_still_work():
    result = run_module(probe, {"_ansible_check_mode": True, "_ansible_diff": True})
    assert (result["check_mode"], result["diff"]) == (True, True)


@pytest.mark.parametrize(("bin_path", "found"), [
    (None, ["tool", "other"]),
    ("/usr/bin/x", ["/usr/bin/x", "/usr/bin/x"]),
    (fixed_bin_path("/opt/y"), ["/opt/y", "/opt/y"]),
    (NOT_FOUND, [None, None]),
    (fixed_bin_path(None), [None, None]),
    ({"tool": "/usr/sbin/tool"}, ["/usr/sbin/tool", None]),
    (lambda self, name, *a, **k: "/bin/" + name, ["/bin/tool", "/bin/other"]),
])
def test_bin_path_forms(module_runner, bin_path, found):
    assert module_runner(probe, {}, bin_path=bin_path)["found"] == found


def test_run_command_is_refused_unless_given(module_runner):
    with pytest.raises(AssertionError, match="no tool may run"):
        module_runner(probe, {"run": True})
    result = module_runner(probe, {"run": True}, lambda self, argv, **kw: (3, "ran", ""))
    assert result == {"msg": "ran", "rc": 3, "failed": True}
