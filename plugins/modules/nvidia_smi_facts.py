# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: nvidia_smi_facts
short_description: Gather NVIDIA GPU facts from C(nvidia-smi -q -x)
version_added: 0.1.0
description:
  - Runs C(nvidia-smi -q -x) with C(LC_ALL=C) and sets C(ansible_facts['nvidia_smi']) with the driver
    version, the CUDA version the driver supports and one entry per GPU.
  - Fields that nvidia-smi prints as C(N/A), or that the driver's XML schema lacks, are C(null).
  - With O(topology=true) it also parses C(nvidia-smi topo -m).
  - Read-only; supports check mode.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  executable:
    description:
      - Name or path of the nvidia-smi binary.
    type: str
    default: nvidia-smi
  topology:
    description:
      - Also run C(nvidia-smi topo -m) and return the link matrix under C(ansible_facts['nvidia_smi']['topology']).
      - Ignored when O(output) or O(src) is given.
    type: bool
    default: false
  fail_on_error:
    description:
      - When nvidia-smi reports an error (no driver, no devices, version mismatch, GPU lost) fail the task.
      - When V(false), return the facts with an empty C(gpus) list and the error under C(error).
    type: bool
    default: true
  absent_ok:
    description:
      - When nvidia-smi is not installed (a node without a GPU), return the facts with an empty C(gpus) list and
        C(error.reason) V(tool_not_found) instead of failing. Errors of an installed nvidia-smi still follow
        O(fail_on_error). The returned facts replace a copy cached from an earlier run.
    type: bool
    default: false
extends_documentation_fragment:
  - gpuforge.cluster.tool_output
attributes: {}
notes:
  - Supports C(check_mode); the module never changes the host.
seealso:
  - module: gpuforge.cluster.ibstat_facts
"""

EXAMPLES = r"""
- name: Gather GPU facts
  gpuforge.cluster.nvidia_smi_facts:

- name: Every GPU reports the pinned driver
  ansible.builtin.assert:
    that: ansible_facts['nvidia_smi']['driver_version'] is version('580', '>=')

- name: Parse a recorded output instead of running nvidia-smi
  gpuforge.cluster.nvidia_smi_facts:
    src: /tmp/nvidia-smi-q-x.xml

- name: Gather facts without failing on hosts that have no driver yet
  gpuforge.cluster.nvidia_smi_facts:
    fail_on_error: false

