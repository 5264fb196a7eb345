#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: render_file
short_description: Write a role's template or a content to a file on the controller (offline render)
version_added: 0.9.0
description:
  - Renders O(src) exactly as M(ansible.builtin.template) does (the same variables, template search path and
    Jinja settings), or takes O(content), and writes it to O(dest) on the controller, in the controller's
    own process.
  - For C(playbooks/render.yml), which writes every file the roles would write under a folder of the
    controller. M(ansible.builtin.template) and M(ansible.builtin.copy) would start the stat and copy modules
    once per file.
  - Parent folders are made (mode 0755). The file is replaced whole, and only when its bytes or mode differ.
  - This is an action plugin; nothing runs on a node.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  src:
    description:
      - A template, found as M(ansible.builtin.template) finds it (the role's C(templates/) first).
      - Exactly one of O(src) and O(content).
    type: str
  content:
    description: The text to write. Exactly one of O(src) and O(content).
    type: str
  dest:
    description: Absolute path of the file on the controller.
    type: path
    required: true
  mode:
    description: Octal permissions, such as C("0644").
    type: raw
    default: "0644"
  trim_blocks:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: bool
    default: true
  lstrip_blocks:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: bool
    default: false
  newline_sequence:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
    default: "\\n"
  output_encoding:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
    default: utf-8
  block_start_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
  block_end_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
  variable_start_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
  variable_end_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
  comment_start_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
  comment_end_string:
    description: As M(ansible.builtin.template) (only with O(src)).
    type: str
attributes:
  action:
    description: Runs as an action plugin.
    support: full
  check_mode:
    description: Reports whether the file would change and writes nothing.
    support: full
  diff_mode:
    description: No diff is shown.
    support: none
"""

EXAMPLES = r"""
- name: Render slurm.conf under the render folder
  gpuforge.cluster.render_file:
    src: slurm.conf.j2
    dest: "{{ gpuforge_render_dir }}/{{ inventory_hostname }}/etc/slurm/slurm.conf"
    mode: "0644"
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
  sample: /home/admin/cluster/build/render/node0/etc/slurm/slurm.conf
mode:
  description: Its permissions.
  returned: always
  type: str
  sample: "0644"
size:
  description: Its size in bytes.
  returned: always
  type: int
  sample: 1873
"""
