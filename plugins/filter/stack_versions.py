# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The versions table (logic in module_utils/stack_versions.py)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.stack_versions import skew, table


def versions_table(rows):
    if not isinstance(rows, dict):
        raise AnsibleFilterError("versions_table: expects {host: versions} (gpuforge.cluster.stack_versions)")
    return table(rows)


def versions_skew(rows):
    if not isinstance(rows, dict):
        raise AnsibleFilterError("versions_skew: expects {host: versions} (gpuforge.cluster.stack_versions)")
    return skew(rows)


class FilterModule:
    def filters(self):
        return {"versions_table": versions_table, "versions_skew": versions_skew}
