# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.bmc_guid import crossed, parse_smbios_uuid
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_power import plan


def powersave_plan(spec):
    """Power saving's slurm.conf settings, each node's BMC and every problem (module_utils/slurm_power.plan)."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError("powersave_plan: expected a dict, got %s" % type(spec).__name__)
    return plan(dict(spec))


def bmc_crossed(pairs):
    """node -> [BMC GUID, SMBIOS UUID text] -> one message per node whose BMC is not its own
    (module_utils/bmc_guid.crossed); the SMBIOS side is parsed here (product_uuid or dmidecode output)."""
    if not isinstance(pairs, dict):
        raise AnsibleFilterError("bmc_crossed: expected a dict, got %s" % type(pairs).__name__)
    values = {}
    problems = []
    for node, pair in pairs.items():
        guid, smbios_text = [*list(pair), None, None][:2]
        smbios = None
        if smbios_text:
            try:
                smbios = parse_smbios_uuid(str(smbios_text))
            except ParseError as exc:
                problems.append("%s: the SMBIOS UUID cannot be used: %s" % (node, exc))
                continue
        values[node] = (guid, smbios)
    try:
        return problems + [finding["message"] for finding in crossed(values)]
    except ParseError as exc:
        raise AnsibleFilterError("bmc_crossed: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"powersave_plan": powersave_plan, "bmc_crossed": bmc_crossed}
