# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for perftest results (ib_write_bw, ib_read_bw, ib_send_bw, ib_*_lat, raw_ethernet_*)."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

_BANNER = re.compile(r"^\s*([A-Za-z_ ]*?(?:BW|Latency|Lat)[A-Za-z ]*Test)\s*$")
_BW_HEADER = re.compile(r"#bytes\s+#iterations\s+BW[ _]peak\[([^\]]+)\]\s+BW[ _]average\[([^\]]+)\]")
_LAT_HEADER = re.compile(r"#bytes\s+#iterations\s+t_min\[usec\]")
_NUM = re.compile(r"^-?\d+(?:\.\d+)?$")
_UINT = re.compile(r"[0-9]+")


def _num(value: str | None) -> float | None:
    return float(value) if value is not None and _NUM.match(value) else None


def parse_perftest(text: str) -> dict[str, Any]:
    """Parse the result table of a perftest run (bandwidth or latency)."""
    text = check_text(text)
    test = None
    kind = None
    unit = None
    lat_columns: list[str] = []
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        match = _BANNER.match(raw)
        if match and test is None and not line.startswith("#"):
            test = match.group(1).strip()
            continue
        match = _BW_HEADER.search(line)
        if match:
            kind, unit = "bw", match.group(2)
            continue
        if _LAT_HEADER.search(line):
            kind = "lat"
            lat_columns = re.findall(r"t_min|t_max|t_typical|t_avg|t_stdev|99\.9%|99%", line)
            continue
        if kind is None or not re.match(r"^\d", line):
            continue
        fields = line.split()
        if not all(_NUM.match(f) for f in fields):
            continue
        is_row = len(fields) >= (4 if kind == "bw" else 5)
        if is_row and not (_UINT.fullmatch(fields[0]) and _UINT.fullmatch(fields[1])):
            raise ParseError("#bytes and #iterations must be whole numbers", number, raw)
        if kind == "bw" and len(fields) >= 4:
            rows.append({
                "bytes": int(fields[0]), "iterations": int(fields[1]), "bw_peak": _num(fields[2]),
                "bw_avg": _num(fields[3]), "bw_unit": unit,
                "msg_rate_mpps": _num(fields[4]) if len(fields) > 4 else None,
            })
        elif kind == "lat" and len(fields) >= 5:
            values = dict(zip(lat_columns, fields[2:]))
            rows.append({
                "bytes": int(fields[0]), "iterations": int(fields[1]),
                "t_min_us": _num(values.get("t_min")), "t_max_us": _num(values.get("t_max")),
                "t_typical_us": _num(values.get("t_typical")), "t_avg_us": _num(values.get("t_avg")),
                "t_stdev_us": _num(values.get("t_stdev")), "p99_us": _num(values.get("99%")),
                "p99_9_us": _num(values.get("99.9%")),
            })
    if not rows:
        number, line = first_content_line(text)
        raise ParseError("no perftest result row found", number or 1, line)
    return {"test": test, "kind": "latency" if kind == "lat" else "bandwidth", "rows": rows}
