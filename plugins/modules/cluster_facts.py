#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cluster_facts
short_description: The node model - this node's name, cluster address, interface and networks
version_added: 0.2.0
description:
  - The one producer of a node's identity on the cluster. Reads the node's interfaces
    (C(ip -j address show), C(ip -j route show default)), which of them are wireless (sysfs) and
    whether it runs in a container, then decides from the inventory inputs the cluster name,
    short name, FQDN, cluster address, the interface carrying it, its network and the node's other
    networks. Returns them as C(ansible_facts.gpuforge_node); what it observed as
    C(ansible_facts.gpuforge_host) (recorded facts for offline rendering feed it back as O(observed)).
  - Never fails on bad input. It returns C(problems) (the caller stops the run before any change)
    and warns about what does not stop a run (a dynamic DHCP cluster address).
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  host:
    description: The inventory name of the node (C(inventory_hostname)).
    type: str
    required: true
  cluster_ip:
    description: The node's address on the cluster network; unset uses the first IPv4 address of the default-route interface.
    type: str
  hostname:
    description: The cluster name; unset uses the inventory name's first label (C(ip-a-b-c-d) for hosts named by IP).
    type: str
  domain:
    description: DNS domain of the cluster names; empty writes short names only.
    type: str
    default: ""
  networks:
    description: Other networks, by name, each with C(subnet) (CIDR), C(mtu) and C(interface) (where its address will live).
    type: dict
    default: {}
  addresses:
    description: This node's address on each named network.
    type: dict
    default: {}
  host_index:
    description: With a network's C(subnet) and no address in O(addresses), the node's address is host number O(host_index) of the subnet.
    type: int
  observed:
    description:
      - Use this recorded C(gpuforge_host) fact instead of reading the node (offline rendering).
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Describe this node on the cluster
  gpuforge.cluster.cluster_facts:
    host: "{{ inventory_hostname }}"
    cluster_ip: "{{ cluster_ip | default(omit) }}"
  register: node

- name: The interface NCCL and MPI should use
  ansible.builtin.debug:
    msg: "{{ ansible_facts.gpuforge_node.interface }} ({{ ansible_facts.gpuforge_node.network }})"
"""

RETURN = r"""
ansible_facts:
  description: C(gpuforge_node) (the node model) and C(gpuforge_host) (what was observed).
  returned: always
  type: complex
  contains:
    gpuforge_node:
      description: The node model; key reference in docs/facts.md.
      type: dict
      returned: always
      sample: {"name": "node1", "short": "node1", "fqdn": "node1.lab.example", "names": ["node1.lab.example", "node1"],
               "address": "10.77.0.11", "interface": "eth0", "prefix": 24, "network": "10.77.0.0/24", "mtu": 1500,
               "dynamic": false, "in_container": true, "container_type": "podman", "host": "node1", "networks": {}}
      contains:
        name:
          description: The cluster name (hostname, /etc/hosts, Slurm NodeName, MPI hostfile, ssh).
          type: str
          returned: always
          sample: node1
        short:
          description: The name up to the first dot.
          type: str
          returned: always
          sample: node1
        fqdn:
          description: C(name.cluster_domain), else the inventory FQDN, else C(name).
          type: str
          returned: always
          sample: node1.lab.example
        names:
          description: The /etc/hosts names, canonical first.
          type: list
          elements: str
          returned: always
          sample: ["node1.lab.example", "node1"]
        address:
          description: The cluster address.
          type: str
          returned: always
          sample: 10.77.0.11
        interface:
          description: The interface that holds the cluster address.
          type: str
          returned: always
          sample: eth0
        prefix:
          description: Prefix length of the cluster address.
          type: int
          returned: always
          sample: 24
        network:
          description: The cluster network (CIDR).
          type: str
          returned: always
          sample: 10.77.0.0/24
        mtu:
          description: MTU of the cluster interface.
          type: int
          returned: always
          sample: 1500
        dynamic:
          description: Whether the address is a DHCP or SLAAC lease.
          type: bool
          returned: always
          sample: false
        in_container:
          description: Whether the node runs in a container.
          type: bool
          returned: always
          sample: true
        container_type:
          description: The kind of container (C(podman), C(docker), C(lxc), C(systemd-nspawn), C(wsl)...), or null.
          type: str
          returned: always
          sample: podman
        networks:
          description:
            - Per network name, C(cluster) included - C(address), C(prefix), C(network), C(interface), C(mtu),
              C(present); named networks also C(interface_declared) and C(mtu_declared) as cluster_networks gives them.
          type: dict
          returned: always
          sample: {"cluster": {"address": "10.77.0.11", "prefix": 24, "network": "10.77.0.0/24", "interface": "eth0",
                               "mtu": 1500, "present": true}}
        host:
          description: The inventory name.
          type: str
          returned: always
          sample: node1
    gpuforge_host:
      description: What was observed on the host; key reference in docs/facts.md.
      type: dict
      returned: always
      contains:
        interfaces:
          description:
            - One entry per link as C(ip -j address show) gives it (name, mtu, link_type, operstate, mac, addresses),
              and from sysfs pci, driver, rdma_devices, speed_mbps.
          type: list
          elements: dict
          returned: always
          sample: [{"name": "eth0", "mtu": 1500, "link_type": "ether", "operstate": "UP", "mac": "52:54:00:12:34:56",
                    "addresses": [{"family": 4, "address": "10.77.0.11", "prefix": 24, "scope": "global",
                                   "dynamic": false}],
                    "pci": "0000:00:03.0", "driver": "virtio_net", "rdma_devices": [], "speed_mbps": null}]
        default_interface:
          description: The interface of the default route, or null.
          type: str
          returned: always
          sample: eth0
        wireless:
          description: Names of the wireless interfaces.
          type: list
          elements: str
          returned: always
          sample: []
        in_container:
          description: Whether the node runs in a container.
          type: bool
          returned: always
          sample: true
        container_type:
          description: The kind of container, or null.
          type: str
          returned: always
          sample: podman
        net_admin:
          description: Whether the module process may configure links (CAP_NET_ADMIN); null when unknown.
          type: bool
          returned: always
          sample: false
