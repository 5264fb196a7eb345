#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ssh_user_detect
short_description: Find the user each rented host lets the controller log in as
version_added: 0.1.0
description:
  - For every host, tries the O(candidates) in order with
    C(ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=<known_hosts>
    -o ConnectTimeout=<timeout> -o ConnectionAttempts=1 -p <port> -l <user> <address> true); the first
    user that logs in is the host's user.
  - A refused login (C(Permission denied), or an account that runs something else than the command, such as a
    cloud image's C(Please login as the user "ubuntu") for root) tries the next user. An unreachable host
    (timed out, refused, no route, no name, or no answer within O(timeout) + 5 seconds) or a host-key
    failure stops that host at once. Host-key checking stays on; record the keys first with
    M(gpuforge.cluster.host_key_policy).
  - Hosts are tried in parallel, at most O(parallel) at a time. The module never fails for a host; hosts
    without a user are returned in RV(failed_hosts) with the users tried.
  - Runs on the controller (C(delegate_to localhost), C(run_once)); read-only, so it runs in check mode too.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  hosts:
    description: The hosts to log in to.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host's inventory name, the key of RV(users) and RV(failed_hosts).
        type: str
        required: true
      address:
        description: The address ssh connects to.
        type: str
        required: true
      port:
        description: The SSH port.
        type: int
        default: 22
  candidates:
    description: User names to try, in order.
    type: list
    elements: str
    default: [ubuntu, user, root]
  timeout:
    description: ssh C(ConnectTimeout) of each attempt in seconds; an attempt is stopped after this plus 5 seconds.
    type: int
    default: 10
  known_hosts:
    description: The known_hosts file ssh checks host keys against (C(UserKnownHostsFile)).
    type: path
    default: ~/.ssh/known_hosts
  identity_file:
    description: A private key file to log in with (C(-i), with C(IdentitiesOnly=yes)); by default ssh's own keys and agent.
    type: path
  parallel:
    description: How many hosts are tried at the same time.
    type: int
    default: 8
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; it logs in and changes nothing, in check mode too.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Find the login user of each rented box
  gpuforge.cluster.ssh_user_detect:
    hosts:
      - {name: rental0, address: 203.0.113.10}
      - {name: rental1, address: 203.0.113.11}
    candidates: [ubuntu, user, root]
  delegate_to: localhost
  run_once: true
  register: rental_users
"""

RETURN = r"""
users:
  description: Host name -> the user that logged in, for the hosts where one did.
  returned: always
  type: dict
  sample: {rental0: ubuntu, rental1: root}
failed_hosts:
  description:
    - Host name -> why no user logged in, for the other hosts.
    - Not called C(failed), a key that would make Ansible fail the task.
  returned: always
  type: dict
  sample:
    rental2:
      address: 203.0.113.9
      reason: unreachable
      tried: [{user: ubuntu, result: unreachable, detail: Connection timed out after 10 s}]
      seconds: 10.1
      message: "rental2 203.0.113.9: unreachable - Connection timed out after 10 s (tried ubuntu)"
summary:
  description: One line per host, in the order of O(hosts).
  returned: always
  type: list
  elements: str
  sample: ["rental0 203.0.113.10: ubuntu (tried ubuntu)",
           "rental2 203.0.113.9: unreachable - Connection timed out after 10 s (tried ubuntu)"]
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils import known_hosts as kh
from ansible_collections.gpuforge.cluster.plugins.module_utils import ssh_login
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import find_tool, run_tool

GRACE = 5  # seconds an attempt may run past ssh's ConnectTimeout before it is stopped
KILLED = (124, 137)  # timeout(1): stopped with SIGTERM, or with SIGKILL after --kill-after


def attempt(module, ssh, host, user):
    params = module.params
    limit = params["timeout"] + GRACE
    args = ssh_login.ssh_args(host["address"], host["port"], user, params["timeout"], params["known_hosts"],
                              params["identity_file"])
    start = time.monotonic()
    rc, out, err, _argv = run_tool(module, "timeout", ["-k", "2", str(limit), ssh, *args], "coreutils")
    killed = limit if rc in KILLED and time.monotonic() - start >= limit - 0.5 else None
    return ssh_login.classify(rc, out, err, params["timeout"], killed)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type="list", elements="dict", required=True, options=kh.TARGET_OPTIONS),
            candidates=dict(type="list", elements="str", default=["ubuntu", "user", "root"]),
            timeout=dict(type="int", default=10),
            known_hosts=dict(type="path", default="~/.ssh/known_hosts"),
            identity_file=dict(type="path"),
            parallel=dict(type="int", default=8),
        ),
        supports_check_mode=True,
    )
    hosts, candidates = module.params["hosts"], module.params["candidates"]
    problems = kh.host_problems(hosts) + ssh_login.user_problems(candidates)
    if problems:
        module.fail_json(msg="; ".join(problems))
    ssh = find_tool(module, "ssh", "openssh-client")
    find_tool(module, "timeout", "coreutils")

    def detect(host):
        return ssh_login.detect(candidates, lambda user: attempt(module, ssh, host, user))

    with ThreadPoolExecutor(max_workers=max(1, module.params["parallel"])) as pool:
        outcomes = list(pool.map(detect, hosts))
    users, failed_hosts, summary = {}, {}, []
    for host, outcome in zip(hosts, outcomes):
        line = ssh_login.summary_line(host["name"], host["address"], host["port"], outcome)
        summary.append(line)
        if outcome["user"] is not None:
            users[host["name"]] = outcome["user"]
        else:
            failed_hosts[host["name"]] = dict(address=host["address"], reason=outcome["reason"],
                                              tried=outcome["tried"], seconds=outcome["seconds"], message=line)
    module.exit_json(changed=False, users=users, failed_hosts=failed_hosts, summary=summary)


if __name__ == "__main__":
    main()
