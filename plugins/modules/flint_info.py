# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: flint_info
short_description: Query ConnectX and switch firmware with C(flint) or C(mstflint)
version_added: 0.1.0
description:
  - Runs C(flint -d DEVICE query) (or C(query full)); falls back to C(mstflint) when MFT's flint is
    absent. Returns FW version, the running version when a burned image is pending, PSID, GUIDs/MACs and
    ROM info. It only queries; this module never burns.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. The tool runs with C(LC_ALL=C).
extends_documentation_fragment:
  - gpuforge.cluster.flint
  - gpuforge.cluster.tool_output
options:
  device:
    description:
      - Device for C(-d), for example C(/dev/mst/mt4099_pci_cr0), a PCI address C(41:00.0), C(mlx5_0) or
        an in-band switch C(lid-5).
      - Required unless O(image), O(output) or O(src) is given.
    type: str
  image:
    description:
      - A firmware image file on the managed host to query instead of a device (C(flint -i IMAGE query)) - the
        PSID and version it would burn, read from the image itself.
    type: path
  full:
    description: Run C(query full) instead of C(query).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Query the HCA firmware
  gpuforge.cluster.flint_info:
    device: /dev/mst/mt4099_pci_cr0
  register: __fw

- name: A burned image waits for a reboot
  ansible.builtin.debug:
    msg: "pending {{ __fw.firmware.fw_version }}, running {{ __fw.firmware.running_fw_version }}"
  when: __fw.firmware.running_fw_version is not none
"""

RETURN = r"""
firmware:
  description: Parsed query; key reference in docs/facts.md.
  returned: success
  type: dict
  sample:
    image_type: FS2
    fw_version: 2.42.5000
    running_fw_version: 2.35.5100
    psid: MT_1170110023
    device_id: "4099"
    product_version: 02.42.50.00
    base_guid: ffffffffffffffff
    base_mac: e41d2ddd7850
    security_attributes: null
    rom_info:
      - type=PXE version=3.4.752
  contains:
    fw_version:
      description: The firmware version on flash.
      returned: always
      type: str
      sample: 2.42.5000
    running_fw_version:
      description: The running version when flint shows C(FW Version(Running)) (a burned image waits for a reset), else null.
      returned: always
      type: str
      sample: 2.35.5100
    psid:
      description: The PSID.
      returned: always
      type: str
      sample: MT_1170110023
    device_id:
      description: The device id as printed.
      returned: always
      type: str
      sample: "4099"
    image_type:
      description: The image format (C(FS2), C(FS3), C(FS4)).
      returned: always
      type: str
      sample: FS2
    product_version:
      description: The product version.
      returned: always
      type: str
      sample: 02.42.50.00
    fw_release_date:
      description: The firmware release date as printed.
      returned: always
      type: str
      sample: 29.7.2017
    base_guid:
      description: C(Base GUID) (FS3, FS4), or the first entry of the GUIDs table (FS2).
      returned: always
      type: str
      sample: ffffffffffffffff
    base_mac:
      description: C(Base MAC) (FS3, FS4), or the first entry of the MACs table (FS2).
      returned: always
      type: str
      sample: e41d2ddd7850
    guids:
      description: The GUIDs table (FS2).
      returned: always
      type: list
      elements: str
      sample: []
    macs:
      description: The MACs table (FS2).
      returned: always
      type: list
      elements: str
      sample: []
    guids_description:
      description: The column names of the GUIDs table (its C(Description) line), or null.
      returned: always
      type: list
      elements: str
      sample: null
    security_attributes:
      description: The security attributes (C(secure-fw)); null for N/A.
      returned: always
      type: str
      sample: null
    rom_info:
      description: One string per printed ROM entry.
      returned: always
      type: list
      elements: str
      sample: ["type=PXE version=3.4.752"]
    mic_version:
      description: The MIC version.
      returned: always
      type: str
      sample: null
    prs_name:
      description: The PRS name.
      returned: always
      type: str
      sample: null
    vsd:
      description: The VSD.
      returned: always
      type: str
      sample: null
    image_vsd:
      description: The image VSD.
      returned: always
      type: str
      sample: null
    device_vsd:
      description: The device VSD.
      returned: always
      type: str
      sample: null
    part_number:
      description: The part number.
      returned: always
      type: str
      sample: null
    description:
      description: The product description.
      returned: always
      type: str
      sample: null
    config_sectors:
      description: The config sectors.
      returned: always
      type: str
      sample: null
    security_version:
      description: C(Security Ver) as printed.
      returned: always
      type: str
      sample: null
    default_update_method:
      description: The default update method.
      returned: always
      type: str
      sample: null
pending_reboot:
  description: True when flint shows a running version different from the burned one.
  returned: success
  type: bool
  sample: true
reason:
  description:
    - On failure, the kind of flint error (cr_access, no_device, permission, unsupported_device, unknown), or parse_error
      when the output is not a flint query.
  returned: failure
  type: str
  sample: cr_access
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.flint import (
    FlintError,
    parse_flint_query,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    first_tool,
    read_source,
    run_tool,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str"},
            "image": {"type": "path"},
            "full": {"type": "bool", "default": False},
            "output": {"type": "str"},
            "src": {"type": "path"},
            "executable": {"type": "str"},
        },
        mutually_exclusive=[("output", "src"), ("device", "image")],
        required_one_of=[("device", "image", "output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    text = read_source(module, p["output"], p["src"])
    if text is None:
        executable = p["executable"]
        if executable is None:
            executable = first_tool(module, ("flint", "mstflint"))
        target = ["-d", p["device"]] if p["device"] else ["-i", p["image"]]
        args = [*target, "query"] + (["full"] if p["full"] else [])
        _rc, out, err, _argv = run_tool(module, executable, args, "mstflint or NVIDIA MFT")
        text = out + ("\n" + err if err else "")
    try:
        info = parse_flint_query(text)
    except FlintError as exc:
        module.fail_json(msg=str(exc), reason=exc.reason)
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse flint output: {exc}", reason="parse_error")
    pending = info["running_fw_version"] is not None and info["running_fw_version"] != info["fw_version"]
    module.exit_json(changed=False, firmware=info, pending_reboot=pending)


if __name__ == "__main__":
    main()
