# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's known_hosts against what ssh-keyscan reads from rented boxes (pure functions).

``parse_keyscan`` reads ssh-keyscan's key lines; ``entries_for`` finds the known_hosts entries of
exactly one address (``addr`` for port 22, ``[addr]:port`` otherwise) in plain host lists and in
hashed ``|1|salt|hmac`` entries, never in ``@cert-authority``/``@revoked`` lines or wildcard
patterns; ``host_state`` says whether the scanned keys are ``known``, ``new``, ``changed`` or the
host is ``unreachable``; ``plan`` applies a policy (``strict``, ``accept-new``, ``replace``) to all
hosts at once and returns the new file text, which touches only the lines of those addresses.
Fingerprints are computed as ``ssh-keygen -l`` prints them: SHA256 of the key blob, unpadded base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError

POLICIES = ("strict", "accept-new", "replace")
# ssh-keyscan -t names (ssh-keyscan(1)).
SCAN_TYPES = ("ed25519", "ecdsa", "rsa", "dsa", "ecdsa-sk", "ed25519-sk")
# Key type of a key line -> the name ssh-keygen -l prints in parentheses.
_LABELS = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "ssh-rsa": "RSA",
    "ssh-dss": "DSA",
    "sk-ssh-ed25519@openssh.com": "ED25519-SK",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
}
_ORDER = ("ED25519", "ECDSA", "RSA", "DSA", "ED25519-SK", "ECDSA-SK")
_MARKERS = ("@cert-authority", "@revoked")
_ADDRESS = re.compile(r"^[A-Za-z0-9._:%\[\]-]+$")
# Which policy accepts a state: the least trusting one.
_ACCEPTED_BY = {"known": "strict", "new": "accept-new", "changed": "replace"}


def host_pattern(address: str, port: int = 22) -> str:
    """The name ssh looks up in known_hosts: ``addr`` on port 22, ``[addr]:port`` on any other."""
    address = address.strip().lower()
    return address if int(port) == 22 else f"[{address}]:{int(port)}"


# The hosts option of the controller-side SSH modules (host_key_policy, ssh_user_detect): one spec for both.
TARGET_OPTIONS = {
    "name": {"type": "str", "required": True},
    "address": {"type": "str", "required": True},
    "port": {"type": "int", "default": 22},
}


