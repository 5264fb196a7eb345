# -*- coding: utf-8 -*-
# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for gpuforge.cluster.render_file: a role's template (rendered exactly as ansible.builtin.template renders
it) or a content, written to a file on the controller in this process (playbooks/render.yml).

ansible.builtin.template and ansible.builtin.copy run the stat and copy modules for every file, each a Python
start that compiles ansible's module_utils from source (about 0.3 s of CPU); render.yml writes hundreds of files.
The rendering is the template action's own (its variables, search path and Jinja settings): only its last
step, the hand-off to ansible.legacy.copy, is replaced by a local write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action.template import ActionModule as TemplateAction

TEMPLATE_ONLY = ("newline_sequence", "block_start_string", "block_end_string", "variable_start_string",
                 "variable_end_string", "comment_start_string", "comment_end_string", "trim_blocks",
                 "lstrip_blocks", "output_encoding")
ARGS = frozenset(("src", "content", "dest", "mode", *TEMPLATE_ONLY))


def parse_mode(mode):
    """'0644', '644', 0o644 or 420 -> the permission bits; None -> 0o644."""
    if mode is None:
        return 0o644
    if isinstance(mode, int):
        return mode & 0o7777
    text = str(mode).strip()
    try:
        value = int(text, 8)
    except ValueError:
        raise AnsibleActionFail("mode must be octal digits such as '0644' (symbolic modes are not supported), "
                                "got %r" % (mode,)) from None
    if value > 0o7777:
        raise AnsibleActionFail("mode %r is not a permission (more than 4 octal digits)" % (mode,))
    return value


def write_file(dest, data, mode, check_mode=False):
    """Write ``data`` (bytes) to ``dest`` with ``mode``, parent folders made 0755; changed when the bytes or the mode
    differ. The file is replaced whole (a temporary file beside it, renamed)."""
    path = to_bytes(dest, errors="surrogate_or_strict")
    try:
        with open(path, "rb") as f:
            old = f.read()
        old_mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        old, old_mode = None, None
    changed = old != data or old_mode != mode
    if changed and not check_mode:
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=b".render-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, mode)
            os.rename(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return {"changed": changed, "dest": to_text(path), "mode": "0%03o" % mode, "size": len(data)}


class _LocalCopy(object):
    """Stands in for the ansible.legacy.copy action the template action hands its rendered file to."""

    def __init__(self, task, check_mode):
        self._task = task
        self._check_mode = check_mode

    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        with open(to_bytes(args["src"], errors="surrogate_or_strict"), "rb") as f:
            data = f.read()
        return write_file(args["dest"], data, parse_mode(args.get("mode")), self._check_mode)


class _ActionLoader(object):
    def __init__(self, real, check_mode):
        self._real = real
        self._check_mode = check_mode

    def get(self, name, *args, **kwargs):
        if name == "ansible.legacy.copy":
            return _LocalCopy(kwargs["task"], self._check_mode)
        return self._real.get(name, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


class _Loaders(object):
    def __init__(self, real, check_mode):
        self._real = real
        self.action_loader = _ActionLoader(real.action_loader, check_mode)

    def __getattr__(self, name):
        return getattr(self._real, name)


class ActionModule(TemplateAction):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        unknown = sorted(set(args) - ARGS)
        if unknown:
            raise AnsibleActionFail("unsupported parameter(s): %s (supported: %s)"
                                    % (", ".join(unknown), ", ".join(sorted(ARGS))))
        if ("src" in args) == ("content" in args):
            raise AnsibleActionFail("exactly one of src (a template) and content is required")
        dest = args.get("dest")
        if not dest or not os.path.isabs(str(dest)):
            raise AnsibleActionFail("dest must be an absolute path on the controller, got %r" % (dest,))
        mode = parse_mode(args.get("mode"))  # before anything is written
        if "content" in args:
            extra = sorted(set(args) & set(TEMPLATE_ONLY))
            if extra:
                raise AnsibleActionFail("%s only go with src (a template)" % ", ".join(extra))
            content = args["content"]
            if not isinstance(content, str):
                raise AnsibleActionFail("content must be a string, got %s" % type(content).__name__)
            return write_file(dest, to_bytes(content, errors="surrogate_or_strict"), mode, self._task.check_mode)
        real = self._shared_loader_obj
        self._shared_loader_obj = _Loaders(real, self._task.check_mode)
        try:
            return super(ActionModule, self).run(tmp, task_vars)
        finally:
            self._shared_loader_obj = real
