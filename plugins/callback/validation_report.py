# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: validation_report
type: notification
short_description: Write the validation report (report.json, report.md, report.html) at the end of a playbook
version_added: 0.9.0
description:
  - Does nothing unless a play's C(vars) set C(gpuforge_report_dir) to a folder (a Jinja expression of play
    variables is rendered; validate.yml, rental.yml and inference.yml set it from
    C(playbooks/vars/report.yml)). Only plays that set it are reported.
  - Keeps, for every task result of those plays, its name, role, host, status and the few keys a report reads
    (assert messages, C(checks) lists, nccl-tests rows and expectation, the RDMA/TCP pair table, DDP runs,
    C(stack_versions), C(nvidia_smi) and C(ibstat) facts). A C(no_log) result keeps its status only.
  - At the end of the playbook writes C(DIR/TIMESTAMP/report.json) (docs/schemas/report.schema.json),
    C(report.md) and a self-contained C(report.html) (no script, nothing fetched; charts as inline SVG), points
    C(DIR/latest) at it and compares it with the report C(latest) pointed at before (what started failing, what
    got slower). Prints the verdict, the skipped checks with their reasons, and where the report is.
  - Beside them, C(observations.json) keeps what the callback read of each task result (the input of
    C(plugins/module_utils/report.py), which rebuilds the report from it).
  - Where M(gpuforge.cluster.stack_versions) ran, also writes the versions table C(DIR/versions.md) and
    C(DIR/versions.json) (one row per host; rewritten only when it changed).
  - A relative C(DIR) is relative to the current directory.
  - A callback of a collection is loaded only when it is listed in C(callbacks_enabled) (ansible.cfg or
    E(ANSIBLE_CALLBACKS_ENABLED)); being listed there does not turn it on, the play variable does.
author:
  - gpuforge.cluster maintainers (@gpuforge)
requirements:
  - the play variable C(gpuforge_report_dir) set to a folder