- name: Read the GPUs where there are any (a CPU-only node gets an empty list)
  gpuforge.cluster.nvidia_smi_facts:
    absent_ok: true
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: complex
  contains:
    nvidia_smi:
      description: Parsed C(nvidia-smi -q -x); key reference in docs/facts.md.
      returned: always
      type: dict
      sample:
        driver_version: "580.95.05"
        cuda_version: "13.0"
        attached_gpus: 1
        error: null
        gpus:
          - index: 0
            minor_number: 0
            uuid: GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e
            name: Tesla P100-PCIE-16GB
            pci_bus_id: "00000000:00:04.0"
            pci_device_id: "0x15f8"
            serial: "0324217145110"
            vbios_version: 86.00.52.00.02
            memory_total_mib: 16384
            persistence_mode: false
            mig_mode: null
            ecc_mode: true
            temperature_c: 38
            power_limit_w: 250.0
            architecture: Pascal
            pcie_link_gen_max: 3
            pcie_link_width_max: 16
            driver_model: null
            mig_devices: []
      contains:
        driver_version:
          description: The driver version; null when nvidia-smi failed and O(fail_on_error=false).
          returned: always
          type: str
          sample: "580.95.05"
        cuda_version:
          description: The CUDA version the driver supports; null before driver 410.
          returned: always
          type: str
          sample: "13.0"
        attached_gpus:
          description: Number of GPUs.
          returned: always
          type: int
          sample: 1
        error:
          description: Null, or with O(fail_on_error=false) C(reason) and C(msg) of the failure.
          returned: always
          type: dict
          sample: null
        gpus:
          description: One entry per GPU, in file order.
          returned: always
          type: list
          elements: dict
          contains:
            index:
              description: Position in the output, 0-based.
              returned: always
              type: int
              sample: 0
            minor_number:
              description: The device minor number; null on Windows (WDDM).
              returned: always
              type: int
              sample: 0
            uuid:
              description: The GPU UUID.
              returned: always
              type: str
              sample: GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e
            name:
              description: The product name.
              returned: always
              type: str
              sample: Tesla P100-PCIE-16GB
            pci_bus_id:
              description: The PCI bus id as printed.
              returned: always
              type: str
              sample: "00000000:00:04.0"
            pci_device_id:
              description: The PCI device id (C(233510DE) becomes C(0x2335)); null when not printed.
              returned: always
              type: str
              sample: "0x15f8"
            serial:
              description: The serial number, kept a string.
              returned: always
              type: str
              sample: "0324217145110"
            vbios_version:
              description: The VBIOS version.
              returned: always
              type: str
              sample: 86.00.52.00.02
            memory_total_mib:
              description: Frame buffer memory in MiB.
              returned: always
              type: int
              sample: 16384
            persistence_mode:
              description: Whether persistence mode is on; null for N/A.
              returned: always
              type: bool
              sample: false
            mig_mode:
              description: The current MIG mode, C(Enabled) or C(Disabled); null for N/A.
              returned: always
              type: str
              sample: null
            ecc_mode:
              description: The current ECC mode; null for N/A.
              returned: always
              type: bool
              sample: true
            temperature_c:
              description: GPU temperature in degrees Celsius.
              returned: always
              type: int
              sample: 38
            power_limit_w:
              description: The current power limit in watts.
              returned: always
              type: float
              sample: 250.0
            architecture:
              description: The product architecture; null in old drivers.
              returned: always
              type: str
              sample: Pascal
            pcie_link_gen_max:
              description: The fastest PCIe generation this GPU and slot allow.
              returned: always
              type: int
              sample: 3
            pcie_link_width_max:
              description: The widest PCIe link this GPU and slot allow.
              returned: always
              type: int
              sample: 16
            driver_model:
              description: The driver model on Windows (C(WDDM), C(TCC)); null elsewhere.
              returned: always
              type: str
              sample: null
            mig_devices:
              description: MIG devices, each with C(index), C(gpu_instance_id), C(compute_instance_id), C(memory_total_mib).
              returned: always
              type: list
              elements: dict
              sample: []
        topology:
          description: Parsed C(nvidia-smi topo -m) - C(gpus), C(nics), C(matrix), C(cpu_affinity), C(numa_affinity).
          returned: when O(topology=true) and nvidia-smi ran (not with O(output) or O(src))
          type: dict
          sample: {"gpus": ["GPU0"], "nics": {}, "matrix": {"GPU0": {"GPU0": "X"}}, "cpu_affinity": {"GPU0": "0-7"},
                   "numa_affinity": {"GPU0": null}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.nvidia_smi import (
    NvidiaSmiError,
    parse_query_xml,
    parse_topo_matrix,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    read_source,
    run_tool,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "output": {"type": "str"},
            "src": {"type": "path"},
            "executable": {"type": "str", "default": "nvidia-smi"},
            "topology": {"type": "bool", "default": False},
            "fail_on_error": {"type": "bool", "default": True},
            "absent_ok": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    text = read_source(module, p["output"], p["src"])
    ran = text is None
    if ran and p["absent_ok"] and module.get_bin_path(p["executable"], required=False) is None:
        module.exit_json(changed=False, ansible_facts={"nvidia_smi": {
            "driver_version": None, "cuda_version": None, "attached_gpus": 0, "gpus": [],
            "error": {"reason": "tool_not_found", "msg": f"{p['executable']} is not installed"}}})
    if ran:
        rc, out, err, _argv = run_tool(module, p["executable"], ["-q", "-x"], "the NVIDIA driver utilities")
        text = out if rc == 0 else (out + "\n" + err)
    try:
        facts = parse_query_xml(text)
        facts["error"] = None
        if ran and p["topology"]:
            rc, out, err, _argv = run_tool(module, p["executable"], ["topo", "-m"])
            facts["topology"] = parse_topo_matrix(out if rc == 0 else out + "\n" + err)
    except NvidiaSmiError as exc:
        if p["fail_on_error"]:
            module.fail_json(msg=str(exc), reason=exc.reason)
        facts = {"driver_version": None, "cuda_version": None, "attached_gpus": 0, "gpus": [],
                 "error": {"reason": exc.reason, "msg": str(exc)}}
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse nvidia-smi output: {exc}", reason="parse_error")
    module.exit_json(changed=False, ansible_facts={"nvidia_smi": facts})


if __name__ == "__main__":
    main()
