"""module_utils/ssh_login.py: one attempt's ssh arguments, the judgement of its rc and messages, the order in
which users are tried and the summary lines.

Where the messages come from: OpenSSH_9.2p1 Debian-2+deb12u6 (the client) with
``-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=3 -o ConnectionAttempts=1``, against a
throw-away OpenSSH_9.2p1 sshd on 127.0.0.1 port 2222 (key login for ``ubuntu`` only; root with the cloud
images' ``command="echo 'Please login as the user \\"ubuntu\\" ...';echo;sleep 10;exit 142"`` key), an empty
and a stale known_hosts, a closed port, an ``.invalid`` name and an address the sandbox's network held
open without answering. NO_ROUTE and TIMED_OUT keep OpenSSH's ``ssh: connect to host %s port %s: %s``
form with the strerror texts of a host that is down and of a dropped SYN (not reproducible there).
"""

from __future__ import annotations

import itertools

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import ssh_login

DENIED = "user@127.0.0.1: Permission denied (publickey).\r\n"
UNKNOWN_KEY = ("No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\n"
               "Host key verification failed.\r\n")
CHANGED = (
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\n"
    "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\r\n"
    "It is also possible that a host key has just been changed.\r\n"
    "The fingerprint for the ED25519 key sent by the remote host is\n"
    "SHA256:LzG1k5Fq06Wt6L98BisRySfaB2wbNf20Z0mcXUQWuZY.\r\n"
    "Please contact your system administrator.\r\n"
    "Add correct host key in cap/kh_changed to get rid of this message.\r\n"
    "Offending ED25519 key in cap/kh_changed:1\r\n"
    "  remove with:\r\n"
    '  ssh-keygen -f "cap/kh_changed" -R "[127.0.0.1]:2222"\r\n'
    "Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.\r\n"
    "Host key verification failed.\r\n"
)
REFUSED = "ssh: connect to host 127.0.0.1 port 2223: Connection refused\r\n"
NO_NAME = "ssh: Could not resolve hostname rental9.invalid: Name or service not known\r\n"
BANNER_TIMEOUT = ("Connection timed out during banner exchange\r\n"
                  "Connection to 10.255.255.1 port 22 timed out\r\n")
TIMED_OUT = "ssh: connect to host 203.0.113.9 port 22: Connection timed out\r\n"
NO_ROUTE = "ssh: connect to host 10.79.0.11 port 22: No route to host\r\n"
UNREACHABLE_NET = "ssh: connect to host 10.79.0.11 port 22: Network is unreachable\r\n"
ROOT_STDOUT = 'Please login as the user "ubuntu" rather than the user "root".\n\n'
KEX_CLOSED = ("kex_exchange_identification: Connection closed by remote host\r\n"
              "Connection closed by 10.79.0.12 port 22\r\n")
TOO_MANY = "Received disconnect from 10.79.0.12 port 22:2: Too many authentication failures\r\n"


def test_ssh_args_keep_host_key_checking_on():
    assert ssh_login.ssh_args("10.79.0.10", 22, "ubuntu", 10, "/home/me/.ssh/known_hosts") == [
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=/home/me/.ssh/known_hosts", "-o", "ConnectTimeout=10",
        "-o", "ConnectionAttempts=1", "-p", "22", "-l", "ubuntu", "10.79.0.10", "true",
    ]


def test_ssh_args_with_an_identity_file():
    args = ssh_login.ssh_args("10.79.0.10", 2222, "root", 5, "/kh", "/home/me/.ssh/rental_ed25519")
    assert args[10:] == ["-i", "/home/me/.ssh/rental_ed25519", "-o", "IdentitiesOnly=yes",
                         "-p", "2222", "-l", "root", "10.79.0.10", "true"]


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "result", "detail"),
    [
        (0, "", "", "ok", ""),
        (255, "", DENIED, "denied", "Permission denied (publickey)."),
        (255, "", "Warning: Identity file /nope not accessible: No such file or directory.\r\n" + DENIED,
         "denied", "Permission denied (publickey)."),
        (255, "", TOO_MANY, "denied",
         "Too many authentication failures (too many keys offered; set identity_file)"),
        (142, ROOT_STDOUT, "", "denied",
         'logged in, but the account did not run the command (rc 142): Please login as the user "ubuntu" '
         'rather than the user "root".'),
        (1, "This account is currently not available.\n", "", "denied",
         "logged in, but the account did not run the command (rc 1): "
         "This account is currently not available."),
        (255, "", UNKNOWN_KEY, "host_key",
         "no host key known for it in known_hosts (run host_key_policy first)"),
        (255, "", CHANGED, "host_key",
         "the host key CHANGED since it was recorded in known_hosts (run host_key_policy with policy "
         "'replace' if the machine was re-created)"),
        (255, "", "Host key verification failed.\r\n", "host_key", "Host key verification failed"),
        (255, "", REFUSED, "unreachable", "Connection refused"),
        (255, "", NO_NAME, "unreachable", "Could not resolve hostname"),
        (255, "", BANNER_TIMEOUT, "unreachable", "Connection timed out after 10 s"),
        (255, "", TIMED_OUT, "unreachable", "Connection timed out after 10 s"),
        (255, "", NO_ROUTE, "unreachable", "No route to host"),
        (255, "", UNREACHABLE_NET, "unreachable", "Network is unreachable"),
        (255, "", KEX_CLOSED, "error", "Connection closed by 10.79.0.12 port 22"),
        (255, "", "", "error", "ssh failed with rc 255 and no message"),
    ],
)
def test_classify_real_ssh_messages(rc, stdout, stderr, result, detail):
    assert ssh_login.classify(rc, stdout, stderr, 10) == (result, detail)


