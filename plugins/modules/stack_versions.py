#!/usr/bin/python
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: stack_versions
short_description: What this node runs, from the OS to the serving engine, for the versions table
version_added: 0.5.0
description:
  - Reads the OS (C(/etc/os-release)), the kernel, the system Python, the CUDA toolkit (C(/usr/local/cuda/version.json)),
    NCCL (the C(libnccl2) package) and, in a Python venv, the versions of the given distributions (Ray, torch,
    vLLM, torch's NCCL wheel). The driver and the CUDA version it supports come from nvidia-smi facts passed in
    (gpuforge.cluster.nvidia_smi_facts), read once by their owner.
  - Read-only; supports check mode. What a node does not have is V(null).
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  venv:
    description: A Python venv whose distributions are read (Ray's); null reads none.
    type: path
  packages:
    description: The distributions to read in the venv.
    type: list
    elements: str
    default: [ray, torch, vllm, nvidia-nccl-cu12, nvidia-nccl-cu13]
  nvidia_smi:
    description: The node's nvidia_smi facts (driver_version, cuda_version); null where it has none.
    type: dict
extends_documentation_fragment: []
attributes: {}
notes:
  - Supports C(check_mode); the module never changes the host.
"""

EXAMPLES = r"""
- name: Read what this node runs
  gpuforge.cluster.stack_versions:
    venv: /opt/gpuforge/ray-2.60.0
    nvidia_smi: "{{ ansible_facts['nvidia_smi'] | default(omit) }}"
  register: versions
"""

RETURN = r"""
versions:
  description: What this node runs; every key is there, V(null) where the node has none of it.
  returned: always
  type: dict
  sample: {"os": "Ubuntu 24.04.3 LTS", "kernel": "6.8.0-85-generic", "python": "3.12.3",
           "driver": "580.159.04", "cuda_driver": "13.0", "cuda_toolkit": "13.0.2", "nccl": "2.28.3-1+cuda13.0",
           "venv_python": "3.12.3", "ray": "2.60.0", "torch": "2.9.0", "torch_nccl": "2.27.5", "vllm": "0.11.0",
           "packages": {"ray": "2.60.0", "torch": "2.9.0", "vllm": "0.11.0", "nvidia-nccl-cu12": "2.27.5",
                        "nvidia-nccl-cu13": null}}
  contains:
    os:
      description: C(PRETTY_NAME) of C(/etc/os-release), else C(NAME VERSION_ID).
      returned: always
      type: str
      sample: "Ubuntu 24.04.3 LTS"
    kernel:
      description: The kernel release (C(uname -r)).
      returned: always
      type: str
      sample: 6.8.0-85-generic
    python:
      description: The version of the Python that runs the module.
      returned: always
      type: str
      sample: "3.12.3"
    driver:
      description: C(driver_version) of the O(nvidia_smi) facts.
      returned: always
      type: str
      sample: 580.159.04
    cuda_driver:
      description: C(cuda_version) of the O(nvidia_smi) facts, the CUDA version the driver supports.
      returned: always
      type: str
      sample: "13.0"
    cuda_toolkit:
      description: C(cuda.version) of C(/usr/local/cuda/version.json) (CUDA 11.1 and later).
      returned: always
      type: str
      sample: 13.0.2
    nccl:
      description: The version of the C(libnccl2) package, installed or held.
      returned: always
      type: str
      sample: 2.28.3-1+cuda13.0
    venv_python:
      description: The version of the O(venv)'s Python; null without a venv or its C(bin/python).
      returned: always
      type: str
      sample: "3.12.3"
    ray:
      description: C(packages.ray).
      returned: always
      type: str
      sample: 2.60.0
    torch:
      description: C(packages.torch).
      returned: always
      type: str
      sample: 2.9.0
    torch_nccl:
      description: >-
        NCCL as torch ships it - the first C(nvidia-nccl-cuNN) of C(packages) (by name) that is installed.
      returned: always
      type: str
      sample: 2.27.5
    vllm:
      description: C(packages.vllm).
      returned: always
      type: str
      sample: 0.11.0
    packages:
      description: >-
        Each distribution of O(packages) to its version in the venv (null where it is not installed);
        empty without a venv.
      returned: always
      type: dict
"""

import json
import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool
from ansible_collections.gpuforge.cluster.plugins.module_utils.stack_versions import (
    cuda_toolkit,
    dpkg_installed_version,
    os_release,
    torch_nccl,
)

VENV_SCRIPT = """
import importlib.metadata as m, json, platform, sys
out = {"python": platform.python_version()}
for name in sys.argv[1:]:
    try:
        out[name] = m.version(name)
    except m.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def main():
    module = AnsibleModule(
        argument_spec={
            "venv": {"type": "path"},
            "packages": {
                "type": "list",
                "elements": "str",
                "default": ["ray", "torch", "vllm", "nvidia-nccl-cu12", "nvidia-nccl-cu13"],
            },
            "nvidia_smi": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    params = module.params
    smi = params["nvidia_smi"] or {}
    versions = {
        "os": os_release(read("/etc/os-release")) or None,
        "kernel": os.uname().release,
        "python": platform.python_version(),
        "driver": smi.get("driver_version"),
        "cuda_driver": smi.get("cuda_version"),
        "cuda_toolkit": cuda_toolkit(read("/usr/local/cuda/version.json")),
        "nccl": None,
        "venv_python": None,
        "packages": {},
    }
    dpkg = module.get_bin_path("dpkg-query")
    if dpkg:
        rc, out, _err, _argv = run_tool(module, dpkg, ["-W", "-f", "${Status}\t${Version}", "libnccl2"])
        if rc == 0:
            versions["nccl"] = dpkg_installed_version(out)
    python = os.path.join(params["venv"], "bin", "python") if params["venv"] else None
    if python and os.access(python, os.X_OK):
        rc, out, err, _argv = run_tool(module, python, ["-c", VENV_SCRIPT, *params["packages"]])
        if rc != 0:
            module.fail_json(
                msg="reading the venv %s failed: %s" % (params["venv"], (err or out).strip()[-500:])
            )
        found = json.loads(out)
        versions["venv_python"] = found.pop("python")
        versions["packages"] = found
    for name in ("ray", "torch", "vllm"):
        versions[name] = versions["packages"].get(name)
    versions["torch_nccl"] = torch_nccl(versions["packages"])
    module.exit_json(changed=False, versions=versions)


if __name__ == "__main__":
    main()
