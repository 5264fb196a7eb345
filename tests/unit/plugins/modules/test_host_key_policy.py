"""host_key_policy against a real temporary known_hosts and a FAKE ssh-keyscan on PATH.

The fake prints what OpenSSH 9.2p1's ssh-keyscan printed for a throw-away sshd (the keys and fingerprints
of test_known_hosts.py): the key lines on stdout with the scanned name (``addr`` or ``[addr]:port``) and one
``# addr:port SSH-2.0-...`` banner line per key on stderr; for an address it does not know it prints
nothing and exits 1, as the real one does for a refused or timed-out host. The module runs the fake through
the real AnsibleModule.run_command (module_utils/runner.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys

import pytest
from ansible.module_utils import basic
from ansible_collections.gpuforge.cluster.plugins.modules import host_key_policy

from ..module_utils.test_known_hosts import ED25519, FINGERPRINTS, KEYSCAN_2222, OLD, OLD_FP
from .harness import run_module

REAL_RUN_COMMAND = basic.AnsibleModule.run_command

# A FAKE ssh-keyscan: answers from the FAKE_KEYSCAN_KEYS table (address -> key lines with the name NAME).
FAKE_KEYSCAN = '''#!{python}
# FAKE ssh-keyscan for the unit tests: prints recorded key lines, never connects anywhere.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KEYSCAN_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
port = args[args.index("-p") + 1] if "-p" in args else "22"
address = args[-1]
lines = json.loads(os.environ["FAKE_KEYSCAN_KEYS"]).get(address)
if not lines:
    sys.exit(1)
name = address if port == "22" else "[%s]:%s" % (address, port)
for line in lines:
    sys.stderr.write("# %s:%s SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\\n" % (address, port))
    sys.stdout.write(line.replace("NAME", name) + "\\n")
'''
RECORDED = KEYSCAN_2222.replace("[127.0.0.1]:2222", "NAME").splitlines()
OTHER_LINES = (
    "# kept by hand\r\n"
    f"10.0.0.5 ssh-ed25519 {OLD}\r\n"
    f"@cert-authority 10.79.0.11 ssh-ed25519 {OLD}\n"
    f"10.79.0.110,10.79.0.1 ssh-ed25519 {OLD}\n"
)


@pytest.fixture
def keyscan(tmp_path, monkeypatch):
    """Put the fake first on PATH; returns the list of argv it was called with (read after the run)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ssh-keyscan"
    fake.write_text(FAKE_KEYSCAN.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "keyscan.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KEYSCAN_LOG", str(log))
    monkeypatch.setenv("FAKE_KEYSCAN_KEYS", json.dumps({
        "10.79.0.10": RECORDED, "10.79.0.11": RECORDED, "10.79.0.12": RECORDED}))

    def calls():
        return sorted(json.loads(line) for line in log.read_text().splitlines())
    return calls


def which(self, name, *a, **k):
    return shutil.which(name)


def run(args, check_mode=False, diff=False):
    return run_module(host_key_policy.main, args, REAL_RUN_COMMAND, which, check_mode=check_mode, diff=diff)


def lines_of(address):
    return "".join(line.replace("NAME", address) + "\n" for line in RECORDED_SORTED)


RECORDED_SORTED = [RECORDED[2], RECORDED[0], RECORDED[1]]  # ED25519, ECDSA, RSA
RENTAL0 = {"name": "rental0", "address": "10.79.0.10"}
RENTAL1 = {"name": "rental1", "address": "10.79.0.11"}


