# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDMA ports as data: which interface each port is, what it must carry, and how it is written.

Pure functions, no I/O. ``resolve_ports`` turns the ports a user declares (rdma_network_ports) and
the node model (gpuforge_node, gpuforge_host) into resolved ports plus the problems that must stop a
run before anything changes; ``netplan_config`` and ``networkd_files`` turn resolved ports into the
files each renderer reads (templates only place them); ``drift`` says which ports the live interface
does not match (address, MTU, link); ``hca_choice`` picks, per HCA, the port to use and its RoCE v2
IPv4 GID index from ibstat and the sysfs GID table (never from inventory: devices get renamed).
"""

from __future__ import annotations

import ipaddress
import re

KINDS = ("roce", "ipoib")
IPOIB_MODES = ("datagram", "connected")
# Ethernet frames: 68 is IPv4's minimum; 9216 the largest jumbo MTU common NICs and switches take.
ETHERNET_MTU = (68, 9216)
# IPoIB datagram mode carries one IB packet: the IB MTU (2048 or 4096) minus the 4-byte IPoIB header.
IPOIB_DATAGRAM_MTU = 4092
IPOIB_DATAGRAM_MTU_2K = 2044
IPOIB_CONNECTED_MTU = 65520
# HCAs whose datagram MTU stops at 2044 (no 4K IB MTU): InfiniHost (mthca) and QLogic TrueScale (qib).
IB_2K_DRIVERS = ("ib_mthca", "mthca", "ib_qib", "qib")
# mlx5 (ConnectX-4 and later) runs enhanced IPoIB: datagram only (connected mode is refused).
ENHANCED_IPOIB_PREFIXES = ("mlx5",)
NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
PCI_RE = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
NETWORK_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _pci(value) -> str:
    text = str(value).strip().lower()
    return "0000:" + text if re.match(r"^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$", text) else text


def _pkey(value):
    """A partition key as an int (0x8001, '0x8001', 32769), or None when it is not one."""
    try:
        key = int(str(value), 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None
    # 0x0000 and 0xffff/0x7fff (the default partition) are not child partitions.
    return key if 0 < (key & 0x7FFF) < 0x7FFF and key <= 0xFFFF else None


def _interface_by(interfaces, key, value):
    if key == "name":
        return [i for i in interfaces if i.get("name") == value]
    if key == "mac":
        return [i for i in interfaces if str(i.get("mac") or "").lower() == value]
    return [i for i in interfaces if str(i.get("pci") or "").lower() == value]


def _match(port, spec, label):
    """(key, value, problem): how the port names its interface."""
    given = [(key, port.get(key)) for key in ("interface", "mac", "pci") if port.get(key) not in (None, "")]
    if len(given) > 1:
        return None, None, "%s names its interface %d ways (%s): give one of interface, mac, pci" % (
            label, len(given), ", ".join(k for k, _v in given))
    if not given:
        if spec.get("interface"):
            given = [("interface", spec["interface"])]
        else:
            return None, None, ("%s names no interface: set interface, mac or pci on the port, or interface on "
                                "cluster_networks.%s" % (label, port.get("network")))
    key, value = given[0]
    if key == "interface":
        if not NAME_RE.match(str(value)):
            return None, None, "%s: interface '%s' is not an interface name" % (label, value)
        return "name", str(value), None
    if key == "mac":
        mac = str(value).strip().lower().replace("-", ":")
        if not MAC_RE.match(mac):
            return None, None, "%s: mac '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)" % (label, value)
        return "mac", mac, None
    pci = _pci(value)
    if not PCI_RE.match(pci):
        return None, None, "%s: pci '%s' is not a PCI address (0000:82:00.0)" % (label, value)
    return "pci", pci, None


def _mtu_problems(label, kind, mode, mtu, driver, rdma_devices):
    if kind == "roce":
        low, high = ETHERNET_MTU
        if not low <= mtu <= high:
            return ["%s: MTU %d is outside what Ethernet takes (%d..%d)" % (label, mtu, low, high)]
        return []
    problems = []
    enhanced = any(str(d).startswith(ENHANCED_IPOIB_PREFIXES) for d in rdma_devices or [])
    if mode == "connected" and enhanced:
        problems.append("%s: IPoIB connected mode on %s: ConnectX-4 and later (mlx5) run enhanced IPoIB, which is "
                        "datagram only; use mode datagram (MTU up to %d)"
                        % (label, ", ".join(rdma_devices), IPOIB_DATAGRAM_MTU))
    if mode == "datagram":
        limit = IPOIB_DATAGRAM_MTU_2K if str(driver or "") in IB_2K_DRIVERS else IPOIB_DATAGRAM_MTU
        if mtu > limit:
            problems.append("%s: MTU %d on IPoIB datagram mode: a datagram carries one IB packet, at most the IB "
                            "MTU minus 4 (%d here); jumbo MTUs such as 9000 are for Ethernet/RoCE ports, or use "
                            "IPoIB connected mode (up to %d)" % (label, mtu, limit, IPOIB_CONNECTED_MTU))
    elif mtu > IPOIB_CONNECTED_MTU:
        problems.append("%s: MTU %d is above IPoIB connected mode's %d" % (label, mtu, IPOIB_CONNECTED_MTU))
    if mtu < 68:
        problems.append("%s: MTU %d is below IPv4's minimum of 68" % (label, mtu))
    return problems


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def resolve_ports(ports, node: dict, observed: dict, renderer: str = "networkd", connection_address=None) -> dict:
    """The ports of one node, resolved: {ports: [...], problems: [...]}.

    ``ports``: rdma_network_ports (list of {network, interface|mac|pci, kind, mode, pkey, mtu, optional}).
    ``node``: gpuforge_node (addresses per network from the node model); ``observed``: gpuforge_host
    (interfaces with mac, pci, driver, rdma_devices, link_type, default_interface). The networks and
    their declared MTU and interface come from the node model. ``connection_address``: the address
    Ansible reaches the node at (its interface is never touched).
    """
    host = node.get("host") or node.get("name") or "?"
    problems: list = []
    resolved: list = []
    networks = {k: v for k, v in (node.get("networks") or {}).items() if k != "cluster"}
    interfaces = observed.get("interfaces") or []
    if not isinstance(ports, list):
        return {"ports": [], "problems": ["%s: rdma_network_ports must be a list of ports" % host]}
    protected = {}
    if observed.get("default_interface"):
        protected[observed["default_interface"]] = "the default-route interface"
    if node.get("interface"):
        protected.setdefault(node["interface"], "the cluster (management) interface carrying %s" % node.get("address"))
    if connection_address:
        for iface in interfaces:
            if any(a.get("address") == str(connection_address) for a in iface.get("addresses") or []):
                protected.setdefault(iface["name"], "the interface Ansible reaches this node on (%s)"
                                     % connection_address)
    if ports and observed.get("in_container") and observed.get("net_admin") is False:
        problems.append("%s is a %s container without CAP_NET_ADMIN: it cannot configure its links (start it with "
                        "--cap-add NET_ADMIN, or leave rdma_network_ports empty there)"
                        % (host, observed.get("container_type") or "container"))
    seen_ifaces: dict = {}
    seen_networks: dict = {}
    for num, port in enumerate(ports):
        label = "%s: rdma_network_ports[%d]" % (host, num)
        if not isinstance(port, dict):
            problems.append("%s must be a dict (network, interface|mac|pci, kind, mtu...)" % label)
            continue
        net_name = port.get("network")
        label = "%s (network %s)" % (label, net_name)
        unknown = sorted(set(port) - {"network", "interface", "mac", "pci", "kind", "mode", "pkey", "mtu",
                                      "optional"})
        if unknown:
            problems.append("%s has unknown keys: %s" % (label, ", ".join(unknown)))
        entry = networks.get(net_name) if isinstance(net_name, str) else None
        if entry is None:
            problems.append("%s: the network must be one of cluster_networks (%s)" % (
                label, ", ".join(sorted(networks)) or "none defined"))
            continue
        spec = {"interface": entry.get("interface_declared"), "mtu": entry.get("mtu_declared")}
        if net_name in seen_networks:
            problems.append("%s: network %s already has a port (rdma_network_ports[%d])"
                            % (label, net_name, seen_networks[net_name]))
        seen_networks[net_name] = num
        kind = port.get("kind", "roce")
        if kind not in KINDS:
            problems.append("%s: kind '%s' is not one of %s" % (label, kind, ", ".join(KINDS)))
            continue
        mode = port.get("mode") or ("datagram" if kind == "ipoib" else None)
        if kind == "roce" and port.get("mode"):
            problems.append("%s: mode is an IPoIB setting; a RoCE port has none" % label)
        if kind == "ipoib" and mode not in IPOIB_MODES:
            problems.append("%s: mode '%s' is not one of %s" % (label, mode, ", ".join(IPOIB_MODES)))
            continue
        pkey = None
        if port.get("pkey") not in (None, ""):
            pkey = _pkey(port["pkey"])
            if kind != "ipoib":
                problems.append("%s: pkey is an IPoIB setting; a RoCE port has none" % label)
            elif pkey is None:
                problems.append("%s: pkey '%s' is not a partition key (0x0001..0x7ffe, full member 0x8001..)"
                                % (label, port["pkey"]))
            elif renderer == "netplan":
                problems.append("%s: netplan cannot create IPoIB partition (pkey) interfaces; set "
                                "rdma_network_renderer: networkd for this node" % label)
        key, value, problem = _match(port, spec, label)
        if problem:
            problems.append(problem)
            continue
        found = _interface_by(interfaces, key, value)
        iface = found[0] if len(found) == 1 else None
        if len(found) > 1:
            names = ", ".join(i["name"] for i in found)
            problems.append("%s: %s %s matches %d interfaces (%s)" % (label, key, value, len(found), names))
            continue
        if iface is None:
            known = ", ".join("%s %s%s" % (i["name"], i.get("mac") or "-", " " + i["pci"] if i.get("pci") else "")
                              for i in interfaces if i.get("link_type") != "loopback")
            problems.append("%s: no interface has %s %s (interfaces: %s)" % (label, key, value, known or "none"))
            continue
        name = iface["name"]
        if name in protected:
            problems.append("%s: %s is %s; rdma_network never reconfigures it (pick the data port)"
                            % (label, name, protected[name]))
            continue
        if name in seen_ifaces:
            problems.append("%s: %s is already rdma_network_ports[%d]" % (label, name, seen_ifaces[name]))
            continue
        seen_ifaces[name] = num
        link_type = iface.get("link_type")
        want = "infiniband" if kind == "ipoib" else "ether"
        if link_type and link_type != want:
            problems.append("%s: %s is a %s link, not %s (kind %s)" % (
                label, name, link_type, "InfiniBand" if want == "infiniband" else "Ethernet", kind))
        mtu = _int(port.get("mtu", spec.get("mtu")))
        if mtu is None:
            mtu = 1500 if kind == "roce" else IPOIB_DATAGRAM_MTU_2K
        problems.extend(_mtu_problems(label, kind, mode, mtu, iface.get("driver"), iface.get("rdma_devices")))
        address, prefix = entry.get("address"), entry.get("prefix")
        if not address or prefix is None:
            problems.append("%s: the node model gives no address on network %s: set cluster_addresses.%s for %s, "
                            "or cluster_networks.%s.subnet and cluster_host_index" % (
                                label, net_name, net_name, host, net_name))
            continue
        for other in interfaces:
            if other["name"] == name:
                continue
            for addr in other.get("addresses") or []:
                if addr.get("address") == address:
                    problems.append("%s: %s is already on %s, not on %s" % (label, address, other["name"], name))
        ifname = name if kind == "roce" or pkey is None else "%s.%04x" % (name, pkey | 0x8000)
        resolved.append({
            "network": net_name, "interface": ifname, "parent": name if ifname != name else None, "link": name,
            "match": {"key": key, "value": value}, "mac": iface.get("mac"), "pci": iface.get("pci"),
            "driver": iface.get("driver"), "rdma_devices": list(iface.get("rdma_devices") or []),
            "kind": kind, "mode": mode, "pkey": ("0x%04x" % (pkey | 0x8000)) if pkey is not None else None,
            "mtu": mtu, "address": address, "prefix": int(prefix), "cidr": "%s/%s" % (address, prefix),
            "network_cidr": str(ipaddress.ip_interface("%s/%s" % (address, prefix)).network),
            "optional": bool(port.get("optional", True)), "link_type": link_type,
            # The link rate of a physical port (a veth or bridge reports a nominal one: no PCI device).
            "speed_gbps": iface["speed_mbps"] / 1000.0 if iface.get("pci") and isinstance(iface.get("speed_mbps"), int)
            and iface["speed_mbps"] > 0 else None,
        })
    return {"ports": resolved, "problems": problems}


def netplan_config(resolved: list) -> dict:
    """The netplan document for the ports (version 2, networkd renderer)."""
    ethernets: dict = {}
    for port in resolved:
        key = port["match"]["key"]
        entry: dict = {}
        if key == "name":
            ident = port["interface"]
        else:
            # Matched by hardware: netplan matches a MAC (a PCI address resolves to the card's MAC).
            ident = "gpuforge-" + port["network"]
            entry["match"] = {"macaddress": port["mac"]}
        # The renderer per device: a file-wide one would switch every other netplan device too.
        entry.update({"renderer": "networkd", "addresses": [port["cidr"]], "mtu": port["mtu"],
                      "optional": port["optional"],
                      "dhcp4": False, "dhcp6": False, "link-local": []})
        if port["kind"] == "ipoib":
            entry["infiniband-mode"] = port["mode"]
        ethernets[ident] = entry
    return {"network": {"version": 2, "ethernets": ethernets}}


def networkd_files(resolved: list) -> list:
    """systemd-networkd files for the ports: [{name, sections: [[section, [[key, value], ...]], ...]}]."""
    files = []
    for port in resolved:
        stem = "60-gpuforge-%s" % port["network"]
        match_key = {"name": "Name", "mac": "MACAddress", "pci": "Path"}[port["match"]["key"]]
        match_value = port["match"]["value"] if match_key != "Path" else "pci-" + port["match"]["value"]
        link = [["MTUBytes", port["mtu"]], ["RequiredForOnline", "no" if port["optional"] else "yes"]]
        network = [["Address", port["cidr"]], ["LinkLocalAddressing", "no"], ["IPv6AcceptRA", "no"],
                   ["ConfigureWithoutCarrier", "yes"]]
        if port["parent"]:
            # An IPoIB partition: the child is a netdev of the parent port.
            files.append({"name": stem + ".netdev", "sections": [
                ["NetDev", [["Name", port["interface"]], ["Kind", "ipoib"]]],
                ["IPoIB", [["PartitionKey", port["pkey"]], ["Mode", port["mode"]]]]]})
            files.append({"name": stem + "-parent.network", "sections": [
                ["Match", [[match_key, match_value]]],
                ["Link", [["RequiredForOnline", "no"]]],
                ["Network", [["IPoIB", port["interface"]], ["LinkLocalAddressing", "no"]]]]})
            files.append({"name": stem + ".network", "sections": [
                ["Match", [["Name", port["interface"]]]], ["Link", link], ["Network", network]]})
            continue
        sections = [["Match", [[match_key, match_value]]], ["Link", link], ["Network", network]]
        if port["kind"] == "ipoib":
            sections.append(["IPoIB", [["Mode", port["mode"]]]])
        files.append({"name": stem + ".network", "sections": sections})
    return files


def networkd_text(sections: list) -> str:
    """One systemd-networkd file's text from its sections ([[section, [[key, value], ...]], ...])."""
    out = []
    for section, items in sections:
        out.append("[%s]" % section)
        out.extend("%s=%s" % (key, value) for key, value in items)
        out.append("")
    return "\n".join(out)


