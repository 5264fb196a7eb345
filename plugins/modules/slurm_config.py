#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: slurm_config
short_description: Write Slurm's configuration files so that the restart they need cannot be lost
version_added: 0.5.0
description:
  - With O(state=present), compares O(files) with the files on the node and says what the change
    needs (RV(action)) - C(restart) when a setting in O(restart_keys), a node definition, or a file
    other than C(slurm.conf) changes; C(reconfigure) for any other C(slurm.conf) change - decided from
    the deployed files, not from a sentinel file.
  - Before it changes a file it keeps the files the daemons run now in O(state_dir)C(/previous) and
    writes a pending marker (O(state_dir)C(/pending.json)) naming the action. A run that dies after
    writing the files finds the marker next time, and RV(action) says the restart or reconfigure is
    still owed even though the files are unchanged.
  - With O(state=applied), removes the marker (call it once the daemons answer with the new files).
  - With O(state=restored), puts the kept files back (content, owner, group, mode; a file that did not
    exist is removed) and removes the marker; for a restart that left slurmctld down.
  - Every entry of O(files) is checked (absolute, not a link or directory, owner and group known) before
    anything is written; a marker that cannot be read fails naming it.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  files:
    description: The configuration files, in order (needed with O(state=present)).
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the file; its directory must exist.
        type: path
        required: true
      content:
        description: The whole content, written as UTF-8 exactly as given.
        type: str
        required: true
      owner: {description: User name or uid; left as it is when omitted., type: str}
      group: {description: Group name or gid; left as it is when omitted., type: str}
      mode: {description: Octal mode as a quoted string or an integer., type: raw, default: "0644"}
  restart_keys:
    description: slurm.conf settings that C(scontrol reconfigure) cannot apply (case-insensitive).
    type: list
    elements: str
    default: []
  main:
    description: Base name of the file among O(files) that holds these settings and the node lines.
    type: str
    default: slurm.conf
  restart_reasons:
    description: Reasons outside the files that need a restart (for example a new JWT key); recorded in
      the marker like the others.
    type: list
    elements: str
    default: []
  state:
    description: C(present) writes, C(applied) clears the marker, C(restored) puts the previous files back.
    type: str
    choices: [present, applied, restored]
    default: present
  state_dir:
    description: Where the marker and the previous files are kept (created 0700 root).
    type: path
    default: /var/lib/gpuforge/slurm_config
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode: {support: full, details: Returns the action a real run would need and writes nothing.}
  diff_mode: {support: full, details: One entry per file whose content changes.}
  platform: {support: full, platforms: posix}
"""

EXAMPLES = r"""
- name: Write the Slurm configuration
  gpuforge.cluster.slurm_config:
    files:
      - {dest: /etc/slurm/slurm.conf, content: "{{ lookup('ansible.builtin.template', 'slurm.conf.j2') }}"}
      - {dest: /etc/slurm/gres.conf, content: "{{ lookup('ansible.builtin.template', 'gres.conf.j2') }}"}
    restart_keys: [SlurmctldHost, SelectType, GresTypes]
  register: slurm_conf

- name: Restart slurmctld when the change needs it (also when an earlier run died before it did)
  ansible.builtin.systemd_service:
    name: slurmctld
    state: restarted
  when: slurm_conf.action == 'restart'

- name: Clear the marker
  gpuforge.cluster.slurm_config:
    state: applied
  when: slurm_conf.action != 'none'
"""

RETURN = r"""
action:
  description: What the daemons need to run the files now on the node - none, reconfigure or restart.
  returned: state=present
  type: str
  sample: restart
