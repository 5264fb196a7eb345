#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bmc_probe
short_description: Ask each node's BMC for its power state and system GUID over IPMI, read-only
version_added: 0.4.0
description:
  - For each node, runs C(ipmitool chassis power status) and, with O(guid), C(ipmitool mc guid) against the
    node's BMC, from the host the module runs on (the Slurm controller, which runs the power-save programs).
  - The password reaches ipmitool through C(-f /dev/stdin), a pipe, never C(-P) (argv is readable by every
    user in /proc) and never C(-E) (so is the environment).
  - Read-only. Fails naming every BMC that did not answer, with ipmitool's message.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  bmcs:
    description: Node name to its BMC's host name or address.
    type: dict
    required: true
  user:
    description: IPMI user.
    type: str
    required: true
  password:
    description: IPMI password.
    type: str
    required: true
  interface:
    description: ipmitool C(-I).
    type: str
    choices: [lanplus, lan]
    default: lanplus
  privilege:
    description: ipmitool C(-L).
    type: str
    choices: [CALLBACK, USER, OPERATOR, ADMINISTRATOR]
  cipher_suite:
    description: ipmitool C(-C).
    type: int
  timeout:
    description: Seconds for each ipmitool call.
    type: int
    default: 20
  guid:
    description: Read each BMC's system GUID too (C(mc guid)).
    type: bool
    default: true
attributes:
  check_mode:
    description: Runs in check mode too; it changes nothing.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
"""

EXAMPLES = r"""
- name: Ask every compute node's BMC for its power state and GUID
  gpuforge.cluster.bmc_probe:
    bmcs: {node002: ipminode002, node003: ipminode003}
    user: ADMIN
    password: "{{ vault_ipmi_password }}"
  no_log: true
  register: probe
"""

RETURN = r"""
bmcs:
  description: Node name to what its BMC answered.
  returned: always
  type: dict
  sample: {"node002": {"address": "ipminode002", "power": "on", "guid": "4c4c4544-0038-3410-8031-b4c04f534e32"}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.bmc_guid import parse_ipmitool_mc_guid
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.ipmitool import parse_chassis_power
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def base_args(address, params):
    """ipmitool's options for one BMC; the password comes from stdin (-f /dev/stdin), never from argv."""
    args = ["-I", params["interface"], "-H", str(address), "-U", params["user"], "-f", "/dev/stdin",
            "-N", str(max(1, params["timeout"] // 4)), "-R", "3"]
    if params.get("privilege"):
        args += ["-L", params["privilege"]]
    if params.get("cipher_suite") is not None:
        args += ["-C", str(params["cipher_suite"])]
    return args


def first_line(out, err):
    lines = [line.strip() for line in ((err or "") + "\n" + (out or "")).splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def probe(module, node, address, params):
    """What one BMC answered: {'address', 'power', 'guid'} or {'address', 'error'}."""
    result = {"address": str(address)}
    steps = [("power", ["chassis", "power", "status"], parse_chassis_power)]
    if params["guid"]:
        steps.append(("guid", ["mc", "guid"], parse_ipmitool_mc_guid))
    for key, command, parse in steps:
        rc, out, err, _argv = run_tool(module, "ipmitool", base_args(address, params) + command, "ipmitool",
                                       data=params["password"])
        if rc != 0:
            result["error"] = "ipmitool %s (rc=%d): %s" % (" ".join(command), rc, first_line(out, err))
            return result
        try:
            result[key] = parse(out)
        except ParseError as exc:
            result["error"] = "ipmitool %s: %s" % (" ".join(command), exc)
            return result
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "bmcs": {"type": "dict", "required": True},
            "user": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "interface": {"type": "str", "choices": ["lanplus", "lan"], "default": "lanplus"},
            "privilege": {"type": "str", "choices": ["CALLBACK", "USER", "OPERATOR", "ADMINISTRATOR"]},
            "cipher_suite": {"type": "int"},
            "timeout": {"type": "int", "default": 20},
            "guid": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    results = {node: probe(module, node, address, module.params)
               for node, address in sorted(module.params["bmcs"].items())}
    failed = {node: result for node, result in results.items() if "error" in result}
    if failed:
        module.fail_json(msg="BMCs that did not answer: %s. Check the address, the BMC network and the IPMI user."
                         % "; ".join("%s (BMC %s): %s" % (node, r["address"], r["error"])
                                     for node, r in sorted(failed.items())), bmcs=results)
    module.exit_json(changed=False, bmcs=results)


if __name__ == "__main__":
    main()
