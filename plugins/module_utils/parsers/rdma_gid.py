# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn raw sysfs GID entries (/sys/class/infiniband/*/ports/*/gids) into a GID table.

Also parses the text of Mellanox/NVIDIA's ``show_gids`` script (mlnx-tools) and the GID lines of
``ibv_devinfo -v`` (rdma-core) into the same shape.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

ZERO_GID = "0000:0000:0000:0000:0000:0000:0000:0000"
_GID = re.compile(r"^[0-9a-f]{4}(:[0-9a-f]{4}){7}$")


def gid_ipv4(gid: str) -> str | None:
    """IPv4 address of an IPv4-mapped GID (::ffff:a.b.c.d), else None."""
    parts = gid.lower().split(":")
    if len(parts) != 8 or parts[:6] != ["0000"] * 5 + ["ffff"]:
        return None
    value = int(parts[6] + parts[7], 16)
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def build_gid_table(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """entries: [{device, port, index, gid, type, ndev, link_layer, state}] -> facts.

    Zero (unused) GIDs are dropped. ``roce_v2_ipv4`` maps each netdev to the lowest-index RoCE v2 GID
    that carries an IPv4 address (the index to give ib_write_bw -x / NCCL_IB_GID_INDEX).
    """
    devices: dict[str, Any] = {}
    roce: dict[str, Any] = {}
    for entry in sorted(entries, key=lambda e: (e["device"], int(e["port"]), int(e["index"]))):
        gid = (entry.get("gid") or "").strip().lower()
        port = devices.setdefault(entry["device"], {}).setdefault(int(entry["port"]), {
            "link_layer": entry.get("link_layer"), "state": entry.get("state"), "gids": []})
        if not _GID.match(gid) or gid == ZERO_GID:
            continue
        row = {"index": int(entry["index"]), "gid": gid, "type": entry.get("type") or None,
               "ndev": entry.get("ndev") or None, "ipv4": gid_ipv4(gid)}
        port["gids"].append(row)
        if row["ipv4"] and row["type"] == "RoCE v2" and row["ndev"] and row["ndev"] not in roce:
            roce[row["ndev"]] = {"device": entry["device"], "port": int(entry["port"]), "index": row["index"],
                                 "gid": gid, "ipv4": row["ipv4"]}
    return {"devices": devices, "roce_v2_ipv4": roce}


# show_gids prints the VER column with `grep -o "[Vv].*"` of gid_attrs/types: "IB/RoCE v1" -> "v1".
_SHOW_GIDS_TYPES = {"v1": "IB/RoCE v1", "v2": "RoCE v2"}
_DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_ANY_GID = re.compile(r"^[0-9A-Fa-f]{4}(:[0-9A-Fa-f]{4}){7}$")
_IPV4 = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$")
_TRAILER = re.compile(r"^n_gids_found\s*=\s*([0-9]{1,9})$")
_SEPARATOR = re.compile(r"^-+(\s+-+)*$")
_PROMPT = re.compile(r"(^|[\s/#$>])show_gids?(\s|$)")


def _is_ipv4(token: str) -> bool:
    match = _IPV4.match(token)
    return bool(match) and all(int(part) <= 255 for part in match.groups())


def _show_gids_row(tokens: list[str], number: int, raw: str) -> dict[str, Any]:
    """One table row: DEV PORT INDEX GID [IPv4] [VER] [DEV] -> a build_gid_table entry."""
    device, port, index, gid = tokens[:4]
    if not (_DEVICE.match(device) and _NUMBER.match(port) and _NUMBER.match(index)):
        raise ParseError("not a show_gids row (expected DEV PORT INDEX GID ...)", number, raw)
    if not _ANY_GID.match(gid):
        raise ParseError(f"malformed GID {gid[:60]!r} in show_gids row", number, raw)
    rest = tokens[4:]
    if rest and _is_ipv4(rest[0]):
        rest = rest[1:]  # the IPv4 column is derived from the GID; build_gid_table recomputes it
    gid_type = None
    if rest and rest[0].lower() in _SHOW_GIDS_TYPES:
        gid_type = _SHOW_GIDS_TYPES[rest[0].lower()]
        rest = rest[1:]
    if len(rest) > 1 or (rest and (_is_ipv4(rest[0]) or rest[0].lower() in _SHOW_GIDS_TYPES)):
        raise ParseError("unexpected columns in show_gids row", number, raw)
    return {"device": device, "port": int(port), "index": int(index), "gid": gid.lower(), "type": gid_type,
            "ndev": rest[0] if rest else None, "link_layer": None, "state": None}


def parse_show_gids(text: str) -> dict[str, Any]:
    """Parse ``show_gids`` output into what :func:`build_gid_table` returns ({devices, roce_v2_ipv4}).

    Accepts tab or space separated columns, rows without IPv4 or netdev, a missing header or
    separator, blank lines and a leading shell prompt line that runs show_gids. ``n_gids_found=N``,
    when present, must match the number of rows (a mismatch means a truncated paste). Port
    ``link_layer`` and ``state`` are None: show_gids does not print them.
    """
    text = check_text(text)
    entries: list[dict[str, Any]] = []
    seen: set[tuple[str, int, int]] = set()
    header = separator = trailer = False
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if trailer:
            raise ParseError("text after n_gids_found in show_gids output", number, raw)
        tokens = line.split()
        match = _TRAILER.match(line)
        if match:
            if int(match.group(1)) != len(entries):
                raise ParseError(f"n_gids_found={match.group(1)} but {len(entries)} GID rows (truncated output?)",
                                 number, raw)
            trailer = True
            continue
        if [token.upper() for token in tokens[:4]] == ["DEV", "PORT", "INDEX", "GID"]:
            if header or separator or entries:
                raise ParseError("unexpected show_gids header", number, raw)
            header = True
            continue
        if _SEPARATOR.match(line):
            if separator or entries:
                raise ParseError("unexpected separator line in show_gids output", number, raw)
            separator = True
            continue
        if (not (header or separator or entries) and _PROMPT.search(line)
                and not (len(tokens) > 3 and _ANY_GID.match(tokens[3]))):
            continue  # the shell prompt line that ran show_gids
        if len(tokens) < 4:
            raise ParseError("not show_gids output (expected DEV PORT INDEX GID [IPv4] VER DEV)", number, raw)
        entry = _show_gids_row(tokens, number, raw)
        key = (entry["device"], entry["port"], entry["index"])
        if key in seen:
            raise ParseError("duplicate GID index in show_gids output", number, raw)
        seen.add(key)
        entries.append(entry)
    if not (header or separator or entries or trailer):
        number, line = first_content_line(text)
        raise ParseError("not show_gids output" if number else "empty show_gids output", number, line)
    return build_gid_table(entries)


# --- ibv_devinfo -v ------------------------------------------------------------------------------------
# rdma-core's devinfo.c prints each GID as "\t\t\tGID[%3d]:\t\t<gid><suffix>": on an Ethernet port the
# suffix is ", RoCE v1" (GID in the long 8x4 hex form, %02x%02x:...) or ", RoCE v2" (GID as inet_ntop
# prints it, e.g. "::ffff:10.0.0.1"); on an InfiniBand port, and in libibverbs before 2020, there is no
# suffix and the GID is in the long form. GIDs of another type are not printed at all.
_IBV_HCA = re.compile(r"^hca_id:\s*(.*?)\s*$")
_IBV_PORT = re.compile(r"^port:\s*(.*?)\s*$")
_IBV_GID = re.compile(r"^GID\[\s*([^\]]*)\]:\s*(.*?)\s*$")
_IBV_KEY = re.compile(r"^(state|link_layer):\s*(.*?)\s*$")
_IBV_STATE = re.compile(r"^PORT_([A-Z_]+) \(([0-9]{1,3})\)$")
_IBV_GID_TYPES = {"RoCE v1": "IB/RoCE v1", "RoCE v2": "RoCE v2"}
_IBV_GID_TEXT = re.compile(r"^[0-9A-Fa-f:.]{2,45}$")
_IBV_PROMPT = re.compile(r"(^|[\s/#$>])ibv_devinfo(\s|$)")
_IBV_NO_DEVICES = "No IB devices found"


def _ibv_gid(text: str, compressed: bool, number: int, raw: str) -> str:
    """A printed GID -> the long lowercase form sysfs uses.

    Only a RoCE v2 GID may be in inet_ntop's form (``compressed``); every other one is printed in the
    long 8x4 hex form, so anything shorter there is a truncated or edited line, not a valid GID.
    """
    if not _IBV_GID_TEXT.match(text) or not (compressed or _ANY_GID.match(text)):
        raise ParseError(f"malformed GID {text[:60]!r} in ibv_devinfo output", number, raw)
    try:
        # From the bytes: Python 3.13's exploded form prints an IPv4-mapped address dotted (::ffff:a.b.c.d).
        packed = ipaddress.IPv6Address(text).packed
        return ":".join("%02x%02x" % (packed[i], packed[i + 1]) for i in range(0, 16, 2))
    except ValueError:
        raise ParseError(f"malformed GID {text[:60]!r} in ibv_devinfo output", number, raw) from None


def _ibv_state(value: str) -> str:
    """'PORT_ACTIVE (4)' -> '4: ACTIVE', the form /sys/class/infiniband/*/ports/*/state reads."""
    match = _IBV_STATE.match(value)
    return f"{int(match.group(2))}: {match.group(1)}" if match else value


def roce_v2_ipv4_by_port(devices: dict[str, Any]) -> dict[str, Any]:
    """{'<device>/<port>': {device, port, index, gid, ipv4}}: each port's lowest-index RoCE v2 IPv4 GID.

    The counterpart of build_gid_table's per-netdev ``roce_v2_ipv4`` for sources that do not print the
    netdev (ibv_devinfo): one entry per device port, keyed '<device>/<port>' (e.g. 'mlx4_0/2').
    """
    roce: dict[str, Any] = {}
    for device in sorted(devices):
        for port in sorted(devices[device]):
            for row in devices[device][port]["gids"]:
                if row["type"] == "RoCE v2" and row["ipv4"]:
                    roce[f"{device}/{port}"] = {"device": device, "port": int(port), "index": row["index"],
                                                "gid": row["gid"], "ipv4": row["ipv4"]}
                    break
    return roce


def parse_ibv_devinfo_gids(text: str) -> dict[str, Any]:
    """Parse ``ibv_devinfo -v`` (or ``-vv``) output into {devices, roce_v2_ipv4} like build_gid_table.

    Reads the ``hca_id:`` blocks, their ``port:`` blocks with ``state:`` and ``link_layer:``, and the
    ``GID[ n]:`` lines in both printed forms (long hex, or compressed such as ``::ffff:10.0.0.1``). GIDs
    are stored in the long lowercase form; the type is "IB/RoCE v1" or "RoCE v2" from the ", RoCE v1" /
    ", RoCE v2" suffix, "IB/RoCE v1" for an unsuffixed GID on an InfiniBand port (what sysfs reports
    there) and None for an unsuffixed GID on any other port (older libibverbs printed no type). ``ndev``
    is None: ibv_devinfo does not print it. So ``roce_v2_ipv4`` is keyed '<device>/<port>' (see
    :func:`roce_v2_ipv4_by_port`), not by netdev. Port ``state`` is given as sysfs writes it
    ('4: ACTIVE' for 'PORT_ACTIVE (4)'). Ports without GID lines (plain ``ibv_devinfo``) are kept with
    an empty ``gids`` list. A leading shell prompt line that runs ibv_devinfo, blank lines and
    ``No IB devices found`` (an empty table) are accepted; anything else that is not ibv_devinfo output
    raises ParseError naming the line.
    """
    text = check_text(text)
    ports: dict[tuple[str, int], dict[str, Any]] = {}
    gid_rows: list[tuple[str, int, int, str, str | None]] = []
    seen_devices: set[str] = set()
    seen_gids: set[tuple[str, int, int]] = set()
    device: str | None = None
    indent = 0  # of the current hca_id line; a pasted block may be indented as a whole
    port: tuple[str, int] | None = None
    no_devices = False
    for number, raw in enumerate(text.split("\n"), 1):
        raw = raw.rstrip("\r")
        line = raw.strip()
        if not line:
            continue
        if no_devices:
            raise ParseError("text after 'No IB devices found' in ibv_devinfo output", number, raw)
        depth = len(raw) - len(raw.lstrip())
        hca = _IBV_HCA.match(line)
        if hca and (device is None or depth <= indent):
            name = hca.group(1)
            if not _DEVICE.match(name):
                raise ParseError(f"malformed hca_id {name[:60]!r} in ibv_devinfo output", number, raw)
            if name in seen_devices:
                raise ParseError(f"duplicate hca_id {name!r} in ibv_devinfo output", number, raw)
            seen_devices.add(name)
            device, indent, port = name, depth, None
            continue
        if device is None:
            if line == _IBV_NO_DEVICES and not seen_devices:
                no_devices = True
                continue
            if _IBV_PROMPT.search(line):
                continue  # the shell prompt line that ran ibv_devinfo
            raise ParseError("not ibv_devinfo output (expected hca_id:)", number, raw)
        if depth <= indent:
            raise ParseError("not ibv_devinfo output (line not indented under its hca_id)", number, raw)
        match = _IBV_PORT.match(line)
        if match:
            if not _NUMBER.match(match.group(1)):
                raise ParseError(f"malformed port number {match.group(1)[:20]!r} in ibv_devinfo output",
                                 number, raw)
            port = (device, int(match.group(1)))
            if port in ports:
                raise ParseError(f"duplicate port {port[1]} of {device} in ibv_devinfo output", number, raw)
            ports[port] = {"link_layer": None, "state": None}
            continue
        match = _IBV_GID.match(line)
        if match:
            if port is None:
                raise ParseError("GID line outside a port: block in ibv_devinfo output", number, raw)
            if not _NUMBER.match(match.group(1).strip()):
                raise ParseError(f"malformed GID index {match.group(1)[:20]!r} in ibv_devinfo output",
                                 number, raw)
            index = int(match.group(1).strip())
            gid_text, comma, suffix = match.group(2).partition(",")
            suffix = suffix.strip()
            if comma and suffix not in _IBV_GID_TYPES:
                raise ParseError(f"unknown GID type {suffix[:40]!r} in ibv_devinfo output", number, raw)
            gid = _ibv_gid(gid_text.strip(), suffix == "RoCE v2", number, raw)
            if (*port, index) in seen_gids:
                raise ParseError("duplicate GID index in ibv_devinfo output", number, raw)
            seen_gids.add((*port, index))
            gid_rows.append((port[0], port[1], index, gid, suffix if comma else None))
            continue
        match = _IBV_KEY.match(line)
        if match and port is not None:
            value = match.group(2)
            ports[port][match.group(1)] = _ibv_state(value) if match.group(1) == "state" else (value or None)
        # every other indented line (device attributes, capability flags, port counters) is not used
    if device is None and not no_devices:
        number, line = first_content_line(text)
        raise ParseError("not ibv_devinfo output" if number else "empty ibv_devinfo output", number, line)
    entries = []
    for dev, num, index, gid, suffix in gid_rows:
        info = ports[(dev, num)]
        if suffix is not None:
            gid_type = _IBV_GID_TYPES[suffix]
        else:
            gid_type = "IB/RoCE v1" if info["link_layer"] == "InfiniBand" else None
        entries.append({"device": dev, "port": num, "index": index, "gid": gid, "type": gid_type, "ndev": None,
                        "link_layer": info["link_layer"], "state": info["state"]})
    facts = build_gid_table(entries)
    for (dev, num), info in sorted(ports.items()):
        facts["devices"].setdefault(dev, {}).setdefault(num, {
            "link_layer": info["link_layer"], "state": info["state"], "gids": []})
    facts["roce_v2_ipv4"] = roce_v2_ipv4_by_port(facts["devices"])
    return facts
