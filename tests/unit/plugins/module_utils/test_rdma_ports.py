"""rdma_ports: ports as data resolved against a node's links, checked, rendered and judged.

The links are R1's (docs: two ConnectX-3 Pro 40GbE ports ens6/ens6d1 on mlx4_0, management on eno1) and
the lab's (podman: eth0 cluster, eth1 the MTU-9000 data network, no RDMA device).
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import rdma_ports as rp
from ansible_collections.gpuforge.cluster.plugins.module_utils.node_model import build_node


def iface(
    name,
    address=None,
    prefix=24,
    mtu=1500,
    mac=None,
    pci=None,
    driver=None,
    rdma=(),
    link_type="ether",
    operstate="UP",
):
    addrs = (
        [{"family": 4, "address": address, "prefix": prefix, "scope": "global", "dynamic": False}]
        if address
        else []
    )
    return {
        "name": name,
        "mtu": mtu,
        "link_type": link_type,
        "operstate": operstate,
        "mac": mac,
        "addresses": addrs,
        "pci": pci,
        "driver": driver,
        "rdma_devices": list(rdma),
    }


R1_NETWORKS = {
    "rdma0": {"subnet": "10.0.1.0/24", "mtu": 9000, "interface": "ens6"},
    "rdma1": {"subnet": "10.0.0.0/24", "mtu": 9000, "interface": "ens6d1"},
}


def r1_observed(ens6_addr=None, mtu=1500):
    return {
        "interfaces": [
            iface("lo", "127.0.0.1", 8, 65536, link_type="loopback"),
            iface("eno1", "192.168.1.73", mac="3c:ec:ef:00:00:01", pci="0000:03:00.0", driver="igb"),
            iface(
                "ens6",
                ens6_addr,
                mtu=mtu,
                mac="24:8a:07:aa:bb:c0",
                pci="0000:82:00.0",
                driver="mlx4_core",
                rdma=["mlx4_0"],
            ),
            iface(
                "ens6d1",
                None,
                mtu=mtu,
                mac="24:8a:07:aa:bb:c1",
                pci="0000:82:00.0",
                driver="mlx4_core",
                rdma=["mlx4_0"],
            ),
        ],
        "default_interface": "eno1",
        "wireless": [],
        "in_container": False,
        "container_type": None,
        "net_admin": True,
    }


def r1_node(observed, index=1, networks=None):
    networks = R1_NETWORKS if networks is None else networks
    return build_node(observed, "gpuserver1", cluster_ip="192.168.1.73", networks=networks, host_index=index)[
        "node"
    ]


def resolve(ports, observed=None, networks=None, **kw):
    observed = observed or r1_observed()
    return rp.resolve_ports(ports, r1_node(observed, networks=networks), observed, **kw)


def test_r1_ports_by_network_interface_get_plan_addresses_and_jumbo_mtu():
    out = resolve([{"network": "rdma0"}, {"network": "rdma1"}])
    assert out["problems"] == []
    assert [(p["interface"], p["cidr"], p["mtu"], p["optional"]) for p in out["ports"]] == [
        ("ens6", "10.0.1.1/24", 9000, True),
        ("ens6d1", "10.0.0.1/24", 9000, True),
    ]
    plan = rp.netplan_config(out["ports"])["network"]
    assert plan["ethernets"]["ens6"] == {
        "renderer": "networkd",
        "addresses": ["10.0.1.1/24"],
        "mtu": 9000,
        "optional": True,
        "dhcp4": False,
        "dhcp6": False,
        "link-local": [],
    }
    assert "renderer" not in plan  # a file-wide renderer would switch the desktop's NetworkManager devices


def test_match_by_mac_and_by_pci():
    out = resolve([{"network": "rdma0", "mac": "24-8A-07-AA-BB-C1"}])
    assert out["problems"] == [] and out["ports"][0]["interface"] == "ens6d1"
    assert rp.netplan_config(out["ports"])["network"]["ethernets"]["gpuforge-rdma0"]["match"] == {
        "macaddress": "24:8a:07:aa:bb:c1"
    }
    # Both mlx4 ports share one PCI function: a PCI address names two interfaces.
    out = resolve([{"network": "rdma0", "pci": "82:00.0"}])
    assert out["problems"] == [
        "gpuserver1: rdma_network_ports[0] (network rdma0): pci 0000:82:00.0 matches 2 "
        "interfaces (ens6, ens6d1)"
    ]


@pytest.mark.parametrize(
    ("port", "expect"),
    [
        ({"network": "rdma0", "interface": "eno1"}, "eno1 is the default-route interface"),
        ({"network": "rdma0", "interface": "ens9"}, "no interface has name ens9"),
        ({"network": "nope"}, "the network must be one of cluster_networks (rdma0, rdma1)"),
        ({"network": "rdma0", "kind": "ipoib"}, "ens6 is a ether link, not InfiniBand (kind ipoib)"),
        ({"network": "rdma0", "mtu": 9600}, "MTU 9600 is outside what Ethernet takes (68..9216)"),
        ({"network": "rdma0", "interface": "ens6", "mac": "24:8a:07:aa:bb:c0"}, "names its interface 2 ways"),
        ({"network": "rdma0", "mode": "connected"}, "mode is an IPoIB setting"),
        ({"network": "rdma0", "speed": 40}, "has unknown keys: speed"),
    ],
)
def test_bad_ports_are_named(port, expect):
    problems = resolve([port])["problems"]
    assert any(expect in p for p in problems), problems


def test_the_interface_ansible_connects_on_is_never_touched():
    observed = r1_observed()
    observed["default_interface"] = None
    node = r1_node(observed)
    node["interface"] = None
    out = rp.resolve_ports(
        [{"network": "rdma0", "interface": "eno1"}], node, observed, connection_address="192.168.1.73"
    )
    assert "the interface Ansible reaches this node on (192.168.1.73)" in out["problems"][0]


def test_address_already_elsewhere_and_container_without_net_admin():
    observed = r1_observed()
    observed["interfaces"][3]["addresses"] = [{"family": 4, "address": "10.0.1.1", "prefix": 24}]
    assert any(
        "10.0.1.1 is already on ens6d1, not on ens6" in p
        for p in resolve([{"network": "rdma0"}], observed)["problems"]
    )
    observed = r1_observed()
    observed.update(in_container=True, container_type="podman", net_admin=False)
    assert "without CAP_NET_ADMIN" in resolve([{"network": "rdma0"}], observed)["problems"][0]


IB_NETWORKS = {"ib": {"subnet": "10.2.0.0/24", "mtu": 9000, "interface": "ibp65s0"}}


def ib_observed(driver="mlx5_core", rdma="mlx5_0"):
    observed = r1_observed()
    observed["interfaces"].append(
        iface("ibp65s0", mtu=2044, link_type="infiniband", driver=driver, rdma=[rdma], pci="0000:41:00.0")
    )
    return observed


def test_ipoib_mtu_and_mode_rules():
    # MTU 9000 (the network's) on datagram mode: refused, naming the limit.
    problems = resolve([{"network": "ib", "kind": "ipoib"}], ib_observed(), IB_NETWORKS)["problems"]
    assert problems == [
        "gpuserver1: rdma_network_ports[0] (network ib): MTU 9000 on IPoIB datagram mode: a "
        "datagram carries one IB packet, at most the IB MTU minus 4 (4092 here); jumbo MTUs such "
        "as 9000 are for Ethernet/RoCE ports, or use IPoIB connected mode (up to 65520)"
    ]
    assert (
        resolve([{"network": "ib", "kind": "ipoib", "mtu": 4092}], ib_observed(), IB_NETWORKS)["problems"]
        == []
    )
    # InfiniHost: 2K IB MTU only.
    problems = resolve(
        [{"network": "ib", "kind": "ipoib", "mtu": 4092}], ib_observed("ib_mthca", "mthca0"), IB_NETWORKS
    )["problems"]
    assert "(2044 here)" in problems[0]
    # mlx5: enhanced IPoIB, no connected mode; mlx4 may.
    problems = resolve([{"network": "ib", "kind": "ipoib", "mode": "connected"}], ib_observed(), IB_NETWORKS)[
        "problems"
    ]
    assert "enhanced IPoIB" in problems[0]
    ok = resolve(
        [{"network": "ib", "kind": "ipoib", "mode": "connected", "mtu": 65520}],
        ib_observed("mlx4_core", "mlx4_0"),
        IB_NETWORKS,
    )
    assert ok["problems"] == []


def test_ipoib_partition_is_a_networkd_child_and_refused_for_netplan():
    ports = [{"network": "ib", "kind": "ipoib", "mtu": 2044, "pkey": "0x0002"}]
    out = resolve(ports, ib_observed(), IB_NETWORKS)
    assert out["problems"] == []
    [port] = out["ports"]
    assert (port["interface"], port["parent"], port["pkey"], port["link"]) == (
        "ibp65s0.8002",
        "ibp65s0",
        "0x8002",
        "ibp65s0",
    )
    files = {f["name"]: rp.networkd_text(f["sections"]) for f in rp.networkd_files(out["ports"])}
    assert files["60-gpuforge-ib.netdev"] == (
        "[NetDev]\nName=ibp65s0.8002\nKind=ipoib\n\n[IPoIB]\nPartitionKey=0x8002\nMode=datagram\n"
    )
    assert "IPoIB=ibp65s0.8002" in files["60-gpuforge-ib-parent.network"]
    assert "Address=10.2.0.1/24" in files["60-gpuforge-ib.network"]
    assert (
        "netplan cannot create IPoIB partition"
        in resolve(ports, ib_observed(), IB_NETWORKS, renderer="netplan")["problems"][0]
    )
    assert (
        "is not a partition key"
        in resolve([{**ports[0], "pkey": "0x7fff"}], ib_observed(), IB_NETWORKS)["problems"][0]
    )


def test_networkd_file_for_a_roce_port():
    out = resolve([{"network": "rdma0"}])
    [f] = rp.networkd_files(out["ports"])
    assert f["name"] == "60-gpuforge-rdma0.network"
    assert rp.networkd_text(f["sections"]) == (
        "[Match]\nName=ens6\n\n[Link]\nMTUBytes=9000\nRequiredForOnline=no\n\n[Network]\nAddress=10.0.1.1/24\n"
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n"
    )


def test_drift_names_what_differs():
    ports = resolve([{"network": "rdma0"}])["ports"]
    assert rp.drift(ports, r1_observed("10.0.1.1", 9000)["interfaces"]) == []
    [d] = rp.drift(ports, r1_observed(None, 1500)["interfaces"])
    assert (
        d["message"]
        == "ens6 (network rdma0): MTU 1500, not 9000; 10.0.1.1/24 is not on it (it has no address)"
    )


def test_peer_plan_and_cluster_problems():
    by_host = {
        "node0": [
            {
                "network": "data",
                "interface": "eth1",
                "mtu": 9000,
                "address": "10.81.0.10",
                "cidr": "10.81.0.10/24",
                "network_cidr": "10.81.0.0/24",
            }
        ],
        "node1": [
            {
                "network": "data",
                "interface": "eth1",
                "mtu": 9000,
                "address": "10.81.0.11",
                "cidr": "10.81.0.11/24",
                "network_cidr": "10.81.0.0/24",
            }
        ],
        "node2": [],
    }
    assert rp.peer_plan("node0", by_host) == [
        {
            "network": "data",
            "interface": "eth1",
            "mtu": 9000,
            "peer": "node1",
            "address": "10.81.0.11",
            "payload": 8972,
        }
    ]
    assert rp.cluster_port_problems(by_host) == []
    by_host["node1"][0]["mtu"] = 1500
    assert rp.cluster_port_problems(by_host) == [
        "network data: the ports have different MTUs (node0 9000, node1 1500); frames above the smallest "
        "are dropped on the way"
    ]


def test_judge_ping_tells_a_jumbo_drop_from_a_dead_peer():
    item = {
        "network": "data",
        "interface": "eth1",
        "mtu": 9000,
        "peer": "node1",
        "address": "10.81.0.11",
        "payload": 8972,
    }
    assert rp.judge_ping("node0", item, 0, None)["ok"]
    lost = rp.judge_ping("node0", item, 1, 0)
    assert lost["pair"] == "node0 -> node1 10.81.0.11 (network data, eth1 MTU 9000)"
    assert "drops frames above a smaller MTU" in lost["why"]
    assert "no answer at all" in rp.judge_ping("node0", item, 1, 1)["why"]


IBSTAT_R1 = {
    "mlx4_0": {
        "ports": {
            1: {"state": "Down", "link_layer": "Ethernet", "rate": 40},
            2: {"state": "Active", "link_layer": "Ethernet", "rate": 40},
        }
    }
}


def test_hca_choice_takes_the_active_port_and_its_roce_v2_ipv4_index():
    # R1: the cable is in port 2; port 2's netdev carries 10.0.1.1 at RoCE v2 GID index 3 (0/1 v1/v2 link
    # local, 2/3 v1/v2 IPv4).
    gids = {
        "devices": {
            "mlx4_0": {
                2: {
                    "gids": [
                        {
                            "index": 0,
                            "gid": "fe80:0000:0000:0000:268a:07ff:feaa:bbc1",
                            "type": "IB/RoCE v1",
                            "ipv4": None,
                        },
                        {
                            "index": 1,
                            "gid": "fe80:0000:0000:0000:268a:07ff:feaa:bbc1",
                            "type": "RoCE v2",
                            "ipv4": None,
                        },
                        {
                            "index": 2,
                            "gid": "0000:0000:0000:0000:0000:ffff:0a00:0101",
                            "type": "IB/RoCE v1",
                            "ipv4": "10.0.1.1",
                        },
                        {
                            "index": 3,
                            "gid": "0000:0000:0000:0000:0000:ffff:0a00:0101",
                            "type": "RoCE v2",
                            "ipv4": "10.0.1.1",
                            "ndev": "ens6d1",
                        },
                    ]
                }
            }
        },
        "roce_v2_ipv4": {"ens6d1": {"device": "mlx4_0", "port": 2, "index": 3, "ipv4": "10.0.1.1"}},
    }
    ports = resolve([{"network": "rdma0", "interface": "ens6d1"}])["ports"]
    choice = rp.hca_choice(IBSTAT_R1, gids, ports)
    assert (choice["hca"], choice["gid_index"], choice["problems"]) == ("mlx4_0:2", 3, [])
    assert [r["reason"] for r in choice["ports"]] == ["port 1 is Down", "Active"]
    # The port's address is not what the GID carries.
    other = resolve([{"network": "rdma1", "interface": "ens6d1"}])["ports"]
    assert (
        "carries 10.0.1.1, not the port's address 10.0.0.1"
        in rp.hca_choice(IBSTAT_R1, gids, other)["problems"][0]
    )
    # Both ports down: the port's device has nothing usable.
    down = {
        "mlx4_0": {
            "ports": {
                1: {"state": "Down", "link_layer": "Ethernet"},
                2: {"state": "Polling", "link_layer": "Ethernet"},
            }
        }
    }
    assert (
        "no usable port on mlx4_0 (port 1 is Down; port 2 is Polling)"
        in rp.hca_choice(down, gids, ports)["problems"][0]
    )


def _port(host_number, network="data"):
    return {"network": network, "interface": "data0", "mtu": 9000, "address": f"10.81.0.{10 + host_number}",
            "speed_gbps": None}


def test_benchmark_ring_serves_each_node_once():
    by_host = {"node0": [_port(0)], "node1": [_port(1)], "node2": [_port(2)], "head": []}
    plans = {h: rp.benchmark_ring(h, by_host) for h in by_host}
    ring = [(p["peer"], p["server"], p["bind"]) for p in plans["node2"]]
    assert ring == [("node0", "10.81.0.10", "10.81.0.12")]
    assert plans["head"] == []
    servers = sorted(p["server"] for ps in plans.values() for p in ps)
    assert servers == ["10.81.0.10", "10.81.0.11", "10.81.0.12"]  # one client per server (iperf3 --one-off)
    # Two nodes: both directions.
    two = {"a": [_port(0)], "b": [_port(1)]}
    assert [p["peer"] for p in rp.benchmark_ring("a", two) + rp.benchmark_ring("b", two)] == ["b", "a"]


def test_pair_table_from_iperf3_loop_results():
    from ansible_collections.gpuforge.cluster.plugins.filter.rdma import fabric_pair_table

    plan = rp.benchmark_ring("node0", {"node0": [_port(0)], "node1": [_port(1)]})[0]
    iperf = {"received_bps": 9.41e9, "sent_bps": 9.5e9}
    table = fabric_pair_table([{"item": plan, "result": iperf, "changed": False}])
    [row] = table["rows"]
    got = (row["pair"], round(row["tcp_gbps"], 2), row["link_rate_gbps"])
    assert got == ("node0 -> node1 (data)", 9.41, None)
    assert table["ok"] and "| node0 -> node1 (data) | - | - | - | 9.4 | - |" in table["markdown"]
    assert table["unjudged"] == ["RDMA or TCP bandwidth missing", "RDMA or TCP latency missing",
                                 "link rate unknown (a virtual link reports none): no percentage of the link"]


def test_rdma_endpoint_of_the_r1_port_and_why_not():
    v2 = {"index": 3, "type": "RoCE v2", "ipv4": "10.0.0.1", "ndev": "ens6d1", "gid": "x"}
    gids = {"roce_v2_ipv4": {"ens6d1": {"device": "mlx4_0", "port": 2, "index": 3, "ipv4": "10.0.0.1"}},
            "devices": {"mlx4_0": {2: {"gids": [v2]}}}}
    [port] = resolve([{"network": "rdma1"}])["ports"]
    choice = rp.hca_choice(IBSTAT_R1, gids, [port])
    assert rp.rdma_endpoint(choice, port) == {"device": "mlx4_0", "ib_port": 2, "gid_index": 3}
    [other] = resolve([{"network": "rdma0"}])["ports"]  # 10.0.1.1: no GID carries it
    why = rp.rdma_endpoint(choice, other)["reason"]
    assert why.startswith("no usable HCA port for ens6 (mlx4_0:1 port 1 is Down")
    bare = {**port, "rdma_devices": []}
    assert rp.rdma_endpoint(choice, bare) == {"reason": "no RDMA device behind ens6d1"}


def test_benchmark_runs_pair_iperf3_with_perftest_results():
    from ansible_collections.gpuforge.cluster.plugins.filter.rdma import (
        fabric_pair_table,
        rdma_benchmark_runs,
    )

    plan = {"host": "gpuserver1", "peer": "gpuserver2", "network": "rdma1", "link_rate_gbps": 40.0,
            "rdma": True}
    iperf = [{"item": plan, "result": {"received_bps": 27.4e9}}]
    bw = [{"item": plan, "result": {"kind": "bandwidth", "rows": [
        {"bytes": 65536, "bw_avg": 36.4, "bw_unit": "Gb/sec"}]}}]
    lat = [{"item": plan, "result": {"kind": "latency", "rows": [{"bytes": 2, "t_typical_us": 0.85}]}}]
    runs = rdma_benchmark_runs(iperf, bw, lat)
    assert runs[0]["pair"] == "gpuserver1 -> gpuserver2 (rdma1)"
    table = fabric_pair_table([{**runs[0], "tcp_lat_us": 21.9}])
    [row] = table["rows"]
    got = (round(row["rdma_gbps"], 1), round(row["bw_ratio"], 2), round(row["lat_ratio"], 1))
    assert got == (36.4, 1.33, 25.8)
    # A skipped perftest (no RDMA on that pair) leaves the RDMA columns empty.
    assert rdma_benchmark_runs(iperf, [{"item": plan, "skipped": True}], None)[0]["rdma_bw"] is None
