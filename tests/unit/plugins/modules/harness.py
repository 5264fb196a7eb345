"""Run a module's main() with its arguments and collect what it exits or fails with.

Every module test uses this one, either imported (``from .harness import run_module``) or as the
``module_runner`` fixture of conftest.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from unittest.mock import patch

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Exit(Exception):
    pass


def fixed_bin_path(path):
    """A get_bin_path that answers ``path`` for every tool; ``fixed_bin_path(None)`` finds none."""
    def get_bin_path(self, name, *a, **k):
        return path
    return get_bin_path


NOT_FOUND = fixed_bin_path(None)


def _get_bin_path(bin_path):
    if bin_path is None:
        return lambda self, name, *a, **k: name
    if isinstance(bin_path, str):
        return fixed_bin_path(bin_path)
    if isinstance(bin_path, Mapping):
        return lambda self, name, *a, **k: bin_path.get(name)
    return bin_path


def run_module(main, args, run_command=None, bin_path=None, *, check_mode=None, diff=None):
    """Result dict of main() with ``failed`` set.

    run_command replaces AnsibleModule.run_command; without it any tool run is an AssertionError.
    bin_path is what get_bin_path answers: None (the default) the tool's own name, a str that path for
    every tool, a dict name -> path (a name not in it is not found), NOT_FOUND nothing, or a callable
    ``(self, name, *a, **k)`` that replaces get_bin_path. check_mode and diff, when given, set
    ``_ansible_check_mode`` and ``_ansible_diff`` in args.
    """
    results = {}
    args = dict(args)
    if check_mode is not None:
        args["_ansible_check_mode"] = check_mode
    if diff is not None:
        args["_ansible_diff"] = diff

    def exit_json(self, **kw):
        results.update(kw, failed=False)
        raise Exit

    def fail_json(self, **kw):
        results.update(kw, failed=True)
        raise Exit

    def no_run(self, *a, **kw):
        raise AssertionError("no tool may run when its output is given")

    with (
        patch_module_args(args),
        patch.object(basic.AnsibleModule, "exit_json", exit_json),
        patch.object(basic.AnsibleModule, "fail_json", fail_json),
        patch.object(basic.AnsibleModule, "get_bin_path", _get_bin_path(bin_path)),
        patch.object(basic.AnsibleModule, "run_command", run_command or no_run),
        pytest.raises(Exit),
    ):
        main()
    return results
