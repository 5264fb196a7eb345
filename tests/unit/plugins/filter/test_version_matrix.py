"""The version matrix: data sanity and the checks the roles' preflight and verify run."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter import version_matrix as f
from ansible_collections.gpuforge.cluster.plugins.module_utils import version_matrix as vm


def test_cuda_12_6_with_branch_535_fails_naming_both_and_the_minimum():
    [msg] = f.version_matrix_check("12.6", driver=535)
    assert "CUDA 12.6 needs driver branch >= 560" in msg
    assert "560.28.03" in msg and "driver branch 535" in msg
    assert "fits: driver branch 560, 570, 575, 580" in msg
    assert "or CUDA 12.2 with this driver" in msg


@pytest.mark.parametrize(
    ("cuda", "branch"), [("12.0", 525), ("12.4", 550), ("12.6", 560), ("12.8", 570), ("13.0", 580)]
)
def test_documented_minimum_branches(cuda, branch):
    assert vm.min_branch(cuda) == branch
    assert f.version_matrix_check(cuda, driver=branch) == []
    assert f.version_matrix_check(cuda, driver=branch - 5)


def test_full_driver_versions_compare_numerically():
    assert f.version_matrix_check("13.0", driver="580.159.04") == []
    assert f.version_matrix_check("13.0", driver="580.65.06") == []
    assert f.version_matrix_check("13.0", driver="580.65.05")  # below the GA minimum
    assert f.version_matrix_check("12.8", driver="570.26") == []
    assert f.version_matrix_check("12.8", driver="570.9.1")  # 9 < 26, not a string compare


def test_unknown_and_malformed_versions_are_problems_not_crashes():
    assert "not in the version matrix" in f.version_matrix_check("12.7", driver=580)[0]
    assert "is not a CUDA version" in f.version_matrix_check("latest", driver=580)[0]
    assert "not a driver version" in f.version_matrix_check("12.8", driver="open")[0]


def test_nccl_build_must_match_the_toolkit_major():
    [msg] = f.version_matrix_check("13.0", nccl="2.28.3-1+cuda12.6")
    assert msg.startswith("libnccl2 2.28.3-1+cuda12.6 is built for CUDA 12.6 but the CUDA toolkit is 13.0")
    assert "fits: 2.27.7-1+cuda13.0, 2.28.3-1+cuda13.0" in msg
    assert f.version_matrix_check("13.0", nccl="2.28.3-1+cuda13.0") == []
    assert f.version_matrix_check("12.8", nccl="2.26.2-1+cuda12.8") == []
    assert f.version_matrix_check("12.8", nccl="2.23.4-1+cuda12.6") == []  # older minor, same major
    assert "newer than the CUDA toolkit 12.8" in f.version_matrix_check("12.8", nccl="2.28.3-1+cuda12.9")[0]


def test_nccl_against_the_driver():
    assert f.version_matrix_check("13.0", nccl="2.28.3-1+cuda13.0", driver_cuda="13.0") == []
    problems = f.version_matrix_check("13.0", nccl="2.28.3-1+cuda13.0", driver_cuda="12.9")
    assert any("loaded driver supports CUDA 12.9" in p and "branch >= 580" in p for p in problems)


def test_repositories():
    assert f.version_matrix_check("13.0", repo="ubuntu2404") == []
    assert "not published for ubuntu2404" in f.version_matrix_check("12.4", repo="ubuntu2404")[0]
    assert "no NVIDIA CUDA repository 'rhel9'" in f.version_matrix_check("12.8", repo="rhel9")[0]


def test_none_skips_checks():
    assert f.version_matrix_check(None, driver=535, nccl="x") == []
    assert f.version_matrix_check("12.6") == []


def test_matrix_data_is_consistent():
    for cuda, minimum in vm.CUDA_DRIVER_MINIMUM.items():
        assert vm.cuda_mm(cuda) == cuda
        major = cuda.split(".", maxsplit=1)[0]
        assert vm.driver_branch(minimum) >= vm.driver_branch(vm.CUDA_MINOR_COMPAT_MINIMUM[major])
    mins = [vm._key(v) for v in vm.CUDA_DRIVER_MINIMUM.values()]
    assert mins == sorted(mins)  # newer CUDA never needs an older driver
    for cuda, builds in vm.NCCL_BUILDS.items():
        assert all(vm.nccl_package(b)["cuda"] == cuda for b in builds)


def test_helpers():
    assert f.upstream_version("580.159.04-0ubuntu1") == "580.159.04"
    assert f.upstream_version("1:2.3-1") == "2.3"
    assert f.nccl_package("2.28.3-1+cuda13.0") == {"nccl": "2.28.3", "revision": "1", "cuda": "13.0"}
    with pytest.raises(AnsibleFilterError):
        f.nccl_package("2.28.3")
    proc = (
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \n"
        "GCC version:  gcc version 15.3.0 (GCC) \n"
    )
    assert f.nvidia_proc_version(proc) == "580.159.04"
    assert (
        f.nvidia_proc_version(
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024"
        )
        == "535.183.01"
    )
    assert f.nvidia_proc_version("") is None
    assert f.cuda_toolkits(
        {
            "cuda-nvcc-13-0": "13.0.88-1",
            "cuda-cudart-13-0": "x",
            "cuda-toolkit-12-8": "y",
            "cuda-toolkit-13-0-config-common": "z",
        }
    ) == ["12.8", "13.0"]
    with pytest.raises(AnsibleFilterError):
        f.cuda_toolkits(["cuda-toolkit-12-8"])


def test_filter_plugin_exposes_the_filters():
    assert set(f.FilterModule().filters()) == {
        "version_matrix_check",
        "nccl_package",
        "upstream_version",
        "nvidia_proc_version",
        "gpu_stack_fit",
        "nvidia_installed_driver",
        "nvcc_gencode",
        "nvidia_foreign_driver",
        "kernel_headers",
        "cuda_toolkits",
    }


# Real version strings: the graphics-drivers PPA and Ubuntu's archive from public `apt list` / `apt policy`
# captures on Ubuntu 24.04, NVIDIA's repository from its .deb names (libnvidia-gl-580_580.65.06-0ubuntu1).
@pytest.mark.parametrize(
    ("version", "origin"),
    [
        ("550.78-0ubuntu0~gpu24.04.1", "the graphics-drivers PPA"),
        ("535.183.01-0ubuntu0.24.04.1", "Ubuntu's archive"),
        ("535.216.01-1~deb12u1", "Debian's archive"),
        ("580.65.06-0ubuntu1", "NVIDIA's repository"),
        ("580.95.05-1", "NVIDIA's repository"),
    ],
)
def test_driver_origin(version, origin):
    assert vm.driver_origin(version) == origin


def test_foreign_driver_packages_are_named_with_their_origin():
    installed = {
        "nvidia-driver-550": "550.78-0ubuntu0~gpu24.04.1",
        "libnvidia-compute-550": "550.78-0ubuntu0~gpu24.04.1",
        "nvidia-dkms-550": "550.78-0ubuntu0~gpu24.04.1",
        "nvidia-cuda-toolkit": "12.0.140~12.0.1-4build4",  # the toolkit has its own check
        "cuda-keyring": "1.1-1",
        "libnvidia-compute-580": "580.65.06-0ubuntu1",
    }
    assert f.nvidia_foreign_driver(installed) == {
        "libnvidia-compute-550": "550.78-0ubuntu0~gpu24.04.1 (the graphics-drivers PPA)",
        "nvidia-dkms-550": "550.78-0ubuntu0~gpu24.04.1 (the graphics-drivers PPA)",
        "nvidia-driver-550": "550.78-0ubuntu0~gpu24.04.1 (the graphics-drivers PPA)",
    }
    assert f.nvidia_foreign_driver({"libcuda1": "535.216.01-1~deb12u1", "nvidia-open": "580.95.05-1"}) == {
        "libcuda1": "535.216.01-1~deb12u1 (Debian's archive)"}


def test_kernel_headers_for_the_running_and_the_next_boot():
    installed = {"linux-image-6.8.0-45-generic": "6.8.0-45.45", "linux-image-6.8.0-49-generic": "6.8.0-49.49",
                 "linux-image-generic": "6.8.0-49.49"}
    assert f.kernel_headers(installed, "6.8.0-45-generic") == {
        "packages": ["linux-headers-6.8.0-45-generic", "linux-headers-6.8.0-49-generic"], "problems": []}
    assert f.kernel_headers(installed, "6.8.0-49-generic")["packages"] == ["linux-headers-6.8.0-49-generic"]
    custom = f.kernel_headers({}, "6.18.44-fc-v1147-gpu")
    assert custom["packages"] == ["linux-headers-6.18.44-fc-v1147-gpu"]
    [msg] = custom["problems"]
    assert "6.18.44-fc-v1147-gpu was not installed from a package" in msg
    assert "nvidia_stack_kernel_headers: false" in msg
