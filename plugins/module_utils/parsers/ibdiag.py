# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for the in-band fabric tools of infiniband-diags: ``ibswitches``, ``iblinkinfo``,
``ibportstate`` and ``sminfo``.

The formats follow the printf strings of rdma-core's infiniband-diags (``iblinkinfo.c``,
``ibportstate.c``, ``sminfo.c``, ``scripts/ibswitches.in``) and of libibmad's ``dump.c``, and the
older infiniband-diags 1.4-1.6 layouts that real captures still show (``Switch 0x... desc:`` headers,
``PortInfo:`` without Lid/SMLid lines, ``sminfo: sm lid 0x1`` without a state). Every function takes
the text of one run (stdout and stderr together) and raises only :class:`ParseError` (or its
subclass :class:`IbdiagError` when the tool itself failed and printed nothing else).
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
)


class IbdiagError(ParseError):
    """The tool failed (``iberror:``/``ibpanic:``/``ibwarn:`` lines and no result); ``reason`` names how."""

    def __init__(self, reason: str, message: str, line_number: int = 0, line: str = "") -> None:
        self.reason = reason
        super().__init__(message, line_number, line)


# Lines infiniband-diags and libibumad/libibnetdisc print around (or instead of) a result.
_DIAG = re.compile(r"^(?:ibwarn: |ibpanic: |ibdebug: |iberror: |[\w.-]+: iberror: |WARN: |\S+\.c:\d+; )")
_REASONS = (
    (re.compile(r"Permission denied|Operation not permitted", re.IGNORECASE), "permission"),
    (re.compile(r"can't open UMAD port|Failed to open|umad_open|open_port|client_register|"
                r"No such (?:file or )?device|Can't open SMI|No local ports", re.IGNORECASE), "port_open_failed"),
    (re.compile(r"query failed|failed: query|timed out|_do_madrpc failed|recv failed|"
                r"query resp", re.IGNORECASE), "no_response"),
    (re.compile(r"can't resolve|could not resolve", re.IGNORECASE), "resolve_failed"),
    (re.compile(r"discover failed|can't reach", re.IGNORECASE), "discover_failed"),
)

# Per-lane data rate as printed -> (name, nominal lane Gb/s). FDR10 runs 10.3125 Gb/s signalling
# with 64b/66b on FDR-capable Mellanox ports; infiniband-diags prints it as "10.0 Gbps (FDR10)".
_LANE_GENERATIONS = {
    2.5: ("SDR", 2.5), 5.0: ("DDR", 5.0), 10.0: ("QDR", 10.0), 14.0625: ("FDR", 14.0),
    25.78125: ("EDR", 25.0), 53.125: ("HDR", 50.0), 106.25: ("NDR", 100.0), 212.5: ("XDR", 200.0),
}
_FDR10 = ("FDR10", 10.0)
_GBPS = re.compile(r"(\d+(?:\.\d+)?) Gbps")
_WIDTH = re.compile(r"^(\d+)X\b")


def _number(value: float) -> float | int:
    """56.0 -> 56 (nominal rates read as the marketing numbers); 2.5 stays 2.5."""
    return int(value) if float(value).is_integer() else value


def lane_generation(lane_gbps: float | None, fdr10: bool = False) -> tuple[str, float] | None:
    """(generation name, nominal lane Gb/s) for a per-lane data rate as infiniband-diags prints it."""
    if lane_gbps is None:
        return None
    if fdr10 and lane_gbps == 10.0:
        return _FDR10
    return _LANE_GENERATIONS.get(lane_gbps)


def width_lanes(width: str | None) -> int | None:
    """'4X' -> 4; 'undefined (0)' or None -> None."""
    match = _WIDTH.match(width or "")
    return int(match.group(1)) if match else None


def _rates(lanes: int | None, lane_gbps: float | None, fdr10: bool) -> tuple[Any, Any, Any]:
    """(rate_gbps, nominal_rate_gbps, generation) for a width and a lane speed."""
    if lanes is None or lane_gbps is None:
        return None, None, None
    generation = lane_generation(lane_gbps, fdr10)
    rate = round(lanes * lane_gbps, 6)
    if generation is None:
        return rate, None, None
    return rate, _number(round(lanes * generation[1], 6)), generation[0]