def host_problems(hosts: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a ``hosts`` list (name, address, port): one sentence each, [] when fine."""
    problems, names = [], set()
    for index, host in enumerate(hosts):
        name, address, port = host.get("name") or "", host.get("address") or "", host.get("port", 22)
        where = f"hosts[{index}] ({name.strip() or 'no name'})"
        if not name.strip():
            problems.append(f"{where}: the name is empty")
        elif name in names:
            problems.append(f"{where}: the name {name!r} is given twice")
        names.add(name)
        if address.startswith("-") or not _ADDRESS.match(address):
            problems.append(f"{where}: {address!r} is not a host address")
        if not isinstance(port, int) or not 0 < port < 65536:
            problems.append(f"{where}: port {port!r} is not 1 to 65535")
    return problems


def key_type_label(key_type: str) -> str:
    """``ssh-ed25519`` -> ``ED25519``, as ssh-keygen -l names it; unknown types upper-cased."""
    return _LABELS.get(key_type, key_type.upper())


def _blob(key_b64: str) -> bytes | None:
    try:
        return base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        return None


def _blob_type(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    if length > len(blob) - 4:
        return None
    return blob[4:4 + length].decode("ascii", "replace")


def fingerprint(key_type: str, key_b64: str) -> str:
    """``ED25519 SHA256:<unpadded base64 of sha256(blob)>``; the key's own text when it does not decode."""
    blob = _blob(key_b64)
    if blob is None:
        return f"{key_type_label(key_type)} (not a key: {key_b64[:16]}...)"
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"{key_type_label(key_type)} SHA256:{digest}"


def _same_key(first: str, second: str) -> bool:
    a, b = _blob(first), _blob(second)
    return a == b if a is not None and b is not None else first == second


def _type_rank(key: dict[str, str]) -> int:
    label = key_type_label(key["type"])
    return _ORDER.index(label) if label in _ORDER else len(_ORDER)


def parse_keyscan(text: str) -> list[dict[str, str]]:
    """Keys of ssh-keyscan's output, ``[{host, type, key}]`` in ED25519, ECDSA, RSA order.

    Blank lines and ``# addr:port SSH-2.0-...`` banner lines (stderr in OpenSSH 9.x, stdout in some
    older releases) are skipped. A line that is not ``host keytype base64`` with a key blob of that type
    raises ParseError naming it.
    """
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        if len(fields) < 3:
            raise ParseError("not an ssh-keyscan key line (host keytype key)", number, line)
        blob = _blob(fields[2])
        if blob is None:
            raise ParseError("the key is not base64", number, line)
        if _blob_type(blob) != fields[1]:
            raise ParseError(f"the key blob is not of type {fields[1]}", number, line)
        keys.append({"host": fields[0], "type": fields[1], "key": fields[2]})
    return sorted(keys, key=_type_rank)


def hashed_host(name: str, salt: bytes) -> str:
    """The ``|1|salt|hash`` form ssh writes with HashKnownHosts: HMAC-SHA1 keyed by the salt."""
    digest = hmac.new(salt, name.encode("utf-8"), hashlib.sha1).digest()
    return "|1|%s|%s" % (base64.b64encode(salt).decode("ascii"), base64.b64encode(digest).decode("ascii"))


def _hashed_matches(field: str, pattern: str) -> bool:
    parts = field.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    salt, expected = _blob(parts[2]), _blob(parts[3])
    if salt is None or expected is None:
        return False
    return hmac.compare_digest(hmac.new(salt, pattern.encode("utf-8"), hashlib.sha1).digest(), expected)


def _split(line: str) -> tuple[str, str, str] | None:
    """(indent, hosts field, rest) of an entry line; None for a blank, comment or marker line."""
    body = line.rstrip("\r\n")
    stripped = body.lstrip()
    if not stripped or stripped.startswith("#") or stripped.startswith("@"):
        return None
    indent = body[:len(body) - len(stripped)]
    fields = stripped.split(None, 1)
    if len(fields) < 2:
        return None
    return indent, fields[0], stripped[len(fields[0]):]


def names_pattern(hosts_field: str, pattern: str) -> bool:
    """Whether a known_hosts hosts field names exactly ``pattern``: a hashed entry of it, or a plain
    comma-separated list holding it (case-insensitive) and not its negation ``!pattern``."""
    if hosts_field.startswith("|"):
        return _hashed_matches(hosts_field, pattern)
    names = [n.lower() for n in hosts_field.split(",")]
    return pattern in names and "!" + pattern not in names


def entries_for(text: str, pattern: str) -> list[dict[str, Any]]:
    """Entries of ``text`` (a known_hosts file) for exactly ``pattern``: ``[{line, type, key}]``
    (1-based line). Marker lines and lines without a key are never entries."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = _split(line)
        if parts is None or not names_pattern(parts[1], pattern):
            continue
        fields = parts[2].split()
        if len(fields) >= 2:
            found.append({"line": number, "type": fields[0], "key": fields[1]})
    return found


def host_state(scanned: list[dict[str, str]], known: list[dict[str, Any]]) -> str:
    """``unreachable`` (nothing scanned), ``changed`` (an entry of a scanned key type holds another
    key), ``known`` (a scanned key is an entry and none differs) or ``new`` (no entry of a scanned
    type; entries of other types only are not a match, as for ssh itself)."""
    if not scanned:
        return "unreachable"
    types = {key["type"] for key in scanned}
    for key in scanned:
        if any(e["type"] == key["type"] and not _same_key(e["key"], key["key"]) for e in known):
            return "changed"
    if any(e["type"] in types for e in known):
        return "known"
    return "new"


def decide(state: str, policy: str) -> str:
    """Action for one host: ``none`` (known, unreachable), ``added``, ``replaced`` or ``refused``."""
    if policy not in POLICIES:
        raise ValueError(f"host-key policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    if state in ("known", "unreachable"):
        return "none"
    if state == "new":
        return "added" if policy in ("accept-new", "replace") else "refused"
    if state == "changed":
        return "replaced" if policy == "replace" else "refused"
    raise ValueError(f"unknown host-key state {state!r}")


def refusal(name: str, address: str, port: int, state: str, scanned: list[dict[str, str]],
            known: list[dict[str, Any]], policy: str, path: str) -> str:
    """One sentence: the host, its state, the fingerprints and the policy value that would accept it."""
    where = f"{name} ({address}{'' if int(port) == 22 else ' port %d' % int(port)})"
    now = ", ".join(fingerprint(k["type"], k["key"]) for k in scanned)
    if state == "changed":
        types = {k["type"] for k in scanned}
        differ = {e["type"] for e in known if e["type"] in types
                  and not any(_same_key(e["key"], k["key"]) for k in scanned if k["type"] == e["type"])}
        was = ", ".join(fingerprint(e["type"], e["key"]) for e in known if e["type"] in differ)
        now = ", ".join(fingerprint(k["type"], k["key"]) for k in scanned if k["type"] in differ)
        return (f"{where}: the host key CHANGED: known {was}, now {now}; refused under host-key policy "
                f"'{policy}' - if the machine was re-created, run again with policy '{_ACCEPTED_BY[state]}'")
    return (f"{where}: the host key is NEW (not in {path}): {now}; refused under host-key policy "
            f"'{policy}' - to trust it on first use, run again with policy '{_ACCEPTED_BY[state]}'")


def remove_pattern(text: str, pattern: str) -> str:
    """``text`` without any entry for exactly ``pattern``: a hashed line of it or a line naming only it
    goes; from a host list only that name goes. Every other line stays byte-identical."""
    out = []
    for line in text.splitlines(keepends=True):
        parts = _split(line)
        if parts is None or not names_pattern(parts[1], pattern):
            out.append(line)
            continue
        indent, hosts_field, rest = parts
        if hosts_field.startswith("|"):
            continue
        names = [n for n in hosts_field.split(",") if n.lower() != pattern]
        if not [n for n in names if not n.startswith("!")]:
            continue
        ending = line[len(line.rstrip("\r\n")):]
        out.append(indent + ",".join(names) + rest + ending)
    return "".join(out)


def add_keys(text: str, pattern: str, keys: list[dict[str, str]]) -> str:
    """``text`` with a ``pattern keytype key`` line appended for each key not already there."""
    present = {(e["type"], e["key"]) for e in entries_for(text, pattern)}
    lines = [f"{pattern} {k['type']} {k['key']}\n" for k in keys if (k["type"], k["key"]) not in present]
    if not lines:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(dict.fromkeys(lines))


def lines_for(text: str, patterns: list[str]) -> str:
    """The lines of ``text`` that are entries of any of ``patterns`` (for a diff of just those)."""
    keep = []
    for line in text.splitlines():
        parts = _split(line)
        if parts is not None and any(names_pattern(parts[1], p) for p in patterns):
            keep.append(line + "\n")
    return "".join(keep)


def plan(text: str, hosts: list[dict[str, Any]], policy: str, path: str = "known_hosts") -> dict[str, Any]:
    """Apply ``policy`` to every host of ``hosts`` (``{name, address, port, scanned}``, ``scanned`` as
    parse_keyscan returns it) against the known_hosts ``text``.

    Returns ``{text, hosts: {name: {address, port, state, fingerprints, known_fingerprints, action}},
    unreachable: [names], refused: [one sentence per refused host]}``. When any host is refused the
    text is returned unchanged and every other host's action is ``none``: nothing is written.
    """
    result: dict[str, Any] = {"hosts": {}, "unreachable": [], "refused": []}
    after = text
    for host in hosts:
        port = int(host.get("port", 22))
        pattern = host_pattern(host["address"], port)
        known = entries_for(text, pattern)
        scanned = host["scanned"]
        state = host_state(scanned, known)
        action = decide(state, policy)
        result["hosts"][host["name"]] = {
            "address": host["address"],
            "port": port,
            "state": state,
            "fingerprints": [fingerprint(k["type"], k["key"]) for k in scanned],
            "known_fingerprints": [fingerprint(e["type"], e["key"]) for e in known],
            "action": action,
        }
        if state == "unreachable":
            result["unreachable"].append(host["name"])
        elif action == "refused":
            result["refused"].append(refusal(host["name"], host["address"], port, state, scanned, known,
                                             policy, path))
        elif action == "replaced":
            after = add_keys(remove_pattern(after, pattern), pattern, scanned)
        elif action == "added":
            after = add_keys(after, pattern, scanned)
    if result["refused"]:
        after = text
        for entry in result["hosts"].values():
            if entry["action"] != "refused":
                entry["action"] = "none"
    result["text"] = after
    return result
