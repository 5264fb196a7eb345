"""NCCL expectations from the topology, judged on the recorded 2x H200 runs and R1's figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter import nccl_expect as f
from ansible_collections.gpuforge.cluster.plugins.module_utils import nccl_expect
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.nvidia_smi import (
    parse_query_xml,
    parse_topo_matrix,
)
from ansible_collections.gpuforge.cluster.plugins.modules import nccl_tests

from ..modules.test_fact_modules import _run

FIX = Path(__file__).parent / "parsers" / "fixtures"
H200_TOPO = parse_topo_matrix((FIX / "topo" / "h200x2-580-topo-m.txt").read_text())
H200_GPUS = parse_query_xml((FIX / "nvidia_smi" / "h200x2-580-q-x.xml").read_text())["gpus"]
P2P_RUN = (FIX / "nccl_tests" / "h200x2-580-nccl2283-all_reduce_g2_8GiB_p2p.txt").read_text()
SHM_RUN = (FIX / "nccl_tests" / "h200x2-580-nccl2283-all_reduce_g2_8GiB_p2p_disabled.txt").read_text()
# R1 (2 servers x 2 Tesla V100 PCIe, PCIe Gen3 x16): no NVLink, GPUs joined through the CPU. Its own
# `topo -m` was not published; the real PHB capture of two PCIe cards stands for that topology.
PHB_TOPO = parse_topo_matrix((FIX / "topo" / "dual-1080ti-phb.txt").read_text())
R1_GPUS = [
    {
        "name": "Tesla V100-PCIE-16GB",
        "architecture": "Volta",
        "pcie_link_gen_max": 3,
        "pcie_link_width_max": 16,
    }
] * 2


def _module(output, expectation):
    return _run(nccl_tests, {"output": output, "gpus": 2, "expectation": expectation}, None)


def test_h200_nvlink_expects_p2p_with_a_floor_from_the_links():
    expect = f.nccl_intra_expectation(H200_TOPO, H200_GPUS, ["0", "GenuineIntel", "Intel(R) Xeon(R)"])
    assert (expect["transport"], expect["link"], expect["peak_gbps"], expect["floor_gbps"]) == (
        "P2P",
        "NV18",
        450.0,
        225.0,
    )
    assert expect["forbid"] == ["NET", "SHM"]
    assert "18 NVLinks x 25.0 GB/s = 450.0 GB/s" in expect["why"]


def test_recorded_p2p_run_passes():
    expect = f.nccl_intra_expectation(H200_TOPO, H200_GPUS)
    result = _module(P2P_RUN, expect)
    assert result["failed"] is False
    assert result["busbw_max_size_gbps"] == 346.69


def test_recorded_p2p_disabled_run_fails_naming_both_figures():
    expect = f.nccl_intra_expectation(H200_TOPO, H200_GPUS)
    result = _module(SHM_RUN, expect)
    assert result["failed"] is True
    assert "expected P2P (busbw >= 225.0 GB/s;" in result["msg"]
    assert "got SHM/direct/direct at 29.96 GB/s" in result["msg"]
    assert "busbw 29.96 GB/s, expected >= 225.0 GB/s" in result["msg"]


def test_r1_pcie_through_the_cpu_expects_shm_and_passes_at_7_09():
    expect = f.nccl_intra_expectation(PHB_TOPO, R1_GPUS, "GenuineIntel")
    assert (expect["transport"], expect["peak_gbps"], expect["floor_gbps"]) == ("SHM", 15.76, 3.94)
    checks = nccl_expect.judge(expect, ["SHM/direct/direct"], 7.09, 2)
    assert all(c["ok"] for c in checks), checks
    assert not all(c["ok"] for c in nccl_expect.judge(expect, ["SHM/direct/direct"], 2.0, 2))


def test_amd_host_bridge_expects_p2p_and_unknown_platform_accepts_either():
    assert f.nccl_intra_expectation(PHB_TOPO, R1_GPUS, "AuthenticAMD")["transport"] == "P2P"
    either = f.nccl_intra_expectation(PHB_TOPO, R1_GPUS, None)
    assert either["transport"] is None and either["forbid"] == ["NET"]


def test_geforce_never_expects_p2p_over_pcie():
    gpus = [
        {
            "name": "NVIDIA GeForce RTX 4090",
            "architecture": "Ada Lovelace",
            "pcie_link_gen_max": 4,
            "pcie_link_width_max": 16,
        }
    ] * 2
    pix = {"gpus": ["GPU0", "GPU1"], "matrix": {"GPU0": {"GPU1": "PIX"}, "GPU1": {"GPU0": "PIX"}}}
    expect = f.nccl_intra_expectation(pix, gpus, "AuthenticAMD")
    assert expect["transport"] == "SHM" and "GeForce" in expect["why"]


def test_one_gpu_has_nothing_to_judge():
    topo = parse_topo_matrix((FIX / "topo" / "h100-580-topo-m.txt").read_text())
    expect = f.nccl_intra_expectation(topo, [{"name": "NVIDIA H100 80GB HBM3", "architecture": "Hopper"}])
    assert expect["transport"] is None and expect["floor_gbps"] is None and expect["forbid"] == []
    assert expect["why"] == "1 GPU: no transfer between GPUs to judge"


def test_count_limits_the_gpus_and_bad_input_is_named():
    assert f.nccl_intra_expectation(H200_TOPO, H200_GPUS, count=1)["transport"] is None
    with pytest.raises(AnsibleFilterError, match="topology: true"):
        f.nccl_intra_expectation({}, H200_GPUS)


def test_inter_node_rdma_gdr_and_socket():
    gdr = f.nccl_inter_expectation(True, gdr=True, link_floor_gbps=3.0)
    assert (gdr["transport"], gdr["forbid"], gdr["floor_gbps"]) == ("NET/IB", ["NET/Socket"], 3.0)
    checks = nccl_expect.judge(gdr, ["P2P/IPC", "NET/IB/0"], 3.5, 4)
    assert [c["name"] for c in checks if not c["ok"]] == ["GPUDirect RDMA"]
    assert all(c["ok"] for c in nccl_expect.judge(gdr, ["NET/IB/0/GDRDMA"], 3.5, 4))
    staged = f.nccl_inter_expectation(True, gdr=False, link_floor_gbps=3.0)
    assert staged["floor_gbps"] == 2.25 and "no nvidia-peermem" in staged["why"]
    tcp = f.nccl_inter_expectation(False, link_floor_gbps=0.7)
    assert tcp["transport"] == "NET/Socket" and tcp["forbid"] == []
