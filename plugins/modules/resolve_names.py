#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: resolve_names
short_description: Resolve host names through the system resolver, the way MPI and NCCL do
version_added: 0.1.0
description:
  - Looks every name up with the C library resolver (NSS, that is /etc/hosts, DNS and so on) in
    one call, like C(getent hosts) and C(gethostbyname()) do, and returns the address each
    resolves to.
  - Read-only. Optionally fails when a name does not resolve to the expected address.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  names:
    description: Names to look up, as a list, or a dict of name to the address it must resolve to.
    type: raw
    required: true
attributes:
  check_mode:
    description: Runs in check mode too; it changes nothing.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
"""

EXAMPLES = r"""
- name: The hostname resolves to the cluster address, not 127.0.1.1
  gpuforge.cluster.resolve_names:
    names:
      node0: 10.0.0.10
      node0.cluster.example: 10.0.0.10
"""

RETURN = r"""
addresses:
  description: Name to the address it resolves to first (null when it does not resolve).
  returned: always
  type: dict
  sample: {"node0": "10.0.0.10"}
mismatches:
  description: Names that did not resolve to the expected address.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "node0", "expected": "10.0.0.10", "got": "127.0.1.1"}]
"""

import socket

from ansible.module_utils.basic import AnsibleModule


def resolve(name, expected=None):
    """First address of ``name``: IPv4 like gethostbyname(), or IPv6 when that is expected."""
    try:
        if expected and ":" in expected:
            return socket.getaddrinfo(name, None, socket.AF_INET6, socket.SOCK_STREAM)[0][4][0]
        return socket.gethostbyname(name)
    except (socket.gaierror, socket.herror, UnicodeError, IndexError):
        return None


def main():
    module = AnsibleModule(argument_spec=dict(names=dict(type="raw", required=True)),
                           supports_check_mode=True)
    names = module.params["names"]
    if isinstance(names, dict):
        expected = dict((str(k), str(v)) for k, v in names.items())
    elif isinstance(names, list):
        expected = dict((str(n), None) for n in names)
    else:
        module.fail_json(msg="names must be a list of names or a dict of name: expected address")
    addresses = dict((name, resolve(name, exp)) for name, exp in expected.items())
    mismatches = [{"name": n, "expected": e, "got": addresses[n]}
                  for n, e in expected.items() if e is not None and addresses[n] != e]
    if mismatches:
        module.fail_json(
            msg="names do not resolve to their cluster addresses: " + "; ".join(
                "%s -> %s (expected %s)" % (m["name"], m["got"] or "nothing", m["expected"]) for m in mismatches),
            addresses=addresses, mismatches=mismatches)
    module.exit_json(changed=False, addresses=addresses, mismatches=mismatches)


if __name__ == "__main__":
    main()
