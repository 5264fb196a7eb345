#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: slurm_info
short_description: Read Slurm's node and job state
version_added: 0.1.0
description:
  - Runs C(scontrol show node --oneliner) and C(squeue -h -o '%i|%T|%N|%u|%j|%D') with C(LC_ALL=C)
    and returns the parsed nodes and jobs.
  - Read-only.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  nodes_output:
    description: Parse this C(scontrol show node --oneliner) text instead of running scontrol.
    type: str
  jobs_output:
    description: Parse this C(squeue) text instead of running squeue.
    type: str
  jobs:
    description: Also read the job queue.
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
- name: Read node and job state
  gpuforge.cluster.slurm_info:
  register: slurm

- name: Every node is idle
  ansible.builtin.assert:
    that: slurm.nodes | map(attribute='state') | unique == ['idle']
"""

RETURN = r"""
nodes:
  description: One entry per node with the scontrol keys as printed, plus C(state) (base state,
    lower case), C(flags) (such as C(cloud), C(drain), C(powered_down)) and C(not_responding).
  returned: always
  type: list
  elements: dict
  sample: [{"NodeName": "node1", "State": "IDLE", "state": "idle", "flags": [], "not_responding": false,
            "CPUTot": 2, "RealMemory": 23081, "Reason": null}]
jobs:
  description: Jobs in the queue (job_id, state, nodelist, nodes, user, name, node_count).
  returned: when I(jobs=true)
  type: list
  elements: dict
  sample: [{"job_id": "12", "state": "RUNNING", "nodelist": "node[1-2]", "nodes": ["node1", "node2"],
            "user": "cluster", "name": "wrap", "node_count": 2}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    SQUEUE_FORMAT,
    parse_scontrol_nodes,
    parse_squeue,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def run(module, tool, args):
    rc, out, err, _argv = run_tool(module, tool, args, "the Slurm client (slurm-client)")
    if rc != 0:
        module.fail_json(msg="%s %s failed (rc=%d): %s" % (tool, " ".join(args), rc, err.strip()))
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(nodes_output=dict(type="str"), jobs_output=dict(type="str"),
                           jobs=dict(type="bool", default=True)),
        supports_check_mode=True,
    )
    nodes_text = module.params["nodes_output"]
    if nodes_text is None:
        nodes_text = run(module, "scontrol", ["show", "node", "--oneliner"])
    result = dict(changed=False)
    try:
        result["nodes"] = parse_scontrol_nodes(nodes_text)
        if module.params["jobs"]:
            jobs_text = module.params["jobs_output"]
            if jobs_text is None:
                jobs_text = run(module, "squeue", ["-h", "-o", SQUEUE_FORMAT])
            result["jobs"] = parse_squeue(jobs_text)
    except ParseError as exc:
        module.fail_json(msg=str(exc))
    for node in result["nodes"]:
        if node.get("Reason") in ("", "(null)"):
            node["Reason"] = None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
