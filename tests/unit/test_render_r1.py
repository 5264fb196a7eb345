"""playbooks/render.yml on the R1 example inventory: the RDMA ports and NCCL's HCA/GID choice, no SSH.

The R1 servers (192.168.1.73/.71) are not reachable from here: a passing render proves it needed none.
The lab test renders the same inventory and has netplan itself check the file (netplan generate --root-dir).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def render(tmp_path: Path, *extra: str, inventory: Path | None = None) -> subprocess.CompletedProcess:
    inventory = inventory or REPO / "inventories" / "r1"
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "facts")}  # empty: only the recorded files
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
            str(REPO / "playbooks" / "render.yml"), "-e", f"gpuforge_render_dir={tmp_path / 'out'}", *extra]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)


def test_r1_renders_netplan_ports_and_the_live_hca_choice(tmp_path):
    run = render(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    out = tmp_path / "out"
    for n in (1, 2):
        netplan = out / f"gpuserver{n}/etc/netplan/60-gpuforge-rdma.yaml"
        assert oct(netplan.stat().st_mode & 0o777) == "0o600"  # netplan warns about readable files
        doc = yaml.safe_load(netplan.read_text())["network"]
        assert doc["version"] == 2 and "renderer" not in doc
        assert doc["ethernets"]["ens6"]["addresses"] == [f"10.0.1.{n}/24"]
        assert doc["ethernets"]["ens6d1"]["addresses"] == [f"10.0.0.{n}/24"]
        for port in doc["ethernets"].values():
            assert (port["mtu"], port["optional"], port["renderer"]) == (9000, True, "networkd")
        nccl = (out / f"gpuserver{n}/etc/nccl.conf").read_text().splitlines()
        # Port 1 has no cable: port 2 and its RoCE v2 IPv4 GID index, from the recorded tables.
        assert "NCCL_IB_HCA==mlx4_0:2" in nccl and "NCCL_IB_GID_INDEX=3" in nccl
        assert "NCCL_SOCKET_IFNAME=eno1" in nccl
        assert not (out / f"gpuserver{n}/etc/slurm").exists()  # R1 runs no Slurm
        # MPI over UCX on the same port and GID index.
        mca = (out / f"gpuserver{n}/etc/openmpi/openmpi-mca-params.conf").read_text().splitlines()
        assert "mca_base_env_list = UCX_NET_DEVICES=mlx4_0:2;UCX_IB_GID_INDEX=3" in mca and "pml = ucx" in mca


def test_r1_render_refuses_the_management_port_as_an_rdma_port(tmp_path):
    run = render(tmp_path, "-e", '{"rdma_network_ports": [{"network": "rdma0", "interface": "eno1"}]}')
    assert run.returncode != 0
    assert "eno1 is the default-route interface; rdma_network never reconfigures it" in run.stdout
    # Every role's inputs are checked before the first file is written: no partial render.
    assert not (tmp_path / "out").exists(), sorted((tmp_path / "out").rglob("*"))