problems:
  description: Input that must stop the run, one sentence each naming the host and the value.
  type: list
  elements: str
  returned: always
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.node_model import (
    NodeModelError,
    build_node,
    default_route_interface,
    parse_ip_addr,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None


def container_type():
    """The container this node runs in (systemd's word for it), or None on bare metal and VMs."""
    kind = (_read("/run/systemd/container") or "").strip()
    if kind:
        return kind
    if os.path.exists("/run/.containerenv"):
        return "podman"
    if os.path.exists("/.dockerenv"):
        return "docker"
    for item in (_read("/proc/1/environ") or "").split("\0"):
        if item.startswith("container="):
            return item.split("=", 1)[1] or "container"
    if "microsoft" in (_read("/proc/sys/kernel/osrelease") or "").lower():
        return "wsl"
    return None


def device_of(name, root="/sys/class/net"):
    """The hardware behind a netdev: PCI address (None for virtual links), kernel driver, RDMA devices."""
    device = os.path.join(root, name, "device")
    out = {"pci": None, "driver": None, "rdma_devices": [], "speed_mbps": None}
    speed = (_read(os.path.join(root, name, "speed")) or "").strip()  # EINVAL (None) on a link without carrier
    if speed.lstrip("-").isdigit() and int(speed) > 0:
        out["speed_mbps"] = int(speed)
    if not os.path.isdir(device):
        return out
    real = os.path.basename(os.path.realpath(device))
    if re.match(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$", real):
        out["pci"] = real
    driver = os.path.join(device, "driver")
    if os.path.islink(driver):
        out["driver"] = os.path.basename(os.path.realpath(driver))
    rdma = os.path.join(device, "infiniband")
    out["rdma_devices"] = sorted(os.listdir(rdma)) if os.path.isdir(rdma) else []
    return out


def net_admin():
    """Whether this process may configure links (CAP_NET_ADMIN, bit 12 of CapEff); None when unknown."""
    for line in (_read("/proc/self/status") or "").splitlines():
        if line.startswith("CapEff:"):
            try:
                return bool(int(line.split()[1], 16) >> 12 & 1)
            except (IndexError, ValueError):
                return None
    return None


def observe(module):
    rc, out, err, argv = run_tool(module, "ip", ["-j", "address", "show"], package_hint="iproute2")
    if rc != 0:
        module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv), rc, err.strip()))
    rrc, rout, _rerr, _rargv = run_tool(module, "ip", ["-j", "route", "show", "default"], package_hint="iproute2")
    try:
        interfaces = parse_ip_addr(out)
        default_dev = default_route_interface(rout) if rrc == 0 else None
    except NodeModelError as exc:
        module.fail_json(msg=str(exc))
    wireless = [i["name"] for i in interfaces
                if os.path.exists("/sys/class/net/%s/wireless" % i["name"])
                or os.path.exists("/sys/class/net/%s/phy80211" % i["name"])]
    for iface in interfaces:
        iface.update(device_of(iface["name"]))
    kind = container_type()
    return {"interfaces": interfaces, "default_interface": default_dev, "wireless": wireless,
            "in_container": kind is not None, "container_type": kind, "net_admin": net_admin()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            cluster_ip=dict(type="str"),
            hostname=dict(type="str"),
            domain=dict(type="str", default=""),
            networks=dict(type="dict", default={}),
            addresses=dict(type="dict", default={}),
            host_index=dict(type="int"),
            observed=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    observed = p["observed"] if p["observed"] is not None else observe(module)
    result = build_node(observed, p["host"], cluster_ip=p["cluster_ip"], hostname=p["hostname"],
                        domain=p["domain"], networks=p["networks"], addresses=p["addresses"],
                        host_index=p["host_index"])
    for warning in result["warnings"]:
        module.warn(warning)
    module.exit_json(changed=False, problems=result["problems"],
                     ansible_facts={"gpuforge_node": result["node"], "gpuforge_host": observed})


if __name__ == "__main__":
    main()
