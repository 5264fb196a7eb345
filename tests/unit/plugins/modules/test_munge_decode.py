"""munge_decode: unmunge per credential on stdin, one call; failures name the origin.

Outputs recorded on the lab (munge 0.5.15-2+deb12u1, Debian 12, 2026-12-03): a credential made on node0
and decoded on node1 (rc 0, STATUS Success); the same credential decoded there again (rc 17, STATUS
Replayed credential, with the metadata); one with a byte changed (rc 11, only
``unmunge: Error: Invalid MAC type 0`` on stderr).
"""

from __future__ import annotations

from ansible_collections.gpuforge.cluster.plugins.modules import munge_decode

from .harness import run_module

META = """ENCODE_HOST:     node0.lab.gpuforge.test (10.77.0.10)
ENCODE_TIME:     2026-12-03 17:29:06 +0000 (1796318946)
DECODE_TIME:     2026-12-03 17:29:06 +0000 (1796318946)
TTL:             300
CIPHER:          aes128 (4)
MAC:             sha256 (5)
ZIP:             none (0)
UID:             root (0)
GID:             root (0)
LENGTH:          0

"""
OK = "STATUS:          Success (0)\n" + META
REPLAYED = "STATUS:          Replayed credential (17)\n" + META
CORRUPT_ERR = "unmunge: Error: Invalid MAC type 0\n"


def fake(answers, calls):
    def run_command(self, argv, data=None, **kw):
        calls.append((argv, data))
        return answers[data]
    return run_command


def test_every_credential_decodes_in_one_call():
    calls = []
    answers = {"MUNGE:cred-node1:": (0, OK, ""), "MUNGE:cred-node2:": (0, OK, "")}
    creds = {"node2": "MUNGE:cred-node2:", "node1": "MUNGE:cred-node1:"}
    result = run_module(munge_decode.main, {"credentials": creds}, run_command=fake(answers, calls))
    assert result["failed"] is False and result["changed"] is False
    assert result["decoded"] == ["node1", "node2"] and result["failed_origins"] == {}
    # Each credential on stdin, never in argv.
    assert calls == [(["unmunge"], "MUNGE:cred-node1:"), (["unmunge"], "MUNGE:cred-node2:")]


def test_a_corrupt_or_replayed_credential_fails_naming_its_origin():
    calls = []
    answers = {"MUNGE:a:": (0, OK, ""), "MUNGE:b:": (11, "", CORRUPT_ERR), "MUNGE:c:": (17, REPLAYED, "")}
    creds = {"node1": "MUNGE:a:", "node2": "MUNGE:b:", "node3": "MUNGE:c:"}
    result = run_module(munge_decode.main, {"credentials": creds}, run_command=fake(answers, calls))
    assert result["failed"] is True
    assert result["decoded"] == ["node1"]
    assert result["failed_origins"] == {"node2": "unmunge: Error: Invalid MAC type 0 (rc=11)",
                                        "node3": "Replayed credential (17) (rc=17)"}
    assert result["msg"].startswith("munge credentials from node2, node3 did not decode here: ")
    assert "MUNGE:b:" not in result["msg"]


def test_exit_zero_without_success_status_is_a_failure():
    expired = "STATUS:          Expired credential (15)\n"
    assert munge_decode.judge(0, expired, "") == "Expired credential (15) (rc=0)"
    assert munge_decode.judge(1, "", "") == "no output (rc=1)"
    assert munge_decode.judge(0, OK, "") is None
