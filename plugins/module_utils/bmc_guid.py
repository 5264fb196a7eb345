# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Crossed BMC wiring: does each node's BMC report the node's own system UUID (pure functions).

A node's BMC answers ``ipmitool mc guid`` (IPMI Get System GUID) with the system's GUID; the node itself
reports its SMBIOS type 1 UUID (``/sys/class/dmi/id/product_uuid``, ``dmidecode``). When the inventory has two
BMC addresses swapped, node1's BMC answers with node2's GUID; ``crossed`` names that.

The two sides often differ in byte order, so a match is accepted either exactly or after swapping the byte
order of the first three fields (time_low, time_mid, time_hi_and_version):

* SMBIOS 2.6+ stores those three fields little-endian and dmidecode prints them swapped back (below 2.6 it
  prints the raw bytes); the kernel's product_uuid does the same.
* IPMI 2.0 (section 20.8/22.14) wants the whole GUID least-significant byte first; many BMCs send SMBIOS order
  instead, some RFC 4122 order (ipmitool issue #25, FreeIPMI's ``guidformat`` workaround).
* ipmitool <= 1.8.18 reads the first three fields as host-endian integers ("System GUID  :", and a bogus
  "Timestamp" made from time_low alone); 1.8.19 guesses the encoding (``mc guid [auto|smbios|ipmi|rfc4122|
  dump]``, "System GUID   :" plus "GUID Encoding"/"GUID Version"/"Timestamp" lines; ``-Z`` only prints that
  Timestamp in UTC). FreeIPMI's ``bmc-info`` decodes in IPMI order ("System GUID : ..."; ``--get-system-guid``
  prints the bare value). The same BMC can thus print in either order depending on the tool and its version.

A full 16-byte reversal is not accepted: no recorded output needed it, and each extra order makes an accidental
match likelier. It is what FreeIPMI's ``bmc-info`` prints by default for the common BMC that sends SMBIOS order
(bmc-info reverses all 16 bytes, as IPMI prescribes), so read such BMCs with ipmitool or ``bmc-info -W
guidformat``; it is also what ipmitool 1.8.18 makes of a BMC that does send true IPMI order.