reasons:
  description: Why, one entry per setting or file (and the earlier run's reasons when it left a marker).
  returned: state=present
  type: list
  elements: str
  sample: ["SelectTypeParameters: CR_Core_Memory -> CR_Core", "gres.conf changed"]
pending:
  description: Whether an earlier run left the marker (its action is owed whatever changed now).
  returned: always
  type: bool
changed_files:
  description: O(files[].dest) whose content, owner, group or mode changed (or restored ones), in order.
  returned: always
  type: list
  elements: str
content_changed:
  description: O(files[].dest) whose content changed, in order.
  returned: state=present
  type: list
  elements: str
"""

import json
import os
import stat

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
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_config import (
    SlurmConfigError,
    backup_name,
    decide,
    file_key,
    marker_text,
    merge_marker,
    read_marker,
    restore_plan,
)


def _text(data):
    return None if data is None else data.decode("utf-8", "replace")


def _write(module, path, data, mode):
    replace_file(module, path, data)
    os.chmod(path, mode)


def _ensure_dir(path):
    if not os.path.isdir(path):
        os.makedirs(path, 0o700)
    os.chmod(path, 0o700)


def _backup(module, previous, files):
    """Keep the files the daemons run now (content and attributes), manifest last."""
    _ensure_dir(previous)
    manifest = {}
    for item in files:
        dest = item["dest"]
        data = read_bytes(dest)
        entry = {"existed": data is not None}
        if data is not None:
            info = os.stat(dest)
            entry.update(mode="%04o" % stat.S_IMODE(info.st_mode), uid=info.st_uid, gid=info.st_gid)
            _write(module, os.path.join(previous, backup_name(dest)), data, 0o600)
        manifest[dest] = entry
    _write(module, os.path.join(previous, "manifest.json"),
           (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), 0o600)


def _present(module, state_dir, marker_path, pending):
    p = module.params
    files = check_request(p["files"], [])[0]
    old, new, results, diffs = {}, {}, [], []
    for item in files:
        before = read_bytes(item["dest"])
        old[file_key(item["dest"])] = _text(before)
        new[file_key(item["dest"])] = item["content"]
        results.append(dict(item=item, before=before, content_changed=before != item["content"].encode("utf-8")))
    decision = decide(old, new, p["restart_keys"], pending, p["restart_reasons"], p["main"])
    content_changed = [r["item"]["dest"] for r in results if r["content_changed"]]
    forced = bool(p["restart_reasons"])
    if (content_changed or forced) and not module.check_mode:
        _ensure_dir(state_dir)
        if pending is None:  # the backup holds what the daemons last ran; an unfinished change keeps it
            _backup(module, os.path.join(state_dir, "previous"), files)
        marker = merge_marker(pending, decision, content_changed)
        _write(module, marker_path, marker_text(marker).encode(), 0o600)
    changed_files = []
    for r in results:
        item = r["item"]
        if r["content_changed"]:
            if not module.check_mode:
                replace_file(module, item["dest"], item["content"].encode("utf-8"))
            diffs.append(file_diff(item["dest"], r["before"], item["content"]))
        if set_attributes(module, item["dest"], item) or r["content_changed"]:
            changed_files.append(item["dest"])
    result = dict(changed=bool(changed_files) or (forced and not module.check_mode),
                  changed_files=changed_files, content_changed=content_changed,
                  action=decision["action"], reasons=decision["reasons"], pending=pending is not None)
    if module._diff:
        result["diff"] = diffs
    return result


def _restored(module, state_dir, marker_path, pending):
    previous = os.path.join(state_dir, "previous")
    manifest_path = os.path.join(previous, "manifest.json")
    data = read_bytes(manifest_path)
    if data is None:
        raise SlurmConfigError("%s: no previous configuration was kept here; nothing to put back" % manifest_path)
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise SlurmConfigError("%s: not JSON (%s)" % (manifest_path, exc)) from exc
    plan = restore_plan({dest: entry["existed"] for dest, entry in manifest.items()},
                        {dest: os.path.lexists(dest) for dest in manifest})
    changed = []
    for dest, what in plan:
        entry = manifest[dest]
        if what == "write":
            kept = read_bytes(os.path.join(previous, backup_name(dest)))
            if kept is None:
                raise SlurmConfigError("%s: the kept copy of %s is missing" % (previous, dest))
            info = os.stat(dest) if os.path.exists(dest) else None
            same = (read_bytes(dest) == kept and info is not None
                    and "%04o" % stat.S_IMODE(info.st_mode) == entry["mode"]
                    and (info.st_uid, info.st_gid) == (entry["uid"], entry["gid"]))
            if not same:
                changed.append(dest)
                if not module.check_mode:
                    replace_file(module, dest, kept)
                    os.chown(dest, entry["uid"], entry["gid"])
                    os.chmod(dest, int(entry["mode"], 8))
        elif what == "remove":
            changed.append(dest)
            if not module.check_mode:
                os.unlink(dest)
    if pending is not None and not module.check_mode:
        os.unlink(marker_path)
    return dict(changed=bool(changed) or pending is not None, changed_files=changed, pending=pending is not None)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", default=[], options=FILE_OPTIONS),
            restart_keys=dict(type="list", elements="str", default=[], no_log=False),
            main=dict(type="str", default="slurm.conf"),
            restart_reasons=dict(type="list", elements="str", default=[]),
            state=dict(type="str", choices=["present", "applied", "restored"], default="present"),
            state_dir=dict(type="path", default="/var/lib/gpuforge/slurm_config"),
        ),
        supports_check_mode=True,
    )
    state_dir = module.params["state_dir"]
    marker_path = os.path.join(state_dir, "pending.json")
    if module.params["state"] == "present" and not module.params["files"]:
        module.fail_json(msg="state=present needs files: the configuration files to write")
    try:
        pending = read_marker(_text(read_bytes(marker_path)), marker_path)
        if module.params["state"] == "present":
            result = _present(module, state_dir, marker_path, pending)
        elif module.params["state"] == "restored":
            result = _restored(module, state_dir, marker_path, pending)
        else:
            if pending is not None and not module.check_mode:
                os.unlink(marker_path)
            result = dict(changed=pending is not None, changed_files=[], pending=pending is not None)
    except (ConfigFilesError, SlurmConfigError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