def drift(resolved: list, interfaces: list) -> list:
    """Ports whose live interface differs from the port: [{interface, network, problems: [...]}]."""
    out = []
    by_name = {i["name"]: i for i in interfaces or []}
    for port in resolved:
        iface = by_name.get(port["interface"])
        found = []
        if iface is None:
            found.append("interface %s is missing" % port["interface"])
        else:
            if _int(iface.get("mtu")) != port["mtu"]:
                found.append("MTU %s, not %s" % (iface.get("mtu"), port["mtu"]))
            have = {"%s/%s" % (a["address"], a["prefix"]) for a in iface.get("addresses") or []}
            if port["cidr"] not in have:
                found.append("%s is not on it (it has %s)" % (port["cidr"], ", ".join(sorted(have)) or "no address"))
            if str(iface.get("operstate") or "").upper() == "DOWN":
                found.append("link is down")
        if found:
            out.append({"interface": port["interface"], "network": port["network"], "problems": found,
                        "message": "%s (network %s): %s" % (port["interface"], port["network"], "; ".join(found))})
    return out


def _state_word(state) -> str:
    """ibstat says 'Active'; sysfs '4: ACTIVE'."""
    text = str(state or "")
    return text.split(":", 1)[1].strip().capitalize() if ":" in text else text.strip().capitalize()


