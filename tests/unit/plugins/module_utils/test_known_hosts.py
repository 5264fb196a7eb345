"""module_utils/known_hosts.py: ssh-keyscan output, known_hosts entries of exactly one address (plain, host
lists, hashed; markers never), the state of a host, the policy's decision and the rewritten file.

Where the fixtures come from: OpenSSH 9.2p1 (Debian 12, ``OpenSSH_9.2p1 Debian-2+deb12u6``) on the
controller against a throw-away ``OpenSSH_9.2p1 Debian-2+deb12u10`` sshd on 127.0.0.1 port 2222 whose host
keys ``ssh-keygen -t ed25519|ecdsa|rsa`` had just made (public keys only; the private ones were deleted):

* ``ssh-keyscan -T 5 -t ed25519,ecdsa,rsa -p 2222 127.0.0.1``: KEYSCAN_2222 is its stdout, KEYSCAN_2222_ERR
  its stderr (9.2 prints the ``# host:port banner`` lines there); refused or timed out it printed nothing
  and exited 1.
* ``ssh-keygen -l -f``: the fingerprints in FINGERPRINTS and OLD_FP (OLD is another ed25519 key, the one
  "recorded before the machine was re-created").
* ``ssh-keygen -H`` of ``10.79.0.10 <the ed25519 key>``: HASHED_10_79_0_10.
"""

from __future__ import annotations

import base64

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import known_hosts as kh
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError

ED25519 = "AAAAC3NzaC1lZDI1NTE5AAAAILIboW8nSsNnLi3nkJsYUmGX0NrY/D6nrZjqi+1R42ZZ"
ECDSA = ("AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKn32Ts2gM0BgVWWd7V9PfdrnG0GeFJoT0NpSoBkRYjlL7W"
         "MhKhV1pMA5jw9j3djt0kHUaDWPLHHE+STx7XZ010=")
RSA = ("AAAAB3NzaC1yc2EAAAADAQABAAABgQDBElmms3l/IAzwsl2sYsKADkYw9Vz5gV/K8d/0/IX3XHNoRKDm3QoXkpjE8ezWiW5O05wT"
       "tgs9nLJUG6/kfVbdUFTMoM8BYzlhgoe4TxrAOV8TAmf6ONVTLXh4k6FVMD0AIa1WZX9ODk4qW1HEANwO0LNTTIJSDhkmutIrYQnS74W"
       "arOZ4NhLiFt2Vh8rWmFhR/p8FQz2GK/ezpF+7PXiumHFIrLyAd6A8fSEGUmbSQWruDrRx7bGycLkSw8w2zV7buPvCBv0QT1iX5xR0R4"
       "2XDnokFeqOnTPaq+dVNYkeDkDlippqHtT6xBhTxJb3oMg8Pf2wXQR5+CNdY7KB7UVMDiCwVzZTnD180QQhcPsIoCYmWVHFMfAg0Iu++"
       "A9zccCYBHuQf3v+YGSNfTEf9FsnH8vtiUkHNt1Bnm2qWIC20hIrecm+fzkJW8JCvlHzOjww0U2t2YZITEXroEvzn7Sxoh17MPkguQegD"
       "AzuhPLuIB8Wv0AirBDV3iQ6pBbqnHU=")
OLD = "AAAAC3NzaC1lZDI1NTE5AAAAIK0VvnmNBpfdMgdwVEz0FxD1SjEVSpVFwjCU4qCMx5ia"

KEYSCAN_2222 = (
    f"[127.0.0.1]:2222 ecdsa-sha2-nistp256 {ECDSA}\n"
    f"[127.0.0.1]:2222 ssh-rsa {RSA}\n"
    f"[127.0.0.1]:2222 ssh-ed25519 {ED25519}\n"
)
KEYSCAN_2222_ERR = "# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\n" * 3
FINGERPRINTS = [
    "ED25519 SHA256:LzG1k5Fq06Wt6L98BisRySfaB2wbNf20Z0mcXUQWuZY",
    "ECDSA SHA256:U30akZ9Yil07LNyFHMfqB+0SKCM4xOvywcc2SjOn/7s",
    "RSA SHA256:/FtiTOO2oTMKfSc3C5oVz02Vw0ICuuuLKVxO0yiJ6mw",
]
OLD_FP = "ED25519 SHA256:fmufJx0ltIH+zrIbnficGFCow6+jdUxq+w/GO3YRyD0"
HASHED_10_79_0_10 = f"|1|sIZmwnDAfUXeT0EMngw+M+j8zHA=|DSzxcaP8/bdUDflVItWLmaAkBrg= ssh-ed25519 {ED25519}"

