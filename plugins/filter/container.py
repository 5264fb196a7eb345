# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The container_runtime role's docker run options and NCCL env file (logic in module_utils/container_options.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.container_options import (
    ContainerOptionsError,
    env_file_lines,
    run_options,
)


def container_run_options(rdma, gpus=False, env_file=None, host_network=True, extra=None):
    try:
        return run_options(bool(rdma), bool(gpus), env_file or None, bool(host_network), list(extra or []))
    except ContainerOptionsError as exc:
        raise AnsibleFilterError("container_run_options: %s" % exc) from None


def container_env_lines(settings):
    if not isinstance(settings, dict):
        raise AnsibleFilterError("container_env_lines: expects a dict of settings, got %s" % type(settings).__name__)
    try:
        return env_file_lines(settings)
    except ContainerOptionsError as exc:
        raise AnsibleFilterError("container_env_lines: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {"container_run_options": container_run_options, "container_env_lines": container_env_lines}
