"""cluster_firewall: the roles' port declarations, the merged nftables plan and the controller's SSH check."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.cluster_firewall import (
    firewall_plan,
    firewall_ssh_problem,
)
from ansible_collections.gpuforge.cluster.plugins.filter.ray import ray_firewall_ports
from ansible_collections.gpuforge.cluster.plugins.module_utils.cluster_firewall import (
    FirewallError,
    admits,
    declaration,
    declaration_text,
    ephemeral_range,
    new_port_statements,
    parse_declaration,
    plan,
    port_text,
    ssh_problem,
)

SLURM = declaration("munge_slurm", [{"name": "slurmctld", "port": 6817},
                                    {"name": "srun", "port": "60001-63000"},
                                    {"name": "slurmrestd", "port": 6820, "from": "admin"},
                                    {"name": "jobs", "port": "ephemeral"}])
NCCL = declaration("nccl", [{"name": "NCCL bootstrap and sockets", "port": "ephemeral"}])
CHRONY = declaration("cluster_hosts", [{"name": "chrony NTP server", "port": 123, "proto": "udp"}])


def lab_plan(**kw):
    args = dict(declarations=[SLURM, NCCL, CHRONY], cluster_networks=["10.77.0.0/24", "10.81.0.0/24"],
                admin_networks=[], ssh_ports=[22], ephemeral="32768-60999", extra_ports=[])
    args.update(kw)
    return plan(**args)


def test_every_declared_port_becomes_one_accept_from_the_cluster_naming_who_asked():
    result = lab_plan()
    assert result["sets"]["cluster_v4"] == ["10.77.0.0/24", "10.81.0.0/24"]
    assert result["sets"]["cluster_v6"] == [] and result["sets"]["admin_v4"] == []
    assert result["rules"] == [
        'ip saddr @cluster_v4 tcp dport 6817 accept comment "munge_slurm slurmctld"',
        # ephemeral is the node's range, asked for by two roles: one rule naming both
        'ip saddr @cluster_v4 tcp dport 32768-60999 accept comment '
        '"munge_slurm jobs, nccl NCCL bootstrap and sockets"',
        'ip saddr @cluster_v4 tcp dport 60001-63000 accept comment "munge_slurm srun"',
        'ip saddr @cluster_v4 udp dport 123 accept comment "cluster_hosts chrony NTP server"',
        # admin ports (SSH among them) come last, open to the cluster and the admin networks (none here)
        'ip saddr @cluster_v4 tcp dport 22 accept comment "cluster_firewall ssh"',
        'ip saddr @cluster_v4 tcp dport 6820 accept comment "munge_slurm slurmrestd"',
    ]
    assert [(s["name"], s["type"]) for s in result["set_defs"]] == [
        ("cluster_v4", "ipv4_addr"), ("cluster_v6", "ipv6_addr"),
        ("admin_v4", "ipv4_addr"), ("admin_v6", "ipv6_addr")]


def test_admin_ports_and_ssh_are_open_to_the_admin_networks_too_in_both_families():
    result = lab_plan(admin_networks=["192.0.2.7", "2001:db8::/64"],
                      cluster_networks=["10.77.0.0/24", "fd00::/64"])
    assert result["sets"]["admin_v4"] == ["192.0.2.7/32"] and result["sets"]["admin_v6"] == ["2001:db8::/64"]
    ssh = [r for r in result["rules"] if "dport 22 " in r]
    assert ssh == ['ip saddr @cluster_v4 tcp dport 22 accept comment "cluster_firewall ssh"',
                   'ip6 saddr @cluster_v6 tcp dport 22 accept comment "cluster_firewall ssh"',
                   'ip saddr @admin_v4 tcp dport 22 accept comment "cluster_firewall ssh"',
                   'ip6 saddr @admin_v6 tcp dport 22 accept comment "cluster_firewall ssh"']
    assert not any("@admin" in r and "6817" in r for r in result["rules"])


def test_a_role_switched_on_adds_its_port_without_any_firewall_data():
    before = lab_plan(declarations=[declaration("munge_slurm", [{"name": "slurmctld", "port": 6817}])])
    after = lab_plan(declarations=[SLURM])
    assert not admits(before, "10.77.0.11", "tcp", 6820)
    assert admits(after, "10.77.0.11", "tcp", 6820)
    assert not admits(after, "10.77.0.11", "tcp", 7777)  # an unrelated listener
    assert not admits(after, "198.51.100.9", "tcp", 6817)  # from outside the cluster
    assert admits(after, "127.0.0.1", "tcp", 7777)


def test_ssh_check_names_the_session_the_rule_set_would_drop():
    result = lab_plan(admin_networks=["192.0.2.0/24"])
    assert ssh_problem(result, "10.77.0.1 50122 10.77.0.10 22") == ""
    assert ssh_problem(result, "192.0.2.44 50122 203.0.113.10 22") == ""
    msg = ssh_problem(result, "198.51.100.9 50122 203.0.113.10 22")
    assert "would drop this controller's SSH session (from 198.51.100.9 to port 22)" in msg
    assert "198.51.100.9 to cluster_firewall_admin_networks" in msg
    moved = lab_plan(ssh_ports=[2222])
    assert "Add port 22 to cluster_firewall_ssh_ports" in ssh_problem(moved, "10.77.0.1 50122 10.77.0.10 22")
    # No SSH session (local or container connection): nothing to keep.
    assert ssh_problem(result, "") == "" and ssh_problem(result, None) == ""
    assert "does not read" in ssh_problem(result, "x y z 22")


@pytest.mark.parametrize(("ports", "message"), [
    ([{"name": "a", "port": 0}], "outside 1..65535"),
    ([{"name": "a", "port": "70000"}], "outside 1..65535"),
    ([{"name": "a", "port": "200-100"}], "runs backwards"),
    ([{"name": "a", "port": "http"}], "is not a port"),
    ([{"name": "a", "port": True}], "is not a port"),
    ([{"name": "a", "port": 80, "proto": "icmp"}], "proto 'icmp'"),
    ([{"name": "a", "port": 80, "from": "world"}], "from 'world'"),
    ([{"name": 'a"; drop', "port": 80}], "plain characters"),
    ([{"name": "a", "port": 80, "src": "x"}], "unknown keys src"),
    (["80"], "must be a dict"),
])
def test_a_bad_declaration_names_the_role_and_the_entry(ports, message):
    with pytest.raises(FirewallError, match="myrole port 1"):
        declaration("myrole", ports)
    with pytest.raises(FirewallError) as err:
        declaration("myrole", ports)
    assert message in str(err.value)


def test_a_list_of_ports_under_one_name_becomes_one_entry_each():
    decl = declaration("munge_slurm", [{"name": "jobs", "port": ["29400-29500", 8888]}])
    assert [e["port"] for e in decl["ports"]] == ["29400-29500", "8888"]
    with pytest.raises(FirewallError, match=r"jobs.*'x'"):
        declaration("munge_slurm", [{"name": "jobs", "port": [1, "x"]}])


def test_declaration_files_round_trip_and_a_bad_file_is_named():
    text = declaration_text("munge_slurm", [{"name": "slurmd", "port": 6818}])
    assert json.loads(text) == {"role": "munge_slurm",
                                "ports": [{"name": "slurmd", "port": "6818", "proto": "tcp",
                                           "from": "cluster"}]}
    assert parse_declaration(text, "/etc/gpuforge/ports.d/munge_slurm.json")["ports"][0]["port"] == "6818"
    with pytest.raises(FirewallError, match=r"x\.json is not JSON"):
        parse_declaration("{", "x.json")
    with pytest.raises(FirewallError, match=r"x\.json is not a port declaration"):
        parse_declaration("[]", "x.json")
    with pytest.raises(FirewallError, match=r"x\.json: r port 1"):
        parse_declaration('{"role": "r", "ports": [{"name": "a", "port": -1}]}', "x.json")
    with pytest.raises(FirewallError, match="role name"):
        declaration("Bad-Role", [])


def test_ports_and_the_kernel_range_in_canonical_form():
    assert port_text(6817, "x") == "6817" and port_text(" 100-100 ", "x") == "100"
    assert ephemeral_range("32768\t60999\n") == "32768-60999"
    with pytest.raises(FirewallError):
        ephemeral_range("garbage")


def test_the_filter_refuses_bad_networks_and_a_node_without_a_network():
    with pytest.raises(AnsibleFilterError, match="cluster_firewall_admin_networks: 'not-a-net'"):
        firewall_plan([], ["10.77.0.0/24"], ["not-a-net"])
    with pytest.raises(AnsibleFilterError, match="no cluster network"):
        firewall_plan([], [])
    with pytest.raises(AnsibleFilterError, match="cluster_firewall port 2"):
        firewall_plan([], ["10.77.0.0/24"], extra_ports=[{"name": "x", "port": "99999"}])
    assert firewall_ssh_problem(firewall_plan([], ["10.77.0.0/24"]), "10.77.0.1 1 10.77.0.10 22") == ""


def test_ray_declares_every_pinned_port_and_the_gcs_only_on_the_head():
    head = ray_firewall_ports({}, True, True)
    names = {p["name"]: p["port"] for p in head}
    assert names["ray gcs"] == 6379 and names["ray client server"] == 10001
    assert names["ray workers"] == "10002-10999"
    assert names["ray node manager"] == 6380 and names["ray metrics export"] == 6385
    worker = {p["name"] for p in ray_firewall_ports({}, False)}
    assert "ray gcs" not in worker and "ray workers" in worker
    declaration("ray_cluster", head)  # a valid declaration


def test_a_declaration_that_grows_inserts_only_its_new_ports_into_the_loaded_table():
    before = declaration("munge_slurm", [{"name": "slurmctld", "port": 6817}])
    assert new_port_statements(before, SLURM, "32768-60999") == [
        'ip saddr @cluster_v4 tcp dport 60001-63000 accept comment "munge_slurm srun"',
        'ip6 saddr @cluster_v6 tcp dport 60001-63000 accept comment "munge_slurm srun"',
        'ip saddr @cluster_v4 tcp dport 6820 accept comment "munge_slurm slurmrestd"',
        'ip6 saddr @cluster_v6 tcp dport 6820 accept comment "munge_slurm slurmrestd"',
        'ip saddr @admin_v4 tcp dport 6820 accept comment "munge_slurm slurmrestd"',
        'ip6 saddr @admin_v6 tcp dport 6820 accept comment "munge_slurm slurmrestd"',
        'ip saddr @cluster_v4 tcp dport 32768-60999 accept comment "munge_slurm jobs"',
        'ip6 saddr @cluster_v6 tcp dport 32768-60999 accept comment "munge_slurm jobs"',
    ]
    assert new_port_statements(SLURM, SLURM, "32768-60999") == []
    bmc = declaration("lab_bmc", [{"name": "BMC", "port": 623, "proto": "udp", "from": "any"}])
    assert new_port_statements(None, bmc, "1-2") == ['udp dport 623 accept comment "lab_bmc BMC"']