def _reason(lines: list[tuple[int, str]]) -> tuple[str, int, str]:
    """(reason, line number, line) of the line that says why the tool failed.

    The last iberror/ibpanic line decides (it is the fatal one); without one, the last line does. When
    that line names no known cause, the first other line that does gives the reason.
    """
    fatal = [item for item in lines if "iberror:" in item[1] or item[1].lstrip().startswith("ibpanic:")]
    number, line = (fatal or lines)[-1]
    for _candidate_number, candidate in [(number, line), *lines]:
        for pattern, reason in _REASONS:
            if pattern.search(candidate):
                return reason, number, line
    return "unknown", number, line


def _fail(tool: str, lines: list[tuple[int, str]]) -> IbdiagError:
    reason, number, line = _reason(lines)
    return IbdiagError(reason, f"{tool} failed ({reason}): {line.strip()}", number, line)


# --------------------------------------------------------------------------------------------------
# ibswitches

# scripts/ibswitches.in prints: Switch\t: 0x<guid> ports <n> "<desc>" <enhanced|base> port 0 lid <l> lmc <m>
_SWITCH = re.compile(r'^Switch\s*:\s*(0x[0-9A-Fa-f]+)\s+ports\s+(\d+)\s+"(.*)"\s+(enhanced|base)\s+port\s+0'
                     r"\s+lid\s+(\d+)\s+lmc\s+(\d+)\s*$")


def parse_ibswitches(text: str) -> list[dict[str, Any]]:
    """Parse ``ibswitches``: one dict per switch ``{guid, ports, description, enhanced_port0, lid, lmc}``.

    Empty output is ``[]`` (no switch answered: a back-to-back link). Warnings that ibnetdiscover prints
    next to the switch lines are skipped; when it printed only errors, :class:`IbdiagError` says why.
    """
    text = check_text(text)
    switches: list[dict[str, Any]] = []
    diagnostics: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        match = _SWITCH.match(line)
        if match:
            switches.append({
                "guid": match.group(1).lower(), "ports": int(match.group(2)), "description": match.group(3),
                "enhanced_port0": match.group(4) == "enhanced", "lid": int(match.group(5)),
                "lmc": int(match.group(6)),
            })
        elif _DIAG.match(line):
            diagnostics.append((number, raw))
        else:
            raise ParseError('not ibswitches output (expected \'Switch : 0x<guid> ports <n> "<description>" '
                             "... lid <lid> lmc <lmc>')", number, raw)
    if not switches and diagnostics:
        raise _fail("ibswitches", diagnostics)
    return switches


# --------------------------------------------------------------------------------------------------
# iblinkinfo

_HEADER = re.compile(r"^(?P<type>Switch|CA|Router|\?\?): (?P<rest>.*):\s*$")
_OLD_SWITCH_HEADER = re.compile(r"^Switch (?P<guid>0x[0-9A-Fa-f]+) (?P<desc>.*):\s*$")
_GUID_DESC = re.compile(r"^(?P<guid>0x[0-9A-Fa-f]+) (?P<desc>.*)$")
_PORT_LINE = re.compile(
    r"^\s*(?:(?P<guid>0x[0-9A-Fa-f]+)\s+)?"
    r'(?:"(?P<desc>.*)"\s+)?'
    r"(?P<lid>\d+)\s+(?P<port>\d+)\[(?P<ext>[^\]]*)\]\s*"
    r"==\((?P<link>.*?)\)(?:\s*\((?P<extra>HOQ:[^)]*)\))?==>(?P<remote>.*)$")
_LINK = re.compile(r"^\s*(?:(?P<width>\d+X|undefined \(\d+\))\s+(?P<speed>.+?)\s+)?"
                   r"(?P<state>[A-Za-z?()0-9]+)/\s*(?P<phys>[A-Za-z?()0-9]+)\s*$")
_SPEED = re.compile(r"^(?P<gbps>\d+(?:\.\d+)?) Gbps(?: \((?P<tag>FDR10)\))?$")
_REMOTE = re.compile(r'^\s*(?:(?P<guid>0x[0-9A-Fa-f]+)\s+)?(?P<lid>\d+)\s+(?P<port>\d+)\[(?P<ext>[^\]]*)\]\s+'
                     r'"(?P<desc>.*)"\s+\((?P<note>.*)\)\s*$')
_REMOTE_DOWN = re.compile(r'^\s*\[\s*\]\s+""\s+\(\s*\)\s*$')
_REMOTE_NA = re.compile(r'^\s*"Port not available"\s*$')


