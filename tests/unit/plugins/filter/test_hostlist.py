from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.hostlist import FilterModule

FILTERS = FilterModule().filters()


def test_expand():
    assert FILTERS["hostlist_expand"]("node[001-002],login") == ["node001", "node002", "login"]


def test_compress_list_and_string():
    assert FILTERS["hostlist_compress"](["gpu1", "gpu2", "gpu3"]) == "gpu[1-3]"
    assert FILTERS["hostlist_compress"]("node01,node02") == "node[01-02]"


def test_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError):
        FILTERS["hostlist_expand"]("node[1-")
    with pytest.raises(AnsibleFilterError):
        FILTERS["hostlist_compress"](["bad name"])
