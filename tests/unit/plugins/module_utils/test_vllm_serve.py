"""vllm_serve: the layout (pipeline stages x GPUs per stage over the Ray nodes) and `vllm serve`."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.vllm import vllm_layout, vllm_serve_argv
from ansible_collections.gpuforge.cluster.plugins.module_utils.vllm_serve import extra_problems, layout


def smi(n):
    return {"ansible_facts": {"nvidia_smi": {"gpus": [{"index": i} for i in range(n)]}}}


def test_auto_is_one_stage_per_node_and_the_fewest_gpus_of_a_node():
    two_pcs = layout(["pc1", "pc2"], {"pc1": 1, "pc2": 1}, "pc1")
    assert (two_pcs["pipeline_parallel_size"], two_pcs["tensor_parallel_size"], two_pcs["problems"]) == (
        2,
        1,
        [],
    )
    assert two_pcs["text"] == "2 pipeline stage(s) x 1 GPU(s) over pc1, pc2, server on pc1"
    mixed = layout(["a", "b"], {"a": 4, "b": 2}, "a")
    assert (mixed["pipeline_parallel_size"], mixed["tensor_parallel_size"], mixed["problems"]) == (2, 2, [])


def test_the_filter_counts_the_gpus_nvidia_smi_found():
    hostvars = {"pc1": smi(1), "pc2": smi(2), "cpu": {"ansible_facts": {}}}
    assert vllm_layout(["pc1", "pc2"], hostvars, "pc1")["tensor_parallel_size"] == 1
    unknown = vllm_layout(["pc1", "cpu"], hostvars, "pc1")
    assert unknown["problems"] == [
        "vllm_serve_tensor_parallel_size auto needs the GPUs of every node; nvidia-smi "
        "gave none on cpu (install the GPU stack first, or set it)"
    ]


@pytest.mark.parametrize(
    ("hosts", "gpus", "server", "pp", "tp", "message"),
    [
        (
            ["pc1", "pc2"],
            {"pc1": 1, "pc2": 1},
            "pc1",
            "auto",
            2,
            "2 pipeline stage(s) x 2 GPU(s) = 4 GPUs, but vllm_serve_group has 2 (pc1 1, pc2 1)",
        ),
        (
            ["pc1", "pc2"],
            {"pc1": 1, "pc2": 1},
            "pc3",
            "auto",
            "auto",
            "the server pc3 (vllm_serve_host, else Ray's head) is not in vllm_serve_group pc1, pc2",
        ),
        (
            ["head", "pc2"],
            {"head": 0, "pc2": 1},
            "head",
            "auto",
            "auto",
            "vllm_serve_tensor_parallel_size auto: head has no GPU",
        ),
        (
            ["a", "b"],
            {"a": 1, "b": 4},
            "a",
            1,
            4,
            "the server a has 1 GPU(s): vLLM places the first pipeline stage (4 GPU(s)) on the node it runs",
        ),
        (
            ["a"],
            {"a": 1},
            "a",
            0,
            "auto",
            "vllm_serve_pipeline_parallel_size must be auto or a whole number >= 1",
        ),
        (
            ["a"],
            {"a": 1},
            "a",
            "auto",
            "two",
            "vllm_serve_tensor_parallel_size must be auto or a whole number >= 1",
        ),
    ],
)
def test_a_layout_that_cannot_run_is_said(hosts, gpus, server, pp, tp, message):
    problems = layout(hosts, gpus, server, pp, tp)["problems"]
    assert any(p.startswith(message) for p in problems), problems


def test_sizes_given_as_text_on_the_command_line_are_numbers():
    assert layout(["a", "b"], {"a": 2, "b": 2}, "a", "2", "2")["problems"] == []


def test_the_command_serves_the_cached_model_on_the_cluster_address_through_ray():
    the_layout = layout(["pc1", "pc2"], {"pc1": 1, "pc2": 1}, "pc1")
    argv = vllm_serve_argv(
        "/opt/gpuforge/ray-2.60.0/",
        "/m/qwen",
        "qwen",
        "192.168.1.21",
        8000,
        the_layout,
        4096,
        0.85,
        ["--enable-prefix-caching"],
    )
    assert argv == [
        "/opt/gpuforge/ray-2.60.0/bin/vllm",
        "serve",
        "/m/qwen",
        "--served-model-name",
        "qwen",
        "--host",
        "192.168.1.21",
        "--port",
        "8000",
        "--pipeline-parallel-size",
        "2",
        "--tensor-parallel-size",
        "1",
        "--distributed-executor-backend",
        "ray",
        "--max-model-len",
        "4096",
        "--gpu-memory-utilization",
        "0.85",
        "--enable-prefix-caching",
    ]
    with pytest.raises(AnsibleFilterError, match="no layout"):
        vllm_serve_argv("/v", "/m", "m", "1.2.3.4", 8000, layout(["a"], {"a": None}, "a"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--port=9000"], "vllm_serve_extra_args sets --port, which the role sets"),
        (["-tp", "2"], "vllm_serve_extra_args must be a list of --flag or --flag=value words"),
        (["-tp=2"], "vllm_serve_extra_args sets -tp, which the role sets"),
        ("--foo", "vllm_serve_extra_args must be a list"),
    ],
)
def test_extra_options_the_role_sets_are_refused(extra, message):
    [problem] = extra_problems(extra)
    assert problem.startswith(message), problem
    assert extra_problems(["--enable-prefix-caching", "--kv-cache-dtype=fp8"]) == []
