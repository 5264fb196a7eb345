# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster firewall: the ports each role declares, merged into one nftables plan, and the check that the
plan keeps the controller's SSH session. Pure functions, no I/O.

A role declares the ports it listens on as data (``declaration``); the declaration is written on the node as
``/etc/gpuforge/ports.d/<role>.json``, so a role added later, or switched to open another port, adds its
ports there without any change to the firewall's own data. ``plan`` turns the declarations of one node, its
networks and the firewall's inputs into the sets and rule statements the role's template places.
"""

from __future__ import annotations

import ipaddress
import json
import re

SOURCES = ("cluster", "admin", "any")
PROTOS = ("tcp", "udp")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PORT_RE = re.compile(r"^([0-9]{1,5})(?:-([0-9]{1,5}))?$")
EPHEMERAL = "ephemeral"
# A comment in an nft statement: printable, no quote (nft has no escape for it).
COMMENT_RE = re.compile(r"^[A-Za-z0-9 _.,:;()/+=-]{1,120}$")


class FirewallError(ValueError):
    """Input the firewall cannot use; the message names the role, the entry and the value."""


def port_text(value, what: str) -> str:
    """A port, a range ``lo-hi`` or ``ephemeral`` as the canonical text; FirewallError otherwise."""
    if isinstance(value, bool):
        raise FirewallError("%s: port %r is not a port" % (what, value))
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise FirewallError("%s: port %r is not a port, a range lo-hi or 'ephemeral'" % (what, value))
    value = value.strip()
    if value == EPHEMERAL:
        return value
    match = PORT_RE.match(value)
    if not match:
        raise FirewallError("%s: port %r is not a port, a range lo-hi or 'ephemeral'" % (what, value))
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if not 1 <= low <= 65535 or not 1 <= high <= 65535:
        raise FirewallError("%s: port %r is outside 1..65535" % (what, value))
    if high < low:
        raise FirewallError("%s: port range %r runs backwards" % (what, value))
    return str(low) if low == high else "%d-%d" % (low, high)


def declaration(role: str, ports) -> dict:
    """A role's port declaration, checked and in canonical form.

    ``ports`` is a list of ``{name, port, proto (tcp), from (cluster)}`` (``port`` may be a list: one entry each):
    ``from`` is ``cluster`` (the nodes' networks), ``admin`` (the admin networks and the cluster) or ``any``."""
    if not isinstance(role, str) or not NAME_RE.match(role):
        raise FirewallError("a port declaration needs a role name (lower case, digits, _), got %r" % (role,))
    if not isinstance(ports, list):
        raise FirewallError("%s: ports must be a list, got %s" % (role, type(ports).__name__))
    out = []
    for num, entry in enumerate(ports, 1):
        what = "%s port %d" % (role, num)
        if not isinstance(entry, dict):
            raise FirewallError("%s: must be a dict (name, port, proto, from), got %r" % (what, entry))
        unknown = sorted(set(entry) - {"name", "port", "proto", "from"})
        if unknown:
            raise FirewallError("%s: unknown keys %s" % (what, ", ".join(unknown)))
        name = entry.get("name")
        if not isinstance(name, str) or not COMMENT_RE.match(name):
            raise FirewallError("%s: name %r must be 1-120 plain characters (no quotes)" % (what, name))
        proto = entry.get("proto", "tcp")
        if proto not in PROTOS:
            raise FirewallError("%s (%s): proto %r is not one of %s" % (what, name, proto, ", ".join(PROTOS)))
        source = entry.get("from", "cluster")
        if source not in SOURCES:
            raise FirewallError("%s (%s): from %r is not one of %s" % (what, name, source, ", ".join(SOURCES)))
        given = entry.get("port")
        for port in given if isinstance(given, list) else [given]:
            out.append({"name": name, "port": port_text(port, "%s (%s)" % (what, name)), "proto": proto,
                        "from": source})
    return {"role": role, "ports": out}


def declaration_text(role: str, ports) -> str:
    """The file a role writes to ports.d: its checked declaration as sorted JSON."""
    return json.dumps(declaration(role, ports), indent=2, sort_keys=True) + "\n"


def parse_declaration(text: str, where: str) -> dict:
    """A ports.d file read back; FirewallError naming the file when it is not a declaration."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FirewallError("%s is not JSON: %s" % (where, exc)) from None
    if not isinstance(data, dict) or set(data) != {"role", "ports"}:
        raise FirewallError("%s is not a port declaration (keys role and ports)" % where)
    try:
        return declaration(data["role"], data["ports"])
    except FirewallError as exc:
        raise FirewallError("%s: %s" % (where, exc)) from None


def ephemeral_range(text: str) -> str:
    """/proc/sys/net/ipv4/ip_local_port_range ("32768\\t60999") as ``lo-hi``."""
    fields = text.split()
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise FirewallError("ip_local_port_range does not read as two numbers: %r" % text[:60])
    return port_text("%s-%s" % (fields[0], fields[1]), "ip_local_port_range")


def networks_by_family(cidrs, what: str) -> dict:
    """CIDRs checked and split by family: {"v4": [...], "v6": [...]} (sorted, duplicates once)."""
    out = {"v4": set(), "v6": set()}
    for cidr in cidrs or []:
        try:
            net = ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            raise FirewallError("%s: %r is not an address or network (CIDR)" % (what, cidr)) from None
        out["v%d" % net.version].add(net)
    return {family: [str(n) for n in sorted(nets)] for family, nets in out.items()}


def plan(declarations, cluster_networks, admin_networks, ssh_ports, ephemeral: str, extra_ports=None) -> dict:
    """The node's rule set: sets of source networks and the accept statements, one per (proto, source, port).

    ``declarations``: the node's ports.d contents (each as ``declaration`` returns it); ``extra_ports``: the
    firewall's own additions, declared as the role ``cluster_firewall``. SSH is admitted on ``ssh_ports`` from
    the admin networks and the cluster. Returns ``{"sets": {name: [cidr]}, "set_defs": [{name, type, elements}],
    "rules": [statement], "ports": [{proto, port, from, by, comment}]}``; a statement names who asked for it in its comment."""
    cluster = networks_by_family(cluster_networks, "cluster networks")
    admin = networks_by_family(admin_networks, "cluster_firewall_admin_networks")
    if not cluster["v4"] and not cluster["v6"]:
        raise FirewallError("the node has no cluster network (the node model gave none)")
    ephemeral = port_text(ephemeral, "ephemeral range")
    wanted = [declaration("cluster_firewall", [{"name": "ssh", "port": p, "from": "admin"} for p in ssh_ports]
                          + list(extra_ports or []))]
    wanted += [declaration(d["role"], d["ports"]) for d in declarations]
    merged = {}
    for decl in wanted:
        for entry in decl["ports"]:
            port = ephemeral if entry["port"] == EPHEMERAL else entry["port"]
            key = (entry["proto"], entry["from"], port)
            merged.setdefault(key, []).append("%s %s" % (decl["role"], entry["name"]))
    sets = {"cluster_v4": cluster["v4"], "cluster_v6": cluster["v6"], "admin_v4": admin["v4"],
            "admin_v6": admin["v6"]}
    set_defs = [{"name": name, "type": "ipv4_addr" if name.endswith("v4") else "ipv6_addr", "elements": cidrs}
                for name, cidrs in sets.items()]
    order = {s: i for i, s in enumerate(SOURCES)}
    rules = []
    ports = []
    for (proto, source, port) in sorted(merged, key=lambda k: (order[k[1]], k[0], int(k[2].split("-")[0]))):
        by = sorted(set(merged[(proto, source, port)]))
        comment = ", ".join(by)
        if len(comment) > 120:
            comment = comment[:117] + "..."
        ports.append({"proto": proto, "port": port, "from": source, "by": by, "comment": comment})
        rules += accept_statements(proto, port, source, comment, sets)
    return {"sets": sets, "set_defs": set_defs, "rules": rules, "ports": ports}


def accept_statements(proto: str, port: str, source: str, comment: str, sets=None) -> list:
    """The nft statements that accept ``proto``/``port`` from ``source``: one per non-empty source set (every
    set when ``sets`` is None, as for rules added to a loaded table whose sets are not known here)."""
    accept = '%s dport %s accept comment "%s"' % (proto, port, comment)
    if source == "any":
        return [accept]
    out = []
    for name in ["cluster"] + (["admin"] if source == "admin" else []):
        for family, match in (("v4", "ip saddr"), ("v6", "ip6 saddr")):
            if sets is None or sets["%s_%s" % (name, family)]:
                out.append("%s @%s_%s %s" % (match, name, family, accept))
    return out


def new_port_statements(before, after: dict, ephemeral: str) -> list:
    """Statements for the ports a role's new declaration adds to its old one (``before``, None when new): what
    the cluster_ports module inserts into an already loaded table, so that a role switched on is reachable
    before the firewall role runs again (which then writes the whole rule set)."""
    known = {(e["proto"], e["from"], e["port"]) for e in (before or {"ports": []})["ports"]}
    out = []
    for entry in after["ports"]:
        if (entry["proto"], entry["from"], entry["port"]) in known:
            continue
        port = port_text(ephemeral, "ephemeral range") if entry["port"] == EPHEMERAL else entry["port"]
        out += accept_statements(entry["proto"], port, entry["from"], "%s %s" % (after["role"], entry["name"]))
    return out


def admits(the_plan: dict, source: str, proto: str, port: int) -> bool:
    """Whether the plan accepts a new connection from address ``source`` to ``proto``/``port``."""
    addr = ipaddress.ip_address(source)
    if addr.is_loopback:
        return True
    family = "v%d" % addr.version

    def inside(name):
        return any(addr in ipaddress.ip_network(n) for n in the_plan["sets"]["%s_%s" % (name, family)])

    for entry in the_plan["ports"]:
        low, high = (int(p) for p in (entry["port"].split("-") * 2)[:2])
        if entry["proto"] != proto or not low <= int(port) <= high:
            continue
        if entry["from"] == "any" or inside("cluster") or (entry["from"] == "admin" and inside("admin")):
            return True
    return False


def ssh_problem(the_plan: dict, ssh_connection) -> str:
    """Empty when the plan keeps the SSH session described by $SSH_CONNECTION ("client cport server sport"),
    else one message saying what would be dropped and what to change. No SSH session (a local or container
    connection): nothing to keep, empty."""
    fields = str(ssh_connection or "").split()
    if len(fields) != 4:
        return ""
    client, port = fields[0], fields[3]
    try:
        ipaddress.ip_address(client)
        port = int(port)
    except ValueError:
        return "SSH_CONNECTION %r does not read as 'client port server port'" % ssh_connection
    if admits(the_plan, client, "tcp", port):
        return ""
    ssh = sorted({e["port"] for e in the_plan["ports"] if "cluster_firewall ssh" in e["by"]})
    return ("the rule set would drop this controller's SSH session (from %s to port %d): SSH is admitted on "
            "port(s) %s from the cluster networks %s and the admin networks %s. Add port %d to "
            "cluster_firewall_ssh_ports or %s to cluster_firewall_admin_networks"
            % (client, port, ", ".join(ssh) or "none",
               the_plan["sets"]["cluster_v4"] + the_plan["sets"]["cluster_v6"],
               the_plan["sets"]["admin_v4"] + the_plan["sets"]["admin_v6"], port, client))
