"""iperf3 module: argv under a hard timeout, figures in Gb/s, iperf3's errors named by server and cause.

Outputs are the parser fixtures (real iperf3 -J outputs, see their .source files); the connection-refused
object is the no-route fixture with its "error" replaced by iperf 3.17's wording (esnet/iperf#1751).
"""

from __future__ import annotations

from ansible_collections.gpuforge.cluster.plugins.modules import iperf3

from ..module_utils.parsers.golden import FIXTURES
from .harness import run_module

FIX = FIXTURES / "iperf3"
TCP_39 = (FIX / "cloudpilot-39-tcp-omit3-retransmits.txt").read_text()
NO_ROUTE = (FIX / "esnet-iperf-545-3011-no-route.txt").read_text()
INTERRUPTED = (FIX / "cloudpilot-36-interrupted-ctrl-c.txt").read_text()
REFUSED = NO_ROUTE.replace(
    "error - unable to connect to server: No route to host",
    "unable to connect to server - server may have stopped running or use a different port, firewall issue, "
    "etc.: Connection refused")


def fake(rc, out, err, calls):
    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return rc, out, err
    return run_command


def test_argv_defaults_and_gbps():
    calls = []
    result = run_module(iperf3.main, {"server": "10.10.0.2"}, fake(0, TCP_39, "", calls))
    argv, env = calls[0]
    assert argv == ["timeout", "--kill-after=5", "18", "iperf3", "-c", "10.10.0.2", "-J", "-t", "5",
                    "-p", "5201", "--connect-timeout", "3000"]
    assert env == {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
    assert result["failed"] is False and result["changed"] is False
    assert (result["sent_gbps"], result["received_gbps"]) == (1.699, 1.699)
    assert result["result"]["retransmits"] == 1572 and result["rc"] == 0 and result["cmd"] == argv


def test_argv_bind_streams_and_timeouts():
    calls = []
    args = {"server": "node2", "port": 5300, "duration": 10, "streams": 4, "bind": "10.10.0.1",
            "connect_timeout_ms": 1500, "executable": "/opt/iperf3/bin/iperf3"}
    run_module(iperf3.main, args, fake(0, TCP_39, "", calls))
    assert calls[0][0] == ["timeout", "--kill-after=5", "22", "/opt/iperf3/bin/iperf3", "-c", "node2", "-J",
                           "-t", "10", "-p", "5300", "-B", "10.10.0.1", "-P", "4",
                           "--connect-timeout", "1500"]
    calls.clear()
    args = {"server": "node2", "connect_timeout_ms": 0, "timeout": 60}
    run_module(iperf3.main, args, fake(0, TCP_39, "", calls))
    assert calls[0][0] == ["timeout", "--kill-after=5", "60", "iperf3", "-c", "node2", "-J", "-t", "5",
                           "-p", "5201"]


def test_connection_refused_and_no_route_name_server_and_cause():
    refused = run_module(iperf3.main, {"server": "10.10.0.2"}, fake(1, REFUSED, "", []))
    assert refused["failed"] and refused["reason"] == "connection_refused" and refused["rc"] == 1
    assert refused["msg"].startswith(
        "iperf3 to 10.10.0.2:5201 failed (connection_refused): unable to connect")
    assert refused["msg"].endswith(": Connection refused")
    no_route = run_module(iperf3.main, {"server": "10.10.0.9", "output": NO_ROUTE})
    assert no_route["failed"] and no_route["reason"] == "no_route" and "cmd" not in no_route
    assert no_route["msg"] == ("iperf3 to 10.10.0.9:5201 failed (no_route): "
                               "error - unable to connect to server: No route to host")


def test_busy_server_error_on_stderr_only():
    busy = run_module(iperf3.main, {"server": "n2"},
                      fake(1, "", "iperf3: error - the server is busy running a test. try again later\n", []))
    assert busy["failed"] and busy["reason"] == "server_busy"
    assert busy["msg"] == ("iperf3 to n2:5201 failed (server_busy): "
                           "the server is busy running a test. try again later")


def test_hard_timeout_wins_over_the_interrupt_json():
    # timeout(1) sends SIGTERM: iperf3 prints what it has with "interrupt - the client has terminated".
    result = run_module(iperf3.main, {"server": "n2", "duration": 30}, fake(124, INTERRUPTED, "", []))
    assert result["failed"] and result["reason"] == "timeout" and result["rc"] == 124
    assert result["msg"] == "iperf3 to n2:5201 did not finish within 43 s (killed; reason timeout)"


def test_unparsable_output_and_nonzero_rc_with_a_result():
    garbage = run_module(iperf3.main, {"server": "n2"}, fake(0, "Connecting to host n2, port 5201\n", "", []))
    assert garbage["failed"] and garbage["reason"] == "parse_error" and "line 1" in garbage["msg"]
    odd = run_module(iperf3.main, {"server": "n2"}, fake(1, TCP_39, "", []))
    assert odd["failed"] and odd["msg"] == "iperf3 to n2:5201 exited with rc=1"
    assert odd["received_gbps"] == 1.699


def test_check_mode_does_not_run_but_parses_given_output(tmp_path):
    skipped = run_module(iperf3.main, {"server": "n2", "_ansible_check_mode": True})
    assert skipped["failed"] is False and skipped["skipped"] is True and "cmd" not in skipped
    src = tmp_path / "iperf3.json"
    src.write_text(TCP_39)
    parsed = run_module(iperf3.main, {"server": "n2", "src": str(src), "_ansible_check_mode": True})
    assert parsed["failed"] is False and parsed["result"]["version"] == "3.9"


def test_bad_values_fail_before_running():
    bad = ({"streams": 0}, {"streams": 129}, {"port": 70000}, {"duration": 0}, {"connect_timeout_ms": -1})
    for args in bad:
        result = run_module(iperf3.main, {"server": "n2", **args})
        assert result["failed"] and "must be from" in result["msg"]
