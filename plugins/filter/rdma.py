# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDMA ports as data (plugins/module_utils/rdma_ports.py): resolve, render, compare, choose HCA ports."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils import fabric_table as _ft
from ansible_collections.gpuforge.cluster.plugins.module_utils import mpi_transport as _mt
from ansible_collections.gpuforge.cluster.plugins.module_utils import rdma_ports as _rp


def rdma_ports(ports, facts, renderer="networkd", connection_address=None):
    """rdma_network_ports of one host -> {ports, problems} (facts: that host's ansible_facts)."""
    node, observed = (facts or {}).get("gpuforge_node"), (facts or {}).get("gpuforge_host")
    if not node or observed is None:
        raise AnsibleFilterError("rdma_ports: no node model (gpuforge_node, gpuforge_host) in the facts given; "
                                 "run gpuforge.cluster.cluster first")
    return _rp.resolve_ports(ports, node, observed, renderer=renderer, connection_address=connection_address)


def rdma_netplan(resolved):
    return _rp.netplan_config(list(resolved or []))


def rdma_networkd(resolved, directory="/etc/systemd/network", header=""):
    """config_files entries of the systemd-networkd files: [{dest, content, owner, group, mode}]."""
    header = header.rstrip("\n") + "\n\n" if header else ""
    return [{"dest": "%s/%s" % (directory.rstrip("/"), f["name"]), "content": header + _rp.networkd_text(f["sections"]),
             "owner": "root", "group": "root", "mode": "0644"} for f in _rp.networkd_files(list(resolved or []))]


def rdma_port_drift(resolved, interfaces):
    return _rp.drift(list(resolved or []), list(interfaces or []))


def rdma_hca_choice(ibstat, gids, resolved=None):
    return _rp.hca_choice(ibstat or {}, gids or {}, list(resolved or []))


def _by_host(hosts, hostvars, key):
    return {host: (hostvars[host].get(key) or []) for host in hosts if key in hostvars[host]}


def rdma_peer_plan(host, hosts, hostvars, key="__rdma_network_ports"):
    """What ``host`` pings: each other host's address on every network it has a port on."""
    return _rp.peer_plan(host, _by_host(hosts, hostvars, key))


def rdma_cluster_problems(hosts, hostvars, key="__rdma_network_ports"):
    return _rp.cluster_port_problems(_by_host(hosts, hostvars, key))


def rdma_endpoint(port, choice):
    """{device, ib_port, gid_index} perftest uses for a resolved port (or {reason})."""
    return _rp.rdma_endpoint(choice or {}, port)


def rdma_benchmark_plan(host, hosts, hostvars, key="__rdma_network_ports"):
    """The iperf3/perftest runs of ``host``: each network's hosts as a ring, each to the next."""
    return _rp.benchmark_ring(host, _by_host(hosts, hostvars, key))


def _result(loop_result):
    if not isinstance(loop_result, dict) or loop_result.get("skipped") or loop_result.get("failed"):
        return None
    return loop_result.get("result")


def rdma_benchmark_runs(iperf_results, bw_results=None, lat_results=None):
    """The loop results of the iperf3 and perftest modules over one host's rdma_benchmark_plan (same order)
    -> runs {pair, link_rate_gbps, tcp_bw, rdma_bw, rdma_lat} for fabric_pair_table."""
    runs = []
    for num, res in enumerate(iperf_results or []):
        plan = res["item"]
        bw = bw_results[num] if bw_results and num < len(bw_results) else None
        lat = lat_results[num] if lat_results and num < len(lat_results) else None
        runs.append({"pair": "%s -> %s (%s)" % (plan["host"], plan["peer"], plan["network"]),
                     "link_rate_gbps": plan.get("link_rate_gbps"), "tcp_bw": _result(res),
                     "rdma_bw": _result(bw), "rdma_lat": _result(lat)})
    return runs


def fabric_pair_table(runs):
    """Rows {pair, link_rate_gbps, tcp_bw (iperf3 result), rdma_bw, rdma_lat (perftest results)}, or the
    iperf3 module's loop results over rdma_benchmark_plan, -> the pair table (rows with Gb/s, % of link,
    ratios and verdicts; failed; ok) and its Markdown."""
    rows = []
    for run in runs or []:
        if isinstance(run, dict) and isinstance(run.get("item"), dict) and "peer" in run["item"]:
            # A loop result of the iperf3 module over rdma_benchmark_plan.
            run = rdma_benchmark_runs([run])[0]
        if not isinstance(run, dict) or "pair" not in run:
            raise AnsibleFilterError("fabric_pair_table: a run has no pair: %r" % (run,))
        rows.append(_ft.pair_row(run["pair"], run.get("link_rate_gbps"), rdma_bw=run.get("rdma_bw"), rdma_lat=run.get("rdma_lat"),
                                 tcp_bw=run.get("tcp_bw"), tcp_lat_us=run.get("tcp_lat_us")))
    table = _ft.pair_table(rows)
    table["markdown"] = _ft.render_markdown(table)
    return table


def mpi_transport(requested, hca, components=None):
    """openmpi_transport + the node's rdma_hca_choice + ompi_facts components -> {transport, pml, params,
    reason, problems}. Without components (render.yml from recorded facts that hold no ompi_info), the
    distribution's Open MPI is assumed to have the UCX PML (Debian's and Ubuntu's have) and the reason says so."""
    if components is None:
        decided = _mt.choose(requested, hca, {"pml": ["ob1", "ucx"]})
        if decided["transport"] == "ucx":
            decided["reason"] += " (UCX PML assumed: ompi_info was not recorded)"
        return decided
    return _mt.choose(requested, hca, components)


class FilterModule:
    def filters(self):
        return {
            "rdma_ports": rdma_ports, "rdma_netplan": rdma_netplan, "rdma_networkd": rdma_networkd,
            "rdma_port_drift": rdma_port_drift, "rdma_hca_choice": rdma_hca_choice,
            "rdma_peer_plan": rdma_peer_plan, "rdma_cluster_problems": rdma_cluster_problems,
            "rdma_benchmark_plan": rdma_benchmark_plan, "fabric_pair_table": fabric_pair_table,
            "mpi_transport": mpi_transport, "rdma_endpoint": rdma_endpoint,
            "rdma_benchmark_runs": rdma_benchmark_runs,
        }