def test_new_host_under_accept_new_is_written_then_known(keyscan, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    result = run({"hosts": [RENTAL0], "policy": "accept-new"})  # the default ~/.ssh/known_hosts
    path = tmp_path / "home" / ".ssh" / "known_hosts"
    assert result["failed"] is False and result["changed"] is True
    assert result["hosts"] == {"rental0": {"address": "10.79.0.10", "port": 22, "state": "new",
                                           "fingerprints": FINGERPRINTS, "known_fingerprints": [],
                                           "action": "added"}}
    assert result["unreachable_hosts"] == []
    assert path.read_text() == lines_of("10.79.0.10")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keyscan() == [["-T", "10", "-t", "ed25519,ecdsa,rsa", "10.79.0.10"]]

    again = run({"hosts": [RENTAL0], "policy": "strict"})
    assert again["failed"] is False and again["changed"] is False
    assert again["hosts"]["rental0"]["state"] == "known" and again["hosts"]["rental0"]["action"] == "none"


def test_changed_key_under_accept_new_refuses_and_writes_nothing(keyscan, tmp_path):
    path = tmp_path / "known_hosts"
    path.write_bytes((OTHER_LINES + f"10.79.0.11 ssh-ed25519 {OLD}\n").encode())
    before = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    result = run({"hosts": [RENTAL0, RENTAL1], "known_hosts": str(path), "policy": "accept-new"})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == (
        f"1 host key(s) refused, nothing was written to {path}: rental1 (10.79.0.11): the host key CHANGED: "
        f"known {OLD_FP}, now {FINGERPRINTS[0]}; refused under host-key policy 'accept-new' - if the machine "
        "was re-created, run again with policy 'replace'"
    )
    assert result["hosts"]["rental1"]["action"] == "refused"
    assert result["hosts"]["rental0"]["state"] == "new" and result["hosts"]["rental0"]["action"] == "none"
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


def test_changed_key_under_replace_rewrites_only_that_address(keyscan, tmp_path):
    path = tmp_path / "known_hosts"
    mine = f"rental1,10.79.0.11 ssh-ed25519 {OLD}\n"
    path.write_bytes((OTHER_LINES + mine + lines_of("10.79.0.10")).encode())
    path.chmod(0o644)
    result = run({"hosts": [RENTAL0, RENTAL1], "known_hosts": str(path), "policy": "replace"}, diff=True)
    assert result["failed"] is False and result["changed"] is True
    assert result["hosts"]["rental0"]["action"] == "none"
    assert result["hosts"]["rental1"] == {"address": "10.79.0.11", "port": 22, "state": "changed",
                                          "fingerprints": FINGERPRINTS, "known_fingerprints": [OLD_FP],
                                          "action": "replaced"}
    assert path.read_bytes() == (OTHER_LINES + f"rental1 ssh-ed25519 {OLD}\n" + lines_of("10.79.0.10")
                                 + lines_of("10.79.0.11")).encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # the file keeps its mode
    assert result["diff"]["before"] == f"rental1,10.79.0.11 ssh-ed25519 {OLD}\n" + lines_of("10.79.0.10")
    assert result["diff"]["after"] == lines_of("10.79.0.10") + lines_of("10.79.0.11")


def test_strict_refuses_a_new_host(keyscan, tmp_path):
    path = tmp_path / ".ssh" / "known_hosts"
    result = run({"hosts": [RENTAL0], "known_hosts": str(path)})
    assert result["failed"] is True
    assert result["msg"] == (
        f"1 host key(s) refused, nothing was written to {path}: rental0 (10.79.0.10): the host key is NEW "
        f"(not in {path}): {', '.join(FINGERPRINTS)}; refused under host-key policy 'strict' - to trust it "
        "on first use, run again with policy 'accept-new'")
    assert not path.parent.exists()


def test_check_mode_writes_nothing(keyscan, tmp_path):
    path = tmp_path / "known_hosts"
    path.write_bytes(OTHER_LINES.encode())
    result = run({"hosts": [RENTAL0, {"name": "rental2", "address": "10.79.0.12", "port": 2222}],
                  "known_hosts": str(path), "policy": "accept-new"}, check_mode=True, diff=True)
    assert result["failed"] is False and result["changed"] is True
    assert [h["action"] for h in result["hosts"].values()] == ["added", "added"]
    assert path.read_bytes() == OTHER_LINES.encode()
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == lines_of("10.79.0.10") + lines_of("[10.79.0.12]:2222")
    assert ["-T", "10", "-t", "ed25519,ecdsa,rsa", "-p", "2222", "10.79.0.12"] in keyscan()


def test_unreachable_host_is_returned_not_failed(keyscan, tmp_path):
    path = tmp_path / "known_hosts"
    hosts = [RENTAL0, {"name": "rental2", "address": "203.0.113.9"}]
    result = run({"hosts": hosts, "known_hosts": str(path), "policy": "accept-new", "timeout": 3,
                  "key_types": ["ed25519"]})
    assert result["failed"] is False and result["changed"] is True
    assert result["unreachable_hosts"] == ["rental2"]
    assert result["hosts"]["rental2"] == {"address": "203.0.113.9", "port": 22, "state": "unreachable",
                                          "fingerprints": [], "known_fingerprints": [], "action": "none"}
    assert "203.0.113.9" not in path.read_text()
    assert keyscan() == [["-T", "3", "-t", "ed25519", "10.79.0.10"],
                         ["-T", "3", "-t", "ed25519", "203.0.113.9"]]
    # "unreachable" (and "failed") in a result would make Ansible mark the task's host unreachable
    assert "unreachable" not in result


def test_a_bad_scan_line_fails_naming_it(keyscan, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KEYSCAN_KEYS", json.dumps({"10.79.0.10": [f"NAME ssh-rsa {ED25519}"]}))
    path = tmp_path / "known_hosts"
    result = run({"hosts": [RENTAL0], "known_hosts": str(path), "policy": "accept-new"})
    assert result["failed"] is True
    assert "the key blob is not of type ssh-rsa (line 1: " in result["msg"]
    assert result["msg"].endswith("; nothing was written")
    assert not path.exists()


def test_bad_hosts_fail_before_any_scan(keyscan, tmp_path):
    result = run({"hosts": [{"name": "rental0", "address": "-oProxyCommand=x"}],
                  "known_hosts": str(tmp_path / "kh")})
    assert result["failed"] is True
    assert result["msg"] == "hosts[0] (rental0): '-oProxyCommand=x' is not a host address"
    assert keyscan() == []


def test_missing_ssh_keyscan_is_named(tmp_path):
    result = run_module(host_key_policy.main, {"hosts": [RENTAL0], "known_hosts": str(tmp_path / "kh")},
                        bin_path=lambda self, name, *a, **k: None)
    assert result["failed"] is True
    assert result["msg"].startswith("ssh-keyscan was not found on the PATH of ")
    assert "(install openssh-client)" in result["msg"]
