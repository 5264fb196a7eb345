"""The GPU axis of the version matrix, on real PCI ids (pci.ids) and real nvidia-smi captures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.filter import version_matrix as f
from ansible_collections.gpuforge.cluster.plugins.module_utils import gpu_generations as g
from ansible_collections.gpuforge.cluster.plugins.module_utils import version_matrix as vm
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.nvidia_smi import parse_query_xml

SMI = Path(__file__).parent / "parsers" / "fixtures" / "nvidia_smi"


def _capture(name: str) -> list[dict]:
    """The GPUs of a real nvidia-smi -q -x capture, identified from the PCI device ids it reports."""
    gpus = parse_query_xml((SMI / f"{name}.xml").read_text())["gpus"]
    return [g.identify(gpu["pci_device_id"], gpu["name"]) for gpu in gpus]


@pytest.mark.parametrize("capture", sorted(p.stem for p in SMI.glob("*.xml")))
def test_pci_id_generation_matches_what_the_driver_reports(capture):
    """Two independent real sources agree: pci.ids' chip for the device id vs nvidia-smi's architecture."""
    text = (SMI / f"{capture}.xml").read_text()
    archs = [gpu["architecture"] for gpu in parse_query_xml(text)["gpus"]]
    for gpu, arch in zip(_capture(capture), archs, strict=True):
        assert gpu["generation"] is not None, gpu
        if arch is not None:
            assert gpu["generation"] == arch, (capture, gpu, arch)


@pytest.mark.parametrize(
    ("device", "name", "generation", "cc"),
    [
        ("0x1db6", "Tesla V100 PCIe 32GB", "Volta", "7.0"),
        ("1DF610DE", "Tesla V100S PCIe 32GB", "Volta", "7.0"),
        ("0x20b2", "A100 SXM4 80GB", "Ampere", "8.0"),
        ("0x2231", "RTX A5000", "Ampere", "8.6"),
        ("0x2684", "GeForce RTX 4090", "Ada Lovelace", "8.9"),
        ("0x2330", "H100 SXM5 80GB", "Hopper", "9.0"),
        ("0x2335", "H200 SXM 141GB", "Hopper", "9.0"),
        ("0x2901", "B200", "Blackwell", "10.0"),
        ("0x2b85", "GeForce RTX 5090", "Blackwell", "12.0"),
        ("0x2f04", "GeForce RTX 5070", "Blackwell", "12.0"),
        ("0x1e87", "GeForce RTX 2080 Rev. A", "Turing", "7.5"),
        ("0x15f8", "Tesla P100 PCIe 16GB", "Pascal", "6.0"),
    ],
)
def test_identify_from_pci_ids(device, name, generation, cc):
    gpu = g.identify(device)
    assert (gpu["name"], gpu["generation"], gpu["compute_capability"]) == (name, generation, cc)


def test_unknown_device_is_not_guessed():
    gpu = g.identify("0x0001")
    assert gpu["generation"] is None
    [msg] = g.check_gpus([gpu], branch=580)
    assert "0x0001" in msg and "regenerate" in msg


def test_v100_with_open_modules_is_refused():
    fit = f.gpu_stack_fit(_capture("datakit_8x-tesla-v100s-pcie"), flavor="open")
    [msg] = fit["problems"]
    assert "Tesla V100S-PCIE-32GB (Volta, sm_70) cannot run NVIDIA's open kernel modules" in msg
    assert "fits: nvidia_stack_driver_flavor: proprietary" in msg


def test_v100_with_cuda_13_is_refused():
    [msg] = f.gpu_stack_fit(_capture("datakit_8x-tesla-v100s-pcie"), cuda="13.0")["problems"]
    assert "CUDA 13.0 cannot build for Tesla V100S-PCIE-32GB (Volta, sm_70)" in msg
    assert "CUDA 12.9 is the last release for Volta" in msg


def test_v100_with_a_branch_after_580_is_refused():
    [msg] = g.check_gpus(_capture("datakit_8x-tesla-v100s-pcie"), branch=590)
    assert "Volta's last branch is 580" in msg


def test_v100_unpinned_gets_the_newest_that_fits():
    fit = f.gpu_stack_fit(_capture("datakit_8x-tesla-v100s-pcie"), repo="ubuntu2404")
    assert (fit["branch"], fit["flavor"], fit["cuda"], fit["problems"]) == (580, "proprietary", "12.9", [])
    assert fit["gencode"] == "-gencode=arch=compute_70,code=sm_70"
    assert fit["summary"].startswith(
        "8 x Tesla V100S-PCIE-32GB (Volta, sm_70) -> driver branch 580 (proprietary"
    )
    assert vm.check_all(cuda=fit["cuda"], driver=fit["branch"], repo="ubuntu2404") == []


def test_rtx_5090_with_560_and_cuda_12_6_is_refused_naming_blackwell_570_and_12_8():
    problems = f.gpu_stack_fit([g.identify("0x2b85")], branch=560, cuda="12.6")["problems"]
    assert len(problems) == 2
    assert "GeForce RTX 5090 (Blackwell, sm_120) needs driver branch >= 570" in problems[0]
    assert (
        "CUDA 12.6 cannot build for GeForce RTX 5090 (Blackwell, sm_120): it needs CUDA >= 12.8"
        in problems[1]
    )


def test_blackwell_capture_refuses_proprietary_and_fits_open():
    gpus = _capture("telegraf_pro-6000-maxq-blackwell-v13")
    [msg] = f.gpu_stack_fit(gpus, flavor="proprietary")["problems"]
    assert "only by the open kernel modules" in msg and "Blackwell" in msg
    fit = f.gpu_stack_fit(gpus)
    assert (fit["branch"], fit["flavor"], fit["cuda"], fit["problems"]) == (580, "open", "13.0", [])


def test_h100_with_580_and_cuda_13_is_accepted():
    fit = f.gpu_stack_fit(_capture("h100-580-q-x"), branch=580, flavor="open", cuda="13.0")
    assert fit["problems"] == [] and fit["pinned"] == ["branch", "flavor", "cuda"]
    assert fit["gencode"] == "-gencode=arch=compute_90,code=sm_90"


def test_no_gpu_keeps_the_newest_stack():
    fit = f.gpu_stack_fit([])
    assert (fit["branch"], fit["flavor"], fit["cuda"], fit["gencode"], fit["problems"]) == (
        580,
        "open",
        "13.0",
        None,
        [],
    )
    assert fit["summary"].startswith("no NVIDIA GPU on the PCI bus")


def test_volta_and_blackwell_on_one_node_have_no_flavor():
    problems = f.gpu_stack_fit([g.identify("0x1df6"), g.identify("0x2b85")])["problems"]
    assert "no kernel-module flavor drives all of" in problems[0]


def test_bad_branch_is_one_problem_not_a_crash():
    assert f.gpu_stack_fit([], branch="five-eighty")["problems"] == [
        "the driver branch must be a number such as 580, got 'five-eighty'"
    ]


@pytest.mark.parametrize(
    ("pinned", "ok"),
    [
        ("-gencode=arch=compute_90,code=sm_90", True),
        ("-gencode=arch=compute_90a,code=sm_90a", True),
        ("-gencode=arch=compute_80,code=[sm_80,compute_80]", True),  # PTX JIT-compiled for sm_90
        ("-gencode=arch=compute_70,code=sm_70", False),
        ("-gencode=arch=compute_100,code=compute_100", False),  # PTX for a newer GPU only
    ],
)
def test_pinned_gencode_against_the_gpu(pinned, ok):
    result = f.nvcc_gencode(_capture("h200x2-580-q-x"), pinned=pinned)
    assert result["gencode"] == pinned
    assert (result["problems"] == []) is ok
    if not ok:
        assert "builds no code for NVIDIA H200 (Hopper, sm_90)" in result["problems"][0]


def test_gencode_for_mixed_and_unknown_capabilities():
    assert f.nvcc_gencode([g.identify("0x2335"), g.identify("0x1df6")])["gencode"] == (
        "-gencode=arch=compute_70,code=sm_70 -gencode=arch=compute_90,code=sm_90"
    )
    assert f.nvcc_gencode([g.identify("0x2335"), g.identify("0x0001")])["gencode"] is None


def test_pci_functions_keep_only_nvidia_display_class():
    gpus = g.pci_gpus(
        {
            "0000:3b:00.0": {"vendor": "0x10de", "device": "0x2335", "class": "0x030200"},
            "0000:3b:00.1": {"vendor": "0x10de", "device": "0x22e8", "class": "0x040300"},  # a GPU's HD audio
            "0000:00:00.0": {"vendor": "0x8086", "device": "0x09a2", "class": "0x060000"},
            "0000:18:00.0": {"vendor": "0x10de", "device": "0x2b85", "class": "0x030000"},
        }
    )
    assert [(x["address"], x["generation"]) for x in gpus] == [
        ("0000:18:00.0", "Blackwell"),
        ("0000:3b:00.0", "Hopper"),
    ]


@pytest.mark.parametrize(
    ("packages", "proc", "expected"),
    [
        (
            {"libnvidia-compute-580": "580.159.04-0ubuntu1", "nvidia-driver-580-open": "580.159.04-0ubuntu1"},
            None,
            {"branch": 580, "flavor": "open", "version": "580.159.04", "loaded": None},
        ),
        (
            {"libnvidia-compute-570": "570.195.03-0ubuntu1", "nvidia-driver-570": "570.195.03-0ubuntu1"},
            None,
            {"branch": 570, "flavor": "proprietary", "version": "570.195.03", "loaded": None},
        ),
        (
            {"libcuda1": "580.95.05-1", "nvidia-open": "580.95.05-1"},
            None,
            {"branch": 580, "flavor": "open", "version": "580.95.05", "loaded": None},
        ),
        (
            {},
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (dvs@U16)\n",
            {"branch": 580, "flavor": "open", "version": "580.159.04", "loaded": "580.159.04"},
        ),
        ({}, None, {"branch": None, "flavor": None, "version": None, "loaded": None}),
    ],
)
def test_installed_driver(packages, proc, expected):
    assert f.nvidia_installed_driver(packages, proc) == expected


def test_generated_table_names_its_source():
    from ansible_collections.gpuforge.cluster.plugins.module_utils import gpu_pci_ids

    assert gpu_pci_ids.PCI_IDS_VERSION == "2026.10.24"
    assert "sha256" in gpu_pci_ids.__doc__ and "pci.ids_0.0~2026.10.24-1_all.deb" in gpu_pci_ids.__doc__
    assert all(re.fullmatch(r"[0-9a-f]{4}", k) for k in gpu_pci_ids.NVIDIA_DEVICES)


def test_validation_takes_what_is_installed_and_still_checks_it():
    v100 = _capture("datakit_8x-tesla-v100s-pcie")
    fit = f.gpu_stack_fit(v100, installed={"branch": 580, "flavor": "proprietary", "cuda": "12.8"})
    assert (fit["branch"], fit["flavor"], fit["cuda"], fit["problems"]) == (580, "proprietary", "12.8", [])
    assert fit["pinned"] == [] and fit["as_installed"] == ["branch", "flavor", "cuda"]
    assert fit["summary"].endswith("nothing pinned; as installed: branch, flavor, cuda")
    bad = f.gpu_stack_fit(v100, installed={"branch": 580, "flavor": "open", "cuda": "13.0"})
    assert len(bad["problems"]) == 2
    pinned = f.gpu_stack_fit(
        v100, cuda="12.9", installed={"branch": 580, "flavor": "proprietary", "cuda": "12.8"}
    )
    assert pinned["cuda"] == "12.9" and pinned["as_installed"] == ["branch", "flavor"]


def test_bad_flavor_is_one_problem():
    assert f.gpu_stack_fit([], flavor="closed")["problems"] == [
        "the driver flavor must be open or proprietary, got 'closed'"
    ]


PCI = Path(__file__).parent / "fixtures" / "pci"


def _sysfs_lines(name: str) -> dict[str, dict[str, str]]:
    functions = {}
    for line in (PCI / name).read_text().splitlines():
        address, vendor, device, klass = line.split()
        functions[address] = {"vendor": vendor, "device": device, "class": klass}
    return functions


def test_real_h200_machine_pci_functions():
    """Every PCI function of the GPU machine (device tool, sysfs): exactly one GPU, the H200."""
    assert g.pci_gpus(_sysfs_lines("h200-580-pci-functions.txt")) == [
        {
            "address": "0000:00:06.0",
            "device_id": "0x2335",
            "name": "H200 SXM 141GB",
            "chip": "GH100",
            "generation": "Hopper",
            "compute_capability": "9.0",
        }
    ]


def test_gpu_pci_facts_reads_a_sysfs_tree(tmp_path):
    from ansible_collections.gpuforge.cluster.plugins.modules import gpu_pci_facts

    from ..modules.test_fact_modules import _run

    for address, files in _sysfs_lines("h200-580-pci-functions.txt").items():
        (tmp_path / address).mkdir()
        for name, value in files.items():
            (tmp_path / address / name).write_text(value + "\n")
    result = _run(gpu_pci_facts, {"root": str(tmp_path)}, None)
    facts = result["ansible_facts"]["gpu_pci"]
    assert facts["functions_read"] == 7 and [x["name"] for x in facts["gpus"]] == ["H200 SXM 141GB"]
    missing = _run(gpu_pci_facts, {"root": str(tmp_path / "nope")}, None)
    assert missing["failed"] and "no PCI sysfs" in missing["msg"]
