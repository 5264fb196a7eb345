# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node model: one owner of a node's identity on the cluster.

Pure functions, no I/O. ``parse_ip_addr`` reads ``ip -j address show``; ``build_node`` turns what
was observed on a host plus the inventory inputs (cluster_ip, cluster_hostname, cluster_domain,
cluster_networks, cluster_addresses, cluster_host_index) into the ``gpuforge_node`` fact and the
problems that must stop a run before anything changes; ``cluster_problems`` checks the nodes
against each other (one network, no shared address, no names equal but for case).
"""

from __future__ import annotations

import ipaddress
import json
import re

LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


class NodeModelError(ValueError):
    """Input that is not what the node model reads (names the place that did not fit)."""


def parse_ip_addr(text: str) -> list:
    """``ip -j address show`` -> [{name, mtu, link_type, operstate, mac, addresses: [...]}] in order.

    Each address: {family: 4|6, address, prefix, scope, dynamic}. ``dynamic`` is true for
    addresses with a lease lifetime (DHCP, SLAAC).
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        first = text.strip().splitlines()[0][:120] if text.strip() else ""
        raise NodeModelError("ip -j address output is not JSON (%s): %r" % (exc, first)) from None
    if not isinstance(data, list):
        raise NodeModelError("ip -j address output is not a list of interfaces")
    out = []
    for num, link in enumerate(data):
        if not isinstance(link, dict) or "ifname" not in link:
            raise NodeModelError("ip -j address entry %d has no ifname: %r" % (num, str(link)[:120]))
        addrs = []
        for info in link.get("addr_info") or []:
            if info.get("family") not in ("inet", "inet6") or "local" not in info:
                continue
            addrs.append({
                "family": 4 if info["family"] == "inet" else 6,
                "address": info["local"],
                "prefix": int(info.get("prefixlen", 32 if info["family"] == "inet" else 128)),
                "scope": info.get("scope", "global"),
                "dynamic": bool(info.get("dynamic", False)),
            })
        out.append({
            "name": link["ifname"],
            "mtu": link.get("mtu"),
            "link_type": link.get("link_type"),
            "operstate": link.get("operstate"),
            "mac": link.get("address"),
            "addresses": addrs,
        })
    return out


def default_route_interface(text: str):
    """Interface of the first default route in ``ip -j route show default`` (None when none)."""
    try:
        routes = json.loads(text) if text.strip() else []
    except ValueError:
        raise NodeModelError("ip -j route output is not JSON: %r" % text.strip()[:120]) from None
    for route in routes if isinstance(routes, list) else []:
        if isinstance(route, dict) and route.get("dst") == "default" and route.get("dev"):
            return route["dev"]
    return None


def _ip(value):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _is_ip(value) -> bool:
    return _ip(value) is not None


def _find_address(interfaces, address):
    for iface in interfaces:
        for addr in iface.get("addresses") or []:
            if _ip(addr["address"]) == address:
                return iface, addr
    return None, None


def _describe(interfaces) -> str:
    shown = ["%s %s/%s" % (i["name"], a["address"], a["prefix"])
             for i in interfaces for a in i.get("addresses") or [] if a.get("scope") not in ("host", "link")]
    return ", ".join(shown) or "none"


def _default_address(observed):
    """The first global IPv4 address of the default-route interface (what Ansible calls default_ipv4)."""
    dev = observed.get("default_interface")
    for iface in observed.get("interfaces") or []:
        if iface["name"] == dev:
            for addr in iface.get("addresses") or []:
                if addr["family"] == 4 and addr.get("scope", "global") == "global":
                    return addr["address"]
    return None


def node_name(host: str, hostname, address) -> str:
    """The cluster name: cluster_hostname when given; a host named by IP gets ``ip-a-b-c-d`` of its
    cluster address (the AWS convention); otherwise the inventory name's first label."""
    if hostname:
        return str(hostname)
    if _is_ip(host):
        return "ip-" + re.sub(r"[^0-9A-Za-z]+", "-", str(address or host)).strip("-")
    return str(host).split(".", maxsplit=1)[0]


