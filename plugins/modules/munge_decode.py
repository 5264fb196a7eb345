#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: munge_decode
short_description: Decode the munge credentials other nodes made, here, in one call
version_added: 0.3.0
description:
  - Runs C(unmunge) for each credential (given on its standard input, never on a command line) and
    checks that munged decoded it, which proves that this node shares the other node's munge key and
    that the clocks are close enough.
  - One call per node instead of one C(unmunge) task per other node, so a cluster of N nodes makes
    N calls, not N*(N-1).
  - Read-only; fails naming every origin whose credential did not decode, with unmunge's message.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  credentials:
    description: Origin (the node that made it) to credential, as C(munge --no-input) printed it.
    type: dict
    required: true
attributes:
  check_mode:
    description: Runs in check mode too; it changes nothing.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
"""

EXAMPLES = r"""
- name: Decode every other node's credential here
  gpuforge.cluster.munge_decode:
    credentials: "{{ dict(others | zip(others | map('extract', hostvars, ['cred', 'stdout']))) }}"
  no_log: true
"""

RETURN = r"""
decoded:
  description: The origins whose credential decoded, sorted.
  returned: always
  type: list
  elements: str
  sample: ["node1", "node2"]
failed_origins:
  description: Origin to unmunge's status or error, for those that did not decode.
  returned: always
  type: dict
  sample: {"node2": "Invalid credential (rc=15)"}
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool

STATUS_RE = re.compile(r"^STATUS:\s+(.*?)\s*$", re.M)


def judge(rc, out, err):
    """unmunge's exit code and output -> None when it decoded, else the reason."""
    status = STATUS_RE.search(out or "")
    if rc == 0 and status and status.group(1) == "Success (0)":
        return None
    if status:
        reason = status.group(1)
    else:
        lines = (err or "").strip().splitlines()
        reason = lines[-1] if lines else "no output"
    return "%s (rc=%d)" % (reason, rc)


def main():
    module = AnsibleModule(
        argument_spec={"credentials": {"type": "dict", "required": True, "no_log": True}},
        supports_check_mode=True,
    )
    decoded, failed = [], {}
    for origin, credential in sorted(module.params["credentials"].items()):
        rc, out, err, _argv = run_tool(module, "unmunge", [], "munge", data=credential)
        reason = judge(rc, out, err)
        if reason is None:
            decoded.append(origin)
        else:
            failed[origin] = reason
    if failed:
        module.fail_json(msg="munge credentials from %s did not decode here: %s. Different munge keys or clock skew."
                         % (", ".join(sorted(failed)), "; ".join("%s: %s" % kv for kv in sorted(failed.items()))),
                         decoded=decoded, failed_origins=failed)
    module.exit_json(changed=False, decoded=decoded, failed_origins=failed)


if __name__ == "__main__":
    main()
