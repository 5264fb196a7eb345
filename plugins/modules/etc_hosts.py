#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: etc_hosts
short_description: Keep cluster names in /etc/hosts pointing at their cluster addresses
version_added: 0.1.0
description:
  - Writes one marked block of C(address fqdn short) lines for the cluster nodes.
  - Removes those names from every other line of the file, such as the Debian/Ubuntu
    C(127.0.1.1 <hostname>) line, so that the hostname resolves to the cluster address
    (MPI, NCCL, Ray and Slurm bind to what the hostname resolves to). A line left with
    no name is dropped; C(localhost) names and all other lines stay as they are.
  - Reports each line it changed outside the block in RV(removed).
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  path:
    description: The hosts file.
    type: path
    default: /etc/hosts
  entries:
    description: The managed entries, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      ip:
        description: IPv4 or IPv6 address.
        type: str
        required: true
      names:
        description: Host names for the address; the first is the canonical name.
        type: list
        elements: str
        required: true
  marker:
    description: Text of the block markers; C({mark}) becomes BEGIN or END.
    type: str
    default: "# {mark} gpuforge.cluster managed hosts"
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the changes it would make, including RV(removed), without writing the file.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Cluster names resolve to cluster addresses
  gpuforge.cluster.etc_hosts:
    entries:
      - ip: 10.77.0.10
        names: [node0.lab.example, node0]
      - ip: 10.77.0.11
        names: [node1.lab.example, node1]
"""

RETURN = r"""
removed:
  description: Lines outside the managed block that lost a cluster name (line number, before, after).
  returned: always
  type: list
  elements: dict
  sample: [{"line": 2, "before": "127.0.1.1\tnode0", "after": null}]
block:
  description: The managed block as written.
  returned: always
  type: list
  elements: str
  sample: ["10.77.0.10 node0.lab.example node0"]
"""

import ipaddress
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")
PROTECTED = frozenset(("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"))


class EntryError(ValueError):
    pass


def check_entries(entries):
    """Validate entries; return [(ip, [names])] or raise EntryError naming the bad item."""
    out = []
    seen = {}
    for n, e in enumerate(entries):
        ip = str(e.get("ip") or "").strip()
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise EntryError("entries[%d].ip %r is not an IP address" % (n, e.get("ip"))) from None
        names = [str(x).strip() for x in e.get("names") or []]
        if not names:
            raise EntryError("entries[%d] (%s) has no names" % (n, ip))
        for name in names:
            if not HOSTNAME_RE.match(name):
                raise EntryError("entries[%d].names: %r is not a valid host name" % (n, name))
            if name.lower() in PROTECTED:
                raise EntryError("entries[%d].names: %r may not be remapped" % (n, name))
            if name in seen and seen[name] != ip:
                raise EntryError("name %r is given for both %s and %s" % (name, seen[name], ip))
            seen[name] = ip
        out.append((ip, names))
    return out


def render(text, entries, marker):
    """Return (new_text, removed, block) for the hosts file ``text``."""
    begin, end = marker.replace("{mark}", "BEGIN"), marker.replace("{mark}", "END")
    managed = {name for _ip, names in entries for name in names}
    block = ["%s %s" % (ip, " ".join(names)) for ip, names in entries]
    lines = text.splitlines()
    out, removed = [], []
    in_block, block_at = False, None
    for num, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == begin:
            in_block = True
            if block_at is None:
                block_at = len(out)
            continue
        if stripped == end:
            in_block = False
            continue
        if in_block:
            continue
        body, sep, comment = line.partition("#")
        fields = body.split()
        if len(fields) < 2 or not (set(fields[1:]) & managed):
            out.append(line)
            continue
        keep = [f for f in fields[1:] if f not in managed]
        after = None
        if keep:
            after = "\t".join([fields[0], *keep]) + ((" " + sep + comment) if sep else "")
            out.append(after)
        removed.append({"line": num, "before": line, "after": after})
    if in_block:
        raise EntryError("%s has no end marker %r after its begin marker" % ("hosts file", end))
    wrapped = [begin, *block, end]
    if block_at is None:
        if out and out[-1].strip():
            out.append("")
        out.extend(wrapped)
    else:
        out[block_at:block_at] = wrapped
    return "\n".join(out) + "\n", removed, block


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/hosts"),
            entries=dict(type="list", elements="dict", required=True, options=dict(
                ip=dict(type="str", required=True),
                names=dict(type="list", elements="str", required=True),
            )),
            marker=dict(type="str", default="# {mark} gpuforge.cluster managed hosts"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        entries = check_entries(module.params["entries"])
    except EntryError as e:
        module.fail_json(msg=str(e))
    before = ""
    if os.path.exists(path):
        with open(path, "rb") as f:
            before = to_text(f.read(), errors="surrogate_or_strict")
    try:
        after, removed, block = render(before, entries, module.params["marker"])
    except EntryError as e:
        module.fail_json(msg="%s: %s" % (path, e))
    changed = after != before
    result = dict(changed=changed, removed=removed, block=block, path=path)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    if changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".hosts.")
        with os.fdopen(fd, "wb") as f:
            f.write(to_bytes(after))
        if os.path.exists(path):
            st = os.stat(path)
            os.chmod(tmp, st.st_mode & 0o7777)
            os.chown(tmp, st.st_uid, st.st_gid)
        else:
            os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
    file_args = module.load_file_common_arguments(module.params)
    if not module.check_mode or os.path.exists(path):
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