SCANNED = kh.parse_keyscan(KEYSCAN_2222)


def scan_for(pattern: str) -> list[dict]:
    """The recorded keys as ssh-keyscan prints them for another address (the same shape)."""
    return kh.parse_keyscan(KEYSCAN_2222.replace("[127.0.0.1]:2222", pattern))


# ---------------------------------------------------------------- ssh-keyscan output


def test_parse_keyscan_real_output_sorted_ed25519_ecdsa_rsa():
    assert SCANNED == [
        {"host": "[127.0.0.1]:2222", "type": "ssh-ed25519", "key": ED25519},
        {"host": "[127.0.0.1]:2222", "type": "ecdsa-sha2-nistp256", "key": ECDSA},
        {"host": "[127.0.0.1]:2222", "type": "ssh-rsa", "key": RSA},
    ]


def test_parse_keyscan_skips_banner_comments_wherever_they_are():
    # Older OpenSSH releases printed the banner lines on stdout, among the keys.
    mixed = KEYSCAN_2222_ERR + KEYSCAN_2222.replace("\n", "\n# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2p1\n")
    assert kh.parse_keyscan(mixed) == SCANNED
    assert kh.parse_keyscan(KEYSCAN_2222_ERR) == []


def test_parse_keyscan_of_an_unreachable_host_is_empty():
    assert kh.parse_keyscan("") == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10.79.0.10 ssh-ed25519\n", "not an ssh-keyscan key line"),
        ("10.79.0.10 ssh-ed25519 not*base64\n", "not base64"),
        (f"10.79.0.10 ssh-rsa {ED25519}\n", "not of type ssh-rsa"),
        ("10.79.0.10 ssh-ed25519 AAAA\n", "not of type ssh-ed25519"),
    ],
)
def test_parse_keyscan_names_the_bad_line(text, words):
    with pytest.raises(ParseError) as err:
        kh.parse_keyscan("# 10.79.0.10:22 SSH-2.0-OpenSSH_9.6p1\n" + text)
    assert words in str(err.value) and "(line 2: " in str(err.value)


def test_fingerprints_are_what_ssh_keygen_prints():
    assert [kh.fingerprint(k["type"], k["key"]) for k in SCANNED] == FINGERPRINTS
    assert kh.fingerprint("ssh-ed25519", OLD) == OLD_FP


def test_fingerprint_of_a_key_that_does_not_decode_says_so():
    assert kh.fingerprint("ssh-ed25519", "not*a*key") == "ED25519 (not a key: not*a*key...)"


# ---------------------------------------------------------------- names and entries


@pytest.mark.parametrize(
    ("address", "port", "pattern"),
    [("10.79.0.10", 22, "10.79.0.10"), ("10.79.0.10", 2222, "[10.79.0.10]:2222"),
     ("2001:DB8::7", 22, "2001:db8::7"), ("2001:db8::7", 2200, "[2001:db8::7]:2200")],
)
def test_host_pattern(address, port, pattern):
    assert kh.host_pattern(address, port) == pattern


def test_hashed_entry_computed_here_matches_only_its_name():
    salt = bytes(range(20))
    field = kh.hashed_host("10.79.0.11", salt)
    assert field.startswith("|1|" + base64.b64encode(salt).decode() + "|")
    assert kh.names_pattern(field, "10.79.0.11")
    assert not kh.names_pattern(field, "10.79.0.1")
    assert not kh.names_pattern(field, "[10.79.0.11]:22")
    assert kh.names_pattern(kh.hashed_host("[10.79.0.11]:2222", salt), "[10.79.0.11]:2222")


def test_hashed_entry_from_ssh_keygen_matches():
    field = HASHED_10_79_0_10.split()[0]
    assert kh.names_pattern(field, "10.79.0.10")
    assert not kh.names_pattern(field, "10.79.0.100")
    assert kh.entries_for(HASHED_10_79_0_10 + "\n", "10.79.0.10") == [
        {"line": 1, "type": "ssh-ed25519", "key": ED25519}]


