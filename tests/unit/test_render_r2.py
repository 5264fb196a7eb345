"""playbooks/render.yml on the R2 example inventory: every file from recorded facts, no SSH.

The R2 nodes (192.168.1.10-12) are not reachable from here: any attempt to connect would fail
the run, so a passing render proves it needed none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def render(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts")}  # empty: only the recorded files
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(REPO / "inventories" / "r2"),
            str(REPO / "playbooks" / "render.yml"), "-e", f"gpuforge_render_dir={tmp_path / 'out'}", *extra]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)


def test_r2_renders_slurm_hosts_ssh_and_mpi(tmp_path):
    run = render(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    out = tmp_path / "out"
    slurm = (out / "node0/etc/slurm/slurm.conf").read_text()
    assert ("NodeName=node[0-2] CPUs=32 Boards=1 SocketsPerBoard=1 CoresPerSocket=16 ThreadsPerCore=2 "
            "RealMemory=62920 Gres=gpu:rtx5090:1") in slurm.splitlines()
    assert "SlurmctldHost=node0" in slurm.splitlines() and "AuthAltTypes=auth/jwt" in slurm.splitlines()
    assert "PartitionName=main Nodes=node[0-2] Default=YES" in slurm
    gres = [line for line in (out / "node1/etc/slurm/gres.conf").read_text().splitlines()
            if line.startswith("NodeName")]
    assert gres == [f"NodeName=node{i} Name=gpu Type=rtx5090 File=/dev/nvidia0" for i in range(3)]
    assert (out / "node2/etc/hosts").read_text().splitlines()[1:4] == [
        f"192.168.1.1{i} node{i}.r2.lan node{i}" for i in range(3)]
    known = (out / "node1/etc/ssh/ssh_known_hosts").read_text()
    assert "node2,node2.r2.lan,192.168.1.12 ssh-ed25519 " in known
    # On the cluster network, on the port ranges the role pins and declares to the cluster firewall.
    assert (out / "node0/etc/openmpi/openmpi-mca-params.conf").read_text().splitlines()[1:6] == [
        "btl_tcp_if_include = 192.168.1.0/24", "btl_tcp_port_min_v4 = 46000", "btl_tcp_port_range_v4 = 1000",
        "oob_tcp_dynamic_ipv4_ports = 47000-47099", "oob_tcp_if_include = 192.168.1.0/24"]
    assert (out / "node1/etc/nccl.conf").read_text().splitlines()[-2:] == [
        "NCCL_IB_DISABLE=1", "NCCL_SOCKET_IFNAME=enp5s0"]  # the wired port, not the Wi-Fi default route
    # Same inputs, same files: slurm.conf is one file for all nodes.
    assert (out / "node2/etc/slurm/slurm.conf").read_text() == slurm


def test_r2_render_refuses_an_address_the_recorded_node_does_not_have(tmp_path):
    run = render(tmp_path, "-e", "{\"cluster_ip\": \"{{ '192.168.1.99' if inventory_hostname == 'node1' "
                                 "else ansible_host }}\"}")
    assert run.returncode != 0
    want = ("node1: cluster_ip 192.168.1.99 is not an address of this node "
            "(its addresses: enp5s0 192.168.1.11/24")
    assert want in run.stdout, run.stdout[-3000:]
    assert not (tmp_path / "out").exists()
