# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn raw sysfs GID entries (/sys/class/infiniband/*/ports/*/gids) into a GID table."""

from __future__ import annotations

import re
from typing import Any

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
