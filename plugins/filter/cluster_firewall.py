# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster_firewall role's rule set and its SSH check (logic in module_utils/cluster_firewall.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.cluster_firewall import (
    FirewallError,
    plan,
    ssh_problem,
)


def firewall_plan(declarations, cluster_networks, admin_networks=None, ssh_ports=None, ephemeral="32768-60999",
                  extra_ports=None):
    try:
        return plan(list(declarations or []), list(cluster_networks or []), list(admin_networks or []),
                    list(ssh_ports or [22]), ephemeral, list(extra_ports or []))
    except (FirewallError, TypeError, KeyError) as exc:
        raise AnsibleFilterError("firewall_plan: %s" % exc) from None


def firewall_ssh_problem(the_plan, ssh_connection):
    if not isinstance(the_plan, dict) or "ports" not in the_plan:
        raise AnsibleFilterError("firewall_ssh_problem: expects what firewall_plan returns")
    return ssh_problem(the_plan, ssh_connection)


class FilterModule:
    def filters(self):
        return {"firewall_plan": firewall_plan, "firewall_ssh_problem": firewall_ssh_problem}
