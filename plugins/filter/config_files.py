# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn {file name: content} into the ``files`` list of gpuforge.cluster.config_files; key = value text."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.config_files import (
    key_value_text as _key_value_text,
)


def config_file_list(texts, directory, mode="0644", owner="root", group="root"):
    """One entry per name, in the order given: dest is directory/name, with owner, group and mode."""
    if not isinstance(texts, dict):
        raise AnsibleFilterError("config_file_list: expects a dict of file name to content, got %s"
                                 % type(texts).__name__)
    if not str(directory).startswith("/"):
        raise AnsibleFilterError("config_file_list: the directory must be absolute, got %r" % (directory,))
    out = []
    for name, content in texts.items():
        if not name or "/" in name:
            raise AnsibleFilterError("config_file_list: %r is not a file name" % (name,))
        out.append({"dest": str(directory).rstrip("/") + "/" + name, "content": str(content),
                    "owner": owner, "group": group, "mode": mode})
    return out


def key_value_text(params, separator=" = "):
    """{'b': 1, 'a': 'x'} -> 'a = x\nb = 1\n' (keys sorted, one line each)."""
    if not isinstance(params, dict):
        raise AnsibleFilterError("key_value_text: expects a dict, got %s" % type(params).__name__)
    return _key_value_text(params, str(separator))


class FilterModule:
    def filters(self):
        return {"config_file_list": config_file_list, "key_value_text": key_value_text}
