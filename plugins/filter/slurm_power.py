# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_power import plan


def powersave_plan(spec):
    """Power saving's slurm.conf settings, each node's BMC and every problem (module_utils/slurm_power.plan)."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError("powersave_plan: expected a dict, got %s" % type(spec).__name__)
    return plan(dict(spec))


class FilterModule:
    def filters(self):
        return {"powersave_plan": powersave_plan}