def _ext(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _link_port(match: re.Match, number: int, raw: str) -> dict[str, Any]:
    link = _LINK.match(match.group("link"))
    if not link:
        raise ParseError("iblinkinfo link state not understood (expected '( 4X 14.0625 Gbps Active/  LinkUp)')",
                         number, raw)
    speed_text = link.group("speed")
    speed = _SPEED.match(speed_text or "")
    lane = float(speed.group("gbps")) if speed else None
    fdr10 = bool(speed and speed.group("tag"))
    rate, nominal, generation = _rates(width_lanes(link.group("width")), lane, fdr10)
    port: dict[str, Any] = {
        "port": int(match.group("port")), "lid": int(match.group("lid")),
        "port_guid": match.group("guid").lower() if match.group("guid") else None,
        "ext_port": _ext(match.group("ext")),
        "width": link.group("width"), "speed": speed_text, "speed_gbps": lane, "fdr10": fdr10,
        "rate_gbps": rate, "nominal_rate_gbps": nominal, "generation": generation,
        "state": link.group("state"), "physical_state": link.group("phys"),
        "hoq": match.group("extra"), "available": True,
        "peer_guid": None, "peer_lid": None, "peer_port": None, "peer_ext_port": None,
        "peer_description": None, "note": None,
    }
    remote_text = match.group("remote")
    remote = _REMOTE.match(remote_text)
    if remote:
        note = remote.group("note").strip()
        port.update(peer_guid=remote.group("guid").lower() if remote.group("guid") else None,
                    peer_lid=int(remote.group("lid")), peer_port=int(remote.group("port")),
                    peer_ext_port=_ext(remote.group("ext")), peer_description=remote.group("desc"),
                    note=" ".join(note.split()) or None)
    elif _REMOTE_NA.match(remote_text):
        port["available"] = False
    elif not _REMOTE_DOWN.match(remote_text):
        raise ParseError("iblinkinfo peer not understood (expected '<lid> <port>[ ] \"<description>\" ( )')",
                         number, raw)
    return port


def parse_iblinkinfo(text: str) -> dict[str, Any]:
    """Parse ``iblinkinfo`` (default and ``--line`` layouts, infiniband-diags 1.5 to rdma-core).

    Returns ``{mode, switches, nodes, errors}``: ``switches`` are the blocks under a ``Switch:`` header,
    ``nodes`` the ``CA:``/``Router:`` blocks plus, with ``type`` null, ``--line`` output and port lines
    that came without a header (a pasted fragment). Each node is ``{type, guid, description, lid, ports}``
    and each port ``{port, lid, port_guid, ext_port, width, speed, speed_gbps (per lane, as printed),
    fdr10, rate_gbps (lanes x lane speed: FDR 4X -> 56.25), nominal_rate_gbps (56), generation, state,
    physical_state, hoq, available, peer_guid, peer_lid, peer_port, peer_ext_port, peer_description,
    note}`` where ``note`` is iblinkinfo's hint (``Could be FDR10``, ``Could be 4X``...).
    """
    text = check_text(text)
    result: dict[str, Any] = {"mode": None, "switches": [], "nodes": [], "errors": []}
    diagnostics: list[tuple[int, str]] = []
    node: dict[str, Any] | None = None
    ports_seen = 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        match = _PORT_LINE.match(raw)
        if match:
            port = _link_port(match, number, raw)
            line_mode = match.group("desc") is not None
            if line_mode:
                result["mode"] = "line"
                description = match.group("desc").strip()
                key = (port["port_guid"], description)
                if node is None or node.get("_line") != key:
                    node = {"type": None, "guid": port["port_guid"], "description": description, "lid": None,
                            "ports": [], "_line": key}
                    result["nodes"].append(node)
            else:
                result["mode"] = result["mode"] or "default"
                if node is None or "_line" in node:
                    node = {"type": None, "guid": None, "description": None, "lid": None, "ports": []}
                    result["nodes"].append(node)
            if node["type"] == "Switch" and node["lid"] is None:
                node["lid"] = port["lid"]
            node["ports"].append(port)
            ports_seen += 1
            continue
        header = _HEADER.match(line)
        old = _OLD_SWITCH_HEADER.match(line)
        if header or old:
            if old:
                node_type, guid, description = "Switch", old.group("guid"), old.group("desc")
            else:
                node_type, rest = header.group("type"), header.group("rest")
                guid_desc = _GUID_DESC.match(rest) if node_type == "Switch" else None
                guid, description = (guid_desc.group("guid"), guid_desc.group("desc")) if guid_desc else (None, rest)
            node = {"type": node_type if node_type != "??" else None, "guid": guid.lower() if guid else None,
                    "description": description, "lid": None, "ports": []}
            result["switches" if node_type == "Switch" else "nodes"].append(node)
            continue
        if _DIAG.match(line):
            diagnostics.append((number, raw))
            continue
        raise ParseError("not iblinkinfo output (expected a 'Switch: 0x<guid> <desc>:' or 'CA: <desc>:' header "
                         "or a '<lid> <port>[ ] ==( ... )==> ...' port line)", number, raw)
    if not ports_seen and diagnostics:
        raise _fail("iblinkinfo", diagnostics)
    for entry in result["nodes"]:
        entry.pop("_line", None)
    result["errors"] = [raw.strip() for _n, raw in diagnostics]
    return result


# --------------------------------------------------------------------------------------------------
# ibportstate

_PORTINFO_HEADER = re.compile(r"^(?:(?P<initial>Initial) )?(?:(?P<kind>CA/RT|Switch) )?PortInfo:\s*$")
_PEER_HEADER = re.compile(r"^Peer PortInfo:\s*$")
_AFTER_HEADER = re.compile(r"^After (?:PortInfo|MLNXExtendedPortInfo) set:\s*$")
_PORT_BLOCK = re.compile(r"^# Port info: (?P<addr>.*) port (?P<port>\d+)\s*$")
_MLNX_BLOCK = re.compile(r"^# MLNX ext Port info: (?P<addr>.*) port (?P<port>\d+)\s*$")
_FIELD = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_]*):\.*(?P<value>.*?)\s*$")
_ADDR_LID = re.compile(r"^Lid (\d+)")
_PORTSTATE_NOTES = ("Disable may be irreversible", "Port is already in enable state")
_MLNX_KEYS = {"StateChangeEnable": "state_change_enable", "LinkSpeedSupported": "link_speed_supported",
              "LinkSpeedEnabled": "link_speed_enabled", "LinkSpeedActive": "link_speed_active"}
