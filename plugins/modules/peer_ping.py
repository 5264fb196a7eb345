#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: peer_ping
short_description: Ping every peer with a full frame of the port's MTU, Don't Fragment set
version_added: 0.3.0
description:
  - For each planned peer, sends C(ping -M do -s PAYLOAD) where PAYLOAD fills one frame of the port's MTU
    (MTU - 28 bytes of IPv4 and ICMP headers). A peer that does not answer gets a 56-byte ping too, so the
    result tells a path that drops jumbo frames (a switch port at MTU 1500) from a peer that is down.
  - Fails naming every pair that did not answer and why. Read-only; supports check mode.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  host:
    description: The name of this node in the messages (C(inventory_hostname)).
    type: str
    required: true
  plan:
    description:
      - The pings (P(gpuforge.cluster.rdma_peer_plan#filter)), each with C(network), C(interface), C(mtu),
        C(peer), C(address) and C(payload).
    type: list
    elements: dict
    required: true
  count:
    description: Echo requests per ping; the ping passes when one is answered.
    type: int
    default: 3
  timeout:
    description: Seconds each ping waits for its answers (C(ping -w)).
    type: int
    default: 3
  parallel:
    description: Peers pinged at once.
    type: int
    default: 8
"""

EXAMPLES = r"""
- name: Ping every peer on the data networks with a full frame
  gpuforge.cluster.peer_ping:
    host: "{{ inventory_hostname }}"
    plan: "{{ inventory_hostname | gpuforge.cluster.rdma_peer_plan(ansible_play_hosts, hostvars) }}"
"""

RETURN = r"""
results:
  description: One entry per planned ping.
  returned: always
  type: list
  elements: dict
  sample:
    - pair: "node0 -> node1 10.81.0.11 (network data, eth1 MTU 9000)"
      ok: false
      why: "8972-byte payload with DF lost, a 56-byte ping answered: ..."
failed_pairs:
  description: The C(pair) of every ping that was not answered.
  returned: always
  type: list
  elements: str
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.rdma_ports import judge_ping
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            plan=dict(type="list", elements="dict", required=True),
            count=dict(type="int", default=3),
            timeout=dict(type="int", default=3),
            parallel=dict(type="int", default=8),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for num, item in enumerate(p["plan"]):
        missing = [k for k in ("network", "interface", "mtu", "peer", "address", "payload") if k not in item]
        if missing:
            module.fail_json(msg="plan[%d] lacks %s" % (num, ", ".join(missing)))

    def ping(item, size):
        rc, _out, _err, _argv = run_tool(
            module, "ping", ["-n", "-q", "-M", "do", "-s", str(size), "-c", str(p["count"]), "-w", str(p["timeout"]),
                             "-I", str(item["interface"]), str(item["address"])], package_hint="iputils-ping")
        return rc

    def one(item):
        big = ping(item, int(item["payload"]))
        small = ping(item, 56) if big != 0 else None
        return judge_ping(p["host"], item, big, small)

    with ThreadPoolExecutor(max_workers=max(1, p["parallel"])) as pool:
        results = list(pool.map(one, p["plan"]))
    failed = [r["pair"] for r in results if not r["ok"]]
    if failed:
        module.fail_json(msg="%d of %d peers did not answer a full frame: %s" % (
            len(failed), len(results), "; ".join("%s: %s" % (r["pair"], r["why"]) for r in results if not r["ok"])),
            results=results, failed_pairs=failed)
    module.exit_json(changed=False, results=results, failed_pairs=failed)


if __name__ == "__main__":
    main()
