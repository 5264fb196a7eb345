#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_pci_facts
short_description: Find NVIDIA GPUs and their generation from PCI sysfs, before any driver exists
version_added: 0.2.0
description:
  - Reads C(vendor), C(device) and C(class) of every PCI function under O(root) (sysfs) and returns
    the NVIDIA GPUs (vendor V(0x10de), class V(0x03xxxx)) with their name, chip, generation and
    compute capability, looked up in the collection's table generated from pci.ids
    (C(plugins/module_utils/gpu_pci_ids.py)). Needs no driver, no C(lspci) and no C(nvidia-smi).
  - A GPU whose device id is not in the table is returned with C(generation) V(null); the
    nvidia_stack role refuses it by name instead of guessing.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  root:
    description: Directory holding one entry per PCI function (C(0000:3b:00.0/vendor) ...).
    type: path
    default: /sys/bus/pci/devices
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Find the GPUs on the PCI bus
  gpuforge.cluster.gpu_pci_facts:

- name: Every GPU is Hopper
  ansible.builtin.assert:
    that: ansible_facts.gpu_pci.gpus | map(attribute='generation') | unique == ['Hopper']
"""

RETURN = r"""
ansible_facts:
  description: Facts under C(gpu_pci).
  returned: always
  type: complex
  contains:
    gpu_pci:
      description: NVIDIA GPUs read from PCI sysfs; key reference in docs/facts.md.
      type: dict
      returned: always
      sample: {"gpus": [{"address": "0000:18:00.0", "device_id": "0x2335", "name": "H200 SXM 141GB",
               "chip": "GH100", "generation": "Hopper", "compute_capability": "9.0"}],
               "functions_read": 112, "pci_ids_version": "2026.10.24"}
      contains:
        gpus:
          description: One entry per NVIDIA GPU, in PCI address order.
          type: list
          elements: dict
          returned: always
          contains:
            address:
              description: The PCI address.
              type: str
              returned: always
              sample: "0000:18:00.0"
            device_id:
              description: The PCI device id.
              type: str
              returned: always
              sample: "0x2335"
            name:
              description: The product name from pci.ids; null for an id not in the table.
              type: str
              returned: always
              sample: H200 SXM 141GB
            chip:
              description: The chip; null for an id not in the table.
              type: str
              returned: always
              sample: GH100
            generation:
              description: Kepler ... Blackwell, or V(null) when unknown.
              type: str
              returned: always
              sample: Hopper
            compute_capability:
              description: The compute capability, or V(null) when unknown.
              type: str
              returned: always
              sample: "9.0"
        functions_read:
          description: Number of PCI functions read.
          type: int
          returned: always
          sample: 112
        pci_ids_version:
          description: The pci.ids release of the table.
          type: str
          returned: always
          sample: "2026.10.24"
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils import gpu_generations
from ansible_collections.gpuforge.cluster.plugins.module_utils.gpu_pci_ids import PCI_IDS_VERSION


def read_functions(root):
    """{address: {vendor, device, class}} for every entry under root (unreadable files are None)."""
    functions = {}
    for address in sorted(os.listdir(root)):
        entry = {}
        for name in ("vendor", "device", "class"):
            try:
                with open(os.path.join(root, address, name)) as handle:
                    entry[name] = handle.read().strip()
            except OSError:
                entry[name] = None
        functions[address] = entry
    return functions


def main():
    module = AnsibleModule(argument_spec={"root": {"type": "path", "default": "/sys/bus/pci/devices"}},
                           supports_check_mode=True)
    root = module.params["root"]
    if not os.path.isdir(root):
        module.fail_json(msg=f"{root} is not a directory: no PCI sysfs to read on this host")
    functions = read_functions(root)
    module.exit_json(changed=False, ansible_facts={"gpu_pci": {
        "gpus": gpu_generations.pci_gpus(functions),
        "functions_read": len(functions),
        "pci_ids_version": PCI_IDS_VERSION,
    }})


if __name__ == "__main__":
    main()
