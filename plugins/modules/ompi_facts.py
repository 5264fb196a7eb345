#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ompi_facts
short_description: What this Open MPI was built with (ompi_info)
version_added: 0.3.0
description:
  - Runs C(ompi_info --parsable) and sets C(ansible_facts['ompi']) with the Open MPI version and the components of
    each framework (C(pml), C(btl), C(osc)...), so a role can tell whether MPI can use UCX on the RDMA ports.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. The tool runs with C(LC_ALL=C).
options:
  output:
    description: Text of C(ompi_info --parsable) to parse instead of running the tool.
    type: str
"""

EXAMPLES = r"""
- name: Read what Open MPI was built with
  gpuforge.cluster.ompi_facts:

- name: Say whether it has the UCX PML
  ansible.builtin.debug:
    msg: "{{ 'ucx' in ansible_facts['ompi']['components']['pml'] }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    ompi:
      description: C(version) (str or null) and C(components) (framework -> component names, as printed).
      returned: always
      type: dict
      sample: {"version": "4.1.4", "components": {"pml": ["v", "cm", "ob1", "ucx", "monitoring"]}}
      contains:
        version:
          description: The Open MPI version; null when ompi_info printed none.
          returned: always
          type: str
          sample: "4.1.4"
        components:
          description: MCA framework to its component names, in printed order.
          returned: always
          type: dict
          sample: {"pml": ["v", "cm", "ob1", "ucx", "monitoring"]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.mpi_transport import parse_ompi_components
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def main():
    module = AnsibleModule(argument_spec={"output": {"type": "str"}}, supports_check_mode=True)
    text = module.params["output"]
    if text is None:
        rc, text, err, argv = run_tool(module, "ompi_info", ["--parsable"], "openmpi-bin")
        if rc != 0:
            module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv), rc, err.strip()))
    facts = parse_ompi_components(text)
    if not facts["components"]:
        module.fail_json(msg="ompi_info --parsable printed no MCA component: is this Open MPI?")
    module.exit_json(changed=False, ansible_facts={"ompi": facts})


if __name__ == "__main__":
    main()