@pytest.mark.parametrize("field", ["|1|bad|salt", "|2|AAAA|AAAA", "|1|!!|!!"])
def test_malformed_hashed_fields_match_nothing(field):
    assert not kh.names_pattern(field, "10.79.0.10")


KNOWN = "\n".join([
    "# managed by hand",
    f"10.79.0.11,rental1,RENTAL1.example ssh-ed25519 {OLD} old key",
    f"10.79.0.110 ssh-ed25519 {OLD}",
    f"10.79.0.* ssh-ed25519 {OLD}",
    f"!10.79.0.12,10.79.0.12 ssh-ed25519 {OLD}",
    f"@cert-authority 10.79.0.11 ssh-ed25519 {OLD}",
    f"@revoked 10.79.0.11 ssh-ed25519 {OLD}",
    f"[10.79.0.11]:2222 ssh-ed25519 {ED25519}",
    f"  10.79.0.11 ecdsa-sha2-nistp256 {ECDSA}",
    "10.79.0.11",
    "",
]) + "\n"


def test_entries_of_exactly_one_address():
    assert kh.entries_for(KNOWN, "10.79.0.11") == [
        {"line": 2, "type": "ssh-ed25519", "key": OLD},
        {"line": 9, "type": "ecdsa-sha2-nistp256", "key": ECDSA},
    ]
    assert kh.entries_for(KNOWN, "[10.79.0.11]:2222") == [{"line": 8, "type": "ssh-ed25519", "key": ED25519}]
    assert kh.entries_for(KNOWN, "rental1") == [{"line": 2, "type": "ssh-ed25519", "key": OLD}]
    assert kh.entries_for(KNOWN, "rental1.example") == [{"line": 2, "type": "ssh-ed25519", "key": OLD}]
    # neither a wildcard nor a negated name is an entry of the address
    assert kh.entries_for(KNOWN, "10.79.0.13") == []
    assert kh.entries_for(KNOWN, "10.79.0.12") == []


# ---------------------------------------------------------------- state and decision


def entry(key_type: str, key: str) -> dict:
    return {"line": 1, "type": key_type, "key": key}


@pytest.mark.parametrize(
    ("known", "state"),
    [
        ([], "new"),
        ([entry("ssh-dss", OLD)], "new"),  # only a type that was not scanned
        ([entry("ssh-ed25519", ED25519)], "known"),
        ([entry("ssh-ed25519", ED25519), entry("ssh-rsa", RSA), entry("ecdsa-sha2-nistp256", ECDSA)],
         "known"),
        ([entry("ssh-ed25519", OLD)], "changed"),
        ([entry("ssh-ed25519", ED25519), entry("ecdsa-sha2-nistp256", ED25519)], "changed"),
        ([entry("ssh-ed25519", ED25519), entry("ssh-ed25519", OLD)], "changed"),  # a stale key of that type
    ],
)
def test_host_state(known, state):
    assert kh.host_state(SCANNED, known) == state


def test_nothing_scanned_is_unreachable_whatever_is_known():
    assert kh.host_state([], [entry("ssh-ed25519", OLD)]) == "unreachable"
    assert kh.host_state([], []) == "unreachable"


@pytest.mark.parametrize(
    ("state", "strict", "accept_new", "replace"),
    [
        ("known", "none", "none", "none"),
        ("unreachable", "none", "none", "none"),
        ("new", "refused", "added", "added"),
        ("changed", "refused", "refused", "replaced"),
    ],
)
def test_decide_per_policy(state, strict, accept_new, replace):
    assert [kh.decide(state, p) for p in ("strict", "accept-new", "replace")] == [strict, accept_new, replace]


def test_decide_refuses_an_unknown_policy():
    with pytest.raises(ValueError, match="one of strict, accept-new, replace"):
        kh.decide("new", "no")


# ---------------------------------------------------------------- the rewritten file


OTHERS = (
    "# other machines\r\n"
    f"10.0.0.5 ssh-ed25519 {OLD}\r\n"
    f"{HASHED_10_79_0_10}\n"
    f"@cert-authority *.example ssh-ed25519 {OLD}\n"
    f"10.79.0.110,10.79.0.1 ssh-ed25519 {OLD}\n"
)