def _network_entry(name, spec, address, interfaces, problems, host):
    """One named network of the node: where its address lives (or will live) and its MTU."""
    # interface/mtu: what carries the address now (else what the inventory declares); *_declared: what
    # the inventory declares (the port a role configures, the MTU it must reach).
    entry = {"address": None, "prefix": None, "network": None, "interface": spec.get("interface"),
             "mtu": spec.get("mtu"), "present": False, "interface_declared": spec.get("interface"),
             "mtu_declared": spec.get("mtu")}
    subnet = None
    if spec.get("subnet"):
        try:
            subnet = ipaddress.ip_network(str(spec["subnet"]), strict=False)
        except ValueError:
            problems.append("%s: cluster_networks.%s.subnet is '%s', which is not a network (CIDR)"
                            % (host, name, spec["subnet"]))
    if address is None:
        return entry
    ip = _ip(address)
    if ip is None:
        problems.append("%s: the address of network %s is '%s', which is not an IP address" % (host, name, address))
        return entry
    if subnet is not None and ip not in subnet:
        problems.append("%s: address %s of network %s is not in its subnet %s" % (host, ip, name, subnet))
    iface, addr = _find_address(interfaces, ip)
    prefix = addr["prefix"] if addr else (subnet.prefixlen if subnet is not None else None)
    entry.update({"address": str(ip), "prefix": prefix,
                  "network": str(ipaddress.ip_interface("%s/%s" % (ip, prefix)).network) if prefix is not None else None})
    if iface is not None:
        entry.update({"interface": iface["name"], "mtu": iface.get("mtu"), "present": True})
    return entry


def build_node(observed: dict, host: str, cluster_ip=None, hostname=None, domain="", networks=None,
               addresses=None, host_index=None) -> dict:
    """The gpuforge_node fact of ``host`` with ``problems`` (stop the run) and ``warnings``.

    ``observed``: {interfaces: parse_ip_addr(...), default_interface, wireless: [names],
    in_container, container_type}. Inputs as in the inventory; None means not set.
    """
    problems: list = []
    warnings: list = []
    interfaces = observed.get("interfaces") or []
    wireless = set(observed.get("wireless") or [])
    domain = domain or ""
    networks = networks or {}
    addresses = addresses or {}

    given = cluster_ip not in (None, "")
    raw = cluster_ip if given else _default_address(observed)
    ip = _ip(raw) if raw not in (None, "") else None
    iface = addr = None
    if raw in (None, ""):
        problems.append("%s: no cluster address: cluster_ip is not set and no default route gives one "
                        "(its addresses: %s). Set cluster_ip for %s in the inventory"
                        % (host, _describe(interfaces), host))
    elif ip is None:
        problems.append("%s: cluster_ip is '%s', which is not an IP address. Set cluster_ip for %s in the "
                        "inventory to its address on the cluster network" % (host, raw, host))
    elif ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
        kind = "loopback" if ip.is_loopback else "link-local" if ip.is_link_local else "not a host"
        problems.append("%s: cluster_ip %s is a %s address; other nodes cannot reach it. Use the node's "
                        "address on the cluster network (its addresses: %s)" % (host, ip, kind, _describe(interfaces)))
    else:
        iface, addr = _find_address(interfaces, ip)
        if iface is None:
            problems.append("%s: cluster_ip %s is not an address of this node (its addresses: %s)"
                            % (host, ip, _describe(interfaces)))
        elif iface["name"] in wireless:
            problems.append("%s: cluster_ip %s is on the wireless interface %s; the cluster network must be "
                            "wired (set cluster_ip to the address of the wired interface)" % (host, ip, iface["name"]))
        elif addr.get("dynamic"):
            warnings.append("%s: cluster_ip %s on %s is a dynamic (DHCP) address: if the lease changes, "
                            "/etc/hosts, Slurm and MPI point at the old one. Make it static or reserve it."
                            % (host, ip, iface["name"]))

    name = node_name(host, hostname, ip)
    if not LABEL_RE.match(name):
        problems.append("%s: cluster name '%s' (cluster_hostname, else the inventory name) is not a valid "
                        "short host name (letters, digits and '-', at most 63, no dots)" % (host, name))
    if domain and not DOMAIN_RE.match(str(domain)):
        problems.append("%s: cluster_domain '%s' is not a DNS domain" % (host, domain))
    if domain:
        fqdn = "%s.%s" % (name, domain)
    elif not hostname and not _is_ip(host) and "." in str(host):
        fqdn = str(host)
    else:
        fqdn = name

    node = {
        "host": host,
        "name": name,
        "short": name.split(".", maxsplit=1)[0],
        "fqdn": fqdn,
        "names": [fqdn, name] if fqdn != name else [name],
        "address": str(ip) if ip is not None else None,
        "interface": iface["name"] if iface else None,
        "prefix": addr["prefix"] if addr else None,
        "network": str(ipaddress.ip_interface("%s/%s" % (ip, addr["prefix"])).network) if addr else None,
        "mtu": iface.get("mtu") if iface else None,
        "dynamic": bool(addr.get("dynamic")) if addr else False,
        "in_container": bool(observed.get("in_container")),
        "container_type": observed.get("container_type"),
        "networks": {},
    }
    if not isinstance(networks, dict):
        problems.append("%s: cluster_networks must be a dict of network name -> {subnet, mtu, interface}" % host)
        networks = {}
    if not isinstance(addresses, dict):
        problems.append("%s: cluster_addresses must be a dict of network name -> address" % host)
        addresses = {}
    for extra in sorted(set(addresses) - set(networks)):
        problems.append("%s: cluster_addresses names network '%s', which cluster_networks does not define"
                        % (host, extra))
    for net_name in sorted(networks):
        spec = networks[net_name] or {}
        if not isinstance(spec, dict):
            problems.append("%s: cluster_networks.%s must be a dict (subnet, mtu, interface)" % (host, net_name))
            continue
        address = addresses.get(net_name)
        if address is None and spec.get("subnet") and host_index is not None:
            try:
                address = str(ipaddress.ip_network(str(spec["subnet"]), strict=False)[int(host_index)])
            except (ValueError, IndexError, TypeError):
                problems.append("%s: cluster_host_index %s gives no address in %s (network %s)"
                                % (host, host_index, spec["subnet"], net_name))
        node["networks"][net_name] = _network_entry(net_name, spec, address, interfaces, problems, host)
    node["networks"]["cluster"] = {"address": node["address"], "prefix": node["prefix"],
                                   "network": node["network"], "interface": node["interface"],
                                   "mtu": node["mtu"], "present": iface is not None}
    return {"node": node, "problems": problems, "warnings": warnings}


