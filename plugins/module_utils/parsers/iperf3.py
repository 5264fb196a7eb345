# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for ``iperf3 -J`` (client side) results, TCP and UDP."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

REASONS = ("connection_refused", "server_busy", "timeout", "no_route", "unknown")

# iperf3 puts iperf_strerror() into the JSON's "error" (src/iperf_error.c), with strerror(errno) appended
# for socket errors: "unable to connect to server[ - server may have stopped running ...]: Connection refused".
# --connect-timeout ends in ETIMEDOUT ("Connection timed out", BSD "Operation timed out"), --rcv-timeout in
# "idle timeout for receiving data". "idle timeout parameter ..." is an option error, hence no bare "timeout".
_REASONS = (
    (re.compile(r"Connection refused", re.I), "connection_refused"),
    (re.compile(r"server is busy", re.I), "server_busy"),
    (re.compile(r"timed out|idle timeout for receiving", re.I), "timeout"),
    (re.compile(r"No route to host|Network is unreachable|Host is unreachable", re.I), "no_route"),
)
# The text form, on stderr or after the JSON object (esnet/iperf#1143): "iperf3: error - ...".
_TEXT_ERROR = re.compile(r"^\s*iperf3: (?:\w+ )?error - (.+?)\s*$", re.M)


class Iperf3Error(ParseError):
    """iperf3 reported an error; ``reason`` is one of REASONS and ``error`` is iperf3's own message."""

    def __init__(self, reason: str, message: str, line_number: int = 0, line: str = "") -> None:
        self.reason = reason
        self.error = message
        super().__init__(f"iperf3 failed ({reason}): {message}", line_number, line)


def error_reason(message: str) -> str:
    """Reason (one of REASONS) for an iperf3 error message."""
    for pattern, reason in _REASONS:
        if pattern.search(message):
            return reason
    return "unknown"


def _line_of(text: str, offset: int) -> tuple[int, str]:
    number = text.count("\n", 0, offset) + 1
    return number, text.split("\n")[number - 1]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    value = _num(value)
    return int(value) if value is not None else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sums(end: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(sender, receiver) summaries: sum_sent/sum_received; before those, end.sum (UDP) or the one stream."""
    sent, received = end.get("sum_sent"), end.get("sum_received")
    if isinstance(sent, dict) or isinstance(received, dict):
        return _dict(sent) or None, _dict(received) or None
    if isinstance(end.get("sum"), dict):
        return end["sum"], None
    streams = end.get("streams")
    if isinstance(streams, list) and len(streams) == 1 and isinstance(streams[0], dict):
        return _dict(streams[0].get("sender")) or None, _dict(streams[0].get("receiver")) or None
    return None, None


def parse_iperf3_json(text: str) -> dict[str, Any]:
    """Parse the JSON object of ``iperf3 -c ... -J``; raise Iperf3Error when it carries an "error".

    Text before the object (a terminal's ``^C``, warnings) is skipped. ``version`` is the number from
    ``start.version`` ("iperf 3.9" -> "3.9"); figures missing from the output are None.
    """
    text = check_text(text)
    start_at = text.find("{")
    if start_at < 0:
        match = _TEXT_ERROR.search(text)
        if match:
            number, line = _line_of(text, match.start(1))
            raise Iperf3Error(error_reason(match.group(1)), match.group(1), number, line)
        number, line = first_content_line(text)
        raise ParseError("not iperf3 JSON output (no JSON object)", number or 1, line)
    try:
        data, stop = json.JSONDecoder().raw_decode(text, start_at)
    except (ValueError, RecursionError) as exc:
        number, line = _line_of(text, getattr(exc, "pos", start_at))
        raise ParseError(f"not iperf3 JSON output ({getattr(exc, 'msg', type(exc).__name__)})",
                         number, line) from None
    if not isinstance(data, dict):
        raise ParseError("not iperf3 JSON output (not an object)", *_line_of(text, start_at))
    message = str(data.get("error") or "").strip()
    if message:
        found = re.search(r'"error"\s*:', text[start_at:stop])
        number, line = _line_of(text, start_at + found.start() if found else start_at)
        raise Iperf3Error(error_reason(message), message, number, line)
    trailing = _TEXT_ERROR.search(text, stop)
    if trailing:
        number, line = _line_of(text, trailing.start(1))
        raise Iperf3Error(error_reason(trailing.group(1)), trailing.group(1), number, line)
    begin, end = _dict(data.get("start")), _dict(data.get("end"))
    sent, received = _sums(end)
    if sent is None and received is None:
        number, line = _line_of(text, start_at)
        raise ParseError("iperf3 JSON output without an end summary", number, line)
    sent, received = sent or {}, received or {}
    test = _dict(begin.get("test_start"))
    connected = begin.get("connected")
    peer = _dict(connected[0]) if isinstance(connected, list) and connected else {}
    peer = peer or {"remote_host": _dict(begin.get("connecting_to")).get("host"),
                    "remote_port": _dict(begin.get("connecting_to")).get("port")}
    streams = _int(test.get("num_streams"))
    if streams is None and isinstance(end.get("streams"), list):
        streams = len(end["streams"])
    cpu = _dict(end.get("cpu_utilization_percent"))
    version = begin.get("version")
    udp = received or sent
    return {
        "version": re.sub(r"^iperf\s+", "", version) if isinstance(version, str) else None,
        "protocol": test.get("protocol") if isinstance(test.get("protocol"), str) else None,
        "streams": streams,
        "duration_s": _num(sent.get("seconds", received.get("seconds"))),
        "bytes_sent": _int(sent.get("bytes")),
        "bytes_received": _int(received.get("bytes")),
        "sent_bps": _num(sent.get("bits_per_second")),
        "received_bps": _num(received.get("bits_per_second")),
        "retransmits": _int(sent.get("retransmits")),
        "jitter_ms": _num(udp.get("jitter_ms")),
        "lost_percent": _num(udp.get("lost_percent")),
        "cpu_host_pct": _num(cpu.get("host_total")),
        "cpu_remote_pct": _num(cpu.get("remote_total")),
        "remote_host": peer.get("remote_host") if isinstance(peer.get("remote_host"), str) else None,
        "remote_port": _int(peer.get("remote_port")),
        "error": None,
    }
