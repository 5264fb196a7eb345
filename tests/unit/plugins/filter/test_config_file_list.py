"""config_file_list: {name: content} -> config_files' files list."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.config_files import config_file_list


def test_entries_in_order_with_attributes():
    out = config_file_list({"slurm.conf": "a\n", ".keys": "b\n"}, "/etc/slurm/", mode="0600")
    assert out == [
        {"dest": "/etc/slurm/slurm.conf", "content": "a\n", "owner": "root", "group": "root", "mode": "0600"},
        {"dest": "/etc/slurm/.keys", "content": "b\n", "owner": "root", "group": "root", "mode": "0600"},
    ]


@pytest.mark.parametrize(("texts", "directory", "message"), [
    (["slurm.conf"], "/etc/slurm", "expects a dict"),
    ({"slurm.conf": ""}, "etc/slurm", "must be absolute"),
    ({"../x": ""}, "/etc/slurm", "is not a file name"),
])
def test_bad_input_is_named(texts, directory, message):
    with pytest.raises(AnsibleFilterError, match=message):
        config_file_list(texts, directory)