def hca_choice(ibstat: dict, gids: dict, resolved=None) -> dict:
    """Per HCA, the ports to use and their RoCE v2 IPv4 GID index.

    ``ibstat``: the ibstat fact ({ca: {ports: {n: {state, link_layer, rate}}}}); ``gids``: the
    rdma_gids fact ({devices: {dev: {port: {gids: [...]}}}}). Returns {ports: [{device, port, state,
    link_layer, rate, gid_index, ndev, ipv4, use, reason}], hca: 'dev:port,...' of the ports in use,
    gid_index (the RoCE v2 IPv4 index NCCL_IB_GID_INDEX takes, None on InfiniBand), warnings, problems}.
    With ``resolved`` (the node's ports), ``problems`` names ports whose RDMA device has no usable port
    or whose RoCE address has no RoCE v2 GID.
    """
    rows = []
    devices = (gids or {}).get("devices") or {}
    for ca in sorted(ibstat or {}):
        info = (ibstat or {})[ca] or {}
        for num in sorted((info.get("ports") or {}), key=int):
            port = info["ports"][num]
            state = _state_word(port.get("state"))
            link_layer = port.get("link_layer")
            table = devices.get(ca, {})
            gid_rows = (table.get(int(num)) or table.get(str(num)) or {}).get("gids") or []
            v2 = [g for g in gid_rows if g.get("type") == "RoCE v2" and g.get("ipv4")]
            row = {"device": ca, "port": int(num), "state": state, "link_layer": link_layer,
                   "rate": port.get("rate"), "gid_index": None, "ndev": None, "ipv4": None}
            if state != "Active":
                row.update(use=False, reason="port %s is %s" % (num, state or "in no state"))
            elif link_layer == "Ethernet" and not v2:
                row.update(use=False, reason="RoCE port with no RoCE v2 IPv4 GID (no IPv4 address on its netdev)")
            else:
                row.update(use=True, reason="Active")
                if v2:
                    row.update(gid_index=v2[0]["index"], ndev=v2[0].get("ndev"), ipv4=v2[0]["ipv4"])
            rows.append(row)
    used = [r for r in rows if r["use"]]
    problems = []
    roce = (gids or {}).get("roce_v2_ipv4") or {}
    for port in resolved or []:
        for device in port.get("rdma_devices") or []:
            mine = [r for r in rows if r["device"] == device]
            if not mine:
                problems.append("%s: its RDMA device %s is not in ibstat's output" % (port["interface"], device))
            elif not any(r["use"] for r in mine):
                problems.append("%s: no usable port on %s (%s)" % (port["interface"], device, "; ".join(
                    r["reason"] for r in mine)))
        if port["kind"] == "roce" and port.get("rdma_devices"):
            entry = roce.get(port["interface"])
            if entry is None:
                problems.append("%s: no RoCE v2 GID carries its address %s (the GID table has none for it: is the "
                                "address on the port and the port up?)" % (port["interface"], port["address"]))
            elif entry.get("ipv4") != port["address"]:
                problems.append("%s: its RoCE v2 GID carries %s, not the port's address %s" % (
                    port["interface"], entry.get("ipv4"), port["address"]))
    indexes = sorted({r["gid_index"] for r in used if r["gid_index"] is not None})
    warnings = []
    if len(indexes) > 1:
        warnings.append("the RoCE ports in use have different RoCE v2 IPv4 GID indexes (%s); NCCL_IB_GID_INDEX "
                        "takes one: %d" % (", ".join("%s:%s=%s" % (r["device"], r["port"], r["gid_index"])
                                                     for r in used if r["gid_index"] is not None), indexes[0]))
    return {"ports": rows, "hca": ",".join("%s:%s" % (r["device"], r["port"]) for r in used),
            "gid_index": indexes[0] if indexes else None, "warnings": warnings, "problems": problems}


