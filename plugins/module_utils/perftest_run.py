# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""perftest runs as data: the command line for one side and what a failure means.

Pure functions, no I/O. ``perftest_argv`` builds the argv of ib_{write,read,send}_{bw,lat} for the server
(no address) or the client (server address last), with the device, port and RoCE v2 IPv4 GID index that
``rdma_ports.rdma_endpoint`` takes from the live HCA choice (the one owner of that choice);
``classify_failure`` names the cause of a failed run from perftest's own messages.

Sources: linux-rdma/perftest at commit 00b55b6660d0170dabe2c1b49193e8fbe265086e (2026-07); line numbers
below are at that commit.
- Long options (src/perftest_parameters.c:3105-3165): --port (-p), --ib-dev (-d), --ib-port (-i),
  --size (-s), --gid-index (-x), --CPU-freq (-F), --duration (-D), --report_gbits. Usage text
  (perftest_parameters.c:346-348): "<test>" starts a server, "<test> <host>" connects to it.
- -F (perftest_parameters.c:3412) only silences the CPU-frequency warning (get_cpu_mhz() in
  src/get_clock.c measures either way): every test takes it.
- --report_gbits: "Relevant only for bandwidth" (man/perftest.1:328-330; usage lists it under BW only,
  perftest_parameters.c:718): left out of latency tests.
- -D: every test takes it (perftest_parameters.c:3402), but a latency test then prints only
  " #bytes #iterations t_avg[usec] tps average" (RESULT_FMT_LAT_DUR, perftest_parameters.h:211; chosen
  in write_lat.c:279, read_lat.c:308, send_lat.c:412) instead of the t_min/t_typical/percentile table
  parse_perftest reads, so perftest_argv refuses a duration for latency tests (they run perftest's
  iteration count, -n, default 1000).
- -x takes 0..64 (MIN_GID_IX/MAX_GID_IX, perftest_parameters.h:166-167); -i at least 1 (MIN_IB_PORT,
  perftest_parameters.h:159); -s 1..UINT_MAX/2 (perftest_parameters.c:3433); the exchange port defaults
  to 18515 (DEF_PORT, perftest_parameters.h:100). -D, -s, -p and --report_gbits are SYMMETRIC (usage):
  both sides must get the same values.
