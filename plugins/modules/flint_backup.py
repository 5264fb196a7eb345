# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: flint_backup
short_description: Save a device's firmware image and its C(query full) before anything is burned
version_added: 0.3.0
description:
  - Runs C(flint -d DEVICE query full) and keeps its text in C(DEST.query.txt), then C(flint -d DEVICE ri DEST)
    (read image) into a temporary file renamed to O(dest) when flint succeeded, and returns the image's sha256.
  - The first step of M(gpuforge.cluster.flint_burn), which refuses to burn without a backup whose sha256 it
    is given; the infiniband_fw role fetches both files to the controller and compares the sha256 first.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - In check mode the device is queried and nothing is written.
  - Falls back to C(mstflint) when MFT's flint is absent.
extends_documentation_fragment:
  - gpuforge.cluster.flint
options:
  device:
    description: The device for C(-d), a PCI address C(01:00.0), an IB device C(mlx4_0) or an in-band switch C(lid-5).
    type: str
    required: true
  dest:
    description: Path of the image file on the managed host (its directory must exist); C(DEST.query.txt) gets the query.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Back up the switch firmware in-band
  gpuforge.cluster.flint_backup:
    device: lid-2
    dest: /var/lib/gpuforge/firmware/backup/lid-2.bin
  register: __backup
"""

RETURN = r"""
firmware:
  description: The parsed C(query full) (see M(gpuforge.cluster.flint_info)).
  returned: success
  type: dict
path:
  description: The image file written.
  returned: success and not check mode
  type: str
query_path:
  description: The file holding the C(query full) text.
  returned: success and not check mode
  type: str
sha256:
  description: sha256 of the image file.
  returned: success and not check mode
  type: str
size:
  description: Bytes in the image file.
  returned: success and not check mode
  type: int
cmd:
  description: The flint command that failed.
  returned: on failure
  type: list
  elements: str
rc:
  description: Exit status of the flint command that failed.
  returned: on failure
  type: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.flint import parse_flint_query
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import first_tool, run_tool


def main():
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "executable": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    tool = p["executable"] or first_tool(module, ("flint", "mstflint"))
    rc, out, err, argv = run_tool(module, tool, ["-d", p["device"], "query", "full"], "mstflint or NVIDIA MFT")
    try:
        info = parse_flint_query(out + ("\n" + err if err else ""))
    except ParseError as exc:
        module.fail_json(msg=f"{' '.join(argv)} (rc={rc}): {exc}; nothing was saved", cmd=argv, rc=rc)
    if module.check_mode:
        module.exit_json(changed=True, firmware=info)
    query_path = p["dest"] + ".query.txt"
    partial = p["dest"] + ".partial"
    with open(query_path, "w", encoding="utf-8") as handle:
        handle.write(out)
    rc, out, err, argv = run_tool(module, tool, ["-d", p["device"], "ri", partial], "mstflint or NVIDIA MFT")
    if rc != 0 or not os.path.isfile(partial) or os.path.getsize(partial) == 0:
        if os.path.exists(partial):
            os.unlink(partial)
        module.fail_json(msg=f"{p['device']}: reading the image (ri) failed: {(err or out).strip()[-400:]}",
                         cmd=argv, rc=rc)
    os.chmod(partial, 0o600)
    os.replace(partial, p["dest"])
    module.exit_json(changed=True, firmware=info, path=p["dest"], query_path=query_path,
                     sha256=module.digest_from_file(p["dest"], "sha256"), size=os.path.getsize(p["dest"]))


if __name__ == "__main__":
    main()
