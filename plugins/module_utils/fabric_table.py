# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDMA (perftest) against TCP (iperf3, sockperf) per host pair: figures, ratios, verdicts, Markdown.

Pure functions over parser results: ``rdma_bw`` is a parse_perftest() bandwidth result, ``rdma_lat`` a
parse_perftest() latency result, ``tcp_bw`` a parse_iperf3_json() result and ``tcp_lat_us`` a number
(sockperf ping-pong, not parsed here). A plain number is taken as Gb/s (bandwidth) or us (latency).
"""

from __future__ import annotations

from typing import Any

# perftest's MB/sec is MiB/sec: print_report_bw() divides bytes/s by format_factor 0x100000 (2^20), or by
# 125000000 (10^9 bits) with --report_gbits (linux-rdma/perftest src/perftest_parameters.c); since
# linux-rdma/perftest#257 (2024) the header says MiB/sec. Gb/sec rows are taken as printed.
MIB_PER_S_IN_GBPS = 2 ** 20 * 8 / 1e9
_UNITS = {"MB/sec": MIB_PER_S_IN_GBPS, "MiB/sec": MIB_PER_S_IN_GBPS, "Gb/sec": 1.0}

MIN_RDMA_PCT_OF_LINK = 80.0
MAX_PCT_OF_LINK = 105.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def rdma_gbps(result: Any) -> float | None:
    """bw_avg of the largest message of a perftest bandwidth result, in Gb/s."""
    if result is None or _number(result) is not None:
        return _number(result)
    if result.get("kind") != "bandwidth" or not result.get("rows"):
        raise ValueError(f"not a perftest bandwidth result: kind {result.get('kind')!r}")
    row = max(result["rows"], key=lambda r: r["bytes"])
    if row.get("bw_unit") not in _UNITS:
        raise ValueError(f"unknown perftest bandwidth unit {row.get('bw_unit')!r}")
    return None if row["bw_avg"] is None else row["bw_avg"] * _UNITS[row["bw_unit"]]


def rdma_latency_us(result: Any) -> float | None:
    """t_typical (perftest's median; t_avg when absent) of the smallest message, in us."""
    if result is None or _number(result) is not None:
        return _number(result)
    if result.get("kind") != "latency" or not result.get("rows"):
        raise ValueError(f"not a perftest latency result: kind {result.get('kind')!r}")
    row = min(result["rows"], key=lambda r: r["bytes"])
    return row["t_typical_us"] if row.get("t_typical_us") is not None else row.get("t_avg_us")


def tcp_gbps(result: Any) -> float | None:
    """Receiver-side bandwidth of an iperf3 result, in Gb/s."""
    if result is None or _number(result) is not None:
        return _number(result)
    bps = result.get("received_bps")
    return None if bps is None else bps / 1e9


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def _pct(gbps: float | None, link: float | None) -> float | None:
    return gbps / link * 100 if gbps is not None and link else None


def _verdicts(row: dict[str, Any], min_rdma_pct: float) -> list[dict[str, Any]]:
    rdma, tcp, link = row["rdma_gbps"], row["tcp_gbps"], row["link_rate_gbps"]
    verdicts = []
    pct = row["rdma_pct_of_link"]
    if not link:
        ok, msg = None, "link rate unknown (a virtual link reports none): no percentage of the link"
    elif pct is None:
        ok, msg = None, "no RDMA bandwidth measured"
    else:
        ok = min_rdma_pct <= pct <= MAX_PCT_OF_LINK
        msg = f"RDMA {rdma:.1f} Gb/s is {pct:.1f}% of the {link:g} Gb/s link (expected {min_rdma_pct:g}%"
        msg += f" to {MAX_PCT_OF_LINK:g}%{'; above the link rate: check the units' if pct > MAX_PCT_OF_LINK else ''})"
    verdicts.append({"name": "rdma_bw_of_link", "ok": ok, "msg": msg})
    if row["tcp_pct_of_link"] is not None and row["tcp_pct_of_link"] > MAX_PCT_OF_LINK:
        verdicts.append({"name": "tcp_bw_of_link", "ok": False,
                         "msg": f"TCP {tcp:.1f} Gb/s is above the {link:g} Gb/s link rate: not this link?"})
    bw = row["bw_ratio"]
    verdicts.append({
        "name": "rdma_bw_above_tcp", "ok": None if bw is None else bw > 1,
        "msg": "RDMA or TCP bandwidth missing" if bw is None else
        f"RDMA bandwidth is {bw:.2f}x TCP's ({rdma:.1f} against {tcp:.1f} Gb/s)"})
    lat = row["lat_ratio"]
    verdicts.append({
        "name": "rdma_lat_below_tcp", "ok": None if lat is None else lat > 1,
        "msg": "RDMA or TCP latency missing" if lat is None else
        f"TCP latency is {lat:.1f}x RDMA's ({row['tcp_lat_us']:g} against {row['rdma_lat_us']:g} us)"})
    return verdicts


def pair_row(pair: Any, link_rate_gbps: float | None, rdma_bw: Any = None, rdma_lat: Any = None, tcp_bw: Any = None,
             tcp_lat_us: Any = None, min_rdma_pct: float = MIN_RDMA_PCT_OF_LINK) -> dict[str, Any]:
    """One host pair (a "a -> b" string or an (a, b) pair); ratios and percentages are unrounded.

    ``link_rate_gbps`` None: the link reports no rate (a virtual link); percentages are then None."""
    name = pair if isinstance(pair, str) else " -> ".join(str(p) for p in pair)
    link = float(link_rate_gbps) if link_rate_gbps else None
    row = {"pair": name, "link_rate_gbps": link, "rdma_gbps": rdma_gbps(rdma_bw),
           "rdma_lat_us": rdma_latency_us(rdma_lat), "tcp_gbps": tcp_gbps(tcp_bw), "tcp_lat_us": _number(tcp_lat_us)}
    row.update(rdma_pct_of_link=_pct(row["rdma_gbps"], link), tcp_pct_of_link=_pct(row["tcp_gbps"], link),
               bw_ratio=_ratio(row["rdma_gbps"], row["tcp_gbps"]),
               lat_ratio=_ratio(row["tcp_lat_us"], row["rdma_lat_us"]))
    row["verdicts"] = _verdicts(row, min_rdma_pct)
    return row


def pair_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows with the verdicts that failed (pair: message) and ok (False when any failed)."""
    failed = [f"{row['pair']}: {v['msg']}" for row in rows for v in row["verdicts"] if v["ok"] is False]
    # What could not be judged, once each (no RDMA device, a virtual link without a rate...).
    unjudged = sorted({v["msg"] for row in rows for v in row["verdicts"] if v["ok"] is None})
    return {"rows": list(rows), "failed": failed, "unjudged": unjudged, "ok": not failed}


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "-"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _times(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def _with_pct(gbps: float | None, pct: float | None) -> str:
    if gbps is None:
        return "-"
    return _fmt(gbps, 1) if pct is None else f"{_fmt(gbps, 1)} ({_fmt(pct, 1)}%)"


def render_markdown(table: dict[str, Any]) -> str:
    """A Markdown table, one line per pair (Gb/s to 0.1, us to 0.01, ratios to 3 digits)."""
    lines = [
        "| Pair | Link Gb/s | RDMA Gb/s (% link) | RDMA lat us | TCP Gb/s (% link) | TCP lat us"
        " | BW RDMA/TCP | Lat TCP/RDMA | Verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in table["rows"]:
        bad = [v["name"] for v in row["verdicts"] if v["ok"] is False]
        unknown = [v["name"] for v in row["verdicts"] if v["ok"] is None]
        verdict = "FAIL: " + ", ".join(bad) if bad else ("ok" if not unknown else "incomplete")
        lines.append(
            f"| {row['pair']} | {_fmt(row['link_rate_gbps'], 1)} | {_with_pct(row['rdma_gbps'], row['rdma_pct_of_link'])}"
            f" | {_fmt(row['rdma_lat_us'], 2)} | {_with_pct(row['tcp_gbps'], row['tcp_pct_of_link'])}"
            f" | {_fmt(row['tcp_lat_us'], 2)} | {_times(row['bw_ratio'])} | {_times(row['lat_ratio'])} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