def _listing(pairs) -> str:
    return ", ".join("%s %s" % pair for pair in pairs)


def cluster_problems(nodes: list) -> list:
    """Problems between nodes: one message each, naming the hosts and values."""
    problems = []
    nodes = [n for n in nodes if n]
    by_net: dict = {}
    for n in nodes:
        if n.get("network"):
            by_net.setdefault(n["network"], []).append(n)
    if len(by_net) > 1:
        problems.append("the nodes are on different cluster networks: %s. Every node's cluster_ip must be on "
                        "one network" % "; ".join(
                            "%s: %s" % (net, _listing((m["host"], "%s/%s" % (m["address"], m["prefix"])) for m in members))
                            for net, members in sorted(by_net.items())))
    seen: dict = {}
    for n in nodes:
        if n.get("address"):
            seen.setdefault(n["address"], []).append(n["host"])
    for address, hosts in sorted(seen.items()):
        if len(hosts) > 1:
            problems.append("%s share the cluster address %s" % (" and ".join(hosts), address))
    names: dict = {}
    for n in nodes:
        names.setdefault(n["name"].lower(), []).append(n)
    for _key, same in sorted(names.items()):
        if len(same) < 2:
            continue
        spelled = sorted({m["name"] for m in same})
        if len(spelled) > 1:
            problems.append("%s have names that differ only in case (%s): host names are case-insensitive, "
                            "so they would resolve to one node; Slurm node names are not. Rename one "
                            "(cluster_hostname)" % (" and ".join(m["host"] for m in same), ", ".join(spelled)))
        else:
            problems.append("%s have the same cluster name '%s'. Set cluster_hostname to tell them apart"
                            % (" and ".join(m["host"] for m in same), spelled[0]))
    for net_name in sorted({k for n in nodes for k in (n.get("networks") or {}) if k != "cluster"}):
        entries = [(n["host"], n["networks"][net_name]) for n in nodes if net_name in (n.get("networks") or {})]
        owners: dict = {}
        for host, entry in entries:
            if entry.get("address"):
                owners.setdefault(entry["address"], []).append(host)
        for address, hosts in sorted(owners.items()):
            if len(hosts) > 1:
                problems.append("%s share address %s on network %s" % (" and ".join(hosts), address, net_name))
        nets = sorted({e["network"] for _h, e in entries if e.get("network")})
        if len(nets) > 1:
            problems.append("network %s: the nodes' addresses are on different networks: %s" % (
                net_name, _listing((h, "%s/%s" % (e["address"], e["prefix"])) for h, e in entries if e.get("address"))))
    return problems
