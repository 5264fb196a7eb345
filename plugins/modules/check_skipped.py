#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: check_skipped
short_description: Say that a check did not run, and why
version_added: 0.9.0
description:
  - "A check that cannot run here (no torch wheel for the DDP job, no GPU, no RDMA device) says so instead of
    vanishing: the task is ok, its message is C(skipped: CHECK: REASON), and the validation report
    (P(gpuforge.cluster.validation_report#callback)) lists the check as skipped with the reason."
  - Changes nothing; supports check mode.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  check:
    description: The name of the check that did not run.
    type: str
    required: true
  reason:
    description: Why it did not run, and what would make it run.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Say why the DDP smoke job did not run
  gpuforge.cluster.check_skipped:
    check: DDP smoke job (torchrun over Slurm)
    reason: munge_slurm_validate_ddp is false (no torch on the nodes); lab.sh --torch-wheel runs it
  when: not munge_slurm_validate_ddp | bool
"""

RETURN = r"""
skipped_check:
  description: C(name) and C(reason) of the check that did not run.
  returned: always
  type: dict
  sample: {"name": "DDP smoke job (torchrun over Slurm)", "reason": "no torch on the nodes"}
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={"check": {"type": "str", "required": True}, "reason": {"type": "str", "required": True}},
        supports_check_mode=True,
    )
    check, reason = module.params["check"].strip(), module.params["reason"].strip()
    if not check or not reason:
        module.fail_json(msg="check_skipped needs a check name and a reason, got %r and %r" % (check, reason))
    module.exit_json(changed=False, skipped_check={"name": check, "reason": reason},
                     msg="skipped: %s: %s" % (check, reason))


if __name__ == "__main__":
    main()
