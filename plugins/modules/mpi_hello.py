#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mpi_hello
short_description: Run an MPI program with one rank per node and report the PML each rank selected
version_added: 0.3.0
description:
  - Runs C(mpirun -np N --host node0:1,... --mca pml_base_verbose 10 PROGRAM...) and returns its output lines and,
    per host, the point-to-point layer (PML) each rank selected (C(ucx) on RDMA ports, C(ob1) over the BTLs such
    as TCP), read from Open MPI's own selection lines - so a verify says which transport the run used.
  - Fails when mpirun fails, naming its exit code and the last lines it printed.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only (runs a program); in check mode nothing runs. The tool runs with C(LC_ALL=C).
options:
  hosts:
    description: The node names, one rank each.
    type: list
    elements: str
    required: true
  argv:
    description: The program and its arguments.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: MPI hello on every node
  gpuforge.cluster.mpi_hello:
    hosts: [node0, node1, node2]
    argv: [python3, /usr/local/bin/gpuforge-mpi-hello.py]
  become: true
  become_user: cluster
"""

RETURN = r"""
stdout_lines:
  description: What the program printed.
  returned: success
  type: list
  elements: str
pml:
  description: Per host, the PML each rank there selected.
  returned: success
  type: dict
  sample: {"node0": ["ob1"], "node1": ["ob1"]}
cmd:
  description: The mpirun command run.
  returned: when run
  type: list
  elements: str
rc:
  description: Exit status of mpirun.
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.mpi_transport import parse_pml_selection
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def main():
    module = AnsibleModule(
        argument_spec={"hosts": {"type": "list", "elements": "str", "required": True},
                       "argv": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    p = module.params
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg="check mode: mpirun was not run")
    args = ["-np", str(len(p["hosts"])), "--host", ",".join(h + ":1" for h in p["hosts"]),
            "--mca", "pml_base_verbose", "10", *p["argv"]]
    rc, out, err, argv = run_tool(module, "mpirun", args, "openmpi-bin")
    if rc != 0:
        module.fail_json(msg="mpirun exited with rc=%d: %s" % (rc, " | ".join((out + err).strip().splitlines()[-5:])),
                         cmd=argv, rc=rc)
    module.exit_json(changed=False, cmd=argv, stdout_lines=out.splitlines(), pml=parse_pml_selection(err))


if __name__ == "__main__":
    main()
