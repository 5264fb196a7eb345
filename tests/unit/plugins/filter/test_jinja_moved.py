"""The Jinja loops that left tasks, vars and slurm.conf.j2 (issue 12) and the filters that replace them:
each old expression, copied verbatim from the role before the change, is rendered by Ansible's own Templar
on real data and must give exactly what the filter gives (slurm.conf, gres values, the MCA block, the
hello lines and nccl_test_results stay byte for byte the same)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.gpuforge.cluster.plugins.filter.config_files import key_value_text
from ansible_collections.gpuforge.cluster.plugins.filter.gpu import gpu_type
from ansible_collections.gpuforge.cluster.plugins.filter.mpi import mpi_hello_lines
from ansible_collections.gpuforge.cluster.plugins.filter.nccl_expect import nccl_results
from ansible_collections.gpuforge.cluster.plugins.filter.slurm_nodes import (
    slurm_gres,
    slurm_node_problems,
    slurm_node_state,
    slurm_partition_lines,
    slurm_resume_nodes,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import nccl_tests, nvidia_smi, slurm

FIXTURES = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures"


def render(expr: str, **variables):
    """The expression as Ansible renders it; ansible-core 2.19 makes an empty result None, which every
    consumer here (slurm_node_lines' ``if gres``, blockinfile) takes as the empty string the filters give."""
    result = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expr))
    return "" if result is None else result


# ------------------------------------------------------------ Gres (roles/munge_slurm/tasks/gpus.yml)
OLD_GRES = (
    "{% for t in __munge_slurm_types | unique %}gpu:{{ t }}:{{\n"
    "__munge_slurm_types | select('equalto', t) | list | length }}{{ '' if loop.last else ',' }}{% endfor %}"
)


@pytest.mark.parametrize("types", [[], ["h100"] * 8, ["h100", "a100", "h100", "l4"], ["rtx5090"]])
def test_slurm_gres_equals_the_old_loop(types):
    assert slurm_gres(types) == render(OLD_GRES, __munge_slurm_types=types)


@pytest.mark.parametrize("xml", sorted(p.name for p in (FIXTURES / "nvidia_smi").glob("*.xml")))
def test_slurm_gres_on_every_real_nvidia_smi_capture(xml):
    try:
        gpus = nvidia_smi.parse_query_xml((FIXTURES / "nvidia_smi" / xml).read_text())["gpus"]
    except Exception:
        pytest.skip("the parser refuses this capture")
    types = [gpu_type(g["name"]) for g in gpus]
    assert slurm_gres(types) == render(OLD_GRES, __munge_slurm_types=types)


# ------------------------------------------------------------ partitions (templates/slurm.conf.j2)
# The old template's line with the members already compressed (the node model part is the same
# cluster_nodes filter before and after; playbooks/render.yml output was compared as well).
OLD_PARTITION = (
    "PartitionName={{ p.name }} Nodes={{ nodes }} Default={{ 'YES' if p.default | default(false) "
    "else 'NO' }}{% for k, v in (p.options | default({})) | dictsort %} {{ k }}={{ v }}{% endfor %}"
)
HOSTVARS = {
    h: {"ansible_facts": {"gpuforge_node": {"name": h.replace("host", "node")}}}
    for h in ("host0", "host1", "host2")
}
GROUPS = {"all": ["host0", "host1", "host2"], "gpu": ["host2", "host1"]}
PARTITIONS = [
    {
        "name": "main",
        "group": "all",
        "default": True,
        "options": {"MaxTime": "INFINITE", "OverSubscribe": "NO", "State": "UP"},
    },  # the role's default
    {"name": "gpu", "group": "gpu"},
    {
        "name": "two",
        "nodes": ["host0", "host2"],
        "default": False,
        "options": {"b": 1, "A": "x y", "Zeta": True},
    },
]


def test_slurm_partition_lines_equal_the_old_template():
    lines = slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS)
    nodes = ["node[0-2]", "node[1-2]", "node[0,2]"]
    assert lines == [render(OLD_PARTITION, p=p, nodes=n) for p, n in zip(PARTITIONS, nodes, strict=True)]
    assert (
        lines[0]
        == "PartitionName=main Nodes=node[0-2] Default=YES MaxTime=INFINITE OverSubscribe=NO State=UP"
    )


