#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tmux_session
short_description: A tmux session on the head node with one pane per cluster node
version_added: 0.5.0
description:
  - Makes a detached tmux session on the head node, for the user the module runs as (use C(become_user)), with
    a window C(head) (a login shell on the head) and the nodes, head included, in node order. Up to four nodes
    share one window C(all-nodes); with five or more, windows C(nodes-1), C(nodes-2), ... hold four panes
    each. The head's pane there is a shell; a worker's pane runs C(ssh ALIAS) and falls back to a login shell
    when ssh ends.
  - Every pane gets the title C(ALIAS ADDRESS) (C(head ADDRESS) for the head) and its output is appended to
    C(LOG_DIR/WINDOW.N.log) through C(tmux pipe-pane -o), N counting the window's panes from 0.
  - An existing session that matches the layout (windows, number of panes, titles, start commands) is left
    as it is. One that differs is left as it is too, with a warning and the differences, unless
    O(recreate=true). A user's session is never killed silently.
  - tmux runs with the module's environment, so C(TMUX_TMPDIR) (or the task's C(environment)) chooses the
    server. The session lives as long as that tmux server; on hosts where logind kills a user's processes at
    logout (C(KillUserProcesses=yes)) it needs lingering for the user.
author:
  - gpuforge.cluster maintainers (@gpuforge)
requirements:
  - tmux 3.0 or later on the head
options:
  session:
    description: Name of the tmux session; no C(.) or C(:) (tmux would change them).
    type: str
    default: multinode
  nodes:
    description:
      - The cluster's nodes in order, exactly one of them the head. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      alias:
        description: The name C(ssh) is given for the node; the user's C(~/.ssh/config) resolves it (to the
          node's private address).
        type: str
        required: true
      address:
        description: The node's address, shown in the pane's title.
        type: str
        required: true
      head:
        description: This node is the head (the one the module runs on).
        type: bool
        default: false
      host:
        description: The node's inventory name (as the rental_aliases filter gives it); not used for the layout.
        type: str
  log_dir:
    description: Directory of the panes' logs; made with mode 0700 when missing.
    type: path
    default: ~/gpuforge-logs/tmux
  state:
    description: V(present) makes the session; V(absent) kills it.
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description: Kill and make again a session that differs from the layout.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reports what it would do and changes nothing.
    support: full
  diff_mode:
    description: Before and after as one line per pane, C(WINDOW.N TITLE | COMMAND).
    support: full
"""

EXAMPLES = r"""
- name: Make the tmux session on the head
  gpuforge.cluster.tmux_session:
    nodes:
      - {alias: head, address: 10.0.0.11, head: true}
      - {alias: worker1, address: 10.0.0.12}
  become: true
  become_user: ubuntu
"""

RETURN = r"""
panes:
  description: The session's panes after the run, as C(tmux list-panes) lists them; C(command) is null for a shell.
  returned: always
  type: list
  elements: dict
  sample: [{"session": "multinode", "window": "head", "index": 0, "title": "head 10.0.0.11", "command": null}]
differences:
  description: How the session found differed from the layout; empty when it matched or O(state=absent).
  returned: always
  type: list
  elements: str
  sample: ["window all-nodes has 2 panes, expected 3"]
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import run_tool
from ansible_collections.gpuforge.cluster.plugins.module_utils.tmux_layout import (
    LIST_FORMAT,
    TmuxLayoutError,
    compare,
    expected_panes,
    layout,
    parse_panes,
)

# The panes are the user's shells: they keep the user's locale (an empty value is unset), not the runner's C.
LOCALE = ("LC_ALL", "LANG", "LANGUAGE")


def tmux(module, *args, may_fail=False):
    env = {name: os.environ.get(name, "") for name in LOCALE}
    rc, out, err, argv = run_tool(module, "tmux", list(args), "tmux", env=env)
    if rc != 0 and not may_fail:
        module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join(argv), rc, err.strip()), cmd=argv, rc=rc)
    return rc, out


def listed(module, session):
    rc, out = tmux(module, "list-panes", "-a", "-F", LIST_FORMAT, may_fail=True)
    if rc != 0:  # no server running, or no socket yet: no sessions
        return []
    try:
        return [p for p in parse_panes(out) if p["session"] == session]
    except TmuxLayoutError as exc:
        module.fail_json(msg=str(exc))


def create(module, session, windows):
    for window in windows:
        os.makedirs(os.path.dirname(window["panes"][0]["log"]), mode=0o700, exist_ok=True)
        pane_ids = []
        for position, pane in enumerate(window["panes"]):
            if window is windows[0] and position == 0:
                args = ["new-session", "-d", "-s", session, "-n", window["window"]]
            elif position == 0:
                args = ["new-window", "-d", "-t", "=%s:" % session, "-n", window["window"]]
            else:
                args = ["split-window", "-d", "-t", pane_ids[-1]]
            args += ["-P", "-F", "#{pane_id}"] + ([pane["command"]] if pane["command"] else [])
            pane_ids.append(tmux(module, *args)[1].strip())
            tmux(module, "select-layout", "-t", pane_ids[0], "tiled")
        for pane_id, pane in zip(pane_ids, window["panes"]):
            tmux(module, "select-pane", "-t", pane_id, "-T", pane["title"])
            tmux(module, "pipe-pane", "-o", "-t", pane_id, "cat >> %s" % shlex.quote(pane["log"]))


def as_text(panes):
    """One line per pane, WINDOW.N TITLE | COMMAND, N counting the window's panes from 0."""
    lines, seen = [], {}
    for pane in panes:
        seen[pane["window"]] = position = seen.get(pane["window"], -1) + 1
        lines.append("%s.%d %s | %s\n" % (pane["window"], position, pane["title"], pane["command"] or "(shell)"))
    return "".join(lines)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            session=dict(type="str", default="multinode"),
            nodes=dict(type="list", elements="dict", options=dict(
                alias=dict(type="str", required=True),
                address=dict(type="str", required=True),
                head=dict(type="bool", default=False),
                host=dict(type="str"),
            )),
            log_dir=dict(type="path", default="~/gpuforge-logs/tmux"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            recreate=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["nodes"])],
        supports_check_mode=True,
    )
    session, present = module.params["session"], module.params["state"] == "present"
    if not session or set(session) & set(".:") or session != session.strip():
        module.fail_json(msg="session %r: give a name without '.', ':' or spaces around it" % session)
    windows = []
    if present:
        try:
            windows = layout(module.params["nodes"], module.params["log_dir"])
        except TmuxLayoutError as exc:
            module.fail_json(msg="nodes: %s" % exc)
    before = listed(module, session)
    differences = compare(windows, before, session) if present else []
    kill = bool(before) and (not present or bool(differences and module.params["recreate"]))
    make = present and (not before or kill)
    if before and differences and not kill:
        module.warn("tmux session %s differs from the layout and was left as it is (recreate=true replaces it): %s"
                    % (session, "; ".join(differences)))
    if module.check_mode:
        after = expected_panes(windows, session) if make else [] if kill else before
    else:
        if kill:
            tmux(module, "kill-session", "-t", "=" + session)
        if make:
            create(module, session, windows)
        after = listed(module, session)
    result = dict(changed=bool(kill or make), panes=after, differences=differences)
    if module._diff:
        result["diff"] = dict(before=as_text(before), after=as_text(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
