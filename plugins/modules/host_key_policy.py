#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_key_policy
short_description: Record rented hosts' SSH host keys in the controller's known_hosts under a policy
version_added: 0.1.0
description:
  - Reads every host's keys with C(ssh-keyscan) and compares them with the entries of exactly that
    address in O(known_hosts) (C(addr) on port 22, C([addr]:port) on other ports), hashed
    C(|1|salt|hash) entries and comma-separated host lists included; C(@cert-authority) and
    C(@revoked) lines and wildcard patterns are never matched.
  - Each host is C(known) (a scanned key is recorded and no recorded key of a scanned type differs),
    C(new) (no entry of a scanned type), C(changed) (an entry of a scanned type holds another key) or
    C(unreachable) (ssh-keyscan read no key).
  - O(policy=strict) accepts only C(known) hosts; O(policy=accept-new) also records the keys of C(new)
    hosts; O(policy=replace) also replaces every entry of a C(changed) host's address with the scanned
    keys (for a host list line only that address leaves the list). Lines of other addresses are never
    touched. Host-key checking itself is never turned off.
  - When any reachable host is not accepted the module fails before writing anything, naming each such
    host, its state, the fingerprints and the policy that would accept it. Unreachable hosts do not fail
    the module; they are returned in RV(unreachable_hosts).
  - Runs on the controller (C(delegate_to localhost), C(run_once)); the file is written atomically and
    keeps its mode; a missing file is made 0600 (its directory 0700).
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  hosts:
    description: The hosts to check.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host's inventory name, used in messages and as the key of RV(hosts).
        type: str
        required: true
      address:
        description: The address ssh connects to (the rented box's public address).
        type: str
        required: true
      port:
        description: The SSH port.
        type: int
        default: 22
  known_hosts:
    description: The known_hosts file of the controller user.
    type: path
    default: ~/.ssh/known_hosts
  policy:
    description: Which host-key states are accepted (see the description).
    type: str
    choices: [strict, accept-new, replace]
    default: strict
  timeout:
    description: ssh-keyscan's timeout (C(-T)) in seconds.
    type: int
    default: 10
  key_types:
    description: Key types scanned (ssh-keyscan C(-t)).
    type: list
    elements: str
    choices: [ed25519, ecdsa, rsa, dsa, ecdsa-sk, ed25519-sk]
    default: [ed25519, ecdsa, rsa]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the states and the actions it would take without writing the file.
  diff_mode:
    support: full
    details: The diff holds only the lines of the given addresses.
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Trust the rented boxes' host keys on first use
  gpuforge.cluster.host_key_policy:
    hosts:
      - {name: rental0, address: 203.0.113.10}
      - {name: rental1, address: 203.0.113.11, port: 2222}
    policy: accept-new
  delegate_to: localhost
  run_once: true
  register: host_keys

- name: Re-created machines get their new keys recorded
  gpuforge.cluster.host_key_policy:
    hosts: "{{ rental_ssh_hosts }}"
    policy: replace
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
hosts:
  description: Per host name, its address and port, state, scanned and recorded fingerprints and the action.
  returned: always
  type: dict
  sample:
    rental0:
      address: 203.0.113.10
      port: 22
      state: new
      fingerprints: ["ED25519 SHA256:LzG1k5Fq06Wt6L98BisRySfaB2wbNf20Z0mcXUQWuZY"]
      known_fingerprints: []
      action: added
unreachable_hosts:
  description:
    - Names of the hosts of which ssh-keyscan read no key (their RV(hosts) entry has the state C(unreachable)).
    - Not called C(unreachable), a key that would make Ansible mark the task's host unreachable.
  returned: always
  type: list
  elements: str
  sample: [rental2]
"""

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.gpuforge.cluster.plugins.module_utils import known_hosts as kh
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import find_tool, run_tool


def scan(module, host):
    args = ["-T", str(module.params["timeout"]), "-t", ",".join(module.params["key_types"])]
    if host["port"] != 22:
        args += ["-p", str(host["port"])]
    rc, out, _err, argv = run_tool(module, "ssh-keyscan", [*args, host["address"]], "openssh-client")
    try:
        return dict(host, scanned=kh.parse_keyscan(out)), None
    except ParseError as exc:
        return host, "%s (rc=%d): %s" % (" ".join(argv), rc, exc)


def write(module, path, text, existed):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".known_hosts.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(to_bytes(text, errors="surrogate_or_strict"))
    module.atomic_move(tmp, path)  # keeps an existing file's mode and owner
    if not existed:
        os.chmod(path, 0o600)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type="list", elements="dict", required=True, options=kh.TARGET_OPTIONS),
            known_hosts=dict(type="path", default="~/.ssh/known_hosts"),
            policy=dict(type="str", choices=list(kh.POLICIES), default="strict"),
            timeout=dict(type="int", default=10),
            key_types=dict(type="list", elements="str", choices=list(kh.SCAN_TYPES),
                           default=["ed25519", "ecdsa", "rsa"]),
        ),
        supports_check_mode=True,
    )
    hosts, path = module.params["hosts"], module.params["known_hosts"]
    problems = kh.host_problems(hosts)
    if problems:
        module.fail_json(msg="; ".join(problems))
    find_tool(module, "ssh-keyscan", "openssh-client")
    existed = os.path.exists(path)
    before = ""
    if existed:
        with open(path, "rb") as handle:
            before = to_text(handle.read(), errors="surrogate_or_strict")
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(hosts)))) as pool:
        scans = list(pool.map(lambda host: scan(module, host), hosts))
    errors = [error for host, error in scans if error]
    if errors:
        module.fail_json(msg="; ".join(errors) + "; nothing was written")
    plan = kh.plan(before, [host for host, error in scans], module.params["policy"], path)
    result = dict(hosts=plan["hosts"], unreachable_hosts=plan["unreachable"])
    if plan["refused"]:
        module.fail_json(msg="%d host key(s) refused, nothing was written to %s: %s"
                         % (len(plan["refused"]), path, " | ".join(plan["refused"])), changed=False, **result)
    changed = plan["text"] != before
    if module._diff:
        patterns = [kh.host_pattern(h["address"], h["port"]) for h in hosts]
        result["diff"] = dict(before=kh.lines_for(before, patterns), after=kh.lines_for(plan["text"], patterns),
                              before_header=path, after_header=path)
    if changed and not module.check_mode:
        write(module, path, plan["text"], existed)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
