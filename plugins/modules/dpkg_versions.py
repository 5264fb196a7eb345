# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dpkg_versions
short_description: Installed Debian package versions and holds, read with dpkg-query
version_added: 0.2.0
description:
  - Runs C(dpkg-query -W) for the given names or glob patterns and returns the version of every
    installed package that matches, and which of them are on hold.
  - Needs only dpkg (no python3-apt), so it works where the apt module cannot, also in check mode.
  - Read-only; supports check mode.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  names:
    description:
      - Package names or dpkg-query glob patterns (C(libnvidia-compute-*)). Names that match nothing
        are left out of the result.
    type: list
    elements: str
    required: true
extends_documentation_fragment: []
attributes: {}
notes:
  - Supports C(check_mode); the module never changes the host.
seealso:
  - module: ansible.builtin.dpkg_selections
"""

EXAMPLES = r"""
- name: Read the NCCL packages
  gpuforge.cluster.dpkg_versions:
    names: [libnccl2, libnccl-dev, "cuda-toolkit-*"]
  register: pkgs

- name: Both NCCL packages have the same version
  ansible.builtin.assert:
    that: pkgs.packages['libnccl2'] == pkgs.packages['libnccl-dev']
"""

RETURN = r"""
packages:
  description: Installed package name to version (packages not fully installed are left out).
  returned: always
  type: dict
  sample: {"libnccl2": "2.28.3-1+cuda13.0", "libnccl-dev": "2.28.3-1+cuda13.0"}
held:
  description: The installed packages among them that are on hold, sorted.
  returned: always
  type: list
  elements: str
  sample: ["libnccl-dev", "libnccl2"]
other_states:
  description: Matching packages known to dpkg but not installed (removed with config files left, half-installed), name to status.
  returned: always
  type: dict
  sample: {"nvidia-cuda-toolkit": "deinstall ok config-files"}
cmd:
  description: The dpkg-query command.
  returned: when dpkg-query failed (an exit status other than 0 or 1)
  type: list
  elements: str
rc:
  description: The exit status of dpkg-query.
  returned: when dpkg-query failed (an exit status other than 0 or 1)
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool

FORMAT = "${Package}\\t${Version}\\t${Status}\\n"


def parse(text):
    """dpkg-query -W -f FORMAT output -> (packages, held, other_states)."""
    packages, held, other = {}, [], {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0]:
            continue
        name, version, status = fields
        want, _flag, state = ([*status.split(), "", "", ""])[:3]
        if state == "installed":
            packages[name] = version
            if want == "hold":
                held.append(name)
        elif state != "not-installed":
            other[name] = status
    return packages, sorted(held), other


def main():
    module = AnsibleModule(
        argument_spec={"names": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    names = module.params["names"]
    if not names:
        module.exit_json(changed=False, packages={}, held=[], other_states={})
    rc, out, err, argv = run_tool(module, "dpkg-query", ["-W", "-f", FORMAT, "--", *names], "dpkg")
    # rc 1: some name matched no package (said on stderr); the rest is still printed.
    if rc not in (0, 1):
        module.fail_json(msg=f"dpkg-query failed (rc={rc}): {err.strip()}", rc=rc, cmd=argv)
    packages, held, other = parse(out)
    module.exit_json(changed=False, packages=packages, held=held, other_states=other)


if __name__ == "__main__":
    main()
