"""Run a module's main() with its arguments and collect what it exits or fails with.

The older module tests each carry their own copy of this; new tests use this one.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Exit(Exception):
    pass


def run_module(main, args, run_command=None, bin_path=None):
    """Result dict of main() with ``failed`` set; run_command/get_bin_path patched when given."""
    results = {}

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
        patch.object(basic.AnsibleModule, "get_bin_path", bin_path or (lambda self, name, *a, **k: name)),
        patch.object(basic.AnsibleModule, "run_command", run_command or no_run),
        pytest.raises(Exit),
    ):
        main()
    return results