def peer_plan(host: str, by_host: dict) -> list:
    """What ``host`` pings: for each of its ports, every other host's address on that network.

    ``by_host``: {host: resolved ports}. Returns [{network, interface, mtu, peer, address, payload}]
    where payload is the ICMP payload that fills one frame of the port's MTU with DF set (MTU - 28).
    """
    plan = []
    for port in by_host.get(host) or []:
        for other in sorted(by_host):
            if other == host:
                continue
            for theirs in by_host[other] or []:
                if theirs["network"] == port["network"]:
                    plan.append({"network": port["network"], "interface": port["interface"], "mtu": port["mtu"],
                                 "peer": other, "address": theirs["address"], "payload": port["mtu"] - 28})
    return plan


def cluster_port_problems(by_host: dict) -> list:
    """Between nodes: one MTU per network, no address twice, every address on one subnet."""
    problems = []
    nets: dict = {}
    for host in sorted(by_host):
        for port in by_host[host] or []:
            nets.setdefault(port["network"], []).append((host, port))
    for name, members in sorted(nets.items()):
        mtus = sorted({p["mtu"] for _h, p in members})
        if len(mtus) > 1:
            problems.append("network %s: the ports have different MTUs (%s); frames above the smallest are "
                            "dropped on the way" % (name, ", ".join("%s %s" % (h, p["mtu"]) for h, p in members)))
        subnets = sorted({p["network_cidr"] for _h, p in members})
        if len(subnets) > 1:
            problems.append("network %s: the ports are on different subnets (%s)" % (
                name, ", ".join("%s %s" % (h, p["cidr"]) for h, p in members)))
        owners: dict = {}
        for host, port in members:
            owners.setdefault(port["address"], []).append(host)
        for address, hosts in sorted(owners.items()):
            if len(hosts) > 1:
                problems.append("network %s: %s share the address %s" % (name, " and ".join(hosts), address))
    return problems


