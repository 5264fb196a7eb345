# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: node_logs
type: notification
short_description: One log file per host, and the tail of each failed host's log at the end
version_added: 0.5.0
description:
  - Does nothing unless the play's C(vars) set C(gpuforge_node_logs) to a directory (a relative path is
    relative to the current directory; a Jinja expression of play variables such as C(playbook_dir) is
    rendered). A play without it logs nothing.
  - For that play, appends one block per host result to C(DIR/HOST.log) (ok, changed, failed, skipped,
    unreachable, retries and each loop item) with an ISO 8601 timestamp, the play, the task, the status,
    and the result's C(msg), C(stdout) and C(stderr) (and C(module_stdout) and C(module_stderr) of a
    module that crashed), indented. A result of a C(no_log) task shows only one line saying its output is hidden (no_log).
  - A delegated task's result goes to the log of the host the task ran for, naming where it ran.
  - The directory is made with mode 0700 when missing; every log file has mode 0600.
  - 'At the end of the playbook, for every host with a failed task or unreachable, it prints the last 100
    lines of the host''s log under C(==== HOST: failed - last 100 lines of PATH ====), then one line saying
    where the logs are.'
  - A callback of a collection is loaded only when it is listed in C(callbacks_enabled) (ansible.cfg or
    E(ANSIBLE_CALLBACKS_ENABLED)); being listed there does not turn it on, the play variable does.
author:
  - gpuforge.cluster maintainers (@gpuforge)
requirements:
  - the play variable C(gpuforge_node_logs) set to a directory
"""

import collections
import datetime
import json
import os

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible_collections.gpuforge.cluster.plugins.plugin_utils.play_vars import play_var

PLAY_VAR = "gpuforge_node_logs"
TAIL_LINES = 100
TEXT_KEYS = ("msg", "stdout", "stderr", "module_stdout", "module_stderr")
HIDDEN = "(output hidden: no_log)"
INDENT = "    "


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "gpuforge.cluster.node_logs"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._dir = None  # the current play's log directory, None when it logs nothing
        self._play = ""
        self._logs = {}  # host name -> its log file, over the whole playbook

    # ------------------------------------------------------------------ where

    def v2_playbook_on_play_start(self, play):
        self._play = to_text(play.get_name()).strip()
        self._dir = None
        value = play_var(play, PLAY_VAR, self._display, self.CALLBACK_NAME)
        if not value:
            return
        path = os.path.abspath(os.path.expanduser(to_text(value)))
        try:
            if not os.path.isdir(path):
                os.makedirs(path, 0o700)
                os.chmod(path, 0o700)  # whatever the umask
        except OSError as exc:
            self._display.warning("%s: cannot make %s (%s): no node logs for play %r"
                                  % (self.CALLBACK_NAME, path, exc, self._play))
            return
        self._dir = path

    def _log_path(self, host):
        name = to_text(host).replace(os.sep, "_")
        if name.startswith("."):
            name = "_" + name[1:]
        return os.path.join(self._dir, name + ".log")

    # ------------------------------------------------------------------ what

    def _write(self, result, status, item=False):
        if self._dir is None:
            return
        host = result.host.get_name()
        task = result.task
        data = result.result
        lines = ["%s  play %r  task %r  %s" % (
            datetime.datetime.now().astimezone().isoformat(timespec="seconds"), self._play,
            to_text(task.get_name()).strip(), status)]
        delegated = (data.get("_ansible_delegated_vars") or {}).get("ansible_delegated_host") or task.delegate_to
        if delegated and to_text(delegated) != host:
            lines.append("%sdelegated to %s" % (INDENT, to_text(delegated)))
        if data.get("_ansible_no_log") or "censored" in data:
            lines.append(INDENT + HIDDEN)
        else:
            if item:
                lines.append("%sitem: %s" % (INDENT, to_text(self._get_item_label(data))))
            for key in TEXT_KEYS:
                text = data.get(key)
                if key == "msg" and data.get("results") and text == "All items completed":
                    continue  # the items have their own blocks
                if text in (None, "", []):
                    continue
                if not isinstance(text, str):
                    text = json.dumps(text, indent=2, sort_keys=True, default=to_text)
                lines.append("%s%s:" % (INDENT, key))
                lines.extend(INDENT * 2 + line for line in text.splitlines() or [""])
        path = self._log_path(host)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, ("\n".join(lines) + "\n").encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except OSError as exc:  # a full disk must not stop the playbook: say so once, log no more this play
            self._display.warning("%s: cannot write %s (%s): no more node logs for play %r"
                                  % (self.CALLBACK_NAME, path, exc, self._play))
            self._dir = None
            return
        self._logs[host] = path

    def v2_runner_on_ok(self, result):
        self._write(result, "changed" if result.is_changed() else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed (ignored)" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")

    def v2_runner_retry(self, result):
        self._write(result, "retrying (attempt %s of %s)" % (
            result.result.get("attempts", "?"), result.result.get("retries", "?")))

    def v2_runner_item_on_ok(self, result):
        self._write(result, "item " + ("changed" if result.is_changed() else "ok"), item=True)

    def v2_runner_item_on_failed(self, result):
        self._write(result, "item failed", item=True)

    def v2_runner_item_on_skipped(self, result):
        self._write(result, "item skipped", item=True)

    # ------------------------------------------------------------------ the end

    def v2_playbook_on_stats(self, stats):
        if not self._logs:
            return
        for host in sorted(self._logs):
            summary = stats.summarize(host)
            if not (summary.get("failures") or summary.get("unreachable")):
                continue
            path = self._logs[host]
            self._display.display("==== %s: failed - last %d lines of %s ====" % (host, TAIL_LINES, path),
                                  stderr=True)
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    tail = collections.deque(handle, maxlen=TAIL_LINES)
            except OSError as exc:
                tail = ["(cannot read it: %s)\n" % exc]
            self._display.display("".join(tail).rstrip("\n"), stderr=True)
        folders = sorted({os.path.dirname(p) for p in self._logs.values()})
        self._display.display("node logs (one file per host, HOST.log): %s" % ", ".join(folders), stderr=True)
