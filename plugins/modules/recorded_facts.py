#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: recorded_facts
short_description: Set a host's facts from a recorded copy (offline rendering)
version_added: 0.2.0
description:
  - Returns O(facts) as the host's C(ansible_facts), exactly as the modules that made them would have.
    C(playbooks/render.yml) uses it to render every configuration file from recorded facts with no
    SSH; C(playbooks/record_facts.yml) writes such copies from real nodes.
  - Keys are as Ansible's jsonfile fact cache stores them (C(ansible_distribution), C(gpuforge_host),
    C(slurm_node), C(nvidia_smi)...). Keys starting with C(_) (notes such as C(_source)) are dropped.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  facts:
    description: The recorded facts of this host.
    type: dict
    required: true
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
- name: Use the recorded facts of this host
  gpuforge.cluster.recorded_facts:
    facts: "{{ lookup('ansible.builtin.file', 'inventories/r2/facts/' ~ inventory_hostname ~ '.json') | from_json }}"
"""

RETURN = r"""
ansible_facts:
  description: The recorded facts, without the keys that start with C(_).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(facts=dict(type="dict", required=True)), supports_check_mode=True)
    facts = {k: v for k, v in module.params["facts"].items() if not k.startswith("_")}
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