UUIDs that identify nothing are "unusable" and never match: all 00h and all FFh (SMBIOS: not present / not
set; dmidecode prints "Not Settable" / "Not Present"), and known shared placeholders (the AMI BIOS default
03000200-0400-0500-0006-000700080009, the counting patterns systemd's hostnamed rejects as bogus).
"""

from __future__ import annotations

import json
import re

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

MATCHES = ("exact", "swapped")

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_DASHED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SYSTEM_GUID = re.compile(r"^\s*System GUID\s*:\s*(.*?)\s*$", re.IGNORECASE)
_DMI_UUID = re.compile(r"^\s*UUID\s*:\s*(.*?)\s*$")
_SUM_UUID = re.compile(r"^\s*UUID\s+\{SYUU\}\s*=\s*(\S+)")
_REDFISH_UUID = re.compile(r'"UUID"\s*:\s*"([^"]*)"')

# dmidecode's words for the two reserved values (dmidecode.c dmi_system_uuid: all FFh "Not Present",
# all 00h "Not Settable").
_DMI_WORDS = {
    "not settable": "dmidecode says 'Not Settable': all bytes 00h, the BIOS stores no UUID",
    "not present": "dmidecode says 'Not Present': all bytes FFh, the UUID is not set",
}
_PLACEHOLDERS = {
    "00000000-0000-0000-0000-000000000000": "all zeros: no UUID (SMBIOS: ID not present)",
    "ffffffff-ffff-ffff-ffff-ffffffffffff": "all FF: no UUID (SMBIOS: ID not set)",
    "03000200-0400-0500-0006-000700080009": "the AMI BIOS placeholder UUID shared by many boards",
    "00020003-0004-0005-0006-000700080009": "the AMI BIOS placeholder UUID shared by many boards (byte-swapped)",
    "01010101-0101-0101-0101-010101010101": "a placeholder pattern (all bytes 01h)",
    "00010203-0405-0607-0809-0a0b0c0d0e0f": "a placeholder pattern (bytes 00..0f)",
    "03020100-0504-0706-0809-0a0b0c0d0e0f": "a placeholder pattern (bytes 00..0f, byte-swapped)",
    "01020304-0506-0708-090a-0b0c0d0e0f10": "a placeholder pattern (bytes 01..10)",
    "04030201-0605-0807-090a-0b0c0d0e0f10": "a placeholder pattern (bytes 01..10, byte-swapped)",
}


class UnusableUUID(ParseError):
    """The output holds a UUID (or dmidecode's word for none) that identifies no machine; ``reason`` says why."""

    def __init__(self, reason: str, line_number: int = 0, line: str = "") -> None:
        self.reason = reason
        super().__init__(f"unusable UUID: {reason}", line_number, line)


def canonical(value: str) -> str:
    """Lower-case 8-4-4-4-12 form of a UUID written with or without dashes or braces, in any case.

    Raises ValueError (ParseError) when ``value`` is not 32 hex digits in one of those forms.
    """
    if not isinstance(value, str):
        raise ParseError(f"a UUID must be text, got {type(value).__name__}")
    text = value.strip().lower()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if _HEX32.match(text):
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    if not _DASHED.match(text):
        raise ParseError(f"not a UUID: {value!r}")
    return text


def unusable_reason(uuid: str) -> str:
    """Why ``uuid`` identifies no machine (all zeros, all FF, a shared placeholder); '' when it is usable."""
    return _PLACEHOLDERS.get(canonical(uuid), "")


def swap_first_three(uuid: str) -> str:
    """``uuid`` with the byte order of its first three fields reversed (the SMBIOS 2.6 / RFC 4122 difference).

    The swap is its own inverse: swap_first_three(swap_first_three(u)) == canonical(u).
    """
    parts = canonical(uuid).split("-")
    for index in range(3):
        field = parts[index]
        parts[index] = "".join(field[i:i + 2] for i in range(len(field) - 2, -1, -2))
    return "-".join(parts)


def _usable(uuid: str, line_number: int, line: str) -> str:
    reason = unusable_reason(uuid)
    if reason:
        raise UnusableUUID(reason, line_number, line)
    return uuid


def _bare_value(text: str) -> tuple[int, str] | None:
    """(line number, line) when the text holds exactly one non-blank line, else None."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    return lines[0] if len(lines) == 1 else None


def _labelled_uuid(text: str, patterns: tuple, label: str, noun: str, words: dict | None = None) -> str:
    """The UUID on the output's ``label`` lines (the first group of one of ``patterns``), '' when there is
    none; every such line must agree. UnusableUUID for a placeholder or one of ``words``; ParseError naming
    the line for a line that holds no UUID or a second, different one."""
    words = words or {}
    found: tuple[int, str, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        hit = next((m for m in (pattern.match(line) for pattern in patterns) if m), None)
        if not hit:
            continue
        value = hit.group(1)
        if value.lower() in words:
            raise UnusableUUID(words[value.lower()], number, line)
        try:
            value = canonical(value)
        except ParseError:
            raise ParseError(f"the {label} line does not hold a {noun}", number, line) from None
        if found and found[2] != value:
            raise ParseError(f"two different {label} lines (the first at line {found[0]})", number, line)
        found = found or (number, line, value)
    return _usable(found[2], found[0], found[1]) if found else ""


def _bare_uuid(text: str, missing: str, words: dict | None = None) -> str:
    """The UUID of an output that is one bare value (``bmc-info --get-system-guid``, ``product_uuid``,
    ``dmidecode -s system-uuid``); UnusableUUID for a placeholder or one of ``words`` (dmidecode's words for
    none), else ParseError(``missing``) naming the first line."""
    words = words or {}
    bare = _bare_value(text)
    if bare:
        word = bare[1].strip().lower()
        if word in words:
            raise UnusableUUID(words[word], *bare)
        try:
            value = canonical(bare[1])
        except ParseError:
            value = ""
        if value:
            return _usable(value, *bare)
    number, line = first_content_line(text)
    raise ParseError(missing, number, line)


def parse_ipmitool_mc_guid(text: str) -> str:
    """The system GUID from ``ipmitool mc guid`` / ``bmc guid`` output (any version), from FreeIPMI ``bmc-info``
    ("System GUID : ...") or from ``bmc-info --get-system-guid`` (the bare GUID), in canonical form.

    The value is returned as the tool printed it; compare it with ``match``, which accepts both byte orders.
    ipmitool's dump mode (32 hex digits, printed when it recognises no encoding) is read as printed.
    Raises ParseError naming the line when there is no System GUID line (an error message, say) or the line
    does not hold a GUID, and UnusableUUID when the GUID is all zeros, all FF or a placeholder.
    """
    text = check_text(text)
    return (_labelled_uuid(text, (_SYSTEM_GUID,), "System GUID", "GUID")
            or _bare_uuid(text, "no 'System GUID' line in the ipmitool mc guid output"))


def parse_smbios_uuid(text: str) -> str:
    """The SMBIOS system UUID from ``/sys/class/dmi/id/product_uuid``, ``dmidecode -s system-uuid`` (the bare
    value), ``dmidecode -t 1``/``-t system`` ("UUID: ...") or Supermicro ``sum -c GetDmiInfo`` ("UUID {SYUU} =").

    Raises UnusableUUID (a ParseError) for dmidecode's "Not Settable"/"Not Present", all zeros, all FF and
    known placeholders: such a UUID must be reported, never matched. Raises ParseError naming the line when
    the output holds no UUID or the UUID line holds something else.
    """
    text = check_text(text)
    return (_labelled_uuid(text, (_DMI_UUID, _SUM_UUID), "UUID", "UUID", _DMI_WORDS)
            or _bare_uuid(text, "no system UUID in the output (product_uuid, dmidecode or sum GetDmiInfo)",
                          _DMI_WORDS))


def parse_redfish_uuid(text: str) -> str:
    """The ``UUID`` of a Redfish ComputerSystem (the BMC's answer for the system's UUID): the JSON document of
    ``/redfish/v1/Systems/<id>`` or a ``"UUID": "..."`` line cut from it. Same errors as the other parsers."""
    text = check_text(text)
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("UUID"), str):
        return _usable(canonical(document["UUID"]), 0, "")
    for number, line in enumerate(text.splitlines(), 1):
        hit = _REDFISH_UUID.search(line)
        if hit:
            try:
                return _usable(canonical(hit.group(1)), number, line)
            except UnusableUUID:
                raise
            except ParseError:
                raise ParseError("the Redfish UUID is not a UUID", number, line) from None
    number, line = first_content_line(text)
    raise ParseError("no \"UUID\" in the Redfish output", number, line)


def match(bmc_guid: str, smbios_uuid: str) -> str:
    """'exact' when the BMC's GUID equals the SMBIOS UUID, 'swapped' when it equals it after swapping the byte
    order of the first three fields, '' when neither, or when either side is unusable (all zeros, all FF, a
    placeholder). Both are compared in canonical form; a value that is not a UUID raises ValueError."""
    bmc, smbios = canonical(bmc_guid), canonical(smbios_uuid)
    if unusable_reason(bmc) or unusable_reason(smbios):
        return ""
    if bmc == smbios:
        return "exact"
    if swap_first_three(bmc) == smbios:
        return "swapped"
    return ""


def _node_value(node: str, side: str, value: object) -> str:
    """Canonical form of one side of a node's pair; '' when it is missing (None or blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        return canonical(value)  # type: ignore[arg-type]
    except ParseError as exc:
        raise ParseError(f"node {node}: {side}: {exc}") from None


def _how(kind: str) -> str:
    return "byte-swapped first three fields" if kind == "swapped" else "same byte order"


def crossed(pairs: dict) -> list[dict]:
    """The nodes whose BMC does not answer with their own SMBIOS UUID, and whose UUID it answers with instead.

    ``pairs`` maps a node name to (bmc_guid, smbios_uuid); a side may be None or '' when it could not be read.
    For each such node (in name order) the entry holds ``node``, ``bmc_guid``, ``smbios_uuid`` (canonical, or
    ''), ``matches``: the other nodes whose SMBIOS UUID the BMC GUID equals, as ``{"node", "how"}`` with how
    'exact' or 'swapped', ``unusable``: why either side identifies nothing ('' when both do), and ``message``:
    "node1's BMC answers with node2's GUID ..." or why the node cannot be placed. Nodes that match their own
    UUID are left out, so an empty list means the inventory's BMC addresses agree with the nodes.
    """
    values = {}
    for node, pair in pairs.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ParseError(f"node {node}: expected (bmc_guid, smbios_uuid), got {pair!r}")
        values[str(node)] = (_node_value(str(node), "bmc_guid", pair[0]),
                             _node_value(str(node), "smbios_uuid", pair[1]))
    findings = []
    for node in sorted(values):
        bmc, smbios = values[node]
        if bmc and smbios and match(bmc, smbios):
            continue
        problems = []
        if not bmc:
            problems.append("no BMC GUID")
        elif unusable_reason(bmc):
            problems.append(f"BMC GUID unusable ({unusable_reason(bmc)})")
        if not smbios:
            problems.append("no SMBIOS UUID")
        elif unusable_reason(smbios):
            problems.append(f"SMBIOS UUID unusable ({unusable_reason(smbios)})")
        matches = []
        if bmc:
            for other in sorted(values):
                other_smbios = values[other][1]
                kind = match(bmc, other_smbios) if other != node and other_smbios else ""
                if kind:
                    matches.append({"node": other, "how": kind})
        if matches:
            named = " and ".join(f"{m['node']}'s GUID ({_how(m['how'])})" for m in matches)
            message = f"{node}'s BMC answers with {named}: its inventory BMC address belongs to another node"
            if len(matches) > 1:
                message += "; the SMBIOS UUIDs of those nodes are not unique"
        elif problems:
            message = f"{node}: cannot check the BMC wiring: {'; '.join(problems)}"
        else:
            message = (f"{node}'s BMC answers with GUID {bmc}, which is no node's SMBIOS UUID "
                       f"(its own is {smbios}): the BMC address is wrong or belongs to a node outside this list")
        findings.append({
            "node": node,
            "bmc_guid": bmc,
            "smbios_uuid": smbios,
            "matches": matches,
            "unusable": "; ".join(problems),
            "message": message,
        })
    return findings