"""

from __future__ import annotations

import re
from typing import Any

TESTS = ("ib_write_bw", "ib_write_lat", "ib_read_bw", "ib_read_lat", "ib_send_bw", "ib_send_lat")
DEFAULT_EXCHANGE_PORT = 18515
MAX_GID_INDEX = 64
MAX_SIZE = 2 ** 31 - 1
REASONS = ("gid", "no_device", "port_down", "connect", "qp_rtr", "timeout", "unknown")


def is_bandwidth(test: str) -> bool:
    return test.endswith("_bw")


def _int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be from {low}" + (f" to {high}" if high is not None else " up")
                         + f", not {value}")
    return value


def perftest_argv(test: str, device: str, ib_port: int, gid_index: int | None = None, server: str | None = None,
                  duration: int | None = None, size: int | None = None, port: int | None = None,
                  report_gbits: bool = True, extra=()) -> list[str]:
    """argv of one side: the server without ``server``, the client with the server's address last.

    ``gid_index`` None leaves -x out (InfiniBand link layers need none). ``duration`` is for bandwidth
    tests only (see the module docstring); ``report_gbits`` applies to bandwidth tests only.
    """
    if test not in TESTS:
        raise ValueError(f"test {test!r} is not one of {', '.join(TESTS)}")
    if not isinstance(device, str) or not device.strip():
        raise ValueError("device (the RDMA device, e.g. mlx5_0) must be given")
    argv = [test, "--ib-dev", device, "--ib-port", str(_int("ib_port", ib_port, 1))]
    if gid_index is not None:
        argv += ["--gid-index", str(_int("gid_index", gid_index, 0, MAX_GID_INDEX))]
    if report_gbits and is_bandwidth(test):
        argv.append("--report_gbits")
    argv.append("-F")
    if duration is not None:
        if not is_bandwidth(test):
            raise ValueError(f"{test}: duration is for bandwidth tests; with -D a latency test prints only "
                             "t_avg and tps, not the latency table (leave duration out)")
        argv += ["-D", str(_int("duration", duration, 1))]
    if size is not None:
        argv += ["--size", str(_int("size (bytes)", size, 1, MAX_SIZE))]
    if port is not None:
        argv += ["--port", str(_int("port", port, 1, 65535))]
    argv += [str(item) for item in extra]
    if server is not None:
        if not str(server).strip():
            raise ValueError("server must be an address or a name (leave it out for the server side)")
        argv.append(str(server))
    return argv


# perftest's failure messages, most specific first (the first match names the cause). Each entry:
# (reason, pattern). The strings are perftest's own, at commit 00b55b6 unless said otherwise.
_FAILURES = [
    # ctx_find_dev(), src/perftest_resources.c:1092-1093 (no device at all); real capture in
    # Mellanox/k8s-rdma-shared-dev-plugin#169 and #106.
    ("no_device", r"Did not detect devices"),
    # ctx_find_dev(), perftest_resources.c:1105 (no device, no -d).
    ("no_device", r"No IB devices found"),
    # ctx_find_dev(), perftest_resources.c:1113: -d names a device that is not there.
    ("no_device", r"IB device \S+ not found"),
    # every test's main() after ctx_find_dev() fails, e.g. src/write_bw.c:83, src/write_lat.c:97.
    ("no_device", r"Unable to find the Infiniband/RoCE device"),
    # set_link_layer(), src/perftest_parameters.c:2746: "Port number %d state is %s" (portStates[],
    # perftest_parameters.c:41); real capture in linux-rdma/perftest#43.
    ("port_down", r"Port number \d+ state is \S+"),
    # set_link_layer(), perftest_parameters.c:2736: ibv_query_port() failed (no such port on the device).
    ("port_down", r"Unable to query port \d+ attributes"),
    # set_link_layer(), perftest_parameters.c:2753.
    ("port_down", r"Link layer on port \d+ is Unknown"),
    # check_link() after set_link_layer() failed, perftest_parameters.c:4487.
    ("port_down", r"Couldn't set the link layer"),
    # parser, -x out of range: CHECK_VALUE_IN_RANGE_UNS (perftest_parameters.h:291, " %s should be between
    # %lu and %lu") with the name "Gid index" (perftest_parameters.c:3345).
    ("gid", r"Gid index should be between \d+ and \d+"),
    # main() when one side's GID is IPv4-mapped and the other's is not: write_bw.c:206, write_lat.c:221.
    ("gid", r"Found Incompatibility issue with GID types"),
    # set_up_connection() returns -1 only when ibv_query_gid() of the -x index fails (an index past the
    # port's GID table), perftest_communication.c:914-927; main() prints this, write_bw.c:189.
    ("gid", r"Unable to set up socket connection"),
    # A local GID of zeros: libibverbs' ibv_query_gid() returns an empty table entry as GID 0 ("Preserve
    # API behavior for empty GID", rdma-core libibverbs/verbs.c), so -x named an unused entry; the RTR
    # step then fails. Real capture: Mellanox/k8s-rdma-shared-dev-plugin#72 (PERF_GID_FMT,
    # perftest_communication.h:106).
    ("gid", r"(?m)^\s*GID: 00(?::00){15}\s*$"),
    # ctx_connect(), perftest_resources.c:3609 "Failed to modify QP %d to RTR" (older releases: "Failed to
    # modify QP to RTR"); then main(), write_bw.c:214. Real capture: k8s-rdma-shared-dev-plugin#72.
    ("qp_rtr", r"Failed to modify QP (?:\d+ )?to RTR"),
    ("qp_rtr", r"Unable to Connect the HCA's through the link"),
    # NOTIFY_COMP_ERROR_SEND/RECV, src/perftest_resources.h:119/125: a work completion failed after the
    # QPs connected (status 12, retry exceeded: the peer's GID/path does not answer), linux-rdma/perftest#295.
    ("qp_rtr", r"Completion with error at (?:client|server)"),
    # ethernet_client_connect(), perftest_communication.c:822 "Couldn't connect to %s:%d"; then
    # establish_connection(), :1664, and main(), write_bw.c:127. Real capture: linux-rdma/perftest#228.
    ("connect", r"Couldn't connect to \S+"),
    ("connect", r"Unable to open file descriptor for socket connection"),
    ("connect", r"Unable to init the socket connection"),
    # ethernet_server_connect(), perftest_communication.c:871: the server's TCP port is taken.
    ("connect", r"Couldn't listen to port \d+"),
    # ethernet_client_connect()/ethernet_server_connect(), perftest_communication.c:849 (getaddrinfo).
    ("connect", r"Problem in resolving basic address and port"),
    # The peer went away during the TCP exchange: ethernet_read_keys(), perftest_communication.c:382;
    # ctx_hand_shake() callers, :1934 (server side of linux-rdma/perftest#262).
    ("connect", r"Couldn't read remote address"),
    ("connect", r"Failed to exchange data between server and clients"),
    # Last: main() prints this after several different failures (device open, link check, MTU check),
    # write_bw.c:95-109; alone it means the device could not be opened.
    ("no_device", r"Couldn't get context for the device"),
]
_COMPILED = [(reason, re.compile(pattern)) for reason, pattern in _FAILURES]

_ADVICE = {
    "no_device": "the RDMA device is missing or cannot be opened: check the name (ibv_devices), the driver "
                 "(ibv_devinfo) and, in a container, /dev/infiniband",
    "port_down": "the port is not usable: it must exist on the device and be Active (ibstat); use the port "
                 "hca_choice picked",
    "gid": "check the GID index (-x): both sides must use the RoCE v2 IPv4 entry of their own address "
           "(show_gids, the rdma_gids facts); an unused entry reads as GID 0",
    "qp_rtr": "the two sides could not connect their queue pairs or exchange data: their path does not match "
              "(GID index or type, MTU) or the peer's GID is not reachable over RDMA",
    "connect": "the out-of-band TCP exchange failed: start the server first, check the address and that TCP "
               "port 18515 (or the -p port) is open in both firewalls; a server port in use means another "
               "perftest server still runs",
}


def classify_failure(text: str, rc: int | None) -> tuple[str, str]:
    """(reason, message) of a failed perftest run from its output (stdout and stderr) and exit status."""
    text = text or ""
    if rc in (124, 137):
        # The server prints the banner while it waits (write_bw.c:119-123) and " local address:" once a
        # client has connected and the QP data were exchanged (ctx_print_pingpong_data).
        waiting = "Waiting for client to connect" in text and "local address" not in text
        why = ("no client connected to the server" if waiting
               else "the peer never answered or the transfer hung")
        return "timeout", f"killed by the hard timeout (rc {rc}): {why}"
    for reason, pattern in _COMPILED:
        match = pattern.search(text)
        if match:
            return reason, f"{_ADVICE[reason]} (perftest: {match.group(0).strip()!r})"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    return "unknown", f"perftest failed (rc {rc}): {last[:300]}"
