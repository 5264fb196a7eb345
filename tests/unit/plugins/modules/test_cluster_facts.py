"""cluster_facts: one ip call each for addresses and the default route, the node model from them."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.modules import cluster_facts

from .harness import run_module

IP_ADDR = (Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures" / "ip"
           / "debian12-vm-ip-j-address.txt").read_text()
ROUTE = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]'


def fake_ip(calls):
    def run_command(self, argv, **kw):
        calls.append(argv)
        assert kw["environ_update"]["LC_ALL"] == "C"
        return 0, IP_ADDR if argv[2] == "address" else ROUTE, ""
    return run_command


def test_reads_the_node_and_defaults_to_the_default_route():
    calls = []
    args = {"host": "node0", "domain": "lab.example"}
    res = run_module(cluster_facts.main, args, run_command=fake_ip(calls))
    assert [c[1:] for c in calls] == [["-j", "address", "show"], ["-j", "route", "show", "default"]]
    node = res["ansible_facts"]["gpuforge_node"]
    assert (node["address"], node["interface"], node["network"], node["fqdn"]) == (
        "192.0.2.2", "eth0", "192.0.2.0/24", "node0.lab.example")
    assert res["problems"] == [] and res["changed"] is False
    assert res["ansible_facts"]["gpuforge_host"]["default_interface"] == "eth0"


def test_problems_are_returned_not_raised():
    args = {"host": "node0", "cluster_ip": "192.0.2.99"}
    res = run_module(cluster_facts.main, args, run_command=fake_ip([]))
    assert res["failed"] is False
    assert res["problems"][0].startswith("node0: cluster_ip 192.0.2.99 is not an address of this node")


def test_recorded_facts_run_nothing():
    observed = {"interfaces": [{"name": "enp5s0", "mtu": 1500, "addresses": [
        {"family": 4, "address": "192.168.1.11", "prefix": 24, "scope": "global", "dynamic": False}]}],
        "default_interface": "enp5s0", "wireless": [], "in_container": False, "container_type": None}
    args = {"host": "node1", "cluster_ip": "192.168.1.11", "observed": observed}
    res = run_module(cluster_facts.main, args)
    assert res["ansible_facts"]["gpuforge_node"]["interface"] == "enp5s0"
    assert res["ansible_facts"]["gpuforge_host"] == observed


def test_ip_failure_fails_with_its_message():
    res = run_module(cluster_facts.main, {"host": "node0"},
                     run_command=lambda self, argv, **kw: (1, "", "Cannot open netlink socket"))
    assert res["failed"] and "Cannot open netlink socket" in res["msg"]
