# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn raw sysfs GID entries (/sys/class/infiniband/*/ports/*/gids) into a GID table.

Also parses the text of Mellanox/NVIDIA's ``show_gids`` script (mlnx-tools) into the same shape.
"""

from __future__ import annotations

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