def test_classify_an_attempt_that_was_stopped():
    assert ssh_login.classify(124, "", "", 10, killed_after=15) == (
        "unreachable", "no answer within 15 s (ssh stopped)")
    # root's forced command printed its message and slept past the bound: it logged in, the user is refused
    assert ssh_login.classify(124, ROOT_STDOUT, "", 3, killed_after=8) == (
        "denied", 'logged in, but the account did not end the command within 8 s: Please login as the user '
        '"ubuntu" rather than the user "root".')


@pytest.mark.parametrize(
    ("candidates", "problems"),
    [
        (["ubuntu", "user", "root", "svc.gpu-1", "machine$"], []),
        ([], ["candidates is empty: give at least one user name"]),
        (["-oProxyCommand=x", "a b", ""], [
            "candidate '-oProxyCommand=x' is not a user name",
            "candidate 'a b' is not a user name",
            "candidate '' is not a user name",
        ]),
    ],
)
def test_user_problems(candidates, problems):
    assert ssh_login.user_problems(candidates) == problems


def attempts(answers: dict[str, tuple[str, str]], calls: list[str]):
    def attempt(user):
        calls.append(user)
        return answers[user]
    return attempt


def clock(step: float = 1.0):
    ticks = itertools.count(0, step)
    return lambda: next(ticks)


def test_detect_stops_at_the_first_user_that_logs_in():
    calls = []
    answers = {"ubuntu": ("denied", "Permission denied (publickey)."), "user": ("ok", ""), "root": ("ok", "")}
    outcome = ssh_login.detect(["ubuntu", "user", "root"], attempts(answers, calls), clock())
    assert calls == ["ubuntu", "user"]
    assert outcome == {"user": "user", "reason": None, "detail": "", "seconds": 1, "tried": [
        {"user": "ubuntu", "result": "denied", "detail": "Permission denied (publickey)."},
        {"user": "user", "result": "ok", "detail": ""}]}


@pytest.mark.parametrize("result", ["unreachable", "host_key", "error"])
def test_detect_stops_a_host_at_a_result_no_other_user_gets_past(result):
    calls = []
    answers = {"ubuntu": ("denied", "Permission denied (publickey)."), "user": (result, "why"),
               "root": ("ok", "")}
    outcome = ssh_login.detect(["ubuntu", "user", "root"], attempts(answers, calls), clock())
    assert calls == ["ubuntu", "user"]
    assert (outcome["user"], outcome["reason"], outcome["detail"]) == (None, result, "why")


def test_detect_denied_for_every_candidate_lists_all_tried():
    calls = []
    answers = dict.fromkeys(("ubuntu", "user", "root"), ("denied", "Permission denied (publickey)."))
    outcome = ssh_login.detect(["ubuntu", "user", "root"], attempts(answers, calls), clock(0.25))
    assert calls == ["ubuntu", "user", "root"]
    assert outcome["reason"] == "denied"
    assert outcome["detail"] == "no candidate user was let in, last: Permission denied (publickey)."
    assert [t["user"] for t in outcome["tried"]] == ["ubuntu", "user", "root"]
    assert outcome["seconds"] == 0.2  # round(0.25, 1): Python rounds half to even


@pytest.mark.parametrize(
    ("name", "address", "port", "outcome", "line"),
    [
        ("rental0", "10.79.0.10", 22,
         {"user": "ubuntu", "reason": None, "detail": "", "tried": [{"user": "ubuntu"}]},
         "rental0 10.79.0.10: ubuntu (tried ubuntu)"),
        ("rental1", "10.79.0.11", 2222,
         {"user": "root", "reason": None, "detail": "", "tried": [{"user": "ubuntu"}, {"user": "user"},
                                                                  {"user": "root"}]},
         "rental1 [10.79.0.11]:2222: root (tried ubuntu, user, root)"),
        ("rental2", "203.0.113.9", 22,
         {"user": None, "reason": "unreachable", "detail": "Connection timed out after 10 s",
          "tried": [{"user": "ubuntu"}]},
         "rental2 203.0.113.9: unreachable - Connection timed out after 10 s (tried ubuntu)"),
    ],
)
def test_summary_line(name, address, port, outcome, line):
    assert ssh_login.summary_line(name, address, port, outcome) == line
