# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn {file name: content} into the ``files`` list of gpuforge.cluster.config_files."""

from ansible.errors import AnsibleFilterError


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


class FilterModule:
    def filters(self):
        return {"config_file_list": config_file_list}
