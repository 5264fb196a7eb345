#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: chrony_facts
short_description: Read chronyd's sources and tracking state
version_added: 0.1.0
description:
  - Runs C(chronyc -n -c sources) and C(chronyc -n -c tracking) (CSV output, C(LC_ALL=C))
    and returns the parsed tables as facts under C(ansible_facts.chrony).
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  sources_output:
    description: Parse this C(chronyc -c sources) text instead of running chronyc.
    type: str
  tracking_output:
    description: Parse this C(chronyc -c tracking) text instead of running chronyc.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read chrony state
  gpuforge.cluster.chrony_facts:

- name: The head node is this node's selected time source
  ansible.builtin.assert:
    that: ansible_facts.chrony.selected == '10.0.0.1'
"""

RETURN = r"""
ansible_facts:
  description: Facts under C(chrony).
  returned: always
  type: complex
  contains:
    chrony:
      description: The parsed C(chronyc -n -c sources) and C(chronyc -n -c tracking); key reference in docs/facts.md.
      type: dict
      returned: always
      sample: {"selected": "10.77.0.10", "sources": [{"mode": "^", "state": "*",
               "address": "10.77.0.10", "stratum": 10, "poll": 6, "reach": 255}],
               "tracking": {"reference_id": "0A4D000A", "reference_name": "10.77.0.10",
               "stratum": 11, "leap_status": "Normal"}}
      contains:
        sources:
          description: One entry per source line, in chronyc's order.
          type: list
          elements: dict
          returned: always
          contains:
            mode:
              description: The mode character as printed - V(^) server, V(=) peer, V(#) reference clock.
              type: str
              returned: always
              sample: "^"
            state:
              description: >-
                The state character as printed - V(*) selected, V(+) combined, V(-) not combined,
                V(?) unreachable, V(x) falseticker, V(~) too variable.
              type: str
              returned: always
              sample: "*"
            address:
              description: The source's address (C(-n), so not resolved), or the reference clock's name.
              type: str
              returned: always
              sample: 10.77.0.10
            stratum:
              description: The source's stratum.
              type: int
              returned: always
              sample: 10
            poll:
              description: The polling interval, log2 seconds.
              type: int
              returned: always
              sample: 6
            reach:
              description: The reachability register, octal as printed, as an integer (V(377) is V(255)).
              type: int
              returned: always
              sample: 255
        selected:
          description: The address of the source marked V(*), or V(null) when none is.
          type: str
          returned: always
          sample: 10.77.0.10
        tracking:
          description: Fields of the tracking line.
          type: dict
          returned: always
          contains:
            reference_id:
              description: The reference ID, hex as printed.
              type: str
              returned: always
              sample: 0A4D000A
            reference_name:
              description: The reference's address (or name of a reference clock).
              type: str
              returned: always
              sample: 10.77.0.10
            stratum:
              description: This host's stratum.
              type: int
              returned: always
              sample: 11
            leap_status:
              description: C(Normal), C(Insert second), C(Delete second) or C(Not synchronised).
              type: str
              returned: always
              sample: Normal
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool

MODES = {"^": "server", "=": "peer", "#": "refclock"}


def parse_sources(text):
    """Parse ``chronyc -c sources``; raise ValueError naming a line that does not fit."""
    out = []
    for num, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        f = line.split(",")
        if len(f) < 6 or f[0] not in MODES:
            raise ValueError("chronyc sources line %d does not fit: %r" % (num, line[:120]))
        try:
            out.append({"mode": f[0], "state": f[1], "address": f[2], "stratum": int(f[3]),
                        "poll": int(f[4]), "reach": int(f[5], 8)})
        except ValueError:
            raise ValueError("chronyc sources line %d does not fit: %r" % (num, line[:120])) from None
    return out


def parse_tracking(text):
    """Parse ``chronyc -c tracking``; raise ValueError naming the line that does not fit."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    f = line.split(",")
    try:
        if len(f) < 14:
            raise ValueError(line)
        return {"reference_id": f[0], "reference_name": f[1], "stratum": int(f[2]),
                "leap_status": f[13]}
    except ValueError:
        raise ValueError("chronyc tracking line 1 does not fit: %r" % line[:120]) from None


def main():
    module = AnsibleModule(
        argument_spec=dict(sources_output=dict(type="str"), tracking_output=dict(type="str")),
        supports_check_mode=True,
    )
    texts = {}
    for what in ("sources", "tracking"):
        given = module.params[what + "_output"]
        if given is not None:
            texts[what] = given
            continue
        rc, out, err, _argv = run_tool(module, "chronyc", ["-n", "-c", what],
                                       "chrony, or give %s_output" % what)
        if rc != 0:
            module.fail_json(msg="chronyc %s failed (rc=%d): %s" % (what, rc, err.strip()))
        texts[what] = out
    try:
        sources = parse_sources(texts["sources"])
        tracking = parse_tracking(texts["tracking"])
    except ValueError as e:
        module.fail_json(msg=str(e))
    selected = next((s["address"] for s in sources if s["state"] == "*"), None)
    module.exit_json(changed=False, ansible_facts={"chrony": {
        "sources": sources, "selected": selected, "tracking": tracking}})


if __name__ == "__main__":
    main()
