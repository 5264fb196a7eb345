"""etc_hosts: the pure render()/check_entries() functions on real hosts files, then main().

Fixtures are the stock files of the images the lab and users start from:
- DEBIAN_INSTALLER: /etc/hosts written by debian-installer (Debian 12 "bookworm" netinst,
  hostname node0, domain example.com): the 127.0.1.1 line carries the node's own names.
- UBUNTU_CLOUD: /etc/hosts written by cloud-init's ``manage_etc_hosts: true`` on an Ubuntu
  22.04 cloud image (templates/hosts.debian.tmpl), here with the hostname appended to the
  127.0.0.1 localhost line the way some images and hand edits do.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.modules import etc_hosts
from ansible_collections.gpuforge.cluster.plugins.modules.etc_hosts import (
    EntryError,
    check_entries,
    render,
)

from .harness import run_module

MARKER = "# {mark} gpuforge.cluster managed hosts"
BEGIN = "# BEGIN gpuforge.cluster managed hosts"
END = "# END gpuforge.cluster managed hosts"

ENTRIES = [
    {"ip": "10.77.0.10", "names": ["node0.example.com", "node0"]},
    {"ip": "10.77.0.11", "names": ["node1.example.com", "node1"]},
]
CHECKED = [("10.77.0.10", ["node0.example.com", "node0"]), ("10.77.0.11", ["node1.example.com", "node1"])]
BLOCK = ["10.77.0.10 node0.example.com node0", "10.77.0.11 node1.example.com node1"]
MANAGED = "\n".join([BEGIN, *BLOCK, END]) + "\n"

# debian-installer (Debian 12 netinst), hostname node0, domain example.com.
DEBIAN_INSTALLER = """\
127.0.0.1\tlocalhost
127.0.1.1\tnode0.example.com node0

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"""

# cloud-init hosts.debian.tmpl (Ubuntu 22.04 cloud image) with the hostname on the localhost line.
UBUNTU_CLOUD = """\
# Your system has configured 'manage_etc_hosts' as True.
# As a result, if you wish for changes to this file to persist
# then you will need to either
# a.) make changes to the master file in /etc/cloud/templates/hosts.debian.tmpl
# b.) change or remove the value of 'manage_etc_hosts' in
#     /etc/cloud/cloud.cfg or cloud-config from user-data
#
127.0.0.1 localhost node0

