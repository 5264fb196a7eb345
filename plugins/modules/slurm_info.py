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
  description:
    - One entry per C(NodeName=) line of C(scontrol show node --oneliner), with every key as printed and its
      value as text, except C(CPUTot), C(CPUAlloc), C(RealMemory), C(Sockets), C(CoresPerSocket),
      C(ThreadsPerCore) and C(Boards) (integers) and C(Reason) (null when empty or C((null))), plus C(state),
      C(flags) and C(not_responding) read from C(State).
  returned: always
  type: list
  elements: dict
  sample: [{"NodeName": "node1", "State": "IDLE", "state": "idle", "flags": [], "not_responding": false,
            "CPUTot": 2, "RealMemory": 23081, "Reason": null}]
  contains:
    NodeName:
      description: The node's name.
      type: str
      returned: always
      sample: node1
    State:
      description: The state as printed, flags included.
      type: str
      returned: when scontrol printed it
      sample: IDLE+CLOUD+POWERED_DOWN
    state:
      description: The base state of C(State), lower case, without the C(*) of a node not responding; null when empty.
      type: str
      returned: always
      sample: idle
    flags:
      description: The flags after the base state, lower case.
      type: list
      elements: str
      returned: always
      sample: [cloud, powered_down]
    not_responding:
      description: The base state ends in C(*) (Slurm before 23.02) or a flag is C(not_responding).
      type: bool
      returned: always
      sample: false
    Reason:
      description: Why the node is down or drained; null when empty or C((null)).
      type: str
      returned: when scontrol printed it
      sample: "Not responding [slurm@2026-01-01T00:00:00]"
jobs:
  description: Jobs in the queue, one entry per C(squeue) line.
  returned: when O(jobs=true)
  type: list
  elements: dict
  sample: [{"job_id": "12", "state": "RUNNING", "nodelist": "node[1-2]", "nodes": ["node1", "node2"],
            "user": "cluster", "name": "wrap", "node_count": 2}]
  contains:
    job_id:
      description: The job id as printed (C(12), C(12_3), C(12_[1-10%2]), C(1234+0)).
      type: str
      returned: always
      sample: "12"
    state:
      description: The job state (C(%T)).
      type: str
      returned: always
      sample: RUNNING
    nodelist:
      description: The node list as printed (a hostlist, a reason in parentheses for a pending job, or empty).
      type: str
      returned: always
      sample: node[1-2]
    nodes:
      description: The node list expanded; empty when it is a reason or empty.
      type: list
      elements: str
      returned: always
      sample: [node1, node2]
    user:
      description: The job's user.
      type: str
      returned: always
      sample: cluster
    name:
      description: The job's name.
      type: str
      returned: always
      sample: wrap
    node_count:
      description: The number of nodes (C(%D)).
      type: int
      returned: always
      sample: 2
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
