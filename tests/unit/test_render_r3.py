"""playbooks/render.yml on the R3 example inventory (the fabric part): IPoIB ports, MPI over UCX on the
InfiniBand port, Slurm on the compute nodes only. No SSH: the R3 nodes are not reachable from here."""

from __future__ import annotations

import yaml
from test_render_r1 import REPO, render


def test_r3_renders_ipoib_ports_ucx_mpi_and_compute_only_slurm(tmp_path):
    run = render(tmp_path, inventory=REPO / "inventories" / "r3")
    assert run.returncode == 0, run.stdout[-3000:]
    out = tmp_path / "out"
    for n, host in ((10, "head"), (12, "node002"), (15, "node005")):
        netplan = yaml.safe_load((out / host / "etc/netplan/60-gpuforge-rdma.yaml").read_text())
        port = netplan["network"]["ethernets"]
        assert port["ibp1s0"]["addresses"] == [f"10.10.0.{n}/24"]
        assert (port["ibp1s0"]["mtu"], port["ibp1s0"]["infiniband-mode"]) == (2044, "datagram")
        mca = (out / host / "etc/openmpi/openmpi-mca-params.conf").read_text().splitlines()
        # InfiniBand: UCX on the active port, no GID index (that is a RoCE setting).
        assert "pml = ucx" in mca and "mca_base_env_list = UCX_NET_DEVICES=mlx4_0:1" in mca
    slurm = (out / "head/etc/slurm/slurm.conf").read_text().splitlines()
    assert "PartitionName=main Nodes=node[002-005] Default=YES MaxTime=INFINITE OverSubscribe=YES" in slurm
    assert not [line for line in slurm if line.startswith("NodeName=head")]


def test_r3_refuses_a_jumbo_mtu_on_ipoib_datagram(tmp_path):
    run = render(tmp_path, "-e", '{"cluster_networks": {"ib": {"subnet": "10.10.0.0/24", "mtu": 9000, '
                 '"interface": "ibp1s0"}}}', inventory=REPO / "inventories" / "r3")
    assert run.returncode != 0
    assert "MTU 9000 on IPoIB datagram mode" in run.stdout and "(4092 here)" in run.stdout
    assert not (tmp_path / "out").exists(), sorted((tmp_path / "out").rglob("*"))