def test_remove_pattern_leaves_other_lines_byte_identical():
    mine = (
        f"10.79.0.11 ssh-ed25519 {OLD}\n"
        f"rental1,10.79.0.11,RENTAL1 ssh-ed25519 {OLD}  comment\r\n"
        f"{kh.hashed_host('10.79.0.11', b'0123456789abcdefghij')} ecdsa-sha2-nistp256 {ECDSA}\n"
        f"@revoked 10.79.0.11 ssh-ed25519 {OLD}\n"
    )
    text = OTHERS + mine + f"10.0.0.6 ssh-ed25519 {OLD}"  # no newline at the end
    after = kh.remove_pattern(text, "10.79.0.11")
    assert after == (
        OTHERS
        + f"rental1,RENTAL1 ssh-ed25519 {OLD}  comment\r\n"
        + f"@revoked 10.79.0.11 ssh-ed25519 {OLD}\n"
        + f"10.0.0.6 ssh-ed25519 {OLD}"
    )
    assert kh.remove_pattern(text, "10.79.0.99") == text


def test_remove_pattern_drops_a_list_left_with_only_negations():
    assert kh.remove_pattern(f"10.79.0.11,!10.79.0.12 ssh-ed25519 {OLD}\n", "10.79.0.11") == ""


def test_add_keys_appends_after_a_last_line_without_newline_and_not_twice():
    text = f"10.0.0.6 ssh-ed25519 {OLD}"
    after = kh.add_keys(text, "10.79.0.11", SCANNED[:1])
    assert after == text + f"\n10.79.0.11 ssh-ed25519 {ED25519}\n"
    assert kh.add_keys(after, "10.79.0.11", SCANNED[:1]) == after


def host(name: str, address: str, scanned: list[dict], port: int = 22) -> dict:
    return {"name": name, "address": address, "port": port, "scanned": scanned}


def test_plan_new_host_under_accept_new_is_added():
    plan = kh.plan(OTHERS, [host("rental0", "10.79.0.20", scan_for("10.79.0.20"))], "accept-new")
    assert plan["refused"] == [] and plan["unreachable"] == []
    assert plan["text"] == OTHERS + "".join(f"10.79.0.20 {k['type']} {k['key']}\n" for k in SCANNED)
    assert plan["hosts"]["rental0"] == {
        "address": "10.79.0.20", "port": 22, "state": "new", "fingerprints": FINGERPRINTS,
        "known_fingerprints": [], "action": "added",
    }


def test_plan_other_port_writes_bracketed_names():
    plan = kh.plan("", [host("rental0", "127.0.0.1", SCANNED, 2222)], "accept-new")
    assert plan["text"].splitlines()[0] == f"[127.0.0.1]:2222 ssh-ed25519 {ED25519}"


def test_plan_known_hashed_host_changes_nothing_under_strict():
    plan = kh.plan(OTHERS, [host("rental0", "10.79.0.10", scan_for("10.79.0.10"))], "strict")
    assert plan["text"] == OTHERS and plan["refused"] == []
    assert plan["hosts"]["rental0"]["state"] == "known"
    assert plan["hosts"]["rental0"]["known_fingerprints"] == FINGERPRINTS[:1]
    assert plan["hosts"]["rental0"]["action"] == "none"


def test_plan_refuses_a_changed_key_under_accept_new_and_writes_nothing():
    text = OTHERS + f"10.79.0.11 ssh-ed25519 {OLD}\n"
    hosts = [host("rental0", "10.79.0.20", scan_for("10.79.0.20")),  # new: would be added
             host("rental1", "10.79.0.11", scan_for("10.79.0.11"))]
    plan = kh.plan(text, hosts, "accept-new", "/home/me/.ssh/known_hosts")
    assert plan["text"] == text
    assert plan["refused"] == [
        f"rental1 (10.79.0.11): the host key CHANGED: known {OLD_FP}, now {FINGERPRINTS[0]}; refused under "
        "host-key policy 'accept-new' - if the machine was re-created, run again with policy 'replace'"
    ]
    assert plan["hosts"]["rental1"]["action"] == "refused"
    assert plan["hosts"]["rental0"]["action"] == "none"  # nothing is written when any host is refused
    assert plan["hosts"]["rental0"]["state"] == "new"


