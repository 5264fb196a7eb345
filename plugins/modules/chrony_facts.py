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
      description:
        - C(sources) is one entry per source line with C(mode) (V(^) server, V(=) peer, V(#) reference clock),
          C(state) (V(*) selected, V(+) combined, V(-), V(?), V(x), V(~)), C(address), C(stratum), C(poll)
          (log2 seconds) and C(reach) (the octal reachability register as an integer, V(377) is V(255)).
        - C(selected) is the address of the source marked V(*), or V(null).
        - C(tracking) holds C(reference_id), C(reference_name), C(stratum) and C(leap_status).
      type: dict
      returned: always
      sample: {"selected": "10.77.0.10", "sources": [{"mode": "^", "state": "*",
               "address": "10.77.0.10", "stratum": 10, "poll": 6, "reach": 255}],
               "tracking": {"reference_id": "0A4D000A", "reference_name": "10.77.0.10",
               "stratum": 11, "leap_status": "Normal"}}
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
