#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: config_files
short_description: Write several small configuration files and their directories in one task
version_added: 0.3.0
description:
  - Creates the O(directories), then writes each of O(files) whose bytes differ from its content
    (atomically) and sets owner, group and mode; one task and one round trip instead of one per file.
  - Render the content on the controller, for example with C(lookup('ansible.builtin.template', ...)).
    It is a module argument; use M(gpuforge.cluster.secret_file) for secrets.
  - Checks every entry before it changes anything (absolute, not listed twice, parent directory present
    or listed, owner and group known, no link, directory or other non-regular file at a O(files[].dest))
    and fails naming each offending path, having written nothing.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  files:
    description: The files to write, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Absolute path of the file; its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description: The whole content, written as UTF-8 exactly as given.
        type: str
        required: true
      owner: {description: User name or uid; left as it is when omitted., type: str}
      group: {description: Group name or gid; left as it is when omitted., type: str}
      mode: {description: Octal mode as a quoted string or an integer., type: raw, default: "0644"}
  directories:
    description:
      - Directories to create before the files when missing, only the last component (the parent must
        exist or be listed before), and whose owner, group and mode are fixed when they differ.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path of the directory., type: path, required: true}
      owner: {description: User name or uid; left as it is when omitted., type: str}
      group: {description: Group name or gid; left as it is when omitted., type: str}
      mode: {description: Octal mode as a quoted string or an integer., type: raw, default: "0755"}
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode: {support: full, details: Returns what a real run would and writes nothing.}
  diff_mode: {support: full, details: One entry per file whose content changes.}
  platform: {support: full, platforms: posix}
"""

EXAMPLES = r"""
- name: Write the Slurm configuration
  gpuforge.cluster.config_files:
    directories:
      - path: /etc/slurm
    files:
      - dest: /etc/slurm/slurm.conf
        content: "{{ lookup('ansible.builtin.template', 'slurm.conf.j2') }}"
      - {dest: /etc/slurm/cgroup.conf, content: "{{ cgroup_conf }}", owner: slurm, group: slurm, mode: "0640"}
  notify: Restart slurmd
"""

RETURN = r"""
changed_files:
  description: O(files[].dest) of the files whose content, owner, group or mode changed, in input order.
  returned: always
  type: list
  elements: str
  sample: ["/etc/slurm/slurm.conf"]
content_changed:
  description: O(files[].dest) of the files whose content changed (or that were created), in input order.
  returned: always
  type: list
  elements: str
  sample: ["/etc/slurm/slurm.conf"]
created_directories:
  description: Directories that were created.
  returned: always
  type: list
  elements: str
  sample: ["/etc/slurm"]
changed_directories:
  description: Directories that were created or whose owner, group or mode changed.
  returned: always
  type: list
  elements: str
  sample: ["/etc/slurm"]
results:
  description: One entry per file, in input order.
  returned: always
  type: list
  elements: dict
  sample: [{"dest": "/etc/slurm/slurm.conf", "changed": true, "content_changed": true}]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.config_files import (
    FILE_OPTIONS,
    ConfigFilesError,
    check_request,
    file_diff,
    read_bytes,
    replace_file,
    set_attributes,
)

ATTRS = dict(owner=dict(type="str"), group=dict(type="str"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=FILE_OPTIONS),
            directories=dict(type="list", elements="dict", default=[], options=dict(
                ATTRS, path=dict(type="path", required=True), mode=dict(type="raw", default="0755"))),
        ),
        supports_check_mode=True,
    )
    created, changed_dirs, results, diffs = [], [], [], []
    try:
        files, directories = check_request(module.params["files"], module.params["directories"])
        for item in directories:
            if not os.path.isdir(item["path"]):
                created.append(item["path"])
                if not module.check_mode:
                    os.mkdir(item["path"], item["mode"])
            if set_attributes(module, item["path"], item) or item["path"] in created:
                changed_dirs.append(item["path"])
        for item in files:
            dest, data = item["dest"], item["content"].encode("utf-8")
            before = read_bytes(dest)
            content_changed = before != data
            if content_changed and not module.check_mode:
                replace_file(module, dest, data)
            changed = set_attributes(module, dest, item) or content_changed
            results.append(dict(dest=dest, changed=changed, content_changed=content_changed))
            if content_changed:
                diffs.append(file_diff(dest, before, item["content"]))
    except (ConfigFilesError, OSError) as exc:
        module.fail_json(msg=str(exc), changed_files=[r["dest"] for r in results if r["changed"]])
    result = dict(
        changed=bool(changed_dirs) or any(r["changed"] for r in results),
        changed_files=[r["dest"] for r in results if r["changed"]],
        content_changed=[r["dest"] for r in results if r["content_changed"]],
        created_directories=created, changed_directories=changed_dirs, results=results)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
