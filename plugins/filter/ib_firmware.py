# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""InfiniBand firmware and subnet manager decisions (plugins/module_utils/ib_firmware.py) for the infiniband_fw role."""

from ansible_collections.gpuforge.cluster.plugins.module_utils import ib_firmware as _ib


def ib_port_findings(ibstat, host, portstates=None, flint=None, fabric=None, expected_gbps=None):
    return _ib.port_findings(host, ibstat or {}, portstates or {}, flint or {}, fabric, expected_gbps)


def ib_switch_findings(fabric, flint=None, hca_rows=None, expected_gbps=None):
    return _ib.switch_findings(fabric or {}, flint or {}, list(hca_rows or []), expected_gbps)


def ib_burn_plan(devices, images, allow_psid_change=False, allow_downgrade=False):
    return _ib.burn_plan(dict(devices or {}), list(images or []), bool(allow_psid_change), bool(allow_downgrade))


def ib_reset_advice(device, kind="hca"):
    return _ib.reset_advice(kind, device)


def ib_opensm_choice(sminfo, ibstat, mode="auto"):
    return _ib.opensm_choice(sminfo, ibstat or {}, mode)


def ib_opensm_hosts(hosts, hostvars, wanted=None, key="__infiniband_fw_opensm"):
    """The hosts of ``hosts`` that run OpenSM, from each host's opensm_choice in hostvars[host][key]."""
    choices = {host: hostvars[host].get(key) or {} for host in hosts}
    return _ib.opensm_hosts(choices, list(hosts), list(wanted) if wanted else None)


def ib_firmware_by_device(hca_results, switch_results=None):
    return _ib.firmware_by_device(list(hca_results or []), list(switch_results or []))


def ib_report_lines(devices, rows):
    return _ib.report_lines(dict(devices or {}), list(rows or []))


def ib_checksum_mismatches(stat_results):
    return _ib.checksum_mismatches(list(stat_results or []))


def ib_images(query_results):
    return _ib.images(list(query_results or []))


class FilterModule:
    def filters(self):
        return {
            "ib_port_findings": ib_port_findings, "ib_switch_findings": ib_switch_findings,
            "ib_burn_plan": ib_burn_plan, "ib_reset_advice": ib_reset_advice,
            "ib_opensm_choice": ib_opensm_choice, "ib_opensm_hosts": ib_opensm_hosts,
            "ib_firmware_by_device": ib_firmware_by_device, "ib_report_lines": ib_report_lines,
            "ib_checksum_mismatches": ib_checksum_mismatches, "ib_images": ib_images,
        }
