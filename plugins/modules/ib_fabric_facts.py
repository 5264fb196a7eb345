# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ib_fabric_facts
short_description: Read an InfiniBand fabric in-band - local port speeds, switches, links, the subnet manager
version_added: 0.3.0
description:
  - C(ibportstate -C CA -P PORT -D 0 PORT) for each of O(ports) (the local port over the direct route 0 - enabled,
    supported and active speeds and widths, FDR10 from the Mellanox extended port info);
    with O(fabric), C(ibswitches) and C(iblinkinfo) (every switch and every cabled port, switch side included);
    with O(sminfo), C(sminfo) (which subnet manager answers, if any). Sets C(ansible_facts['ib_fabric']).
  - Parsers in plugins/module_utils/parsers/ibdiag.py; a tool error fails with the tool's line, except
    sminfo, whose "no SM answered" is a result (C(present=false), C(reason=no_response)).
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Read-only; supports check mode. Needs infiniband-diags and the umad device of the port (root).
options:
  ca:
    description: The local CA to ask through (C(-C)); default the tools' own choice.
    type: str
  port:
    description: The local port to ask through (C(-P)).
    type: int
  ports:
    description: Local ports to read with ibportstate, as C({ca, port}).
    type: list
    elements: dict
    default: []
  fabric:
    description: Read the switches and links (ibswitches, iblinkinfo).
    type: bool
    default: false
  sminfo:
    description: Ask for the subnet manager (sminfo).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the fabric from the head node
  gpuforge.cluster.ib_fabric_facts:
    ca: mlx4_0
    port: 1
    ports: [{ca: mlx4_0, port: 1}]
    fabric: true
    sminfo: true
"""

RETURN = r"""
ansible_facts:
  description: C(ib_fabric) - C(portstates) (C("CA/PORT") -> parsed ibportstate), C(switches) (parsed
    ibswitches), C(links) (every port line of iblinkinfo, switch and CA side, with its C(lid)), C(sminfo).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import ibdiag
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_parsed


def _read(module, tool, args, parse):
    return run_parsed(module, tool, args, parse, "infiniband-diags", "the fabric was not read")


def main():
    module = AnsibleModule(
        argument_spec={
            "ca": {"type": "str"},
            "port": {"type": "int"},
            "ports": {"type": "list", "elements": "dict", "default": []},
            "fabric": {"type": "bool", "default": False},
            "sminfo": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    via = (["-C", p["ca"]] if p["ca"] else []) + (["-P", str(p["port"])] if p["port"] else [])
    facts = {"portstates": {}, "switches": None, "links": None, "sminfo": None}
    for item in p["ports"]:
        if not item.get("ca") or not item.get("port"):
            module.fail_json(msg=f"ports: each entry needs ca and port, got {item!r}")
        args = ["-C", str(item["ca"]), "-P", str(item["port"]), "-D", "0", str(item["port"])]
        key = f"{item['ca']}/{item['port']}"
        facts["portstates"][key] = _read(module, "ibportstate", args, ibdiag.parse_ibportstate)
    if p["fabric"]:
        facts["switches"] = _read(module, "ibswitches", via, ibdiag.parse_ibswitches)
        links = _read(module, "iblinkinfo", via, ibdiag.parse_iblinkinfo)
        facts["links"] = [port for node in links["switches"] + links["nodes"] for port in node["ports"]]
    if p["sminfo"]:
        facts["sminfo"] = _read(module, "sminfo", via, ibdiag.parse_sminfo)
    module.exit_json(changed=False, ansible_facts={"ib_fabric": facts})


if __name__ == "__main__":
    main()
