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
    target, as the user the module runs as (use C(become_user)), and checks that each
    login worked without a prompt and landed on the expected host.
  - Bounded fan-in. When every node of a cluster probes every other node at the same time, an
    sshd sees one connection per prober and name; past its C(MaxStartups) (10 unauthenticated
    connections by default) it resets connections at random. So the names of one host are probed
    one after the other, at most O(parallel) hosts at once, and each node starts with the host
    after itself (C(self)) in target order. With all nodes probing together, each sshd sees about
    O(parallel) connections at a time, whatever the size of the cluster.
  - A connection that sshd throttled (rc 255 with C(kex_exchange_identification) or a reset or
    closed connection before authentication) is tried again after a growing, jittered pause, up
    to O(retries) times; the count is returned as C(throttled). Any other failure is final.
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
    description: How many hosts (distinct C(expect) values) are probed at the same time.
    type: int
    default: 4
  retries:
    description: How many times a throttled connection is tried again.
    type: int
    default: 5
  all_names:
    description:
      - V(true) probes every target. V(false) probes every host by its first target (its cluster name) and
        only the host after O(self) by all of its targets, so each node still proves every kind of name
        (short, FQDN, address) once and every pair of nodes once, with N+2 logins instead of 3N.
    type: bool
    default: true
  self:
    description:
      - The hostname of this node among the C(expect) values; probing starts at the host after it.
      - Default is the short hostname of the node.
    type: str
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
  description: One entry per target probed (all of them unless O(all_names=false)), in target order.
  returned: always
  type: list
  elements: dict
  sample: [{"target": "node1", "expect": "node1", "rc": 0, "stdout": "node1", "stderr": "", "ok": true, "attempts": 1}]
failed_targets:
  description: Targets that failed, refused, prompted or answered with another hostname.
  returned: always
  type: list
  elements: str
  sample: []
throttled:
  description: How many connections sshd throttled and were tried again.
  returned: always
  type: int
  sample: 0
"""

import random
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import find_tool, run_tool

# What OpenSSH prints when sshd drops a connection before authentication (MaxStartups, a busy sshd):
# "kex_exchange_identification: read: Connection reset by peer",
# "kex_exchange_identification: Connection closed by remote host", "Connection reset by <addr> port 22".
THROTTLED = re.compile(r"kex_exchange_identification|ssh_exchange_identification|"
                       r"Connection (reset|closed) by")


def probe(module, target, expect, timeout, retries):
    args = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=%d" % timeout, target, "hostname"]
    attempts = 0
    while True:
        attempts += 1
        rc, out, err, _argv = run_tool(module, "ssh", args, "openssh-client")
        if rc == 255 and THROTTLED.search(err) and attempts <= retries:
            time.sleep(min(4.0, 0.2 * 2 ** attempts) * random.uniform(0.5, 1.5))
            continue
        break
    out = out.strip()
    return {"target": target, "expect": expect, "rc": rc, "stdout": out,
            "stderr": err.strip(), "ok": rc == 0 and out == expect, "attempts": attempts}


def schedule(targets, me, all_names=True):
    """The targets grouped by host (expect), in target order, starting with the host after ``me``.

    Without ``all_names`` only that first host keeps all its targets; the others keep their first one.
    """
    groups = {}
    for index, target in enumerate(targets):
        groups.setdefault(target["expect"], []).append(index)
    hosts = list(groups)
    if me in groups:
        start = hosts.index(me) + 1
        hosts = hosts[start:] + hosts[:start]
    return [groups[host] if all_names or n == 0 else groups[host][:1] for n, host in enumerate(hosts)]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type="list", elements="dict", required=True, options=dict(
                target=dict(type="str", required=True),
                expect=dict(type="str", required=True),
            )),
            connect_timeout=dict(type="int", default=10),
            parallel=dict(type="int", default=4),
            retries=dict(type="int", default=5),
            all_names=dict(type="bool", default=True),
            self=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    find_tool(module, "ssh", "openssh-client")  # fail once, before any probe, when ssh is missing
    targets = module.params["targets"]
    me = module.params["self"] or socket.gethostname().split(".")[0]
    plan = schedule(targets, me, module.params["all_names"])
    results = [None] * len(targets)

    def probe_host(indexes):
        for index in indexes:
            results[index] = probe(module, targets[index]["target"], targets[index]["expect"],
                                   module.params["connect_timeout"], module.params["retries"])

    with ThreadPoolExecutor(max_workers=max(1, module.params["parallel"])) as pool:
        list(pool.map(probe_host, plan))
    results = [r for r in results if r is not None]
    failed = [r["target"] for r in results if not r["ok"]]
    throttled = sum(r["attempts"] - 1 for r in results)
    if failed:
        detail = "; ".join(
            "%s: rc=%d stdout=%r (expected %r) %s" % (r["target"], r["rc"], r["stdout"], r["expect"], r["stderr"])
            for r in results if not r["ok"])
        module.fail_json(msg="ssh -o BatchMode=yes failed for %d of %d targets: %s"
                         % (len(failed), len(results), detail),
                         results=results, failed_targets=failed, throttled=throttled)
    module.exit_json(changed=False, results=results, failed_targets=failed, throttled=throttled)


if __name__ == "__main__":
    main()
