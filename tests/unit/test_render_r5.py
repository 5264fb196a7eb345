"""playbooks/render.yml on the R5 example inventory (two PCs, one RTX 5070 each): the model's fit judged from
the recorded GPUs before anything, Ray's units on the cluster addresses, and vLLM's serving unit - two
pipeline stages through Ray, the model from the local cache, the API on pc1's cluster address. No SSH: the
R5 PCs are examples. (The unit passing systemd-analyze verify is shown on the lab:
tests/lab/test_rental.py.)"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from ansible_collections.gpuforge.cluster.plugins.filter import version_matrix as f
from ansible_collections.gpuforge.cluster.plugins.module_utils import gpu_generations as g
from test_render_r1 import REPO, render

R5 = REPO / "inventories" / "r5"
VARS = yaml.safe_load((R5 / "group_vars" / "all" / "main.yml").read_text())
RAY = yaml.safe_load((REPO / "roles/ray_cluster/defaults/main.yml").read_text())["ray_cluster_version"]


@pytest.fixture(scope="module")
def r5(tmp_path_factory) -> tuple[Path, str]:
    tmp_path = tmp_path_factory.mktemp("r5")
    run = render(tmp_path, inventory=R5)
    assert run.returncode == 0, run.stdout[-3000:]
    return tmp_path / "out", run.stdout


def unit_lines(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_the_serving_unit_runs_two_pipeline_stages_through_ray_from_the_local_cache(r5):
    out, stdout = r5
    unit = unit_lines(out / "pc1/etc/systemd/system/gpuforge-vllm.service")
    argv = shlex.split(unit["ExecStart"][0])
    model = VARS["model_cache_model"]
    assert argv[:3] == [f"/opt/gpuforge/ray-{RAY}/bin/vllm", "serve", f"/var/cache/gpuforge/models/{model}"]
    opts = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert opts == {
        "--served-model-name": model,
        "--host": "192.168.1.21",  # pc1's cluster address, not 0.0.0.0
        "--port": "8000",
        "--pipeline-parallel-size": "2",  # one stage per PC
        "--tensor-parallel-size": "1",  # one GPU per PC
        "--distributed-executor-backend": "ray",
        "--max-model-len": "8192",
        "--gpu-memory-utilization": "0.9",
    }
    assert unit["Environment"] == [
        "RAY_ADDRESS=192.168.1.21:6379",
        "VLLM_HOST_IP=192.168.1.21",
        "HF_HUB_OFFLINE=1",
        "VLLM_NO_USAGE_STATS=1",
        "DO_NOT_TRACK=1",
    ]
    assert unit["Requires"] == ["gpuforge-ray.service"] and unit["User"] == ["cluster"]
    # Only the server node gets the unit; both PCs get Ray, pc2 joining pc1's GCS on the cluster address.
    assert not (out / "pc2/etc/systemd/system/gpuforge-vllm.service").exists()
    head = unit_lines(out / "pc1/etc/systemd/system/gpuforge-ray.service")["ExecStart"][0]
    worker = unit_lines(out / "pc2/etc/systemd/system/gpuforge-ray.service")["ExecStart"][0]
    assert " --node-ip-address=192.168.1.21 --head " in head
    assert " --node-ip-address=192.168.1.22 --address=192.168.1.21:6379 " in worker
    # Said before anything: the model fits the two 12 GiB cards, and the layout.
    said = " ".join(stdout.split()).replace("''", "'")
    assert "fits: the model's 14.2 GiB x 1.20 = 17.0 GiB against 23.9 GiB on 2 GPU(s) of pc1, pc2" in said
    assert "2 pipeline stage(s) x 1 GPU(s) over pc1, pc2, server on pc1" in said


def test_the_model_is_pinned_to_a_commit_and_every_file_to_its_sha256():
    assert len(VARS["model_cache_hf_revision"]) == 40
    names = [f["name"] for f in VARS["model_cache_files"]]
    for needed in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json"):
        assert needed in names
    assert (
        sum(f["size"] for f in VARS["model_cache_files"] if f["name"].endswith(".safetensors"))
        == 15_231_271_864
    )


def test_the_rtx_5070_is_judged_by_the_generation_aware_matrix():
    gpu = g.identify("0x2f04")
    assert (gpu["generation"], gpu["compute_capability"]) == ("Blackwell", "12.0")
    settings = {
        "branch": VARS["nvidia_stack_driver_branch"],
        "flavor": VARS["nvidia_stack_driver_flavor"],
        "cuda": VARS["nvidia_stack_cuda_version"],
    }
    assert f.gpu_stack_fit([gpu], **settings)["problems"] == []
    # The mistakes R5's users make on a fresh install: the proprietary modules, a branch older than Blackwell.
    assert f.gpu_stack_fit([gpu], **{**settings, "flavor": "proprietary"})["problems"]
    assert f.gpu_stack_fit([gpu], **{**settings, "branch": 550, "cuda": "12.4"})["problems"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["-e", "vllm_serve_tensor_parallel_size=2"],
            "vllm_serve: 2 pipeline stage(s) x 2 GPU(s) = 4 GPUs, but vllm_serve_group has 2 (pc1 1, pc2 1)",
        ),
        (
            ["-e", '{"vllm_serve_extra_args": ["--port=9000"]}'],
            "vllm_serve: vllm_serve_extra_args sets --port, which the role sets (use its variables)",
        ),
        (
            ["-e", "vllm_serve_version=latest"],
            "vllm_serve: vllm_serve_version must be a release such as 0.34.0",
        ),
        (
            ["-e", "model_cache_hf_revision=main"],
            "model_cache_hf_revision must be the 40 hex digits of a commit",
        ),
    ],
)
def test_bad_serving_input_stops_the_render_before_any_file(tmp_path, extra, message):
    run = render(tmp_path, *extra, inventory=R5)
    assert run.returncode != 0
    assert message in " ".join(run.stdout.split()).replace("''", "'"), run.stdout[-3000:]
    assert not (tmp_path / "out").exists()
