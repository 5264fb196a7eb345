"""fabric_table: R1's hand-made RDMA/TCP comparison as a golden row, unit conversion, verdicts, Markdown.

R1 (the reference system's author, by hand): "RDMA 36.4 Gb/s / 0.85 us against TCP 27.4 Gb/s / 21.9 us
(iperf3, sockperf)" on a ConnectX-3 Pro 40GbE RoCE link. Its inputs are given here in the shape of the
parsers' results (perftest --report_gbits row, perftest latency row, iperf3 received_bps); the 2-byte
bandwidth row and the 4096-byte latency row are made up, to check that the largest (bandwidth) and the
smallest (latency) message is the one taken.
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import fabric_table
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import iperf3, perftest

from .parsers.golden import FIXTURES

R1_BW = {"test": "RDMA_Write BW Test", "kind": "bandwidth",
         "rows": [{"bytes": 2, "iterations": 5000, "bw_peak": 0.1, "bw_avg": 0.09, "bw_unit": "Gb/sec",
                   "msg_rate_mpps": 5.6},
                  {"bytes": 65536, "iterations": 5000, "bw_peak": 36.5, "bw_avg": 36.4, "bw_unit": "Gb/sec",
                   "msg_rate_mpps": 0.0694}]}
R1_LAT = {"test": "RDMA_Write Latency Test", "kind": "latency",
          "rows": [{"bytes": 2, "iterations": 1000, "t_typical_us": 0.85, "t_avg_us": 0.87},
                   {"bytes": 4096, "iterations": 1000, "t_typical_us": 2.1, "t_avg_us": 2.2}]}
R1_TCP = {"received_bps": 27.4e9, "sent_bps": 27.5e9}

R1_MARKDOWN = (
    "| Pair | Link Gb/s | RDMA Gb/s (% link) | RDMA lat us | TCP Gb/s (% link) | TCP lat us"
    " | BW RDMA/TCP | Lat TCP/RDMA | Verdict |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---|\n"
    "| r1-a -> r1-b | 40 | 36.4 (91%) | 0.85 | 27.4 (68.5%) | 21.9 | 1.33x | 25.8x | ok |\n"
)


def r1_row():
    return fabric_table.pair_row(("r1-a", "r1-b"), 40, rdma_bw=R1_BW, rdma_lat=R1_LAT, tcp_bw=R1_TCP,
                                 tcp_lat_us=21.9)


def test_r1_golden_row():
    row = r1_row()
    assert row["pair"] == "r1-a -> r1-b" and row["link_rate_gbps"] == 40.0
    figures = (row["rdma_gbps"], row["rdma_lat_us"], row["tcp_gbps"], row["tcp_lat_us"])
    assert figures == (36.4, 0.85, 27.4, 21.9)
    # Exact ratios, asserted rounded the way R1 quotes them.
    assert row["bw_ratio"] == pytest.approx(36.4 / 27.4) and round(row["bw_ratio"], 2) == 1.33
    assert row["lat_ratio"] == pytest.approx(21.9 / 0.85) and round(row["lat_ratio"], 1) == 25.8
    assert round(row["rdma_pct_of_link"], 1) == 91.0 and round(row["tcp_pct_of_link"], 1) == 68.5
    assert [(v["name"], v["ok"]) for v in row["verdicts"]] == [
        ("rdma_bw_of_link", True), ("rdma_bw_above_tcp", True), ("rdma_lat_below_tcp", True)]
    assert "1.33x" in row["verdicts"][1]["msg"] and "25.8x" in row["verdicts"][2]["msg"]


def test_r1_markdown():
    table = fabric_table.pair_table([r1_row()])
    assert table["ok"] is True and table["failed"] == []
    assert fabric_table.render_markdown(table) == R1_MARKDOWN


def test_perftest_mb_per_sec_is_mebibytes():
    # perftest divides by 0x100000 for MB/sec (MiB/sec since linux-rdma/perftest#257).
    old = perftest.parse_perftest((FIXTURES / "perftest" / "send-bw-mbsec-rows-only.txt").read_text())
    assert old["rows"][0]["bw_unit"] == "MB/sec"
    assert fabric_table.rdma_gbps(old) == pytest.approx(920.13 * 1048576 * 8 / 1e9)
    renamed = {"kind": "bandwidth", "rows": [dict(old["rows"][0], bw_unit="MiB/sec")]}
    assert fabric_table.rdma_gbps(renamed) == fabric_table.rdma_gbps(old)
    gbits = perftest.parse_perftest((FIXTURES / "perftest" / "write-bw-rdmacm-4qp-gbits.txt").read_text())
    assert fabric_table.rdma_gbps(gbits) == 111.71
    with pytest.raises(ValueError, match="unit"):
        fabric_table.rdma_gbps({"kind": "bandwidth", "rows": [dict(old["rows"][0], bw_unit="KB/sec")]})
    with pytest.raises(ValueError, match="bandwidth"):
        fabric_table.rdma_gbps(R1_LAT)


def test_real_outputs_and_missing_parts():
    lat = perftest.parse_perftest((FIXTURES / "perftest" / "read-lat-roce-indented.txt").read_text())
    tcp_text = (FIXTURES / "iperf3" / "cloudpilot-39-tcp-omit3-retransmits.txt").read_text()
    tcp = iperf3.parse_iperf3_json(tcp_text)
    row = fabric_table.pair_row("a -> b", 10, rdma_lat=lat, tcp_bw=tcp)
    assert row["rdma_lat_us"] == 7.04 and row["tcp_gbps"] == pytest.approx(1.6994296547368989)
    assert row["rdma_gbps"] is None and row["bw_ratio"] is None and row["lat_ratio"] is None
    assert [v["ok"] for v in row["verdicts"]] == [None, None, None]
    table = fabric_table.pair_table([row])
    assert table["ok"] is True
    markdown = fabric_table.render_markdown(table)
    assert "| a -> b | 10 | - | 7.04 | 1.7 (17%) | - | - | - | incomplete |" in markdown


def test_failing_verdicts():
    # RDMA no faster than TCP (RoCE silently falling back, or a wrong device), and a figure above link rate.
    slow = fabric_table.pair_row("a -> b", 40, rdma_bw=20.0, rdma_lat=30.0, tcp_bw=27.4, tcp_lat_us=21.9)
    assert [(v["name"], v["ok"]) for v in slow["verdicts"]] == [
        ("rdma_bw_of_link", False), ("rdma_bw_above_tcp", False), ("rdma_lat_below_tcp", False)]
    fast = fabric_table.pair_row("c -> d", 40, rdma_bw=290.0, tcp_bw=45.0)
    assert "check the units" in fast["verdicts"][0]["msg"]
    assert fast["verdicts"][1] == {"name": "tcp_bw_of_link", "ok": False,
                                   "msg": "TCP 45.0 Gb/s is above the 40 Gb/s link rate: not this link?"}
    table = fabric_table.pair_table([slow, fast])
    assert table["ok"] is False and len(table["failed"]) == 5
    assert table["failed"][0].startswith("a -> b: RDMA 20.0 Gb/s is 50.0% of the 40 Gb/s link")
    markdown = fabric_table.render_markdown(table)
    assert "FAIL: rdma_bw_of_link, rdma_bw_above_tcp, rdma_lat_below_tcp |" in markdown
