"""slurm_node_lines and the GPU lines munge_slurm writes, from real nvidia-smi and slurmd -C output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.gpu import gpu_type
from ansible_collections.gpuforge.cluster.plugins.filter.slurm_nodes import slurm_gres, slurm_node_lines
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import nvidia_smi, slurm

FIXTURES = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures"
# Slurm's grammar: Gres=<name>[:<type>]:<count>[,...]; gres.conf File=/dev/nvidiaN
GRES_RE = re.compile(r"^gpu:[a-z0-9]+:\d+(,gpu:[a-z0-9]+:\d+)*$")
NODE_RE = re.compile(r"^NodeName=\S+( [A-Za-z]+=\S+)+$")
HW = {"CPUs": 2, "Boards": 1, "SocketsPerBoard": 1, "CoresPerSocket": 2, "ThreadsPerCore": 1,
      "RealMemory": 23081}


def gres_of(xml_name: str) -> tuple[str, list[str]]:
    """What roles/munge_slurm/tasks/gpus.yml computes, from a real nvidia-smi -q -x fixture."""
    gpus = nvidia_smi.parse_query_xml((FIXTURES / "nvidia_smi" / xml_name).read_text())["gpus"]
    types = [gpu_type(g["name"]) for g in gpus]
    gres = slurm_gres(types)
    if any(g["minor_number"] is None for g in gpus):
        return gres, None  # no /dev/nvidiaN (Windows/WDDM): roles/munge_slurm/tasks/gpus.yml refuses
    lines = [f"NodeName=n1 Name=gpu Type={t} File=/dev/nvidia{g['minor_number']}"
             for t, g in zip(types, gpus, strict=True)]
    return gres, lines


def test_h100_from_the_device_capture():
    gres, lines = gres_of("h100-580-q-x.xml")
    assert gres == "gpu:h100:1"
    assert lines == ["NodeName=n1 Name=gpu Type=h100 File=/dev/nvidia0"]
    assert GRES_RE.match(gres)


@pytest.mark.parametrize("xml", sorted(p.name for p in (FIXTURES / "nvidia_smi").glob("*.xml")))
def test_every_real_xml_gives_slurm_syntax(xml):
    try:
        gres, lines = gres_of(xml)
    except nvidia_smi.NvidiaSmiError:
        pytest.skip("error output: no GPUs to schedule")  # the error fixtures hold no GPU
    if not gres:
        return
    assert GRES_RE.match(gres), gres
    if lines is None:
        assert "win" in xml  # only the Windows capture lacks minor numbers
        return
    for line in lines:
        assert re.match(r"^NodeName=\S+ Name=gpu Type=[a-z0-9]+ File=/dev/nvidia\d+$", line), line


def test_identical_nodes_share_one_line():
    hw = slurm.parse_slurmd_c("NodeName=node0 CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 "
                              "ThreadsPerCore=1 RealMemory=24105\nUpTime=0-00:31:25\n")
    node = {k: hw[k] for k in HW}
    node["RealMemory"] -= 1024
    lines = slurm_node_lines(["node0", "node1", "node2"], [node] * 3, ["", "", ""])
    assert lines == ["NodeName=node[0-2] CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 "
                     "ThreadsPerCore=1 RealMemory=23081"]
    assert NODE_RE.match(lines[0])


def test_gpu_nodes_get_their_own_lines_and_padding_stays():
    h100 = {**HW, "CPUs": 224, "RealMemory": 2000000}
    lines = slurm_node_lines(["gpu001", "gpu002", "cpu01"], [h100, h100, HW],
                             ["gpu:h100:8", "gpu:h100:8", ""], {"Weight": 10})
    assert lines == [
        "NodeName=gpu[001-002] CPUs=224 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 "
        "RealMemory=2000000 Gres=gpu:h100:8 Weight=10",
        "NodeName=cpu01 CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 "
        "RealMemory=23081 Weight=10",
    ]


def test_changed_cpu_count_splits_the_group():
    one = {**HW, "CPUs": 1, "CoresPerSocket": 1}
    lines = slurm_node_lines(["node0", "node1", "node2"], [HW, one, HW])
    assert lines[0].startswith("NodeName=node[0,2] CPUs=2")
    assert lines[1].startswith("NodeName=node1 CPUs=1")


@pytest.mark.parametrize(("names", "hardware", "gres", "message"), [
    (["a"], [{"CPUs": 2}], [""], "a has no RealMemory"),
    (["a", "b"], [HW], ["", ""], "differ in length"),
    (["a"], ["CPUs=2"], [""], "is not a dict"),
])
def test_bad_input_names_the_problem(names, hardware, gres, message):
    with pytest.raises(AnsibleFilterError, match=message):
        slurm_node_lines(names, hardware, gres)