"""

import datetime
import json
import os
import re

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase
from ansible_collections.gpuforge.cluster.plugins.module_utils import report as rep
from ansible_collections.gpuforge.cluster.plugins.module_utils import stack_versions
from ansible_collections.gpuforge.cluster.plugins.plugin_utils.play_vars import play_var

PLAY_VAR = "gpuforge_report_dir"


def natural(name):
    """Sort key: node2 before node10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", to_text(name))]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "gpuforge.cluster.validation_report"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._dir = None  # the report folder of this playbook (the first play that names one)
        self._active = False  # the current play is reported
        self._play = None
        self._playbook = ""
        self._observations = []
        self._hosts = []  # every host a reported play had a result for

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(to_text(getattr(playbook, "_file_name", "") or "playbook"))

    def v2_playbook_on_play_start(self, play):
        manager = getattr(play, "_variable_manager", None)
        self._play = play
        self._active = PLAY_VAR in (play.get_vars() or {}) or (
            manager is not None and PLAY_VAR in manager.get_vars(play=play))

    def _where(self, host):
        """The report folder, rendered with the first reported host's variables (gpuforge_cluster_name and
        gpuforge_reports_dir may come from the inventory)."""
        value = play_var(self._play, PLAY_VAR, self._display, self.CALLBACK_NAME, host=host)
        if value:
            self._dir = os.path.abspath(os.path.expanduser(to_text(value)))
        else:
            self._active = False

    # ------------------------------------------------------------------ what

    def _keep(self, result, status):
        if self._active and self._dir is None:
            self._where(result.host)
        if not self._active:
            return
        task = result.task
        role = getattr(task, "_role", None)
        role_name = to_text(role.get_name()) if role is not None else None
        if role_name and role_name.startswith("gpuforge.cluster."):
            role_name = role_name[len("gpuforge.cluster."):]
        data = dict(result.result)
        if isinstance(data.get("results"), list):  # a loop: its items' messages (the failed ones when it failed)
            items = [i for i in data["results"] if isinstance(i, dict) and (status != "failed" or i.get("failed"))]
            said = [to_text(i.get("msg")) for i in items if i.get("msg") and not i.get("_ansible_no_log")
                    and i.get("msg") not in rep.QUIET]
            data["msg"] = "; ".join(said) or data.get("msg")
        no_log = bool(data.get("_ansible_no_log")) or "censored" in data
        args = (data.get("invocation") or {}).get("module_args") or {}
        host = result.host.get_name()
        if host not in self._hosts:
            self._hosts.append(host)
        name = to_text(task.get_name()).strip()
        if role is not None and " : " in name:  # "gpuforge.cluster.nccl : Run ..." - the role has its column
            name = name.split(" : ", 1)[1]
        self._observations.append(rep.observation(name, role_name, host, status, to_text(task.action), data,
                                                  args, no_log=no_log))

    def v2_runner_on_ok(self, result):
        self._keep(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            # A failure the play tolerates is not a failed check, unless the result judged something.
            if not result.result.get("checks"):
                return
            self._keep(result, "ok")
            return
        self._keep(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._keep(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._keep(result, "unreachable")

    # ------------------------------------------------------------------ the end

    def v2_playbook_on_stats(self, stats):
        if self._dir is None:
            return
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        previous, latest = None, os.path.join(self._dir, "latest")
        try:
            with open(os.path.join(latest, "report.json"), encoding="utf-8") as handle:
                previous = json.load(handle)
        except (OSError, ValueError):
            previous = None
        # Natural order (node2 before node10): results arrive in whatever order the forks finish.
        hosts = sorted(self._hosts, key=natural)
        report = rep.build_report(self._observations, os.path.basename(self._dir), now.isoformat(),
                                  self._playbook, hosts, previous=previous)
        if not (report["checks"] or report["nccl"] or report["network"] or report["ddp"]):
            # site.yml without its validate stage (gpuforge_validate false): every reported task was skipped.
            if any(o["status"] != "skipped" for o in self._observations):
                self._display.display("validation report: nothing was checked, none written", stderr=True)
            return
        folder = os.path.join(self._dir, now.strftime("%Y%m%dT%H%M%SZ"))
        n = 1
        while os.path.lexists(folder if n == 1 else "%s-%d" % (folder, n)):
            n += 1  # two runs within one second keep both reports
        folder = folder if n == 1 else "%s-%d" % (folder, n)
        try:
            os.makedirs(folder, 0o755)
            for name, text in (("report.json", json.dumps(report, indent=2, sort_keys=True) + "\n"),
                               ("observations.json", json.dumps({"hosts": hosts, "observations": self._observations},
                                                                indent=1, sort_keys=True, default=to_text) + "\n"),
                               ("report.md", rep.render_markdown(report)),
                               ("report.html", rep.render_html(report))):
                with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            tmp = latest + ".new"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(os.path.basename(folder), tmp)
            os.replace(tmp, latest)
        except OSError as exc:  # a full disk must not hide the run's own result: say so
            self._display.warning("%s: cannot write the report to %s (%s)" % (self.CALLBACK_NAME, folder, exc))
            return
        self._write_versions()
        s = report["summary"]
        lines = ["validation report: %s - %d passed, %d failed, %d skipped" % (
            report["verdict"].upper(), s["pass"], s["fail"], s["skipped"])]
        lines += ["  skipped: %s (%s): %s" % (c["name"], ", ".join(c["hosts"]), c["reason"])
                  for c in report["checks"] if c["verdict"] == "skipped"]
        lines += ["  FAILED: %s (%s): %s" % (c["name"], ", ".join(c["hosts"]), (c["detail"] or "")[:300])
                  for c in report["checks"] if c["verdict"] == "fail"]
        comp = report["comparison"]
        if comp:
            lines += ["  started failing since %s: %s" % (comp["previous"], n) for n in comp["new_failures"]]
            lines += ["  slower since %s: %s %s -> %s" % (comp["previous"], x["name"], x["before"], x["now"])
                      for x in comp["slower"]]
        lines.append("  report: %s/report.html (.md, .json); latest: %s" % (folder, latest))
        self._display.display("\n".join(lines), stderr=True)

    def _write_versions(self):
        """versions.md and versions.json beside the runs, from what stack_versions returned (each host's last
        answer); rewritten only when they changed."""
        rows = {}
        for obs in self._observations:
            if obs["status"] == "ok" and isinstance(obs["data"].get("versions"), dict):
                rows[obs["host"]] = obs["data"]["versions"]
        if not rows:
            return
        rows = {h: rows[h] for h in sorted(rows, key=natural)}
        for name, text in (("versions.md", stack_versions.table(rows)),
                           ("versions.json", json.dumps(rows, indent=4, sort_keys=True) + "\n")):
            path = os.path.join(self._dir, name)
            try:
                with open(path, encoding="utf-8") as handle:
                    if handle.read() == text:
                        continue
            except OSError:
                pass
            try:
                with open(path + ".new", "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(path + ".new", path)
            except OSError as exc:
                self._display.warning("%s: cannot write %s (%s)" % (self.CALLBACK_NAME, path, exc))
