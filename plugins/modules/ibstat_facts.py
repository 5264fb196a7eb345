# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ibstat_facts
short_description: Gather InfiniBand/RoCE adapter facts from C(ibstat)
version_added: 0.1.0
description:
  - Runs C(ibstat) (infiniband-diags) and sets C(ansible_facts['ibstat']), one entry per CA with its
    ports, link rate in Gb/s (C(rate_note) keeps C(FDR10) and the like), state and link layer.
  - When ibstat fails on one device after printing others, what was read is returned and the error lines
    are listed under C(errors).
  - A node without RDMA devices (nothing in C(/sys/class/infiniband)) gets an empty C(ibstat) fact; ibstat is
    not run.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. The tool runs with C(LC_ALL=C).
extends_documentation_fragment:
  - gpuforge.cluster.tool_output
options:
  executable:
    description: Name or path of the ibstat binary.
    type: str
    default: ibstat
"""

EXAMPLES = r"""
- name: Gather InfiniBand facts
  gpuforge.cluster.ibstat_facts:

- name: Every IB port links at FDR (56 Gb/s), not FDR10
  ansible.builtin.assert:
    that: item.value.ports['1'].rate == 56
  loop: "{{ ansible_facts['ibstat'] | dict2items | rejectattr('key', 'eq', 'errors') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    ibstat:
      description:
        - CA name (C(mlx5_0)) to CA facts - C(type), C(num_ports), C(firmware_version), C(hardware_version),
          C(node_guid), C(system_image_guid) and C(ports), port number to C(state), C(physical_state), C(rate),
          C(rate_note), C(base_lid), C(lmc), C(sm_lid), C(capability_mask), C(port_guid), C(link_layer).
        - Keyed by names and numbers, so not listed under contains; key reference in docs/facts.md.
      returned: always
      type: dict
      sample:
        mlx5_0:
          type: MT4125
          num_ports: 1
          firmware_version: 22.32.2004
          hardware_version: "0"
          node_guid: "0x0c42a103001dd12a"
          system_image_guid: "0x0c42a103001dd12a"
          ports:
            "1":
              state: Active
              physical_state: LinkUp
              rate: 100
              rate_note: null
              base_lid: 0
              lmc: 0
              sm_lid: 0
              capability_mask: "0x00010000"
              port_guid: "0x0e42a1fffe1dd12a"
              link_layer: Ethernet
      contains:
        errors:
          description: Errors that ibstat printed (for example C(ibpanic) on one device) after the CAs it could read.
          returned: when ibstat printed an error
          type: list
          elements: str
          sample: ["ibpanic: [12345] main: stat of IB device 'mlx4_0' failed: No such file or directory"]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.ibstat import (
    parse_ibstat,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    read_source,
    run_tool,
)


def _rdma_devices(root="/sys/class/infiniband"):
    try:
        return os.listdir(root)
    except OSError:
        return []


def main():
    module = AnsibleModule(
        argument_spec={
            "output": {"type": "str"},
            "src": {"type": "path"},
            "executable": {"type": "str", "default": "ibstat"},
        },
        mutually_exclusive=[("output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    text = read_source(module, p["output"], p["src"])
    if text is None and not _rdma_devices():
        # No HCA: ibstat prints nothing; the node has no InfiniBand/RoCE port (not an error).
        module.exit_json(changed=False, ansible_facts={"ibstat": {}}, msg="no RDMA device in /sys/class/infiniband")
    if text is None:
        rc, out, err, _argv = run_tool(module, p["executable"], [], "infiniband-diags")
        text = out + ("\n" + err if err else "")
        if rc != 0 and not out.strip():
            module.exit_json(changed=False, ansible_facts={"ibstat": {"errors": [err.strip() or f"rc={rc}"]}})
    try:
        facts = parse_ibstat(text)
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse ibstat output: {exc}")
    module.exit_json(changed=False, ansible_facts={"ibstat": facts})


if __name__ == "__main__":
    main()
