# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ray_cluster role's start command, ports and node check (logic in module_utils/ray_start.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.ray_start import (
    RayStartError,
    firewall_ports,
    nodes_problems,
    ports,
    runs_argv,
    start_argv,
)


def ray_start_argv(ray_bin, head, node_ip, head_ip, ports=None, num_gpus=None, object_store_bytes=None, extra=None,
                   client=False):
    try:
        return start_argv(str(ray_bin), bool(head), node_ip, head_ip, ports or {},
                          None if num_gpus is None else int(num_gpus),
                          None if object_store_bytes is None else int(object_store_bytes), list(extra or []),
                          bool(client))
    except (RayStartError, ValueError, TypeError) as exc:
        raise AnsibleFilterError("ray_start_argv: %s" % exc) from None


def ray_ports(overrides):
    try:
        return ports(overrides or {})
    except RayStartError as exc:
        raise AnsibleFilterError("ray_ports: %s" % exc) from None


def ray_nodes_problems(nodes, expected):
    if not isinstance(nodes, list) or not isinstance(expected, dict):
        raise AnsibleFilterError("ray_nodes_problems: expects ray.nodes() (a list) and a dict of expected addresses")
    return nodes_problems(nodes, expected)


def ray_firewall_ports(pinned, head, client=False):
    if not isinstance(pinned, dict):
        raise AnsibleFilterError("ray_firewall_ports: expects the ports ray_ports returns")
    try:
        return firewall_ports(ports(pinned), bool(head), bool(client))
    except RayStartError as exc:
        raise AnsibleFilterError("ray_firewall_ports: %s" % exc) from None


def ray_runs_argv(cmdline_b64, argv):
    return runs_argv(str(cmdline_b64 or ""), [str(a) for a in argv or []])


class FilterModule:
    def filters(self):
        return {"ray_start_argv": ray_start_argv, "ray_ports": ray_ports, "ray_nodes_problems": ray_nodes_problems,
                "ray_runs_argv": ray_runs_argv, "ray_firewall_ports": ray_firewall_ports}