_MLNX_FDR10 = 0x1  # MLNX ExtendedPortInfo LinkSpeed* bit 0: FDR10


def _alternatives(value: str | None) -> list[str] | None:
    """'2.5 Gbps or 5.0 Gbps' -> ['2.5 Gbps', '5.0 Gbps']; '0' (none enabled) -> []; absent -> None."""
    if value is None:
        return None
    value = value.strip()
    if value in ("", "0"):
        return []
    return [item.strip() for item in value.split(" or ")]


def _gbps(value: str | None) -> float | None:
    match = _GBPS.match((value or "").strip())
    return float(match.group(1)) if match else None


def _max_gbps(values: list[str] | None) -> float | None:
    numbers = [number for number in (_gbps(value) for value in values or []) if number is not None]
    return max(numbers) if numbers else None


def _max_lanes(values: list[str] | None) -> int | None:
    lanes = [number for number in (width_lanes(value) for value in values or []) if number is not None]
    return max(lanes) if lanes else None


def _triple(fields: dict[str, str], prefix: str, suffix: str = "") -> dict[str, Any] | None:
    keys = [f"{prefix}{kind}{suffix}" for kind in ("Supported", "Enabled", "Active")]
    if not any(key in fields for key in keys):
        return None
    active = fields.get(keys[2])
    return {"supported": _alternatives(fields.get(keys[0])), "enabled": _alternatives(fields.get(keys[1])),
            "active": active.strip() if active is not None else None}


def _hex(value: str | None) -> int | None:
    try:
        return int((value or "").strip(), 0)
    except ValueError:
        return None


