"""The node model: what a node is called and where it is on the cluster, and what must stop a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.node_model import (
    NodeModelError,
    build_node,
    cluster_problems,
    default_route_interface,
    parse_ip_addr,
)

FIXTURE = Path(__file__).parent / "parsers" / "fixtures" / "ip" / "debian12-vm-ip-j-address.txt"


def iface(name, *addrs, mtu=1500):
    return {"name": name, "mtu": mtu, "link_type": "ether", "operstate": "UP", "mac": None,
            "addresses": [{"family": 6 if ":" in a else 4, "address": a.split("/")[0],
                           "prefix": int(a.split("/")[1].split()[0]),
                           "scope": "link" if a.startswith("fe80") else "global",
                           "dynamic": a.endswith(" dynamic")} for a in addrs]}


# An R2 workstation: 2.5GbE on enp5s0 (static), Wi-Fi on wlp3s0 (DHCP), docker0.
WORKSTATION = {
    "interfaces": [iface("lo", "127.0.0.1/8", mtu=65536), iface("enp5s0", "192.168.1.10/24"),
                   iface("wlp3s0", "192.168.3.107/24 dynamic"), iface("docker0", "172.17.0.1/16")],
    "default_interface": "wlp3s0", "wireless": ["wlp3s0"], "in_container": False, "container_type": None,
}


def node(host, addr, **kw):
    observed = {"interfaces": [iface("eth0", addr)], "default_interface": "eth0", "wireless": [],
                "in_container": True, "container_type": "podman"}
    return build_node(observed, host, **kw)


def test_parse_real_capture():
    interfaces = parse_ip_addr(FIXTURE.read_text())
    eth0 = next(i for i in interfaces if i["name"] == "eth0")
    assert eth0["mtu"] == 1400
    want = {"family": 4, "address": "192.0.2.2", "prefix": 24, "scope": "global", "dynamic": False}
    assert want in eth0["addresses"]
    assert interfaces[0]["name"] == "lo"


@pytest.mark.parametrize("text", ["", "not json", "{}", '[{"mtu": 1}]'])
def test_parse_refuses_what_is_not_ip_output(text):
    with pytest.raises(NodeModelError):
        parse_ip_addr(text)


def test_default_route():
    route = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]'
    assert default_route_interface(route) == "eth0"
    assert default_route_interface("") is None
    assert default_route_interface("[]") is None


def test_cluster_ip_on_the_node():
    out = build_node(WORKSTATION, "node0", cluster_ip="192.168.1.10", domain="r2.example")
    n = out["node"]
    assert out["problems"] == [] and out["warnings"] == []
    assert (n["name"], n["short"], n["fqdn"]) == ("node0", "node0", "node0.r2.example")
    assert n["names"] == ["node0.r2.example", "node0"]
    assert (n["address"], n["interface"], n["network"], n["prefix"], n["mtu"]) == (
        "192.168.1.10", "enp5s0", "192.168.1.0/24", 24, 1500)
    assert n["networks"]["cluster"]["interface"] == "enp5s0"
    assert n["in_container"] is False


def test_default_route_on_wifi_is_refused():
    # No cluster_ip: the default route (Wi-Fi here) would carry the cluster; refused, naming the interface.
    out = build_node(WORKSTATION, "node0")
    assert len(out["problems"]) == 1
    assert "node0: cluster_ip 192.168.3.107 is on the wireless interface wlp3s0" in out["problems"][0]


def test_dhcp_address_is_a_warning():
    observed = dict(WORKSTATION, wireless=[])
    out = build_node(observed, "node0", cluster_ip="192.168.3.107")
    assert out["problems"] == []
    assert "dynamic (DHCP)" in out["warnings"][0] and "node0" in out["warnings"][0]


@pytest.mark.parametrize(("ip", "words"), [
    ("192.168.1.99", "node0: cluster_ip 192.168.1.99 is not an address of this node"),
    ("127.0.1.1", "is a loopback address"),
    ("169.254.3.4", "is a link-local address"),
    ("10.0.0.300", "node0: cluster_ip is '10.0.0.300', which is not an IP address"),
])
def test_bad_cluster_ip(ip, words):
    out = build_node(WORKSTATION, "node0", cluster_ip=ip)
    assert len(out["problems"]) == 1 and words in out["problems"][0], out["problems"]
    assert "enp5s0 192.168.1.10/24" in out["problems"][0] or "not an IP" in out["problems"][0]


def test_names():
    assert node("node1.example.org", "10.0.0.1/24")["node"]["fqdn"] == "node1.example.org"
    assert node("node1.example.org", "10.0.0.1/24")["node"]["name"] == "node1"
    by_ip = node("203.0.113.7", "10.0.0.7/24")["node"]
    assert (by_ip["name"], by_ip["names"]) == ("ip-10-0-0-7", ["ip-10-0-0-7"])
    renamed = node("203.0.113.7", "10.0.0.7/24", hostname="gpu7", domain="c.example")["node"]
    assert renamed["names"] == ["gpu7.c.example", "gpu7"]
    assert "not a valid short host name" in node("n", "10.0.0.1/24", hostname="gpu_7")["problems"][0]
    assert "not a DNS domain" in node("n", "10.0.0.1/24", domain="-bad")["problems"][0]


def test_other_networks_subnet_plan_and_explicit_address():
    observed = {"interfaces": [iface("eth0", "10.0.0.11/24"), iface("ens1", "10.10.0.11/24", mtu=9000)],
                "default_interface": "eth0", "wireless": []}
    nets = {"rdma": {"subnet": "10.10.0.0/24", "mtu": 9000},
            "ipmi": {"subnet": "10.20.0.0/24", "interface": "eno2"}}
    out = build_node(observed, "node1", networks=nets, host_index=11)
    assert out["problems"] == []
    rdma, ipmi = out["node"]["networks"]["rdma"], out["node"]["networks"]["ipmi"]
    got = (rdma["address"], rdma["interface"], rdma["mtu"], rdma["present"])
    assert got == ("10.10.0.11", "ens1", 9000, True)
    # Not configured yet (a later role brings it up): the declared interface, present false.
    assert (ipmi["address"], ipmi["interface"], ipmi["present"], ipmi["network"]) == (
        "10.20.0.11", "eno2", False, "10.20.0.0/24")
    out = build_node(observed, "node1", networks=nets, addresses={"rdma": "10.99.0.1"})
    assert out["problems"] == ["node1: address 10.99.0.1 of network rdma is not in its subnet 10.10.0.0/24"]
    out = build_node(observed, "node1", networks=nets, addresses={"storage": "10.30.0.1"})
    assert "cluster_networks does not define" in out["problems"][0]


def test_cluster_problems_networks_addresses_and_case():
    a = node("node0", "10.79.0.10/24")["node"]
    b = node("node1", "10.79.0.11/24")["node"]
    c = node("node2", "10.81.0.12/24")["node"]
    assert cluster_problems([a, b]) == []
    (msg,) = cluster_problems([a, b, c])
    assert msg.startswith("the nodes are on different cluster networks")
    assert "node2 10.81.0.12/24" in msg and "10.79.0.0/24: node0 10.79.0.10/24, node1 10.79.0.11/24" in msg
    upper = node("node2", "10.79.0.12/24", hostname="Node1")["node"]
    (msg,) = cluster_problems([a, b, upper])
    assert "node1 and node2 have names that differ only in case (Node1, node1)" in msg
    same = node("node2", "10.79.0.11/24", hostname="node1")["node"]
    msgs = cluster_problems([a, b, same])
    assert "node1 and node2 share the cluster address 10.79.0.11" in msgs
    assert "node1 and node2 have the same cluster name 'node1'" in msgs[1]


def test_cluster_problems_named_networks():
    observed = {"interfaces": [iface("eth0", "10.0.0.11/24")], "default_interface": "eth0", "wireless": []}
    nets = {"rdma": {"subnet": "10.10.0.0/16"}}
    a = build_node(observed, "a", networks=nets, addresses={"rdma": "10.10.0.1"})["node"]
    b = build_node(dict(observed, interfaces=[iface("eth0", "10.0.0.12/24")]), "b", networks=nets,
                   addresses={"rdma": "10.10.0.1"})["node"]
    assert cluster_problems([a, b]) == ["a and b share address 10.10.0.1 on network rdma"]


def test_fact_is_json():
    json.dumps(build_node(WORKSTATION, "node0", cluster_ip="192.168.1.10"))
