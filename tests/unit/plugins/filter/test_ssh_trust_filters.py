"""ssh_trust's filters: the known_hosts block and the positions of bad login keys (no Jinja loops)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.ssh_trust import (
    indexes_not_matching,
    known_hosts_lines,
)

ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEexampleEXAMPLEexampleEXAMPLEexample12"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQEXAMPLE"
PUBKEY_RE = r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/=]+( .*)?$"


def test_one_line_per_node_and_key_in_order():
    table = [{"names": ["node0", "node0.lab.gpuforge.test", "10.79.0.10"], "host_keys": [ED, RSA]},
             {"names": ["node1"], "host_keys": [ED]}]
    assert known_hosts_lines(table) == [
        f"node0,node0.lab.gpuforge.test,10.79.0.10 {ED}",
        f"node0,node0.lab.gpuforge.test,10.79.0.10 {RSA}",
        f"node1 {ED}",
    ]


def test_the_block_is_the_one_the_jinja_loop_wrote():
    # The former vars entry (a literal block of two for loops, trim_blocks on) gave these lines, each ending
    # in a newline; blockinfile writes the same lines from the joined text.
    table = [{"names": ["a", "b"], "host_keys": [ED]}, {"names": ["c"], "host_keys": []}]
    old = "".join(f"{','.join(n['names'])} {k}\n" for n in table for k in n["host_keys"])
    assert "\n".join(known_hosts_lines(table)) + "\n" == old


def test_empty_table_and_a_bad_entry():
    assert known_hosts_lines([]) == []
    with pytest.raises(AnsibleFilterError, match="names and host_keys"):
        known_hosts_lines([{"names": ["x"]}])


def test_positions_of_keys_that_are_not_public_keys():
    keys = [ED, "~/.ssh/id_ed25519.pub", RSA, "-----BEGIN " + "OPENSSH PRIVATE KEY-----"]
    assert indexes_not_matching(keys, PUBKEY_RE) == [1, 3]
    assert indexes_not_matching([], PUBKEY_RE) == []
