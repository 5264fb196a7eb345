# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    hostlist_compress as _compress,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    hostlist_expand as _expand,
)


def hostlist_expand(hostlist):
    """'node[001-003],gpu1' -> ['node001', 'node002', 'node003', 'gpu1']."""
    try:
        return _expand(str(hostlist))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hostlist_expand: {exc}") from exc


def hostlist_compress(names):
    """['node001', 'node002', 'node003'] -> 'node[001-003]'."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n]
    try:
        return _compress([str(n) for n in names])
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hostlist_compress: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"hostlist_expand": hostlist_expand, "hostlist_compress": hostlist_compress}