def test_slurm_partition_lines_give_a_memory_default_where_memory_is_selected_and_none_is_set():
    described = {"host0": {"CPUs": 2, "RealMemory": 7000}, "host1": {"CPUs": 4, "RealMemory": 30000},
                 "host2": {"CPUs": 8, "RealMemory": 30000}}
    config = {"SelectTypeParameters": "CR_Core_Memory"}
    lines = slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS, config, described)
    assert lines[0] == ("PartitionName=main Nodes=node[0-2] Default=YES DefMemPerCPU=3500 MaxTime=INFINITE "
                        "OverSubscribe=NO State=UP")
    assert lines[1] == "PartitionName=gpu Nodes=node[1-2] Default=NO DefMemPerCPU=3750"
    # A partition with a GPU node gets none (host2 has 2 GPUs): the others keep theirs.
    lines = slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS, config, described, {"host2": 2, "host1": 0})
    assert "DefMemPerCPU" not in lines[0] + lines[1] + lines[2]
    lines = slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS, config, described, {"host2": 2})
    assert [("DefMemPerCPU" in line) for line in lines] == [False, False, False]
    assert "DefMemPerCPU=3500" in slurm_partition_lines(
        [{"name": "c", "nodes": ["host0", "host1"]}], GROUPS, HOSTVARS, config, described, {"host2": 2})[0]
    # Memory not selected, or a default set for the whole cluster: the lines stay as the partitions say.
    plain = slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS)
    for other in ({"SelectTypeParameters": "CR_Core"}, {**config, "DefMemPerNode": 1000}):
        assert slurm_partition_lines(PARTITIONS, GROUPS, HOSTVARS, other, described) == plain


def test_slurm_partition_lines_name_a_partition_without_nodes():
    with pytest.raises(AnsibleFilterError, match="partition x has no nodes and its group 'nope'"):
        slurm_partition_lines([{"name": "x", "group": "nope"}], GROUPS, HOSTVARS)


# ------------------------------------------------------------ openmpi
OLD_MCA_BLOCK = "{% for key, value in __openmpi_params | dictsort %}\n{{ key }} = {{ value }}\n{% endfor %}\n"
OLD_HELLO = (
    "{% set out = [] %}{% for n in __openmpi_nodes %}{% set _ = out.append('rank ' ~ loop.index0 ~ ' of '\n"
    "~ (__openmpi_nodes | length) ~ ' on ' ~ n) %}{% endfor %}{{ out }}"
)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"btl_tcp_if_include": "192.168.1.0/24", "oob_tcp_if_include": "192.168.1.0/24"},  # R2's render
        {
            "btl_tcp_if_include": "10.0.0.0/24",
            "pml": "ucx",
            "mca_base_env_list": "UCX_NET_DEVICES=mlx4_0:2;UCX_IB_GID_INDEX=3",
            "Btl": 1,
            "osc": True,
        },
    ],
)
def test_key_value_text_equals_the_old_mca_block(params):
    assert key_value_text(params) == render(OLD_MCA_BLOCK, __openmpi_params=params)


@pytest.mark.parametrize("nodes", [["node0"], ["node0", "node1", "node2"], ["gpuserver2", "gpuserver1"]])
def test_mpi_hello_lines_equal_the_old_loop(nodes):
    assert mpi_hello_lines(nodes) == render(OLD_HELLO, __openmpi_nodes=nodes)


# ------------------------------------------------------------ nccl_test_results (nccl/tasks/verify.yml)
OLD_NCCL = (
    "{% set out = [] %}{% for name, r in [('intra', __nccl_test_intra), "
    "('local_mpi', __nccl_test_local_mpi),\n"
    "('multinode', __nccl_test_multinode)] %}{% if r.result is defined %}{% set _ = out.append({'key': name, "
    "'value': {'ranks': r.result.ranks | length,\n"
    "'hosts': r.result.ranks | map(attribute='host') | unique | list,\n"
    "'busbw_max_size_gbps': r.busbw_max_size_gbps, 'algbw_max_size_gbps': r.algbw_max_size_gbps,\n"
    "'size_max_bytes': r.size_max_bytes, 'wrong_total': r.result.wrong_total, "
    "'avg_busbw_gbps': r.result.avg_busbw_gbps,\n"
    "'transports': r.result.transports, 'checks': r.checks | map(attribute='msg') | list}}) "
    "%}{% endif %}{% endfor\n"
    "%}{{ out | items2dict }}"
)


