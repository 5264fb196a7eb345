#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_ports
short_description: Declare the ports a role listens on, and read every declaration of the node
version_added: 0.5.0
description:
  - With O(role), writes that role's declaration to C(<path>/<role>.json) (checked first - a port, a range
    C(lo-hi) or C(ephemeral); C(tcp) or C(udp); from C(cluster), C(admin) or C(any)) when it differs, or removes
    it with O(state=absent). The role C(cluster_firewall) admits exactly the declared ports.
  - Always returns every declaration in O(path) (after the change) and the kernel's ephemeral port range
    (C(/proc/sys/net/ipv4/ip_local_port_range)); without O(role) it only reads.
  - A file in O(path) that is not a declaration fails the module with the file's name.
  - Where the firewall's table (C(inet gpuforge)) is loaded, the ports a changed declaration adds are inserted
    into it at once (returned as RV(inserted)), so a role switched on is reachable before the role
    C(cluster_firewall) runs again and writes the whole rule set.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  role:
    description: The declaring role; omit to read only.
    type: str
  ports:
    description: The role's listeners, each C({name, port, proto, from}) (proto C(tcp), from C(cluster) when left out;
      C(port) may be a list of ports and ranges).
    type: list
    elements: dict
    default: []
  state:
    description: C(present) writes the declaration, C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  path:
    description: The declarations folder.
    type: path
    default: /etc/gpuforge/ports.d
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Declare slurmctld's port
  gpuforge.cluster.cluster_ports:
    role: munge_slurm
    ports:
      - {name: slurmctld, port: 6817}
      - {name: srun, port: "60001-63000"}

- name: Read the node's declarations
  gpuforge.cluster.cluster_ports:
  register: declared
"""

RETURN = r"""
declarations:
  description: Every declaration in O(path), sorted by role.
  returned: always
  type: list
  elements: dict
  sample: [{"role": "munge_slurm", "ports": [{"name": "slurmctld", "port": "6817", "proto": "tcp", "from": "cluster"}]}]
inserted:
  description: The nft statements inserted into the loaded table (none where it is not loaded).
  returned: always
  type: list
  elements: str
  sample: ['ip saddr @cluster_v4 tcp dport 6820 accept comment "munge_slurm slurmrestd"']
ephemeral:
  description: The kernel's ephemeral (local) port range as C(lo-hi).
  returned: always
  type: str
  sample: 32768-60999
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.cluster_firewall import (
    FirewallError,
    declaration_text,
    ephemeral_range,
    new_port_statements,
    parse_declaration,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool

RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"


def read_text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def read_all(folder, pending):
    """Every declaration in the folder, with ``pending`` (role -> text or None) in place of the files."""
    texts = {}
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".json"):
                texts[name[:-5]] = (os.path.join(folder, name), read_text(os.path.join(folder, name)))
    for role, text in pending.items():
        if text is None:
            texts.pop(role, None)
        else:
            texts[role] = (os.path.join(folder, role + ".json"), text)
    return [parse_declaration(text, where) for _role, (where, text) in sorted(texts.items())]


def insert_live(module, statements):
    """Insert the statements into the loaded table inet gpuforge; none where it is not loaded (or in check mode)."""
    if not statements or module.check_mode or not module.get_bin_path("nft"):
        return []
    rc, _out, _err, _argv = run_tool(module, "nft", ["list", "table", "inet", "gpuforge"], "nftables")
    if rc != 0:
        return []
    for statement in statements:
        rc, _out, err, _argv = run_tool(module, "nft", ["insert rule inet gpuforge input " + statement], "nftables")
        if rc != 0:
            module.fail_json(msg="nft could not insert %r into table inet gpuforge: %s" % (statement, err.strip()))
    return statements


def main():
    module = AnsibleModule(
        argument_spec=dict(role=dict(type="str"), ports=dict(type="list", elements="dict", default=[]),
                           state=dict(type="str", choices=["present", "absent"], default="present"),
                           path=dict(type="path", default="/etc/gpuforge/ports.d")),
        supports_check_mode=True,
    )
    role, folder = module.params["role"], module.params["path"]
    changed, diff, pending, inserted = False, [], {}, []
    try:
        ephemeral = ephemeral_range(read_text(RANGE_FILE))
        if role:
            dest = os.path.join(folder, role + ".json")
            before = read_text(dest) if os.path.exists(dest) else ""
            after = declaration_text(role, module.params["ports"]) if module.params["state"] == "present" else ""
            pending[role] = after or None
            if before != after:
                changed = True
                diff.append({"before": before, "after": after, "before_header": dest, "after_header": dest})
                if not module.check_mode:
                    if after:
                        if not os.path.isdir(folder):
                            os.makedirs(folder, 0o755)
                        tmp = dest + ".tmp"
                        with open(tmp, "w", encoding="utf-8") as handle:
                            handle.write(after)
                        os.chmod(tmp, 0o644)
                        module.atomic_move(tmp, dest)
                    else:
                        os.unlink(dest)
                if after:
                    old = parse_declaration(before, dest) if before else None
                    inserted = insert_live(module, new_port_statements(old, parse_declaration(after, dest), ephemeral))
        declarations = read_all(folder, pending)
    except (FirewallError, OSError) as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=changed, declarations=declarations, ephemeral=ephemeral, inserted=inserted)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
