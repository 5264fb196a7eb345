# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the node model (ansible_facts.gpuforge_node, made by the cluster_facts module) of many hosts."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.node_model import (
    cluster_problems as _cluster_problems,
)


def _facts(hostvars, host):
    try:
        facts = hostvars[host].get("ansible_facts") or {}
    except (KeyError, TypeError, AttributeError):
        facts = {}
    return facts.get("gpuforge_node")


def cluster_nodes(hosts, hostvars):
    """The gpuforge_node fact of each host, in the order given; a clear error naming hosts without one."""
    if isinstance(hosts, str):
        hosts = [hosts]
    nodes, missing = [], []
    for host in hosts:
        node = _facts(hostvars, host)
        (nodes if node else missing).append(node if node else host)
    if missing:
        raise AnsibleFilterError(
            "cluster_nodes: no node model (ansible_facts.gpuforge_node) for %s: these hosts are not in this "
            "play or their facts were not read (run the play on every node of the group, without --limit)"
            % ", ".join(missing))
    return nodes


def cluster_problems(nodes):
    """Problems between nodes (different networks, shared addresses, names equal but for case)."""
    return _cluster_problems(list(nodes))


class FilterModule:
    def filters(self):
        return {"cluster_nodes": cluster_nodes, "cluster_problems": cluster_problems}