def test_plan_refuses_a_new_host_under_strict_naming_the_fingerprints():
    plan = kh.plan("", [host("rental0", "10.79.0.20", scan_for("[10.79.0.20]:2222"), 2222)], "strict",
                   "/home/me/.ssh/known_hosts")
    assert plan["refused"] == [
        "rental0 (10.79.0.20 port 2222): the host key is NEW (not in /home/me/.ssh/known_hosts): "
        + ", ".join(FINGERPRINTS)
        + "; refused under host-key policy 'strict' - to trust it on first use, run again with policy "
        "'accept-new'"
    ]
    assert plan["text"] == ""


def test_plan_replace_rewrites_only_that_address():
    mine = (f"10.79.0.11,rental1 ssh-ed25519 {OLD}\n"
            f"{kh.hashed_host('10.79.0.11', b'saltsaltsaltsaltsalt')} ssh-rsa {RSA}\n")
    text = OTHERS + mine + f"10.79.0.12 ssh-ed25519 {OLD}\n"
    hosts = [host("rental1", "10.79.0.11", scan_for("10.79.0.11")),
             host("rental2", "10.79.0.12", scan_for("10.79.0.12"))]
    plan = kh.plan(text, [hosts[0]], "replace")
    assert plan["hosts"]["rental1"]["state"] == "changed"
    assert plan["hosts"]["rental1"]["action"] == "replaced"
    assert plan["hosts"]["rental1"]["known_fingerprints"] == [OLD_FP, FINGERPRINTS[2]]
    assert plan["text"] == (OTHERS + f"rental1 ssh-ed25519 {OLD}\n" + f"10.79.0.12 ssh-ed25519 {OLD}\n"
                            + "".join(f"10.79.0.11 {k['type']} {k['key']}\n" for k in SCANNED))
    # rental2's changed key is replaced too when it is asked for, and only then
    both = kh.plan(text, hosts, "replace")
    assert f"10.79.0.12 ssh-ed25519 {OLD}\n" not in both["text"]
    assert both["text"].startswith(OTHERS)


def test_plan_reports_unreachable_hosts_without_refusing():
    plan = kh.plan(OTHERS, [host("rental2", "203.0.113.9", []), host("rental0", "10.79.0.20", SCANNED)],
                   "strict")
    assert plan["unreachable"] == ["rental2"]
    assert plan["hosts"]["rental2"] == {"address": "203.0.113.9", "port": 22, "state": "unreachable",
                                        "fingerprints": [], "known_fingerprints": [], "action": "none"}
    assert len(plan["refused"]) == 1
    assert plan["refused"][0].startswith("rental0 (10.79.0.20): the host key is NEW")


def test_two_names_of_one_address_write_its_keys_once():
    scanned = scan_for("10.79.0.20")
    plan = kh.plan("", [host("a", "10.79.0.20", scanned), host("b", "10.79.0.20", scanned)], "accept-new")
    assert plan["text"].count("\n") == 3


def test_lines_for_gives_the_diff_lines_of_the_addresses():
    text = OTHERS + f"10.79.0.11,rental1 ssh-ed25519 {OLD}\n"
    assert kh.lines_for(text, ["10.79.0.11", "10.79.0.10"]) == (
        f"{HASHED_10_79_0_10}\n" + f"10.79.0.11,rental1 ssh-ed25519 {OLD}\n")


# ---------------------------------------------------------------- the hosts option


def test_host_problems():
    assert kh.host_problems([{"name": "rental0", "address": "10.79.0.10", "port": 22},
                             {"name": "rental1", "address": "2001:db8::1", "port": 2222}]) == []
    assert kh.host_problems([
        {"name": "rental0", "address": "-oProxyCommand=x", "port": 22},
        {"name": "rental0", "address": "10.79.0.11 10.79.0.12", "port": 0},
        {"name": " ", "address": "10.79.0.13", "port": 22},
    ]) == [
        "hosts[0] (rental0): '-oProxyCommand=x' is not a host address",
        "hosts[1] (rental0): the name 'rental0' is given twice",
        "hosts[1] (rental0): '10.79.0.11 10.79.0.12' is not a host address",
        "hosts[1] (rental0): port 0 is not 1 to 65535",
        "hosts[2] (no name): the name is empty",
    ]
