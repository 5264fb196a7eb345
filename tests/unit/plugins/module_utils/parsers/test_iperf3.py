"""iperf3 -J parser beyond the golden files: error reasons, noise around the JSON, only ParseError.

Error texts below are quoted from public reports: esnet/iperf#1751 (iperf 3.17.1, connection refused),
esnet/iperf#980 (server busy), threefoldtech/zos#2111 (connect timeout, "Operation timed out"),
esnet/iperf#1143 (an error line printed after the JSON object). JSON error objects other than the fixtures
are the no-route fixture with its "error" string replaced (synthetic).
"""

from __future__ import annotations

import contextlib
import json

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.iperf3 import (
    REASONS,
    Iperf3Error,
    error_reason,
    parse_iperf3_json,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from .golden import FIXTURES

FIX = FIXTURES / "iperf3"
NO_ROUTE = (FIX / "esnet-iperf-545-3011-no-route.txt").read_text()
TCP_39 = (FIX / "cloudpilot-39-tcp-omit3-retransmits.txt").read_text()
INTERRUPTED = (FIX / "cloudpilot-36-interrupted-ctrl-c.txt").read_text()

REFUSED_317 = ("unable to connect to server - server may have stopped running or use a different port, "
               "firewall issue, etc.: Connection refused")


def with_error(message: str) -> str:
    return NO_ROUTE.replace("error - unable to connect to server: No route to host", message)


@pytest.mark.parametrize(("message", "reason"), [
    (REFUSED_317, "connection_refused"),
    ("unable to connect to server: Connection refused", "connection_refused"),
    ("the server is busy running a test. try again later", "server_busy"),
    ("unable to connect to server - server may have stopped running or use a different port, firewall issue, "
     "etc.: Operation timed out", "timeout"),
    ("unable to connect to server: Connection timed out", "timeout"),
    ("idle timeout for receiving data", "timeout"),
    ("idle timeout parameter is not positive or larger than allowed limit", "unknown"),
    ("error - unable to connect to server: No route to host", "no_route"),
    ("unable to connect to server: Network is unreachable", "no_route"),
    ("error - control socket has closed unexpectedly", "unknown"),
])
def test_error_objects_raise_with_reason(message, reason):
    assert error_reason(message) == reason
    with pytest.raises(Iperf3Error) as info:
        parse_iperf3_json(with_error(message))
    assert info.value.reason == reason and info.value.error == message
    assert info.value.line_number == 10 and '"error"' in info.value.line


def test_interrupted_run_with_results_is_an_error_and_crlf_tty_capture_parses():
    # The published file has CRLF line endings (a terminal capture); the fixture keeps LF only.
    with pytest.raises(Iperf3Error) as info:
        parse_iperf3_json(INTERRUPTED.replace("\n", "\r\n"))
    assert info.value.error == "interrupt - the client has terminated" and info.value.reason == "unknown"
    assert info.value.line_number == 351
    crlf = parse_iperf3_json(TCP_39.replace("\n", "\r\n"))
    assert crlf == parse_iperf3_json(TCP_39)
    assert crlf["received_bps"] == 1699429654.7368989 and crlf["retransmits"] == 1572


@pytest.mark.parametrize(("text", "reason"), [
    ("iperf3: error - " + REFUSED_317 + "\n", "connection_refused"),
    ("iperf3: error - the server is busy running a test. try again later\n", "server_busy"),
])
def test_text_errors_without_json(text, reason):
    with pytest.raises(Iperf3Error) as info:
        parse_iperf3_json(text)
    assert info.value.reason == reason and info.value.line_number == 1


def test_error_line_after_the_json_object():
    text = TCP_39 + "iperf3: error - unable to send control message: Broken pipe\n"
    with pytest.raises(Iperf3Error) as info:
        parse_iperf3_json(text)
    assert info.value.error == "unable to send control message: Broken pipe"
    assert info.value.line_number == TCP_39.count("\n") + 1


@pytest.mark.parametrize("text", [
    "Connecting to host 10.0.0.2, port 5201\n"
    "[  5] local 10.0.0.1 port 40000 connected to 10.0.0.2 port 5201\n",
    "hello\n",
    "[1, 2]\n",
])
def test_not_json_names_line_1(text):
    with pytest.raises(ParseError) as info:
        parse_iperf3_json(text)
    assert not isinstance(info.value, Iperf3Error) and info.value.line_number == 1


def test_truncated_json_names_its_line_and_other_json_has_no_summary():
    lines = TCP_39.split("\n")
    with pytest.raises(ParseError) as info:
        parse_iperf3_json("\n".join(lines[:200]))
    assert info.value.line_number == 200
    with pytest.raises(ParseError, match="end summary"):
        parse_iperf3_json('{"start": {}, "intervals": [], "end": {}}')


def test_missing_figures_are_none_and_odd_values_ignored():
    data = json.loads(TCP_39)
    del data["end"]["sum_sent"]["retransmits"], data["end"]["cpu_utilization_percent"]
    data["end"]["sum_received"]["bits_per_second"] = "fast"
    data["start"]["connected"] = []
    result = parse_iperf3_json(json.dumps(data))
    assert result["retransmits"] is None and result["cpu_host_pct"] is None and result["received_bps"] is None
    assert (result["remote_host"], result["remote_port"]) == ("168.1.194.92", 5500)  # from connecting_to


def test_reasons_are_the_documented_set():
    assert set(REASONS) == {"connection_refused", "server_busy", "timeout", "no_route", "unknown"}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["start", "end", "error", "sum_sent", "sum_received", "sum", "streams", "bytes",
                         "bits_per_second", "test_start", "num_streams", "connected", "version", "seconds"]),
        inner, max_size=5),
    max_leaves=20,
)


@given(st.text(max_size=300) | _json.map(json.dumps))
@settings(max_examples=300, deadline=None)
def test_only_parse_errors(text):
    with contextlib.suppress(ParseError):
        parse_iperf3_json(text)


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_real_output_only_parse_errors(data):
    cut = data.draw(st.integers(0, len(TCP_39)))
    noise = data.draw(st.text(max_size=20))
    with contextlib.suppress(ParseError):
        parse_iperf3_json(TCP_39[:cut] + noise + TCP_39[cut:])
