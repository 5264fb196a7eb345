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


class FilterModule:
    def filters(self):
        return {"known_hosts_lines": known_hosts_lines, "indexes_not_matching": indexes_not_matching}
