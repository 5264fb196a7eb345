"""stack_versions: the versions table from what each node runs."""

from __future__ import annotations

from ansible_collections.gpuforge.cluster.plugins.module_utils.stack_versions import (
    cuda_toolkit,
    dpkg_installed_version,
    os_release,
    skew,
    table,
    torch_nccl,
)

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'


def test_the_node_files_are_read():
    assert os_release(DEBIAN) == "Debian GNU/Linux 12 (bookworm)"
    assert os_release('NAME="Ubuntu"\nVERSION_ID="24.04"\n') == "Ubuntu 24.04"
    # /usr/local/cuda/version.json of a CUDA 13.0 toolkit (its shape: {"cuda": {"name", "version"}, ...}).
    assert cuda_toolkit('{"cuda": {"name": "CUDA SDK", "version": "13.0.88"}}') == "13.0.88"
    assert cuda_toolkit("") is None
    assert torch_nccl({"torch": "2.14.0", "nvidia-nccl-cu12": None, "nvidia-nccl-cu13": "2.28.9"}) == "2.28.9"


def test_the_table_has_a_row_per_node_and_leaves_out_what_no_node_has():
    rows = {
        "pc2": {
            "os": "Ubuntu 24.04.3 LTS",
            "kernel": "6.8.0-88-generic",
            "driver": "580.95.05",
            "ray": "2.60.0",
            "vllm": "0.34.0",
            "python": "3.12.3",
        },
        "pc1": {
            "os": "Ubuntu 24.04.3 LTS",
            "kernel": "6.8.0-90-generic",
            "driver": "580.95.05",
            "ray": "2.60.0",
            "vllm": "0.33.1",
            "python": "3.12.3",
        },
        "cpu": {"os": "Ubuntu 24.04.3 LTS", "kernel": "6.8.0-90-generic", "python": "3.12.3"},
    }
    assert table(rows).splitlines() == [
        "| node | OS | kernel | driver | Python | Ray | vLLM |",
        "|---|---|---|---|---|---|---|",
        "| cpu | Ubuntu 24.04.3 LTS | 6.8.0-90-generic | - | 3.12.3 | - | - |",
        "| pc1 | Ubuntu 24.04.3 LTS | 6.8.0-90-generic | 580.95.05 | 3.12.3 | 2.60.0 | 0.33.1 |",
        "| pc2 | Ubuntu 24.04.3 LTS | 6.8.0-88-generic | 580.95.05 | 3.12.3 | 2.60.0 | 0.34.0 |",
    ]
    # Skew: vLLM differs between the nodes that have it; a node without it, and the kernel, are not skew.
    assert skew(rows) == ["vLLM: 0.33.1 on pc1, 0.34.0 on pc2"]


def test_a_held_package_is_installed():
    # The GPU machine's libnccl2, held (as nvidia_stack and nccl hold it): dpkg-query printed "hold ok
    # installed" (device tool H100, 2026-12-06; a check for "install ok installed" left NCCL out of
    # the report).
    assert dpkg_installed_version("hold ok installed\t2.28.3-1+cuda13.0") == "2.28.3-1+cuda13.0"
    assert dpkg_installed_version("install ok installed\t2.21.5-1+cuda12.4\n") == "2.21.5-1+cuda12.4"
    assert dpkg_installed_version("deinstall ok config-files\t2.21.5-1+cuda12.4") is None
    assert dpkg_installed_version("unknown ok not-installed\t") is None
    assert dpkg_installed_version("") is None