# The following lines are desirable for IPv6 capable hosts
::1 ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
ff02::3 ip6-allhosts
"""

IPV6_LINES = [
    "::1     localhost ip6-localhost ip6-loopback",
    "ff02::1 ip6-allnodes",
    "ff02::2 ip6-allrouters",
]


def _render(text, entries=None, marker=MARKER):
    return render(text, check_entries(ENTRIES if entries is None else entries), marker)


# ---------------------------------------------------------------- check_entries


def test_check_entries_normalises_and_keeps_order():
    assert check_entries(ENTRIES) == CHECKED
    assert check_entries([{"ip": " 10.0.0.1 ", "names": [" a "]}]) == [("10.0.0.1", ["a"])]


def test_check_entries_accepts_ipv6_and_same_name_twice_for_one_ip():
    got = check_entries([{"ip": "fd00::10", "names": ["node0"]}, {"ip": "fd00::10", "names": ["node0"]}])
    assert got == [("fd00::10", ["node0"]), ("fd00::10", ["node0"])]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"ip": "10.77.0.300", "names": ["node0"]}], "entries[0].ip '10.77.0.300' is not an IP address"),
        ([{"ip": "node0", "names": ["node0"]}], "entries[0].ip 'node0' is not an IP address"),
        ([{"ip": None, "names": ["node0"]}], "entries[0].ip None is not an IP address"),
        ([*ENTRIES, {"ip": "10.77.0.12", "names": []}], "entries[2] (10.77.0.12) has no names"),
        ([{"ip": "10.77.0.10", "names": ["node_0"]}], "entries[0].names: 'node_0' is not a valid host name"),
        ([{"ip": "10.77.0.10", "names": ["-node0"]}], "entries[0].names: '-node0' is not a valid host name"),
        ([{"ip": "10.77.0.10", "names": ["node0..example"]}], "'node0..example' is not a valid host name"),
        ([{"ip": "10.77.0.10", "names": ["a" * 64]}], "is not a valid host name"),
        (
            [{"ip": "10.77.0.10", "names": ["node0", "localhost"]}],
            "entries[0].names: 'localhost' may not be remapped",
        ),
        ([{"ip": "10.77.0.10", "names": ["LocalHost"]}], "'LocalHost' may not be remapped"),
        ([{"ip": "10.77.0.10", "names": ["ip6-loopback"]}], "'ip6-loopback' may not be remapped"),
        (
            [{"ip": "10.77.0.10", "names": ["node0"]}, {"ip": "10.77.0.11", "names": ["node0"]}],
            "name 'node0' is given for both 10.77.0.10 and 10.77.0.11",
        ),
    ],
)
def test_check_entries_errors_name_the_entry(entries, message):
    with pytest.raises(EntryError) as err:
        check_entries(entries)
    assert message in str(err.value)


# ---------------------------------------------------------------- render


def test_debian_installer_127_0_1_1_line_is_dropped():
    after, removed, block = _render(DEBIAN_INSTALLER)
    assert block == BLOCK
    assert removed == [{"line": 2, "before": "127.0.1.1\tnode0.example.com node0", "after": None}]
    assert after == (
        "127.0.0.1\tlocalhost\n"
        "\n"
        "# The following lines are desirable for IPv6 capable hosts\n"
        + "".join(line + "\n" for line in IPV6_LINES)
        + "\n"
        + MANAGED
    )


def test_ubuntu_cloud_hostname_taken_off_localhost_line():
    after, removed, _block = _render(UBUNTU_CLOUD)
    assert removed == [{"line": 8, "before": "127.0.0.1 localhost node0", "after": "127.0.0.1\tlocalhost"}]
    # The cloud-init banner and every IPv6 line are kept verbatim and in order.
    expected = UBUNTU_CLOUD.replace("127.0.0.1 localhost node0\n", "127.0.0.1\tlocalhost\n")
    assert after == expected + "\n" + MANAGED


def test_existing_block_is_updated_in_place():
    old_block = f"{BEGIN}\n10.77.0.9 node0.example.com node0\n10.77.0.99 gone\n{END}\n"
    text = "127.0.0.1\tlocalhost\n" + old_block + "192.168.1.5 nas.example.com nas\n"
    after, removed, _block = _render(text)
    assert removed == []
    assert after == "127.0.0.1\tlocalhost\n" + MANAGED + "192.168.1.5 nas.example.com nas\n"


def test_block_up_to_date_is_unchanged():
    after, _removed, _block = _render(DEBIAN_INSTALLER)
    assert _render(after) == (after, [], BLOCK)


def test_comment_after_names_is_kept_and_commented_names_are_not_touched():
    text = (
        "127.0.0.1 localhost\n"
        "127.0.1.1 node0.example.com node0 buildbox # set by the installer node0\n"
        "# 10.0.0.5 node0 (old address, kept as a note)\n"
        "10.0.0.7 other # node1 moved away\n"
    )
    after, removed, _block = _render(text)
    assert removed == [
        {
            "line": 2,
            "before": "127.0.1.1 node0.example.com node0 buildbox # set by the installer node0",
            "after": "127.0.1.1\tbuildbox # set by the installer node0",
        }
    ]
    lines = after.splitlines()
    assert lines[:4] == [
        "127.0.0.1 localhost",
        "127.0.1.1\tbuildbox # set by the installer node0",
        "# 10.0.0.5 node0 (old address, kept as a note)",
        "10.0.0.7 other # node1 moved away",
    ]


def test_ipv6_lines_and_other_hosts_untouched():
    text = (
        "\n".join(
            [
                "127.0.0.1 localhost",
                *IPV6_LINES,
                "fd00::20 storage.example.com storage",
                "10.77.0.50\tbmc-node0 bmc-node0.example.com",
                "10.77.0.10 node0-ib",
            ]
        )
        + "\n"
    )
    after, removed, _block = _render(text)
    assert removed == []
    assert after.startswith(text + "\n" + BEGIN + "\n")


def test_ipv6_entries_are_managed_like_ipv4():
    after, _removed, block = _render("::1 localhost\n", [{"ip": "fd00::10", "names": ["node0"]}])
    assert block == ["fd00::10 node0"]
    assert after == "::1 localhost\n\n" + BEGIN + "\nfd00::10 node0\n" + END + "\n"


def test_empty_and_missing_file():
    after, removed, _block = _render("")
    assert removed == []
    assert after == MANAGED


def test_name_on_several_lines_is_removed_everywhere():
    text = "127.0.1.1 node0\n10.0.2.15 node0 node0.example.com\n10.77.0.11 node1 extra\n"
    after, removed, _block = _render(text)
    assert [r["line"] for r in removed] == [1, 2, 3]
    assert [r["after"] for r in removed] == [None, None, "10.77.0.11\textra"]
    assert after.splitlines()[0] == "10.77.0.11\textra"


def test_custom_marker():
    after, _removed, _block = _render("", marker="## {mark} site hosts ##")
    assert after.splitlines()[0] == "## BEGIN site hosts ##"
    assert after.splitlines()[-1] == "## END site hosts ##"


@pytest.mark.parametrize("text", [DEBIAN_INSTALLER, UBUNTU_CLOUD, "", "127.0.0.1 localhost", "a b\n\n\n"])
def test_idempotent(text):
    once, _removed, _block = _render(text)
    twice, removed, _block = _render(once)
    assert twice == once
    assert removed == []


def test_missing_end_marker_is_an_error():
    text = "127.0.0.1 localhost\n" + BEGIN + "\n10.77.0.10 node0\n"
    with pytest.raises(EntryError) as err:
        _render(text)
    assert repr(END) in str(err.value)
    assert "no end marker" in str(err.value)


# ---------------------------------------------------------------- module


def _run(args, check_mode=False, diff=False):
    return run_module(etc_hosts.main, args, check_mode=check_mode, diff=diff)


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text(DEBIAN_INSTALLER)
    path.chmod(0o644)
    return path


def test_main_changes_then_is_unchanged(hosts):
    result = _run({"path": str(hosts), "entries": ENTRIES})
    assert result["failed"] is False and result["changed"] is True
    assert result["block"] == BLOCK
    assert result["removed"][0]["before"] == "127.0.1.1\tnode0.example.com node0"
    assert "diff" not in result
    written = hosts.read_text()
    assert written == _render(DEBIAN_INSTALLER)[0]
    assert oct(os.stat(hosts).st_mode & 0o7777) == oct(0o644)
    assert [p.name for p in hosts.parent.iterdir()] == ["hosts"]  # no temp file left behind

    again = _run({"path": str(hosts), "entries": ENTRIES})
    assert again["changed"] is False and again["removed"] == []
    assert hosts.read_text() == written


def test_main_keeps_mode(hosts):
    hosts.chmod(0o640)
    _run({"path": str(hosts), "entries": ENTRIES})
    assert os.stat(hosts).st_mode & 0o7777 == 0o640


def test_main_check_mode_reports_without_writing(hosts):
    result = _run({"path": str(hosts), "entries": ENTRIES}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert hosts.read_text() == DEBIAN_INSTALLER
    assert result["diff"]["before"] == DEBIAN_INSTALLER
    assert result["diff"]["after"] == _render(DEBIAN_INSTALLER)[0]
    assert result["diff"]["before_header"] == str(hosts)


def test_main_check_mode_missing_file(tmp_path):
    path = tmp_path / "hosts"
    result = _run({"path": str(path), "entries": ENTRIES}, check_mode=True)
    assert result["changed"] is True
    assert not path.exists()


def test_main_creates_missing_file(tmp_path):
    path = tmp_path / "hosts"
    result = _run({"path": str(path), "entries": ENTRIES}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == ""
    assert path.read_text() == MANAGED
    assert os.stat(path).st_mode & 0o7777 == 0o644


def test_main_diff_when_unchanged(hosts):
    _run({"path": str(hosts), "entries": ENTRIES})
    result = _run({"path": str(hosts), "entries": ENTRIES}, diff=True)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_main_mode_option_changes_only_attributes(hosts):
    _run({"path": str(hosts), "entries": ENTRIES})
    result = _run({"path": str(hosts), "entries": ENTRIES, "mode": "0600"})
    assert result["changed"] is True
    assert os.stat(hosts).st_mode & 0o7777 == 0o600


def test_main_bad_entry_fails_without_touching_file(hosts):
    result = _run({"path": str(hosts), "entries": [{"ip": "10.77.0.10", "names": ["localhost"]}]})
    assert result["failed"] is True
    assert result["msg"] == "entries[0].names: 'localhost' may not be remapped"
    assert hosts.read_text() == DEBIAN_INSTALLER


def test_main_missing_end_marker_names_the_file(hosts):
    hosts.write_text(DEBIAN_INSTALLER + BEGIN + "\n10.77.0.10 node0\n")
    result = _run({"path": str(hosts), "entries": ENTRIES})
    assert result["failed"] is True
    assert result["msg"].startswith(str(hosts) + ": ")
    assert "no end marker" in result["msg"]


def test_main_requires_ip_and_names():
    result = _run({"entries": [{"ip": "10.77.0.10"}]})
    assert result["failed"] is True
    assert "names" in result["msg"]
