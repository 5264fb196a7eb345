#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ssh_probe
short_description: Prove non-interactive SSH from this node to other nodes
version_added: 0.1.0
description:
  - Runs C(ssh -o BatchMode=yes -o StrictHostKeyChecking=yes <target> hostname) for every
    target at once, as the user the module runs as (use C(become_user)), and checks that each
    login worked without a prompt and landed on the expected host.
  - BatchMode makes any password or passphrase prompt, and any unknown host key, an error.
  - Read-only; fails listing every target that did not answer as expected.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  targets:
    description: Where to connect and the hostname each must report.
    type: list
    elements: dict
    required: true
    suboptions:
      target:
        description: Name or address given to ssh.
        type: str
        required: true
      expect:
        description: The hostname the target must print.
        type: str
        required: true
  connect_timeout:
    description: ssh ConnectTimeout in seconds.
    type: int
    default: 10
  parallel:
    description: How many probes run at the same time.
    type: int
    default: 16
attributes:
  check_mode:
    description: Runs in check mode too; it changes nothing.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
"""

EXAMPLES = r"""
- name: Every node reaches every node as the cluster user
  gpuforge.cluster.ssh_probe:
    targets:
      - {target: node1, expect: node1}
      - {target: 10.0.0.12, expect: node2}
  become: true
  become_user: cluster
"""

RETURN = r"""
results:
  description: One entry per target.
  returned: always
  type: list
  elements: dict
  sample: [{"target": "node1", "expect": "node1", "rc": 0, "stdout": "node1", "stderr": "", "ok": true}]
failed_targets:
  description: Targets that failed, refused, prompted or answered with another hostname.
  returned: always
  type: list
  elements: str
  sample: []
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule


def probe(module, ssh, target, expect, timeout):
    argv = [ssh, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=%d" % timeout, target, "hostname"]
    rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    out = out.strip()
    return {"target": target, "expect": expect, "rc": rc, "stdout": out,
            "stderr": err.strip(), "ok": rc == 0 and out == expect}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type="list", elements="dict", required=True, options=dict(
                target=dict(type="str", required=True),
                expect=dict(type="str", required=True),
            )),
            connect_timeout=dict(type="int", default=10),
            parallel=dict(type="int", default=16),
        ),
        supports_check_mode=True,
    )
    ssh = module.get_bin_path("ssh", required=True)
    targets = module.params["targets"]
    with ThreadPoolExecutor(max_workers=max(1, module.params["parallel"])) as pool:
        results = list(pool.map(
            lambda t: probe(module, ssh, t["target"], t["expect"], module.params["connect_timeout"]),
            targets))
    failed = [r["target"] for r in results if not r["ok"]]
    if failed:
        detail = "; ".join(
            "%s: rc=%d stdout=%r (expected %r) %s" % (r["target"], r["rc"], r["stdout"], r["expect"], r["stderr"])
            for r in results if not r["ok"])
        module.fail_json(msg="ssh -o BatchMode=yes failed for %d of %d targets: %s"
                         % (len(failed), len(results), detail),
                         results=results, failed_targets=failed)
    module.exit_json(changed=False, results=results, failed_targets=failed)


if __name__ == "__main__":
    main()
