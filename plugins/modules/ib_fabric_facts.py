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
  description: Facts set on the host.
  returned: success
  type: complex
  contains:
    ib_fabric:
      description: What the fabric tools read; key reference in docs/facts.md.
      returned: success
      type: dict
      sample: {"portstates": {}, "switches": null, "links": null,
               "sminfo": {"present": false, "lid": null, "guid": null, "activity_count": null, "priority": null,
                          "state": null, "state_name": null, "error": "sminfo: iberror: failed: query", "reason": "no_response",
                          "warnings": []}}
      contains:
        portstates:
          description:
            - C("CA/PORT") of each of O(ports) to the parsed C(ibportstate) - C(width), C(speed), C(speed_ext)
              (each C(supported), C(enabled), C(active)), C(active_rate_gbps), C(supported_max_rate_gbps),
              C(generation), C(fdr10), C(mlnx_ext) and more.
          returned: success
          type: dict
          sample: {}
        switches:
          description: Parsed C(ibswitches) - C(lid), C(guid), C(description), C(ports), C(enhanced_port0), C(lmc); null without O(fabric).
          returned: success
          type: list
          elements: dict
          sample: null
        links:
          description:
            - Every port line of C(iblinkinfo), switch and CA side, with its C(lid) (C(port), C(state), C(physical_state),
              C(width), C(speed), C(rate_gbps), C(generation), C(fdr10), C(peer_lid), C(peer_port), C(peer_description)
              and more); null without O(fabric).
          returned: success
          type: list
          elements: dict
          sample: null
        sminfo:
          description:
            - Parsed C(sminfo) - C(present), C(lid), C(guid), C(priority), C(state_name), C(error), C(reason); no SM
              answering is C(present=false), C(reason=no_response). Null without O(sminfo).
          returned: success
          type: dict
cmd:
  description: The command that failed.
  returned: when a tool failed or printed what its parser cannot read
  type: list
  elements: str
rc:
  description: Exit status of the command that failed.
  returned: when a tool failed or printed what its parser cannot read
  type: int
reason:
  description: The kind of failure that the parser names (C(parse_error) for output it cannot read).
  returned: when a tool failed or printed what its parser cannot read
  type: str
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
