# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: slurm_gres_check
short_description: Check with slurmd that a node's GPUs in slurm.conf and gres.conf are exactly the expected ones
version_added: 0.1.0
description:
  - Runs C(slurmd -G -f CONFIG -N NODE), the way slurmd itself reads C(slurm.conf) and the C(gres.conf) beside it,
    and compares the GPU records slurmd prints with O(expected).
  - Fails on a non-zero exit, on any C(fatal:) or C(WARNING:) line, on C(error:) lines about GRES or the
    configuration files (slurmd exits 0 after I(has 1 more configured than expected in slurm.conf) and after a
    File= that is not a character device), and when the GPUs differ from O(expected) (for example
    C(Gres=gpu:v100s:8) on the node line but only four C(File=) lines, which slurmd -G accepts silently and
    slurmctld later answers by draining the node).
  - Other C(error:) lines slurmd logs on the way (I(Node configuration differs from hardware) when slurm.conf
    declares less than the node has, a missing spool directory) are returned in RV(errors_seen) but do not fail.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. The tool runs with C(LC_ALL=C).
  - C(slurmd -G) stats every C(File=) device, so run it on the node itself.
  - Errors slurmd logs before it prints the GRES (a cgroup plugin that cannot start, a missing
    library) go to a log file (C(-L)) that the module reads, so the failure says why.
  - Slurm checks its own program name; run the binary as C(slurmd) (Debian's C(/usr/sbin/slurmd)
    alternatives link), not C(slurmd-wlm), or it reads no C(Gres=) from the node line.
options:
  config:
    description: Path of the C(slurm.conf) to check; C(gres.conf) is read from the same directory.
    type: path
  node:
    description: The node name (C(NodeName=)) to check, as in slurm.conf.
    type: str
    required: true
  expected:
    description:
      - The GPUs the node has, one C(TYPE:FILE) entry per device file (C(h100:/dev/nvidia3)).
      - An empty list means the node must have none.
    type: list
    elements: str
    required: true
  output:
    description: Text of C(slurmd -G) (stdout and stderr together) to judge instead of running the tool.
    type: str
  executable:
    description: Name or path of the slurmd binary.
    type: str
    default: slurmd
"""

EXAMPLES = r"""
- name: Check the rendered configuration before installing it
  gpuforge.cluster.slurm_gres_check:
    config: /run/gpuforge-slurm-check/slurm.conf
    node: gpu01
    expected: [h100:/dev/nvidia0, h100:/dev/nvidia1]
"""

RETURN = r"""
gres:
  description: The GRES records slurmd printed (name, type, count, index, file, ...).
  returned: always
  type: list
  elements: dict
  sample: [{name: gpu, type: h100, count: 1, index: 0, file: /dev/nvidia0, plugin_id: 7696487, links: null}]
warnings_seen:
  description: C(WARNING:) lines slurmd printed.
  returned: always
  type: list
  elements: str
errors_seen:
  description: C(error:) and C(fatal:) lines slurmd printed or logged, blocking or not.
  returned: always
  type: list
  elements: str
rc:
  description: Exit status of C(slurmd -G) (0 when O(output) was given).
  returned: always
  type: int
summary:
  description: The node's GPUs as slurmd sees them, one C(type:file) string each.
  returned: always
  type: list
  elements: str
  sample: [h100:/dev/nvidia0]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import (
    parse_slurmd_gres,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    run_tool,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_gres import (
    failure_message,
    judge,
    parse_expected,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path"},
            "node": {"type": "str", "required": True},
            "expected": {"type": "list", "elements": "str", "required": True},
            "output": {"type": "str"},
            "executable": {"type": "str", "default": "slurmd"},
        },
        required_one_of=[("config", "output")],
        supports_check_mode=True,
    )
    p = module.params
    rc = 0
    text = p["output"]
    if text is None:
        # slurmd logs what stops it before printing any GRES to -L FILE only.
        log = os.path.join(module.tmpdir, "slurmd-G.log")
        rc, out, err, _argv = run_tool(module, p["executable"],
                                       ["-G", "-f", p["config"], "-N", p["node"], "-L", log],
                                       "slurmd (slurm-wlm)")
        text = (out or "") + (err or "")
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as handle:
                text += "\n" + handle.read()
    try:
        parsed = parse_slurmd_gres(text)
    except ParseError as exc:
        module.fail_json(msg=f"cannot read slurmd -G output: {exc}", rc=rc)
    try:
        expected = parse_expected(p["expected"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    problems, summary = judge(parsed, expected, rc)
    result = {"gres": parsed["gres"], "warnings_seen": parsed["warnings"], "errors_seen": parsed["errors"],
              "summary": summary, "rc": rc}
    if problems:
        module.fail_json(msg=failure_message(p["node"], p["config"], expected, problems), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
