"""gpu_type: GPU names exactly as nvidia-smi prints them (``name`` / ``<product_name>``) to GRES types.

The first group are the names in this repository's nvidia-smi fixtures
(tests/unit/plugins/module_utils/parsers/fixtures/nvidia_smi); the rest are the product names of
the cluster's target machines.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.gpu import FilterModule, gpu_type

FIXTURE_NAMES = [
    ("NVIDIA H100 80GB HBM3", "h100"),
    ("NVIDIA H200", "h200"),
    ("NVIDIA A100-SXM4-40GB", "a100"),
    ("NVIDIA GeForce RTX 2080", "rtx2080"),
    ("NVIDIA GeForce RTX 3060 Laptop GPU", "rtx3060"),
    ("NVIDIA GeForce RTX 4090", "rtx4090"),
    ("Tesla P100-PCIE-16GB", "p100"),
    ("Tesla V100S-PCIE-32GB", "v100s"),
    ("NVIDIA RTX A5000", "rtxa5000"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "rtxpro6000"),
]
TARGET_NAMES = [
    ("NVIDIA GeForce RTX 5090", "rtx5090"),
    ("Tesla V100-SXM2-16GB", "v100"),
    ("Tesla V100-PCIE-32GB", "v100"),
    ("NVIDIA A100-SXM4-80GB", "a100"),
    ("NVIDIA RTX A6000", "rtxa6000"),
    ("NVIDIA GeForce RTX 5070", "rtx5070"),
    ("NVIDIA H200", "h200"),
    ("NVIDIA L40S", "l40s"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "rtxpro6000"),
    ("NVIDIA RTX 6000 Ada Generation", "rtx6000ada"),
    ("Quadro RTX 6000", "rtx6000"),
    ("NVIDIA GeForce RTX 2080 Max-Q", "rtx2080"),
]


@pytest.mark.parametrize(("name", "expected"), FIXTURE_NAMES + TARGET_NAMES)
def test_gpu_type(name, expected):
    assert gpu_type(name) == expected


def test_fixture_names_are_the_ones_recorded():
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "module_utils" / "parsers" / "fixtures" / "nvidia_smi"
    recorded = {line.split("<product_name>")[1].split("</product_name>")[0]
                for path in fixtures.glob("*.xml") for line in path.read_text().splitlines()
                if "<product_name>" in line}
    assert recorded <= {name for name, _type in FIXTURE_NAMES}
    assert {"NVIDIA H100 80GB HBM3", "Tesla P100-PCIE-16GB"} <= recorded


def test_result_is_a_valid_gres_type():
    for name, _expected in FIXTURE_NAMES + TARGET_NAMES:
        assert gpu_type(name).isalnum() and gpu_type(name).islower()


def test_extra_spaces_and_case():
    assert gpu_type("  nvidia  h100  80gb  hbm3 ") == "h100"


@pytest.mark.parametrize("value", ["", "   ", None, 5090, ["NVIDIA H200"], b"NVIDIA H200"])
def test_needs_a_name(value):
    with pytest.raises(AnsibleFilterError, match="gpu_type needs a GPU name"):
        gpu_type(value)


@pytest.mark.parametrize("value", ["NVIDIA", "Tesla GPU", "NVIDIA GeForce 16GB"])
def test_name_with_no_model_fails(value):
    with pytest.raises(AnsibleFilterError, match="gpu_type could not make a type from"):
        gpu_type(value)


def test_filter_is_registered():
    assert FilterModule().filters()["gpu_type"] is gpu_type