def registered(capture: str) -> dict:
    """What nccl_tests registers for a real run (its result and figures; the checks shortened)."""
    parsed = nccl_tests.parse_nccl_tests((FIXTURES / "nccl_tests" / f"{capture}.txt").read_text())
    last = max(parsed["rows"], key=lambda r: r["size_bytes"])
    return {
        "changed": False,
        "result": parsed,
        "size_max_bytes": last["size_bytes"],
        "busbw_max_size_gbps": last["oop_busbw_gbps"],
        "algbw_max_size_gbps": last["oop_algbw_gbps"],
        "checks": [{"name": "wrong", "ok": True, "msg": f"#wrong total {parsed['wrong_total']} (at most 0)"}],
    }


def test_nccl_results_equal_the_old_loop():
    runs = {
        "intra": registered("h200x2-580-nccl2283-all_reduce_g2_8GiB_p2p"),
        "local_mpi": {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"},
        "multinode": registered("h200x2-580-nccl2283-ansible-all_reduce_mpi_np2_8GiB"),
    }
    old = render(
        OLD_NCCL,
        __nccl_test_intra=runs["intra"],
        __nccl_test_local_mpi=runs["local_mpi"],
        __nccl_test_multinode=runs["multinode"],
    )
    new = nccl_results(runs)
    assert json.dumps(new) == json.dumps(old)  # same keys in the same order
    assert list(new) == ["intra", "multinode"]
    assert new["multinode"]["ranks"] == 2 and new["multinode"]["transports"] == ["P2P/CUMEM"]


def test_nccl_results_in_check_mode_are_empty():
    skipped = {"changed": False, "skipped": True, "msg": "check mode: the test was not run", "checks": []}
    assert nccl_results({"intra": skipped, "local_mpi": skipped, "multinode": skipped}) == {}


# ------------------------------------------------------------ node states (munge_slurm settle and verify)
OLD_FITS = (
    "{%- set ns = namespace(ok=(__configured | length > 0 and __detected | length > 0)) -%}\n"
    "{%- for key in __munge_slurm_hw_keys if key in __configured -%}\n"
    "{%- if __configured[key] | int > __detected[key] | default(0) | int -%}"
    "{%- set ns.ok = false -%}{%- endif -%}\n"
    "{%- endfor -%}{{- ns.ok -}}"
)
HW_KEYS = ["CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory"]
SLURMD_C = slurm.parse_slurmd_c((FIXTURES / "slurm" / "slurmd-C-master0.txt").read_text())


@pytest.mark.parametrize(
    "configured",
    [
        {k: SLURMD_C[k] for k in HW_KEYS if k in SLURMD_C},
        {**{k: SLURMD_C[k] for k in HW_KEYS if k in SLURMD_C}, "RealMemory": SLURMD_C["RealMemory"] - 1024},
        {**{k: SLURMD_C[k] for k in HW_KEYS if k in SLURMD_C}, "CPUs": SLURMD_C["CPUs"] * 2},
        {"CPUs": SLURMD_C["CPUs"]},
        {},
    ],
)
def test_resume_decision_keeps_the_old_fit_test(configured):
    """The old settle.yml decided "fits" with a namespace loop; slurm_resume_nodes resumes a Low... drain
    exactly when that loop said the node fits."""
    fits = render(OLD_FITS, __configured=configured, __detected=SLURMD_C, __munge_slurm_hw_keys=HW_KEYS)
    nodes = slurm.parse_scontrol_nodes(
        "NodeName=n1 State=IDLE+DRAIN Reason=Low CPUs [slurm@2025-01-01T00:00:00]"
    )
    plan = slurm_resume_nodes(nodes, ["n1"], [configured], [SLURMD_C], "^Not responding", "^Low CPUs")
    assert bool(plan) is (str(fits) == "True")


def test_node_state_and_problems_filters_on_a_real_capture():
    nodes = slurm.parse_scontrol_nodes(
        (FIXTURES / "scontrol_nodes" / "slurm-20.11-idle-and-down-not-responding.out").read_text()
    )
    assert [slurm_node_state(n) for n in nodes] == ["idle", "idle", "down*"]
    assert slurm_node_problems(nodes, ["slurmmaster", "slurmw1"]) == []
    assert slurm_node_problems(nodes, ["slurmw2"], ["idle"], ["down*"]) == []
    assert slurm_node_problems(nodes, ["slurmw2"])[0].startswith("Slurm node slurmw2: state DOWN* (down*)")
