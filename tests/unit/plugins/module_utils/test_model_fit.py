"""model_fit: the model's file list checked and its GPU memory fit judged before any download."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.model_cache import model_vram_fit
from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fit import (
    files_problems,
    resolved_files,
    vram_fit,
)

SHA = "ab" * 32
GIB = 1024 ** 3


def one(**kw):
    return [{"url": "https://example.org/m/shard.bin", "name": "shard.bin", "sha256": SHA, "size": 10 * GIB,
             **kw}]


@pytest.mark.parametrize(("entry", "message"), [
    ({"url": "ftp://x/y"}, "url must be http(s)"),
    ({"sha256": "AB" * 32}, "sha256 must be 64 lower-case hex digits"),
    ({"name": "../etc/passwd"}, "name must be a plain relative path"),
    ({"name": "/etc/passwd"}, "name must be a plain relative path"),
    ({"name": ".token"}, "name must be a plain relative path"),
    ({"name": "a//b"}, "name must be a plain relative path"),
    ({"size": "10G"}, "size must be a number of bytes"),
    ({"mirror": "x"}, "unknown keys mirror"),
])
def test_a_bad_file_entry_is_named(entry, message):
    problems = files_problems(one(**entry))
    assert len(problems) == 1 and problems[0].startswith("model_cache_files[0]: ") and message in problems[0]


def test_a_name_twice_and_a_non_list_are_refused():
    assert "listed twice" in files_problems(one() + one())[0]
    assert files_problems("x") == ["model_cache_files must be a list of {url, name, sha256, size}"]
    assert files_problems(one(name="sub/dir/shard.bin")) == []


def test_two_rtx_5070_fit_a_14_gib_model_not_a_70b_one():
    gpus = {"pc1": [12227], "pc2": [12227]}  # RTX 5070: 12 GiB each (nvidia-smi memory.total in MiB)
    fit = vram_fit(one(size=14 * GIB), gpus, 1.2)
    assert fit["judged"] and fit["fits"]
    assert fit["message"].startswith("fits: the model's 14.0 GiB x 1.20 = 16.8 GiB")
    assert "on 2 GPU(s) of pc1, pc2" in fit["message"]
    big = vram_fit(one(size=140 * GIB), gpus, 1.2)
    assert big["judged"] and not big["fits"]
    assert big["message"].startswith("does not fit: the model's 140.0 GiB")


def test_unknown_sizes_or_no_gpus_are_said_not_judged():
    files = one()
    del files[0]["size"]
    assert vram_fit(files, {"a": [80000]}, 1.2) == {
        "judged": False, "fits": None,
        "message": "GPU memory fit not judged: the size of shard.bin is not given"}
    assert vram_fit(one(), {"a": [], "b": []}, 1.2)["message"] == (
        "GPU memory fit not judged: no GPUs known on a, b (nvidia-smi found none)")


def test_the_filter_reads_the_hosts_nvidia_smi_facts_and_refuses_a_bad_list():
    hostvars = {"n1": {"ansible_facts": {"nvidia_smi": {"gpus": [{"memory_total_mib": 81559}]}}},
                "n0": {"ansible_facts": {}}}
    assert model_vram_fit(one(), ["n0", "n1"], hostvars, 1.2)["fits"] is True
    with pytest.raises(AnsibleFilterError, match="url must be http"):
        model_vram_fit(one(url="x"), ["n1"], hostvars)


REV = "c03e6d358207e414f1eca0bb1891e29f1db0e242"


def test_files_without_url_come_from_the_pinned_hugging_face_commit():
    files = [{"name": "config.json", "sha256": SHA, "size": 663},
             {"name": "x.bin", "sha256": SHA, "url": "https://mirror.example/x.bin"}]
    assert files_problems(files, "Qwen/Qwen2.5-Coder-7B-Instruct", REV) == []
    urls = [f["url"] for f in resolved_files(files, "Qwen/Qwen2.5-Coder-7B-Instruct", REV)]
    assert urls == [f"https://huggingface.co/Qwen/Qwen2.5-Coder-7B-Instruct/resolve/{REV}/config.json",
                    "https://mirror.example/x.bin"]
    # Without a repository, a file without url is refused.
    assert files_problems(files[:1]) == [
        "model_cache_files[0]: url must be http(s) (or set model_cache_hf_repo and model_cache_hf_revision), "
        "got None"]


@pytest.mark.parametrize(("repo", "revision", "message"), [
    ("Qwen/Qwen2.5-Coder-7B", "main", "model_cache_hf_revision must be the 40 hex digits of a commit"),
    ("Qwen2.5", REV, "model_cache_hf_repo must be owner/name"),
    (None, REV, "model_cache_hf_repo must be owner/name"),
])
def test_a_hugging_face_repository_is_named_and_pinned_to_a_commit(repo, revision, message):
    problems = files_problems([{"name": "config.json", "sha256": SHA}], repo, revision)
    assert any(p.startswith(message) for p in problems), problems
