# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: rental_nodes
short_description: Rented GPU boxes from a plain table of public and private addresses
version_added: 0.5.0
description:
  - Reads a plain text file, not YAML, that lists one rented box a line as its public address (reached
    over SSH) and its private address (the cluster network), as pasted from the provider. The first box
    is the head node.
  - "Accepted lines: C(PUBLIC:PRIVATE) words, several a line, split by spaces or commas; two columns
    split by spaces, tabs, commas or semicolons; markdown or psql tables (C(| PUBLIC | PRIVATE |)) with
    their rule rows; IPv6 in the column shapes, or in brackets in a word (C([2001:db8::1]:[fd00::1]))."
  - "Also accepted: one header line of words (C(Public IP  Private IP), C(public,private)) as the first
    line that is not a comment, blank lines, C(#) comments (whole line or trailing), CRLF line ends,
    a UTF-8 or UTF-16 byte order mark."
  - The hosts are C(<prefix>0) (the head) to C(<prefix>N-1), with C(ansible_host) the public address
    and C(cluster_ip) the private one, and the variables C(rental_public_ip), C(rental_private_ip),
    C(rental_index) and C(rental_source_line). No C(ansible_user) is set.
  - The groups are C(rental), C(gpu) and C(compute) (all the boxes), C(head) (the first) and C(workers)
    (the others; empty for a single box). The C(rental) group has C(rental_node_count).
  - A file with any malformed line gives no hosts. Every problem is reported at once, each with the line
    number and the line, for a word that is not an address, a missing private part, more than two
    columns, an address on two lines, a loopback, link-local, unspecified or multicast address, or no
    pair at all.
  - Picks files with no extension or the extension C(.txt), C(.csv), C(.tsv), C(.list) or C(.pairs);
    never C(.yml), C(.yaml), C(.json), C(.toml) or C(.ini).
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Enable it in C(ansible.cfg), C([inventory] enable_plugins), next to the plugins the other inventories
    need. Leave C(ini) out there - Ansible tries the next enabled plugin when one refuses a file, and
    C(ini) would read a refused table as a list of host names.
  - Ansible shows a refused file's problems as warnings and goes on with no hosts, unless
    C([inventory] unparsed_is_failed = true) (or C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true)) makes a source
    that no plugin read an error.
  - Ansible skips files ending in C(.txt) inside an inventory directory (C(inventory_ignore_extensions));
    give the file directly (C(-i nodes.txt)) or name it C(nodes.list) there.
options:
  prefix:
    description:
      - The start of every host name; the boxes are C(<prefix>0) to C(<prefix>N-1) in file order.
      - A letter, then letters, digits or C(-); 56 characters at most.
    type: str
    default: rental
    env:
      - name: GPUFORGE_RENTAL_PREFIX
    ini:
      - section: inventory_plugin_rental_nodes
        key: prefix
      - section: gpuforge_rental_nodes
        key: prefix
"""

EXAMPLES = r"""# fmt: text
# nodes.txt, as pasted from the provider's console (the head first):
#
#   Public IP        Private IP
#   203.0.113.10     10.0.0.10
#   203.0.113.11     10.0.0.11    # second box
#   203.0.113.12,10.0.0.12
#
# or PUBLIC:PRIVATE words, several a line:
#
#   203.0.113.10:10.0.0.10 203.0.113.11:10.0.0.11
#   [2001:db8::12]:[fd00::12]
#
# ansible.cfg:
#
#   [inventory]
#   enable_plugins = host_list, script, auto, yaml, toml, gpuforge.cluster.rental_nodes
#   unparsed_is_failed = true
#
#   [gpuforge_rental_nodes]
#   prefix = gpu
#
# Then:
#
#   ansible-inventory -i nodes.txt --graph
#   ansible-playbook -i nodes.txt playbooks/rental.yml
#   GPUFORGE_RENTAL_PREFIX=box ansible-playbook -i nodes.txt playbooks/rental.yml
"""

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseFileInventoryPlugin
from ansible_collections.gpuforge.cluster.plugins.module_utils.rental_pairs import (
    RentalPairsError,
    decode_text,
    host_names,
    parse_pairs,
)

EXTENSIONS = ("", ".txt", ".csv", ".tsv", ".list", ".pairs")
GROUPS = ("rental", "head", "workers", "gpu", "compute")


class InventoryModule(BaseFileInventoryPlugin):
    """Hosts <prefix>0..N-1 from a file of PUBLIC PRIVATE address pairs."""

    NAME = "gpuforge.cluster.rental_nodes"

    def verify_file(self, path):
        """An existing readable file with no extension or a table's (.txt, .csv, ...), never YAML/JSON/INI."""
        if not super().verify_file(path) or not os.path.isfile(path):
            return False
        return os.path.splitext(path)[1].lower() in EXTENSIONS

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self.set_options()
        source = os.path.basename(path)
        data = self.loader._get_file_contents(path)[0]
        try:
            pairs = parse_pairs(decode_text(data, source), source)
            names = host_names(pairs, self.get_option("prefix"))
        except RentalPairsError as exc:
            raise AnsibleParserError(str(exc)) from None

        for group in GROUPS:
            self.inventory.add_group(group)
        self.inventory.set_variable("rental", "rental_node_count", len(pairs))
        for index, (name, pair) in enumerate(zip(names, pairs)):
            for group in ("rental", "head" if index == 0 else "workers", "gpu", "compute"):
                self.inventory.add_host(name, group=group)
            hostvars = {
                "ansible_host": pair["public"],
                "cluster_ip": pair["private"],
                "rental_public_ip": pair["public"],
                "rental_private_ip": pair["private"],
                "rental_index": index,
                "rental_source_line": pair["line"],
            }
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
