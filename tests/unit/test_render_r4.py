"""playbooks/render.yml on the R4 example inventory: the pasted nodes.txt read by the rental_nodes
inventory plugin, the node model on the private addresses, and what the rental roles would write - the
docker run options from the recorded ibstat (two ConnectX-7 NDR HCAs) with the host's NCCL settings, and
Ray's units registering the private addresses. No SSH: the R4 boxes are examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_r1 import REPO, render


@pytest.fixture(scope="module")
def r4(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("r4")
    run = render(tmp_path, inventory=REPO / "inventories" / "r4" / "nodes.txt")
    assert run.returncode == 0, run.stdout[-3000:]
    return tmp_path / "out"


def test_container_run_options_from_the_recorded_hcas_carry_what_nccl_needs(r4):
    for host in ("rental0", "rental1", "rental2"):
        opts = [
            line
            for line in (r4 / host / "etc/gpuforge/container-run.args").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert opts == [
            "--network=host",
            "--ipc=host",
            "--device=/dev/infiniband",
            "--cap-add=IPC_LOCK",
            "--ulimit=memlock=-1:-1",
            "--env-file=/etc/gpuforge/container-nccl.env",
        ]
        env = [
            line
            for line in (r4 / host / "etc/gpuforge/container-nccl.env").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        # The host's NCCL settings, the same as its nccl.conf: both active NDR ports, the private interface.
        assert env == ["NCCL_IB_HCA==mlx5_0:1,mlx5_1:1", "NCCL_SOCKET_IFNAME=ens4"]
        nccl = [
            line
            for line in (r4 / host / "etc/nccl.conf").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert sorted(nccl) == env
        wrapper = (r4 / host / "usr/local/bin/gpuforge-docker-run").read_text()
        # An interpreter line that exec can use (a real line break after it), then the script.
        assert wrapper.startswith("#!/bin/bash\n# ") and wrapper.endswith('"$@"\n'), wrapper[:80]
        assert "/etc/gpuforge/container-run.args" in wrapper
        assert 'exec docker run "${opts[@]}" "$@"' in wrapper


def test_ray_registers_the_private_addresses_and_the_hostnames_resolve_to_them(r4):
    head = (r4 / "rental0/etc/systemd/system/gpuforge-ray.service").read_text()
    assert " --node-ip-address=10.19.0.10 --head --port=6379 " in head
    for n in (1, 2):
        unit = (r4 / f"rental{n}/etc/systemd/system/gpuforge-ray.service").read_text()
        assert f" --node-ip-address=10.19.0.1{n} --address=10.19.0.10:6379 " in unit
        assert "203.0.113." not in unit
        hosts = (r4 / f"rental{n}/etc/hosts").read_text().splitlines()
        assert [f"10.19.0.1{i} rental{i}" for i in range(3)] == [h for h in hosts if h.startswith("10.19.0.")]
