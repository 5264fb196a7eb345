#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: secret_file
short_description: Write a binary secret (such as a munge key) given as base64, without logging it
version_added: 0.1.0
description:
  - Writes the decoded bytes of O(content) to O(path) atomically when they differ from the file,
    with the given owner, group and mode (default C(0400)).
  - The content is never returned or shown in a diff; the result only says whether it changed and
    the SHA-256 of the file, so nodes can be compared without revealing the secret.
  - Optionally checks the decoded size against O(min_size) and O(max_size) before writing.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  path:
    description: The file to write.
    type: path
    required: true
  content:
    description: The secret, base64 encoded.
    type: str
    required: true
  min_size:
    description: Smallest accepted size in bytes.
    type: int
    default: 1
  max_size:
    description: Largest accepted size in bytes.
    type: int
    default: 1048576
  mode:
    description: File mode.
    type: raw
    default: "0400"
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Reports what would change without writing.
    support: full
  diff_mode:
    description: Reports only that the secret changed, never its content.
    support: partial
"""

EXAMPLES = r"""
- name: Install the cluster's munge key
  gpuforge.cluster.secret_file:
    path: /etc/munge/munge.key
    content: "{{ munge_key_b64 }}"
    owner: munge
    group: munge
    mode: "0400"
    min_size: 32
    max_size: 1024
  no_log: true
"""

RETURN = r"""
sha256:
  description: SHA-256 of the written secret (safe to compare between nodes).
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: Size of the secret in bytes.
  returned: always
  type: int
  sample: 1024
"""

import base64
import binascii
import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=True),
            min_size=dict(type="int", default=1),
            max_size=dict(type="int", default=1048576),
            mode=dict(type="raw", default="0400"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        secret = base64.b64decode(module.params["content"].strip(), validate=True)
    except (binascii.Error, ValueError):
        module.fail_json(msg="content for %s is not valid base64" % path)
    if not module.params["min_size"] <= len(secret) <= module.params["max_size"]:
        module.fail_json(msg="the secret for %s is %d bytes; it must be %d to %d bytes"
                         % (path, len(secret), module.params["min_size"], module.params["max_size"]))
    current = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            current = f.read()
    changed = current != secret
    if changed and not module.check_mode:
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".secret.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secret)
                f.flush()
                os.fsync(f.fileno())
            if current is None:
                # A new file: a rename in the same directory keeps it 0600 until owner, group and
                # mode are applied (atomic_move would make a new file 0666 & ~umask first).
                os.rename(tmp, path)
            else:
                module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    result = dict(changed=changed, path=path, sha256=hashlib.sha256(secret).hexdigest(), size=len(secret))
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    if module._diff and changed:
        result["diff"] = dict(before="(secret: %s)\n" % ("absent" if current is None else "old content"),
                              after="(secret: new content, sha256 %s)\n" % result["sha256"][:12],
                              before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
