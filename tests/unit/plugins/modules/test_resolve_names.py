"""resolve_names: list and dict forms against a patched resolver (socket.gethostbyname/getaddrinfo).

The table mimics a Debian/Ubuntu node before the cluster /etc/hosts block: the node's own name still
on the installer's 127.0.1.1 line, the other nodes on the cluster network.
"""

from __future__ import annotations

import socket
from unittest.mock import patch

import pytest
from ansible_collections.gpuforge.cluster.plugins.modules import resolve_names

from .harness import run_module

V4 = {
    "node0": "127.0.1.1",
    "node1": "10.77.0.11",
    "node1.cluster.example": "10.77.0.11",
    "node2": "10.77.0.12",
}
V6 = {"node1": "fd00::11"}


def gethostbyname(name):
    if name == "bad\u00e9..name":
        raise UnicodeError("label empty or too long")
    try:
        return V4[name]
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


def getaddrinfo(name, port, family=0, type=0, *a, **k):
    assert family == socket.AF_INET6 and type == socket.SOCK_STREAM
    if name not in V6:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (V6[name], 0, 0, 0))]


def _run(args, check_mode=False):
    with (
        patch.object(socket, "gethostbyname", gethostbyname),
        patch.object(socket, "getaddrinfo", getaddrinfo),
    ):
        return run_module(resolve_names.main, args, check_mode=check_mode)


def test_list_form_only_reports():
    result = _run({"names": ["node0", "node1", "missing"]})
    assert result["failed"] is False and result["changed"] is False
    assert result["addresses"] == {"node0": "127.0.1.1", "node1": "10.77.0.11", "missing": None}
    assert result["mismatches"] == []


def test_dict_form_all_match():
    names = {"node1": "10.77.0.11", "node1.cluster.example": "10.77.0.11", "node2": "10.77.0.12"}
    result = _run({"names": names}, check_mode=True)
    assert result["failed"] is False
    assert result["addresses"]["node2"] == "10.77.0.12"
    assert result["mismatches"] == []


def test_dict_form_mismatch_fails_naming_each_name():
    result = _run({"names": {"node0": "10.77.0.10", "node1": "10.77.0.11", "missing": "10.77.0.99"}})
    assert result["failed"] is True
    assert result["msg"] == (
        "names do not resolve to their cluster addresses: "
        "node0 -> 127.0.1.1 (expected 10.77.0.10); missing -> nothing (expected 10.77.0.99)"
    )
    assert result["mismatches"] == [
        {"name": "node0", "expected": "10.77.0.10", "got": "127.0.1.1"},
        {"name": "missing", "expected": "10.77.0.99", "got": None},
    ]
    assert result["addresses"]["node1"] == "10.77.0.11"


def test_ipv6_expected_uses_getaddrinfo():
    result = _run({"names": {"node1": "fd00::11"}})
    assert result["failed"] is False and result["addresses"] == {"node1": "fd00::11"}
    result = _run({"names": {"node2": "fd00::12"}})
    assert result["failed"] is True
    assert result["msg"].endswith("node2 -> nothing (expected fd00::12)")


def test_invalid_name_is_unresolved_not_a_crash():
    result = _run({"names": ["bad\u00e9..name"]})
    assert result["addresses"] == {"bad\u00e9..name": None}


def test_values_are_compared_as_strings():
    result = _run({"names": {"node1": "10.77.0.11", 42: "10.77.0.12"}})
    assert result["failed"] is True
    assert result["mismatches"] == [{"name": "42", "expected": "10.77.0.12", "got": None}]


@pytest.mark.parametrize("names", ["node0", 7])
def test_names_must_be_list_or_dict(names):
    result = _run({"names": names})
    assert result["failed"] is True
    assert result["msg"] == "names must be a list of names or a dict of name: expected address"