def _port_view(block: dict[str, Any]) -> dict[str, Any]:
    fields, mlnx_fields = block["fields"], block["mlnx"]
    address = block["address"]
    lid_field = fields.get("Lid", "").strip()
    address_lid = _ADDR_LID.match(address)
    if lid_field.isascii() and lid_field.isdigit():
        lid: int | None = int(lid_field)
    elif address_lid and "DR path" not in address:
        lid = int(address_lid.group(1))
    else:
        lid = None
    width = _triple(fields, "LinkWidth")
    speed = _triple(fields, "LinkSpeed")
    speed_ext = _triple(fields, "LinkSpeedExt")
    speed_ext2 = _triple(fields, "LinkSpeedExt", "2")
    mlnx = None
    if mlnx_fields is not None:
        mlnx = {name: _hex(mlnx_fields.get(key)) for key, name in _MLNX_KEYS.items()}
    fdr10 = bool(mlnx and (mlnx["link_speed_active"] or 0) & _MLNX_FDR10)
    link_state = fields.get("LinkState")
    # Active lane speed: extended speed 2 (XDR), extended (FDR..NDR), FDR10, then the base speed.
    lane = None
    for view in (speed_ext2, speed_ext):
        lane = lane if lane is not None else _gbps(view["active"] if view else None)
    if lane is None and fdr10:
        lane = 10.0
    if lane is None:
        lane = _gbps(speed["active"] if speed else None)
    lanes = width_lanes(width["active"] if width else None)
    down = link_state is None or link_state.strip() == "Down"
    active_rate, active_nominal, generation = (None, None, None) if down else _rates(lanes, lane, fdr10)

    def best(kind: str) -> float | None:
        ext = [_max_gbps(view[kind]) for view in (speed_ext2, speed_ext) if view]
        ext = [value for value in ext if value is not None]
        return max(ext) if ext else _max_gbps(speed[kind] if speed else None)

    enabled_rate = _rates(_max_lanes(width["enabled"] if width else None), best("enabled"), False)[0]
    supported_rate = _rates(_max_lanes(width["supported"] if width else None), best("supported"), False)[0]
    view: dict[str, Any] = {
        "lid": lid, "port": block["port"], "address": address,
        "link_state": link_state, "phys_state": fields.get("PhysLinkState"),
        "sm_lid": int(fields["SMLid"]) if fields.get("SMLid", "").strip().isascii() and fields.get("SMLid", "").strip().isdigit() else None,
        "width": width, "speed": speed, "speed_ext": speed_ext,
        "mlnx_ext": mlnx, "fdr10": fdr10,
        "fdr10_enabled": bool(mlnx and (mlnx["link_speed_enabled"] or 0) & _MLNX_FDR10),
        "active_rate_gbps": active_rate, "active_nominal_gbps": active_nominal, "generation": generation,
        "enabled_max_rate_gbps": enabled_rate, "supported_max_rate_gbps": supported_rate,
    }
    if speed_ext2 is not None:
        view["speed_ext2"] = speed_ext2
    return view


def parse_ibportstate(text: str) -> dict[str, Any]:
    """Parse ``ibportstate <lid> <port> [query]`` (and the Initial/After blocks of a set operation).

    The result is the queried port: ``{lid, port, address, link_state, phys_state, sm_lid,
    width: {supported, enabled, active}, speed: {...}, speed_ext: {...} or null, mlnx_ext, fdr10,
    fdr10_enabled, active_rate_gbps, active_nominal_gbps, generation, enabled_max_rate_gbps,
    supported_max_rate_gbps}`` (lists as printed: ``['2.5 Gbps', '5.0 Gbps', '10.0 Gbps']``) plus
    ``node_type`` (``CA/RT``, ``Switch`` or null for old versions), ``peer`` (the same shape, for a
    switch port), ``after_set``, ``notes``, ``warnings`` (ibwarn lines: ``Peer ports operating at ...``)
    and ``errors``. ``fdr10`` comes from the Mellanox ExtendedPortInfo block (LinkSpeedActive bit 0):
    PortInfo itself says ``10.0 Gbps`` for both QDR and FDR10.
    """
    text = check_text(text)
    blocks: dict[str, dict[str, Any]] = {}
    section = "main"
    node_type = None
    current: dict[str, Any] | None = None
    target = "fields"
    notes: list[str] = []
    diagnostics: list[tuple[int, str]] = []
    seen_header = False
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        header = _PORTINFO_HEADER.match(line)
        if header and not _PEER_HEADER.match(line):
            if section == "main" and "main" not in blocks:
                node_type = header.group("kind")
            seen_header = True
            continue
        if _PEER_HEADER.match(line):
            section, current, seen_header = "peer", None, True
            continue
        if _AFTER_HEADER.match(line):
            section, current, seen_header = "after_set", None, True
            continue
        match = _PORT_BLOCK.match(line)
        if match:
            existing = blocks.get(section)
            if existing is not None and existing["fields"]:
                raise ParseError(f"a second '# Port info' block in the {section} section", number, raw)
            current = existing or {"mlnx": None}
            current.update(address=match.group("addr").strip(), port=int(match.group("port")), fields={})
            blocks[section] = current
            target = "fields"
            continue
        match = _MLNX_BLOCK.match(line)
        if match:
            if current is None and section != "after_set":
                raise ParseError("'# MLNX ext Port info' before any '# Port info' block", number, raw)
            if current is None:
                # "After MLNXExtendedPortInfo set:" prints the MLNX block before the PortInfo block.
                current = {"address": match.group("addr").strip(), "port": int(match.group("port")),
                           "fields": {}, "mlnx": None}
                blocks[section] = current
            current["mlnx"] = {}
            target = "mlnx"
            continue
        if line in _PORTSTATE_NOTES:
            notes.append(line)
            continue
        if _DIAG.match(line):
            diagnostics.append((number, raw))
            continue
        match = _FIELD.match(line)
        if match and current is not None:
            current[target][match.group("key")] = match.group("value")
            continue
        if match and seen_header:
            raise ParseError("ibportstate field before the '# Port info:' line", number, raw)
        raise ParseError("not ibportstate output (expected 'CA/RT PortInfo:', 'Switch PortInfo:' or "
                         "'# Port info: Lid <lid> port <n>')", number, raw)
    if "main" not in blocks:
        if diagnostics:
            raise _fail("ibportstate", diagnostics)
        raise ParseError("no '# Port info:' block in ibportstate output", 0, "")
    result = _port_view(blocks["main"])
    result["node_type"] = node_type
    result["peer"] = _port_view(blocks["peer"]) if "peer" in blocks else None
    result["after_set"] = _port_view(blocks["after_set"]) if "after_set" in blocks else None
    result["notes"] = notes
    result["warnings"] = [raw.strip() for _n, raw in diagnostics if "iberror:" not in raw and "ibpanic:" not in raw]
    result["errors"] = [raw.strip() for _n, raw in diagnostics if "iberror:" in raw or "ibpanic:" in raw]
    return result


