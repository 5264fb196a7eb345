# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the NVIDIA driver / CUDA / NCCL version matrix (data in module_utils/version_matrix.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils import gpu_generations
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


def nvidia_installed_driver(packages, proc_text=None):
    """{branch, flavor, version, loaded} of the installed NVIDIA driver (dpkg versions, /proc text)."""
    if not isinstance(packages, dict):
        raise AnsibleFilterError("nvidia_installed_driver: expects a dict of package names to versions")
    return vm.installed_driver(packages, str(proc_text) if proc_text else None)


def gpu_stack_fit(gpus, branch=None, flavor=None, cuda=None, repo=None, installed=None):
    """Driver branch, flavor, CUDA and gencode for these GPUs: pins kept, the rest the newest that fits
    (or what is installed, when ``installed`` is given)."""
    if not isinstance(gpus, list):
        raise AnsibleFilterError("gpu_stack_fit: expects the list ansible_facts.gpu_pci.gpus")
    try:
        return gpu_generations.fit(gpus, branch=branch, flavor=flavor, cuda=cuda, repo=repo, installed=installed)
    except ValueError as exc:
        raise AnsibleFilterError(f"gpu_stack_fit: {exc}") from exc


def nvcc_gencode(gpus, pinned=None):
    """{gencode, problems}: NVCC_GENCODE for the GPUs found, or the pinned one checked against them."""
    if not isinstance(gpus, list):
        raise AnsibleFilterError("nvcc_gencode: expects the list ansible_facts.gpu_pci.gpus")
    if pinned:
        return {"gencode": pinned, "problems": gpu_generations.gencode_problems(pinned, gpus)}
    return {"gencode": gpu_generations.gencode([g.get("compute_capability") for g in gpus]), "problems": []}


def nvidia_foreign_driver(packages):
    """Installed NVIDIA driver packages from a PPA or the distribution: {name: 'version (origin)'}."""
    if not isinstance(packages, dict):
        raise AnsibleFilterError("nvidia_foreign_driver: expects a dict of package names to versions")
    return vm.foreign_driver_packages(packages)


def kernel_headers(packages, running):
    """{packages, problems}: linux-headers for the running kernel and the newest installed one."""
    if not isinstance(packages, dict):
        raise AnsibleFilterError("kernel_headers: expects a dict of package names to versions")
    return vm.kernel_headers(packages, str(running))


class FilterModule:
    def filters(self):
        return {
            "version_matrix_check": version_matrix_check,
            "nccl_package": nccl_package,
            "upstream_version": upstream_version,
            "nvidia_proc_version": nvidia_proc_version,
            "cuda_toolkits": cuda_toolkits,
            "gpu_stack_fit": gpu_stack_fit,
            "nvidia_installed_driver": nvidia_installed_driver,
            "nvcc_gencode": nvcc_gencode,
            "nvidia_foreign_driver": nvidia_foreign_driver,
            "kernel_headers": kernel_headers,
        }
