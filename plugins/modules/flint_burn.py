# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: flint_burn
short_description: Burn a firmware image on one HCA or switch, only after a verified backup, and verify it
version_added: 0.3.0
description:
  - Queries the device (C(flint -d DEVICE query)) and the image (C(flint -i IMAGE query)) and decides with the
    infiniband_fw rules (plugins/module_utils/ib_firmware.py burn_decision) - refusing, before anything runs, another
    device's image, a PSID change without O(allow_psid_change), any PSID change on secure firmware and a
    downgrade without O(allow_downgrade); an image already on flash changes nothing.
  - Then checks that O(backup) exists with the sha256 O(backup_sha256) (from M(gpuforge.cluster.flint_backup),
    compared on the controller), runs C(flint -d DEVICE -i IMAGE [-allow_psid_change] -y burn), queries the
    device again and fails unless the flash now holds the image's PSID and version.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - In check mode nothing is burned; the decision and a diff are returned.
  - The new firmware runs only after a reset (host reboot, C(mlxfwreset)) or, for an unmanaged switch, a power cycle;
    C(pending_reset) says when the query still shows the old running version.
extends_documentation_fragment:
  - gpuforge.cluster.flint
options:
  device:
    description: The device for C(-d) (PCI address, IB device name or C(lid-N)).
    type: str
    required: true
  image:
    description: The firmware image on the managed host.
    type: path
    required: true
  backup:
    description: The backup image of this device (M(gpuforge.cluster.flint_backup)).
    type: path
    required: true
  backup_sha256:
    description: The sha256 the backup had when it was fetched to the controller.
    type: str
    required: true
  allow_psid_change:
    description: Allow an image whose PSID differs from the flash (cross-flash, C(-allow_psid_change)).
    type: bool
    default: false
  allow_downgrade:
    description: Allow an older version of the same PSID.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Burn the FDR image on the switch (PSID change asked for)
  gpuforge.cluster.flint_burn:
    device: lid-2
    image: /var/lib/gpuforge/firmware/images/fw-SX6005F.bin
    backup: "{{ __backup.path }}"
    backup_sha256: "{{ __backup.sha256 }}"
    allow_psid_change: true
"""

RETURN = r"""
decision:
  description: The burn decision (action burn/current/refuse, message, from/to PSID and version).
  returned: when both queries parsed
  type: dict
before:
  description: The device query before.
  returned: success, and when the decision is refuse
  type: dict
after:
  description: The device query after the burn.
  returned: changed and not check mode; also when it does not show the image
  type: dict
pending_reset:
  description: The device still runs the old version until a reset or power cycle.
  returned: changed and not check mode
  type: bool
cmd:
  description: The burn command run, or on a failed query the query command.
  returned: changed and not check mode; also when the burn or a query failed
  type: list
  elements: str
stdout_lines:
  description: The last 20 lines that the burn printed.
  returned: changed and not check mode
  type: list
  elements: str
rc:
  description: Exit status of the burn, or of a query that flint could not run or parse.
  returned: when the burn or a query failed
  type: int
reason:
  description: On a failed query, the kind of flint error (cr_access, no_device, permission, unsupported_device, unknown or parse_error).
  returned: when a query failed
  type: str
  sample: no_device
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.ib_firmware import burn_decision
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.flint import parse_flint_query
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import first_tool, run_parsed, run_tool

_HINT = "mstflint or NVIDIA MFT"


def _query(module, tool, target):
    return run_parsed(module, tool, [*target, "query"], parse_flint_query, _HINT, "nothing was burned")


def main():
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str", "required": True},
            "image": {"type": "path", "required": True},
            "backup": {"type": "path", "required": True},
            "backup_sha256": {"type": "str", "required": True},
            "allow_psid_change": {"type": "bool", "default": False},
            "allow_downgrade": {"type": "bool", "default": False},
            "executable": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    tool = p["executable"] or first_tool(module, ("flint", "mstflint"))
    before = _query(module, tool, ["-d", p["device"]])
    image = _query(module, tool, ["-i", p["image"]])
    decision = burn_decision(p["device"], before, image, os.path.basename(p["image"]),
                             p["allow_psid_change"], p["allow_downgrade"])
    if decision["action"] == "refuse":
        module.fail_json(msg=decision["message"], decision=decision, before=before)
    if decision["action"] == "current":
        module.exit_json(changed=False, decision=decision, before=before, msg=decision["message"])
    diff = {"before": f"PSID {before.get('psid')} FW {before.get('fw_version')}\n",
            "after": f"PSID {image.get('psid')} FW {image.get('fw_version')}\n"}
    if module.check_mode:
        module.exit_json(changed=True, decision=decision, before=before, diff=diff, msg=decision["message"])
    if not os.path.isfile(p["backup"]) or module.digest_from_file(p["backup"], "sha256") != p["backup_sha256"].lower():
        module.fail_json(msg=f"{p['device']}: no verified backup at {p['backup']} (sha256 {p['backup_sha256']}); "
                             "nothing was burned", decision=decision)
    argv = ["-d", p["device"], "-i", p["image"]] + (["-allow_psid_change"] if decision["psid_change"] else [])
    rc, out, err, cmd = run_tool(module, tool, [*argv, "-y", "burn"], _HINT)
    if rc != 0:
        module.fail_json(msg=f"{p['device']}: burn failed (rc={rc}); the backup is {p['backup']}: "
                             f"{(err or out).strip()[-600:]}", decision=decision, cmd=cmd, rc=rc)
    after = _query(module, tool, ["-d", p["device"]])
    if (after.get("psid"), after.get("fw_version")) != (image.get("psid"), image.get("fw_version")):
        module.fail_json(msg=(f"{p['device']}: after the burn the flash shows PSID {after.get('psid')} FW "
                              f"{after.get('fw_version')}, not the image's {image.get('psid')} {image.get('fw_version')}; "
                              f"the backup is {p['backup']}"), decision=decision, after=after, cmd=cmd)
    running = after.get("running_fw_version")
    pending = running is not None and running != after.get("fw_version")
    module.exit_json(changed=True, decision=decision, before=before, after=after, pending_reset=pending, cmd=cmd,
                     diff=diff, msg=decision["message"], stdout_lines=out.splitlines()[-20:])


if __name__ == "__main__":
    main()
