# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: slurm_node_facts
short_description: Gather the node's hardware as Slurm sees it (C(slurmd -C))
version_added: 0.1.0
description:
  - Runs C(slurmd -C) and sets C(ansible_facts['slurm_node']) with NodeName, CPUs, Boards, SocketsPerBoard,
    CoresPerSocket, ThreadsPerCore and RealMemory as integers, ready for a C(NodeName=) line in slurm.conf.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. The tool runs with C(LC_ALL=C).
extends_documentation_fragment:
  - gpuforge.cluster.tool_output
options:
  executable:
    description: Name or path of the slurmd binary.
    type: str
    default: slurmd
"""

EXAMPLES = r"""
- name: Read the node's hardware
  gpuforge.cluster.slurm_node_facts:

- name: Show the slurm.conf node line
  ansible.builtin.debug:
    msg: "NodeName={{ ansible_facts['slurm_node']['NodeName'] }} CPUs={{ ansible_facts['slurm_node']['CPUs'] }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    slurm_node:
      description: Key/value pairs printed by C(slurmd -C); counts and memory as integers.
      returned: always
      type: dict
      sample:
        NodeName: master0
        CPUs: 16
        Boards: 1
        SocketsPerBoard: 2
        CoresPerSocket: 4
        ThreadsPerCore: 2
        RealMemory: 23938
        UpTime: 22-10:03:46
      contains:
        NodeName:
          description: The node name.
          returned: always
          type: str
          sample: master0
        CPUs:
          description: Number of CPUs; null when not printed.
          returned: always
          type: int
          sample: 16
        Boards:
          description: Number of boards; null when not printed.
          returned: always
          type: int
          sample: 1
        SocketsPerBoard:
          description: Sockets per board; null when not printed.
          returned: always
          type: int
          sample: 2
        CoresPerSocket:
          description: Cores per socket; null when not printed.
          returned: always
          type: int
          sample: 4
        ThreadsPerCore:
          description: Threads per core; null when not printed.
          returned: always
          type: int
          sample: 2
        RealMemory:
          description: Memory in MiB; null when not printed.
          returned: always
          type: int
          sample: 23938
        TmpDisk:
          description: Space in the temporary file system in MiB.
          returned: when printed
          type: int
          sample: 45753
        UpTime:
          description: Time since boot, as printed.
          returned: when printed
          type: str
          sample: 22-10:03:46
        ClusterName:
          description: The cluster name; null for C((null)).
          returned: when printed
          type: str
          sample: null
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    parse_slurmd_c,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    read_source,
    run_tool,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "output": {"type": "str"},
            "src": {"type": "path"},
            "executable": {"type": "str", "default": "slurmd"},
        },
        mutually_exclusive=[("output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    text = read_source(module, p["output"], p["src"])
    if text is None:
        rc, text, err, _argv = run_tool(module, p["executable"], ["-C"], "slurmd (slurm-wlm)")
        if rc != 0:
            module.fail_json(msg=f"slurmd -C failed (rc={rc}): {(err or text).strip()}", rc=rc)
    try:
        facts = parse_slurmd_c(text)
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse slurmd -C output: {exc}")
    module.exit_json(changed=False, ansible_facts={"slurm_node": facts})


if __name__ == "__main__":
    main()
