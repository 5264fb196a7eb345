# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""known_hosts lines and list positions for ssh_trust, as filters instead of Jinja loops in vars and tasks."""

import re

from ansible.errors import AnsibleFilterError


def known_hosts_lines(table):
    """[{'names': [...], 'host_keys': ['ssh-ed25519 AAAA...', ...]}, ...] -> ['name1,name2 <key>', ...].

    One line per node and host key, in the table's order: the system known_hosts block of ssh_trust.
    """
    lines = []
    for node in table or []:
        try:
            names, keys = node["names"], node["host_keys"]
        except (KeyError, TypeError) as exc:
            raise AnsibleFilterError("known_hosts_lines: each entry needs names and host_keys: %r" % (node,)) from exc
        lines.extend("%s %s" % (",".join(names), key) for key in keys)
    return lines


def indexes_not_matching(items, pattern):
    """Positions (from 0) of the items that do not match the regular expression at their start."""
    regex = re.compile(pattern)
    return [index for index, item in enumerate(items or []) if not regex.match(str(item))]


def ssh_targets(hosts, hostvars):
    """Inventory hosts -> [{name, address, port}]: where the controller's ssh reaches each one (ansible_host, else
    the inventory name; ansible_port, else 22), in the given order."""
    if isinstance(hosts, str):
        raise AnsibleFilterError("ssh_targets: expects a list of inventory hosts, got a string")
    out = []
    for host in hosts:
        hv = hostvars[host]
        port = hv.get("ansible_port") or 22
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise AnsibleFilterError("ssh_targets: %s: ansible_port %r is not a number" % (host, port)) from None
        out.append({"name": str(host), "address": str(hv.get("ansible_host") or host), "port": port})
    return out


class FilterModule:
    def filters(self):
        return {"known_hosts_lines": known_hosts_lines, "indexes_not_matching": indexes_not_matching,
                "ssh_targets": ssh_targets}