def judge_ping(host: str, item: dict, big_rc: int, small_rc) -> dict:
    """One DF ping of a full frame (and, when it failed, a small one) -> a result naming the pair."""
    pair = "%s -> %s %s (network %s, %s MTU %d)" % (
        host, item["peer"], item["address"], item["network"], item["interface"], item["mtu"])
    if big_rc == 0:
        return {"pair": pair, "ok": True, "why": "%d-byte payload with DF answered" % item["payload"]}
    if small_rc == 0:
        why = ("%d-byte payload with DF lost, a 56-byte ping answered: a switch port or the peer drops frames "
               "above a smaller MTU (jumbo frames not enabled end to end)" % item["payload"])
    else:
        why = "no answer at all, even to a 56-byte ping: the peer is down, unaddressed or filtered"
    return {"pair": pair, "ok": False, "why": why}


def benchmark_ring(host: str, by_host: dict, port: int = 5201) -> list:
    """The benchmarks ``host`` runs: on each network, hosts in name order form a ring and each measures
    to the next one (2 nodes: both directions), so every host serves exactly one client per network.

    Returns [{host, network, interface, peer, server (the peer's address), bind (this host's address),
    port, link_rate_gbps}], one per network this host has a port on with at least one peer.
    """
    plans = []
    mine = {p["network"]: p for p in by_host.get(host) or []}
    for net_name in sorted(mine):
        members = sorted(h for h, ports in by_host.items() if any(p["network"] == net_name for p in ports or []))
        if len(members) < 2:
            continue
        peer = members[(members.index(host) + 1) % len(members)]
        theirs = next(p for p in by_host[peer] if p["network"] == net_name)
        plans.append({"host": host, "network": net_name, "interface": mine[net_name]["interface"], "peer": peer,
                      "rdma": bool(mine[net_name].get("rdma_devices")) and bool(theirs.get("rdma_devices")),
                      "server": theirs["address"], "bind": mine[net_name]["address"], "port": port,
                      "link_rate_gbps": mine[net_name].get("speed_gbps")})
    return plans


def rdma_endpoint(choice: dict, port: dict) -> dict:
    """The RDMA device, HCA port and GID index perftest uses for a resolved port, from hca_choice.

    RoCE: the HCA port whose RoCE v2 IPv4 GID carries the port's address (its netdev); InfiniBand: the
    used port of the port's RDMA device. {device, ib_port, gid_index} or {reason} when none is usable.
    """
    rows = [r for r in (choice or {}).get("ports") or [] if r.get("device") in (port.get("rdma_devices") or [])]
    if not rows:
        return {"reason": "no RDMA device behind %s" % port["interface"]}
    if port.get("kind") == "roce":
        mine = [r for r in rows if r.get("use") and r.get("ipv4") == port.get("address")]
    else:
        mine = [r for r in rows if r.get("use")]
    if not mine:
        return {"reason": "no usable HCA port for %s (%s)" % (port["interface"], "; ".join(
            "%s:%s %s" % (r["device"], r["port"], r["reason"]) for r in rows))}
    return {"device": mine[0]["device"], "ib_port": mine[0]["port"], "gid_index": mine[0]["gid_index"]}
