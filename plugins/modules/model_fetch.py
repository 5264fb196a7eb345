#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_fetch
short_description: Download a model file that resumes, retries a bounded number of times and proves its sha256
version_added: 0.5.0
description:
  - Downloads O(url) to O(dest) through C(dest.part). A partial file is resumed with C(Range - bytes=N-) (a server
    that ignores Range sends the whole file again); a response that breaks off is resumed by the next try; a
    finished file whose sha256 is not O(sha256) is deleted and fetched again.
  - After O(tries) failed tries (each bounded by O(timeout) seconds without data, then a backoff of O(backoff),
    2 x O(backoff)... at most 60 s) the module fails with one message; the bytes fetched stay in C(dest.part)
    for the next run. It never loops without end.
  - A file already verified (a marker C(.<name>.sha256) beside it names its sha256, size and mtime) costs no
    request at all; a file present without marker is hashed once.
  - With O(url) left out the module only verifies O(dest) (a copy distributed from the staging host) and fails
    when it is missing or differs.
  - A bearer token (Hugging Face) is read on the node from O(token_file), never passed as an argument.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  url:
    description: The file's http(s) URL; leave out to verify O(dest) only.
    type: str
  dest:
    description: Where the file goes.
    type: path
    required: true
  sha256:
    description: The file's SHA-256 (64 hex digits).
    type: str
    required: true
  tries:
    description: Tries in all before giving up.
    type: int
    default: 5
  timeout:
    description: Seconds a try may wait for a connection or for data.
    type: int
    default: 30
  backoff:
    description: Seconds before the second try, doubled for each further one (at most 60).
    type: float
    default: 2.0
  token_file:
    description: A file on the node holding a bearer token for the server (C(Authorization - Bearer ...)).
    type: path
  missing_ok:
    description: Without O(url) - report a missing or differing O(dest) as RV(verified=false) instead of failing.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Stage a model shard on the head
  gpuforge.cluster.model_fetch:
    url: https://huggingface.co/org/model/resolve/main/model-00001-of-00002.safetensors
    dest: /var/cache/gpuforge/models/org/model/model-00001-of-00002.safetensors
    sha256: 0f4c7d6c9c5c4e1f4b9d2a7b6e8f0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70
    token_file: /var/cache/gpuforge/models/.hf-token
"""

RETURN = r"""
attempts:
  description: Tries made (0 when the file was already verified).
  returned: always
  type: int
  sample: 2
requests:
  description: Each try's C(Range) header (null for the whole file), HTTP status and bytes received.
  returned: always
  type: list
  elements: dict
  sample: [{"range": null, "status": 200, "bytes": 2097152}, {"range": "bytes=2097152-", "status": 206, "bytes": 2097152}]
verified:
  description: Whether O(dest) is the file with O(sha256) at the end.
  returned: always
  type: bool
  sample: true
bytes_fetched:
  description: Bytes received in all tries.
  returned: always
  type: int
  sample: 4194304
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.gpuforge.cluster.plugins.module_utils.model_fetch import (
    FetchError,
    fetch,
    file_sha256,
    mark,
    verified,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(url=dict(type="str"), dest=dict(type="path", required=True),
                           sha256=dict(type="str", required=True), tries=dict(type="int", default=5),
                           timeout=dict(type="int", default=30), backoff=dict(type="float", default=2.0),
                           token_file=dict(type="path", no_log=False), missing_ok=dict(type="bool", default=False)),
        supports_check_mode=True,
    )
    p = module.params
    sha256 = (p["sha256"] or "").lower()
    if p["tries"] < 1 or p["timeout"] < 1 or p["backoff"] < 0:
        module.fail_json(msg="tries and timeout must be at least 1, backoff not negative")
    if p["url"] is None:
        marked = os.path.exists(p["dest"]) and verified(p["dest"], sha256)
        if marked or (os.path.exists(p["dest"]) and file_sha256(p["dest"]) == sha256):
            changed = not marked
            if changed and not module.check_mode:
                mark(p["dest"], sha256)
            module.exit_json(changed=changed, attempts=0, requests=[], bytes_fetched=0, verified=True)
        if p["missing_ok"]:
            module.exit_json(changed=False, attempts=0, requests=[], bytes_fetched=0, verified=False)
        module.fail_json(msg="%s is missing or its sha256 is not %s" % (p["dest"], sha256), verified=False)
    if not p["url"].startswith(("https://", "http://")):
        module.fail_json(msg="url must be http(s), got %s" % p["url"])
    if module.check_mode:
        done = os.path.exists(p["dest"]) and verified(p["dest"], sha256)
        module.exit_json(changed=not done, attempts=0, requests=[], bytes_fetched=0, verified=done)
    headers = {}
    if p["token_file"]:
        try:
            with open(p["token_file"], encoding="utf-8") as handle:
                headers["Authorization"] = "Bearer " + handle.read().strip()
        except OSError as exc:
            module.fail_json(msg="cannot read token_file %s: %s" % (p["token_file"], exc.strerror))

    def opener(url, request_headers, timeout):
        return open_url(url, headers=request_headers, timeout=timeout, follow_redirects="all",
                        http_agent="gpuforge.cluster model_fetch")

    folder = os.path.dirname(p["dest"])
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, 0o755)
    try:
        result = fetch(opener, p["url"], p["dest"], sha256, tries=p["tries"], timeout=p["timeout"],
                       backoff=p["backoff"], headers=headers)
    except FetchError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(verified=True, **result)


if __name__ == "__main__":
    main()
