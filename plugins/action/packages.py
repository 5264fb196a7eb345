# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for gpuforge.cluster.packages: ask dpkg first, start apt only for what is missing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.gpuforge.cluster.plugins.module_utils import apt_faults

# Options handed to ansible.builtin.apt unchanged when something has to be installed.
APT_OPTIONS = ("update_cache", "cache_valid_time", "install_recommends", "allow_change_held_packages",
               "allow_downgrade")


def split_spec(spec):
    """'name', 'name=version' or 'name:arch=version' -> (name as dpkg-query prints it, version or None)."""
    name, _sep, version = spec.partition("=")
    return name.split(":", 1)[0], version or None


def missing(specs, installed):
    """The specs dpkg does not have installed (at the pinned version, where one is given)."""
    out = []
    for spec in specs:
        name, version = split_spec(spec)
        if name not in installed or (version is not None and installed[name] != version):
            out.append(spec)
    return out


# Fresh rental VMs run unattended-upgrades and cloud-init at boot: apt waits this long for the dpkg lock
# (ansible.builtin.apt's own default is 60 s), and cloud-init is waited for before apt starts.
FAULT_OPTIONS = {"lock_timeout": 600, "retries": 3, "retry_delay": 10, "cloud_init_timeout": 900}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name", "state", *APT_OPTIONS, *FAULT_OPTIONS))

    def _number(self, args, name):
        value = args.get(name, FAULT_OPTIONS[name])
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise AnsibleActionFail("%s must be a whole number of %s, got %r" % (
                name, "tries" if name == "retries" else "seconds", value))
        return int(value)

    def _wait_for_cloud_init(self, timeout, task_vars):
        """cloud-init status --wait where cloud-init is installed (it may still be installing packages)."""
        found = self._execute_module(module_name="ansible.builtin.stat",
                                     module_args={"path": "/usr/bin/cloud-init", "get_checksum": False},
                                     task_vars=task_vars)
        if not (found.get("stat") or {}).get("exists"):
            return None
        waited = self._execute_module(module_name="ansible.builtin.command", module_args={
            "argv": ["timeout", str(timeout), "cloud-init", "status", "--wait"]}, task_vars=task_vars)
        return (waited.get("stdout") or "").strip() or "rc=%s" % waited.get("rc")

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        specs = args.get("name")
        if isinstance(specs, str):
            specs = [specs]
        if not isinstance(specs, list) or not all(isinstance(s, str) and s for s in specs):
            raise AnsibleActionFail("name must be a package name or a list of them")
        if args.get("state", "present") != "present":
            raise AnsibleActionFail("state must be present (remove packages with ansible.builtin.apt)")
        numbers = dict((name, self._number(args, name)) for name in FAULT_OPTIONS)
        query = self._execute_module(module_name="gpuforge.cluster.dpkg_versions",
                                     module_args={"names": sorted({split_spec(s)[0] for s in specs})},
                                     task_vars=task_vars)
        if query.get("failed"):
            result.update(query)
            return result
        todo = missing(specs, query.get("packages", {}))
        if not todo:
            result.update(changed=False, missing=[], installed=query.get("packages", {}),
                          msg="all %d package(s) installed" % len(specs))
            return result
        apt_args = dict((k, v) for k, v in args.items() if k in APT_OPTIONS)
        apt_args.update(name=specs, state="present", lock_timeout=numbers["lock_timeout"])
        cloud_init = self._wait_for_cloud_init(numbers["cloud_init_timeout"], task_vars)
        attempts = 0
        while True:
            attempts += 1
            apt = self._execute_module(module_name="ansible.builtin.apt", module_args=apt_args, task_vars=task_vars)
            if not apt.get("failed"):
                break
            fault = apt_faults.classify(apt)
            if not fault["transient"] or attempts > numbers["retries"]:
                if fault["repositories"]:
                    apt["msg"] = apt_faults.final_message(apt, attempts)
                break
            time.sleep(numbers["retry_delay"] * 2 ** (attempts - 1))
        result.update(apt)
        result["missing"] = todo
        result["attempts"] = attempts
        if cloud_init is not None:
            result["cloud_init"] = cloud_init
        return result
