"""perftest module: one side's argv under a hard timeout, Gb/s or us from the parsed table, failures named.

Results are the parser fixtures (real perftest outputs, see their .source files); failures are the real
captures in module_utils/fixtures/perftest_errors or perftest's own strings (see test_perftest_run.py).
"""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.modules import perftest

from ..module_utils.parsers.golden import FIXTURES
from .harness import run_module

FIX = FIXTURES / "perftest"
WRITE_BW = (FIX / "write-bw-postlist-roce-gbits.txt").read_text()
SEND_BW_MB = (FIX / "send-bw-mbsec-rows-only.txt").read_text()
READ_LAT = (FIX / "read-lat-roce-indented.txt").read_text()
ERRORS = Path(__file__).parents[1] / "module_utils" / "fixtures" / "perftest_errors"
R1 = {"test": "ib_write_bw", "device": "mlx4_0", "ib_port": 2, "gid_index": 3, "server": "10.0.0.2"}


def fake(rc, out, err, calls):
    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return rc, out, err
    return run_command


def test_r1_client_argv_under_timeout_and_gbps():
    calls = []
    result = run_module(perftest.main, R1, fake(0, WRITE_BW, "", calls))
    argv, env = calls[0]
    assert argv == ["timeout", "--kill-after=5", "35", "ib_write_bw", "--ib-dev", "mlx4_0", "--ib-port", "2",
                    "--gid-index", "3", "--report_gbits", "-F", "-D", "5", "10.0.0.2"]
    assert env == {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
    assert result["failed"] is False and result["changed"] is False
    assert result["cmd"] == argv and result["rc"] == 0
    assert (result["gbps"], result["lat_us"]) == (0.48, None)
    assert result["result"]["test"] == "RDMA_Write Post List BW Test"


def test_server_side_bindir_size_port_and_timeout():
    calls = []
    args = {**R1, "server": None, "duration": 10, "size": 65536, "port": 18600, "timeout": 120,
            "bindir": "/opt/perftest/bin"}
    run_module(perftest.main, args, fake(0, WRITE_BW, "", calls))
    assert calls[0][0] == ["timeout", "--kill-after=5", "120", "/opt/perftest/bin/ib_write_bw", "--ib-dev",
                           "mlx4_0", "--ib-port", "2", "--gid-index", "3", "--report_gbits", "-F", "-D", "10",
                           "--size", "65536", "--port", "18600"]


def test_infiniband_latency_has_no_gid_index_nor_duration():
    calls = []
    args = {"test": "ib_read_lat", "device": "mlx5_0", "ib_port": 1, "server": "node2"}
    result = run_module(perftest.main, args, fake(0, READ_LAT, "", calls))
    assert calls[0][0] == ["timeout", "--kill-after=5", "30", "ib_read_lat", "--ib-dev", "mlx5_0",
                           "--ib-port", "1", "-F", "node2"]
    assert result["failed"] is False and (result["gbps"], result["lat_us"]) == (None, 7.04)


def test_timeout_rc_124_names_the_side_and_the_limit():
    waiting = "* Waiting for client to connect... *\n"
    result = run_module(perftest.main, {**R1, "server": None}, fake(124, waiting, "", []))
    assert result["failed"] and result["reason"] == "timeout" and result["rc"] == 124
    assert result["msg"] == ("ib_write_bw server (mlx4_0 port 2, GID index 3, TCP port 18515): did not "
                             "finish within 35 s, killed by the hard timeout (rc 124): no client connected "
                             "to the server")


def test_failures_name_device_port_gid_and_server():
    refused = (ERRORS / "perftest-228-couldnt-connect.txt").read_text()
    result = run_module(perftest.main, R1, fake(1, "", refused, []))
    assert result["failed"] and result["reason"] == "connect" and result["rc"] == 1
    assert result["msg"].startswith("ib_write_bw client of 10.0.0.2 (mlx4_0 port 2, GID index 3, TCP port "
                                    "18515): the out-of-band TCP exchange failed: start the server first")
    zero_gid = (ERRORS / "k8s-rdma-shared-dev-plugin-72-zero-gid-rtr.txt").read_text()
    result = run_module(perftest.main, {**R1, "gid_index": 0}, fake(1, zero_gid, "", []))
    assert result["reason"] == "gid" and "GID index 0" in result["msg"]
    assert "both sides must use the RoCE v2 IPv4 entry of their own address" in result["msg"]
    down = (ERRORS / "perftest-43-port-down.txt").read_text()
    result = run_module(perftest.main, {**R1, "ib_port": 1}, fake(1, "", down, []))
    assert result["reason"] == "port_down" and "mlx4_0 port 1" in result["msg"]


def test_given_output_runs_nothing_and_is_parsed():
    result = run_module(perftest.main, {**R1, "test": "ib_send_bw", "output": SEND_BW_MB})
    # The 1024 B row's 920.13 MB/sec (perftest's MiB/s) is 920.13 * 2^20 * 8 / 10^9 = 7.719 Gb/s.
    assert result["failed"] is False and "cmd" not in result and result["gbps"] == 7.719
    no_devices = (ERRORS / "k8s-rdma-shared-dev-plugin-169-no-devices.txt").read_text()
    result = run_module(perftest.main, {**R1, "output": no_devices})
    assert result["failed"] and result["reason"] == "no_device" and "rc" not in result
    garbage = run_module(perftest.main, {**R1, "output": "hello\n"})
    assert garbage["failed"] and garbage["reason"] == "parse_error" and "line 1" in garbage["msg"]


def test_check_mode_does_not_run_but_parses_given_output(tmp_path):
    skipped = run_module(perftest.main, {**R1, "_ansible_check_mode": True})
    assert skipped["failed"] is False and skipped["skipped"] is True and "cmd" not in skipped
    src = tmp_path / "lat.txt"
    src.write_text(READ_LAT)
    args = {**R1, "test": "ib_read_lat", "src": str(src), "_ansible_check_mode": True}
    parsed = run_module(perftest.main, args)
    assert parsed["failed"] is False and parsed["lat_us"] == 7.04


def test_bad_values_fail_before_running():
    for args, message in (({"ib_port": 0}, "ib_port must be from 1 up"), ({"gid_index": 70}, "from 0 to 64"),
                          ({"test": "ib_send_lat", "duration": 5}, "duration is for bandwidth tests"),
                          ({"timeout": 0}, "timeout must be from 1 up")):
        result = run_module(perftest.main, {**R1, **args})
        assert result["failed"] and message in result["msg"]
