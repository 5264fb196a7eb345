# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an nccl-tests run should show on this hardware (logic and sources in module_utils/nccl_expect.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils import nccl_expect


def nccl_intra_expectation(topology, gpus, cpu_vendor=None, count=None):
    """Transport and busbw floor between this node's GPUs, from nvidia_smi topology and GPU facts."""
    if not isinstance(topology, dict) or "gpus" not in topology:
        raise AnsibleFilterError(
            "nccl_intra_expectation: expects ansible_facts.nvidia_smi.topology (topology: true)"
        )
    if isinstance(
        cpu_vendor, list
    ):  # ansible_facts.processor: ['0', 'GenuineIntel', 'Intel(R) Xeon(R) ...', ...]
        cpu_vendor = next((v for v in cpu_vendor if v in ("GenuineIntel", "AuthenticAMD")), None)
    if count:
        names = topology["gpus"][: int(count)]
        topology = {**topology, "gpus": names}
    try:
        return nccl_expect.intra_expectation(topology, list(gpus or []), cpu_vendor)
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"nccl_intra_expectation: {exc}") from exc


def nccl_inter_expectation(rdma, gdr=None, link_floor_gbps=None):
    """Network transport, GPUDirect RDMA and busbw floor across nodes."""
    floor = None if link_floor_gbps in (None, "") else float(link_floor_gbps)
    return nccl_expect.inter_expectation(bool(rdma), None if gdr is None else bool(gdr), floor)


def nccl_results(runs):
    """{'intra': registered nccl_tests result, ...} -> the figures of each run that ran (nccl_test_results)."""
    try:
        return nccl_expect.results_summary(dict(runs))
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"nccl_results: a run lacks {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "nccl_intra_expectation": nccl_intra_expectation,
            "nccl_inter_expectation": nccl_inter_expectation,
            "nccl_results": nccl_results,
        }
