# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the NVIDIA driver / CUDA / NCCL version matrix (data in module_utils/version_matrix.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils import version_matrix as vm


def version_matrix_check(cuda=None, driver=None, nccl=None, repo=None, driver_cuda=None):
    """List of problems (empty when the combination fits)."""
    return vm.check_all(cuda=cuda, driver=driver, nccl=nccl, repo=repo, driver_cuda=driver_cuda)


def nccl_package(version):
    """'2.28.3-1+cuda13.0' -> {'nccl': '2.28.3', 'revision': '1', 'cuda': '13.0'}."""
    try:
        return vm.nccl_package(version)
    except ValueError as exc:
        raise AnsibleFilterError(f"nccl_package: {exc}") from exc


def upstream_version(version):
    """Debian package version without epoch and revision."""
    return vm.upstream_version(str(version))


def nvidia_proc_version(text):
    """Loaded kernel module version from the text of /proc/driver/nvidia/version (None when absent)."""
    return vm.parse_proc_driver_version(str(text or ""))


def cuda_toolkits(packages):
    """CUDA major.minor of the toolkits installed, from a {package: version} dict."""
    if not isinstance(packages, dict):
        raise AnsibleFilterError("cuda_toolkits: expects a dict of package names to versions")
    return vm.toolkits_from_packages(packages)


class FilterModule:
    def filters(self):
        return {
            "version_matrix_check": version_matrix_check,
            "nccl_package": nccl_package,
            "upstream_version": upstream_version,
            "nvidia_proc_version": nvidia_proc_version,
            "cuda_toolkits": cuda_toolkits,
        }
