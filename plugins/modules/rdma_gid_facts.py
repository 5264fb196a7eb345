# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rdma_gid_facts
short_description: Gather the RDMA GID tables and the RoCE v2 IPv4 GID index per netdev from sysfs
version_added: 0.1.0
description:
  - Reads C(/sys/class/infiniband/*/ports/*/gids/*) with C(gid_attrs/types) and C(gid_attrs/ndevs) and sets
    C(ansible_facts['rdma_gids']) with each port's non-zero GIDs and, per network device, the lowest GID
    index of type C(RoCE v2) that carries an IPv4 address (the value for C(ib_write_bw -x) and
    C(NCCL_IB_GID_INDEX)).
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. Runs no command.
options:
  sysfs_root:
    description:
      - Root of sysfs. Tests point it at a fake tree.
    type: path
    default: /sys
"""

EXAMPLES = r"""
- name: Read RDMA GID tables
  gpuforge.cluster.rdma_gid_facts:

- name: RoCE v2 GID index of the RDMA netdev
  ansible.builtin.debug:
    msg: "{{ ansible_facts['rdma_gids']['roce_v2_ipv4']['enp1s0np0']['index'] }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    rdma_gids:
      description: GID tables per device and port, and the RoCE v2 IPv4 entry per netdev.
      returned: always
      type: dict
      sample:
        devices:
          mlx5_0:
            "1":
              link_layer: Ethernet
              state: "4: ACTIVE"
              gids:
                - index: 3
                  gid: "0000:0000:0000:0000:0000:ffff:c0a8:0102"
                  type: RoCE v2
                  ndev: enp1s0np0
                  ipv4: 192.168.1.2
        roce_v2_ipv4:
          enp1s0np0:
            device: mlx5_0
            port: 1
            index: 3
            gid: "0000:0000:0000:0000:0000:ffff:c0a8:0102"
            ipv4: 192.168.1.2
      contains:
        devices:
          description:
            - RDMA device name (C(mlx5_0)) to port number to the port's C(link_layer), C(state) and C(gids), a list
              of C(index), C(gid), C(type), C(ndev) and C(ipv4).
            - Keyed by names and numbers, so not listed under contains; key reference in docs/facts.md.
          returned: always
          type: dict
        roce_v2_ipv4:
          description:
            - Netdev to its lowest-index RoCE v2 GID with an IPv4 address - C(device), C(port), C(index), C(gid),
              C(ipv4). C(index) is the value for C(ib_write_bw -x) and C(NCCL_IB_GID_INDEX).
          returned: always
          type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.rdma_gid import (
    build_gid_table,
)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        # unused GID slots answer EINVAL on gid_attrs reads
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def collect(root):
    base = os.path.join(root, "class", "infiniband")
    entries = []
    for device in _listdir(base):
        for port in _listdir(os.path.join(base, device, "ports")):
            pdir = os.path.join(base, device, "ports", port)
            if not port.isdigit():
                continue
            link_layer, state = _read(os.path.join(pdir, "link_layer")), _read(os.path.join(pdir, "state"))
            indexes = [i for i in _listdir(os.path.join(pdir, "gids")) if i.isdigit()]
            if not indexes:
                entries.append({"device": device, "port": port, "index": 0, "gid": None, "link_layer": link_layer,
                                "state": state})
            for index in indexes:
                entries.append({
                    "device": device, "port": port, "index": index, "link_layer": link_layer, "state": state,
                    "gid": _read(os.path.join(pdir, "gids", index)),
                    "type": _read(os.path.join(pdir, "gid_attrs", "types", index)),
                    "ndev": _read(os.path.join(pdir, "gid_attrs", "ndevs", index)),
                })
    return entries


def main():
    module = AnsibleModule(
        argument_spec={"sysfs_root": {"type": "path", "default": "/sys"}},
        supports_check_mode=True,
    )
    facts = build_gid_table(collect(module.params["sysfs_root"]))
    module.exit_json(changed=False, ansible_facts={"rdma_gids": facts})


if __name__ == "__main__":
    main()
