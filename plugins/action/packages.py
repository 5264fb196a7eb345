# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for gpuforge.cluster.packages: ask dpkg first, start apt only for what is missing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name", "state", *APT_OPTIONS))

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
        apt_args.update(name=specs, state="present")
        apt = self._execute_module(module_name="ansible.builtin.apt", module_args=apt_args, task_vars=task_vars)
        result.update(apt)
        result["missing"] = todo
        return result
