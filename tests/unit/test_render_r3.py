"""playbooks/render.yml on the R3 example inventory (the fabric part): IPoIB ports, MPI over UCX on the
InfiniBand port, Slurm on the compute nodes only. No SSH: the R3 nodes are not reachable from here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_render_r1 import REPO, render


@pytest.fixture(scope="module")
def r3(tmp_path_factory) -> Path:
    """One render of the R3 inventory for the tests that read it: its output folder."""
    tmp_path = tmp_path_factory.mktemp("r3")
    run = render(tmp_path, inventory=REPO / "inventories" / "r3")
    assert run.returncode == 0, run.stdout[-3000:]
    return tmp_path / "out"


def test_r3_renders_ipoib_ports_ucx_mpi_and_compute_only_slurm(r3):
    out = r3
    for n, host in ((10, "head"), (12, "node002"), (15, "node005")):
        netplan = yaml.safe_load((out / host / "etc/netplan/60-gpuforge-rdma.yaml").read_text())
        port = netplan["network"]["ethernets"]
        assert port["ibp1s0"]["addresses"] == [f"10.10.0.{n}/24"]
        assert (port["ibp1s0"]["mtu"], port["ibp1s0"]["infiniband-mode"]) == (2044, "datagram")
        mca = (out / host / "etc/openmpi/openmpi-mca-params.conf").read_text().splitlines()
        # InfiniBand: UCX on the active port, no GID index (that is a RoCE setting).
        assert "pml = ucx" in mca and "mca_base_env_list = UCX_NET_DEVICES=mlx4_0:1" in mca
    slurm = (out / "head/etc/slurm/slurm.conf").read_text().splitlines()
    # OverSubscribe, and a memory default (62976 MB / 16 CPUs) so that jobs asking no memory share a node.
    assert ("PartitionName=main Nodes=node[002-005] Default=YES DefMemPerCPU=3936 MaxTime=INFINITE "
            "OverSubscribe=YES") in slurm
    assert not [line for line in slurm if line.startswith("NodeName=head")]


def test_r3_renders_power_saving_through_the_ipmi_names(r3):
    # Without the IPMI password (it would be in a vault): offline nothing is written with it.
    out = r3
    slurm = (out / "head/etc/slurm/slurm.conf").read_text().splitlines()
    for line in ("SuspendProgram=/usr/local/sbin/gpuforge-powersave-suspend",
                 "ResumeProgram=/usr/local/sbin/gpuforge-powersave-resume",
                 "ResumeFailProgram=/usr/local/sbin/gpuforge-powersave-resumefail",
                 "SuspendTime=300", "ResumeTimeout=180", "SuspendTimeout=160", "SuspendExcNodes=head"):
        assert line in slurm, line
    # Every node gets the same slurm.conf.
    assert (out / "node004/etc/slurm/slurm.conf").read_text().splitlines() == slurm
    # The program reaches each BMC by its ipmi name, which the head's /etc/hosts maps to the inventory
    # address.
    program = json.loads((out / "head/etc/slurm/gpuforge-powersave.json").read_text())
    assert program["nodes"] == {f"node00{i}": {"bmc": f"ipminode00{i}"} for i in range(2, 6)}
    assert program["node_defaults"]["username"] == "ADMIN"
    assert program["node_defaults"]["password_file"] == "/etc/slurm/gpuforge-powersave.ipmi"
    hosts = (out / "head/etc/hosts").read_text()
    block = hosts.split("# BEGIN gpuforge.cluster BMC names (slurm_powersave)\n", 1)[1].split("# END", 1)[0]
    assert block.splitlines() == [f"192.168.1.1{i} ipminode00{i}" for i in range(2, 6)]
    assert "192.168.0.12 node002" in hosts  # cluster_hosts' block beside it
    # Only the controller runs the programs; no password file anywhere.
    assert not (out / "node002/etc/slurm/gpuforge-powersave.json").exists()
    assert not list(out.rglob("gpuforge-powersave.ipmi"))


def test_r3_refuses_a_jumbo_mtu_on_ipoib_datagram(tmp_path):
    run = render(tmp_path, "-e", '{"cluster_networks": {"ib": {"subnet": "10.10.0.0/24", "mtu": 9000, '
                 '"interface": "ibp1s0"}}}', inventory=REPO / "inventories" / "r3")
    assert run.returncode != 0
    assert "MTU 9000 on IPoIB datagram mode" in run.stdout and "(4092 here)" in run.stdout
    assert not (tmp_path / "out").exists(), sorted((tmp_path / "out").rglob("*"))