# --------------------------------------------------------------------------------------------------
# sminfo

# sminfo.c: "sminfo: sm lid %d sm guid 0x%llx, activity count %u priority %d state %d %s"; OFED 1.x
# printed the lid in hex and no state.
_SMINFO = re.compile(r"^sminfo: sm lid (?P<lid>0x[0-9A-Fa-f]+|\d+) sm guid (?P<guid>0x[0-9A-Fa-f]+), "
                     r"activity count (?P<act>\d+) priority (?P<prio>\d+)"
                     r"(?: state (?P<state>\d+)(?: (?P<name>\S+))?)?\s*$")
_SM_STATES = ("SMINFO_NOTACT", "SMINFO_DISCOVER", "SMINFO_STANDBY", "SMINFO_MASTER")


def parse_sminfo(text: str) -> dict[str, Any]:
    """Parse ``sminfo``.

    An answer is ``{present: True, lid, guid, activity_count, priority, state, state_name, error: None,
    reason: None, warnings}``. When no SM answered (``sminfo: iberror: failed: query``) or the local port
    could not be opened, the result is ``{present: False, ..., error: <the iberror line>, reason}`` with
    ``reason`` ``no_response`` (no SM answered: OpenSM must run), ``port_open_failed``, ``permission``,
    ``resolve_failed`` or ``unknown``: a result, not an exception, because "no SM" is what a role decides on.
    """
    text = check_text(text)
    answer = None
    diagnostics: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        match = _SMINFO.match(line)
        if match and answer is None:
            answer = match
            continue
        if match:
            raise ParseError("a second 'sminfo: sm lid' line", number, raw)
        if _DIAG.match(line):
            diagnostics.append((number, raw))
            continue
        raise ParseError("not sminfo output (expected 'sminfo: sm lid <lid> sm guid 0x<guid>, activity count "
                         "<n> priority <p> state <s> <name>' or an iberror line)", number, raw)
    fatal = [raw for _n, raw in diagnostics if "iberror:" in raw or raw.lstrip().startswith("ibpanic:")]
    result: dict[str, Any] = {"present": False, "lid": None, "guid": None, "activity_count": None,
                              "priority": None, "state": None, "state_name": None, "error": None,
                              "reason": None,
                              "warnings": [raw.strip() for _n, raw in diagnostics if raw not in fatal]}
    if answer is not None:
        state = int(answer.group("state")) if answer.group("state") is not None else None
        name = answer.group("name")
        if name is None and state is not None and state < len(_SM_STATES):
            name = _SM_STATES[state]
        result.update(present=True, lid=int(answer.group("lid"), 0), guid=answer.group("guid").lower(),
                      activity_count=int(answer.group("act")), priority=int(answer.group("prio")),
                      state=state, state_name=name)
        return result
    if not diagnostics:
        raise ParseError("empty sminfo output", 1, "")
    reason, _line_number, line = _reason(diagnostics)
    result.update(error=line.strip(), reason=reason)
    return result
