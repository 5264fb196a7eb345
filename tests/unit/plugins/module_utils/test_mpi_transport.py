"""mpi_transport: what Open MPI was built with, which PML each rank selected, and the transport decision.

Captures from the lab (fixtures/openmpi/README.source: Debian 12, openmpi-bin 4.1.4-3+b1, no RDMA device).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import mpi_transport as mt

FIX = Path(__file__).parent / "fixtures" / "openmpi"
R1_CHOICE = {"hca": "mlx4_0:2", "gid_index": 3, "ports": [
    {"device": "mlx4_0", "port": 1, "use": False, "reason": "port 1 is Down"},
    {"device": "mlx4_0", "port": 2, "use": True, "reason": "Active"}]}
NONE = {"hca": "", "gid_index": None, "ports": []}


def test_debian_open_mpi_has_the_ucx_pml():
    facts = mt.parse_ompi_components((FIX / "debian12-4.1.4-ompi_info-parsable.txt").read_text())
    assert facts["version"] == "4.1.4"
    assert facts["components"]["pml"] == ["v", "cm", "ob1", "ucx", "monitoring"]
    assert {"tcp", "self", "vader", "openib"} <= set(facts["components"]["btl"])


def test_every_rank_of_the_lab_run_selected_ob1():
    text = (FIX / "debian12-4.1.4-pml-verbose-3-nodes.stderr.txt").read_text()
    assert mt.parse_pml_selection(text) == {"node0": ["ob1"], "node1": ["ob1"], "node2": ["ob1"]}
    fqdn = "[node0.lab.example:12] select: component ucx selected\n"
    assert mt.parse_pml_selection(fqdn) == {"node0": ["ucx"]}


def test_ucx_on_the_active_rdma_port_with_its_gid_index():
    components = {"pml": ["ob1", "ucx"]}
    got = mt.choose("auto", R1_CHOICE, components)
    assert (got["transport"], got["pml"], got["problems"]) == ("ucx", "ucx", [])
    assert got["params"] == {"pml": "ucx", "osc": "ucx",
                             "mca_base_env_list": "UCX_NET_DEVICES=mlx4_0:2;UCX_IB_GID_INDEX=3"}
    assert got["reason"] == "UCX on mlx4_0:2 (RoCE v2 GID index 3)"


def test_tcp_without_rdma_and_when_asked():
    got = mt.choose("auto", NONE, {"pml": ["ob1", "ucx"]})
    assert (got["transport"], got["params"]) == ("tcp", {})
    assert got["reason"] == "TCP: no usable RDMA port on this node (no RDMA device)"
    asked = mt.choose("tcp", R1_CHOICE, {"pml": ["ob1", "ucx"]})
    assert asked["transport"] == "tcp" and "although RDMA ports mlx4_0:2 are active" in asked["reason"]


@pytest.mark.parametrize(("requested", "choice", "pmls", "problem"), [
    ("auto", R1_CHOICE, ["ob1", "cm"], "RDMA ports mlx4_0:2 are active but this Open MPI has no UCX PML"),
    ("ucx", {"hca": "", "ports": [{"use": False, "reason": "port 1 is Down"}]}, ["ucx"],
     "openmpi_transport is ucx but this node has no usable RDMA port (port 1 is Down)"),
    ("rdma", R1_CHOICE, ["ucx"], "openmpi_transport must be one of auto, ucx, tcp"),
])
def test_no_silent_fallback(requested, choice, pmls, problem):
    got = mt.choose(requested, choice, {"pml": pmls})
    assert got["transport"] is None and problem in got["problems"][0]
