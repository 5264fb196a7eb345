"""chrony_facts: parse_sources/parse_tracking on ``chronyc -n -c`` CSV, then main().

The CSV lines follow chrony 4.3 (Debian 12 ``chrony 4.3-2+deb12u1``), whose ``-c`` output is:
- sources: mode, state, address, stratum, poll (log2 s), reach (octal), last rx, adjusted offset,
  measured offset, error (the trailing seconds fields vary from run to run);
- tracking: reference id (hex), reference name, stratum, reference time (epoch), system time,
  last offset, RMS offset, frequency, residual frequency, skew, root delay, root dispersion,
  update interval, leap status.
Lines are those of a lab client (10.77.0.11) syncing to the head node 10.77.0.10, which
serves ``local stratum 10``; the unsynchronised tracking line is chronyd right after start.
"""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import C_LOCALE
from ansible_collections.gpuforge.cluster.plugins.modules import chrony_facts
from ansible_collections.gpuforge.cluster.plugins.modules.chrony_facts import parse_sources, parse_tracking

from .harness import fixed_bin_path, run_module

SOURCES = "^,*,10.77.0.10,10,6,377,33,-0.000001234,-0.000001000,0.000123456\n"
SOURCES_MIXED = """\
^,*,10.77.0.10,10,6,377,33,-0.000001234,-0.000001000,0.000123456
^,-,2001:db8::123,2,10,377,512,0.000412345,0.000410000,0.018234567
^,?,10.77.0.12,0,6,0,-,0.000000000,0.000000000,0.000000000
=,x,10.77.0.13,11,6,17,12,0.120000000,0.120000000,0.000200000
#,+,PHC0,0,2,377,5,0.000000012,0.000000010,0.000000100
"""
TRACKING = (
    "0A4D000A,10.77.0.10,11,1700000000.123456789,-0.000000123,0.000000456,0.000001000,"
    "-1.234,0.001,0.050,0.000123,0.000456,64.5,Normal\n"
)
TRACKING_UNSYNC = (
    "00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,"
    "0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n"
)


# ---------------------------------------------------------------- parse_sources


def test_sources_selected_server():
    assert parse_sources(SOURCES) == [
        {"mode": "^", "state": "*", "address": "10.77.0.10", "stratum": 10, "poll": 6, "reach": 0o377},
    ]


def test_sources_mixed_modes_states_ipv6_and_unreachable():
    got = parse_sources(SOURCES_MIXED)
    assert [(s["mode"], s["state"], s["address"]) for s in got] == [
        ("^", "*", "10.77.0.10"),
        ("^", "-", "2001:db8::123"),
        ("^", "?", "10.77.0.12"),
        ("=", "x", "10.77.0.13"),
        ("#", "+", "PHC0"),
    ]
    assert [s["reach"] for s in got] == [255, 255, 0, 15, 255]
    assert [s["stratum"] for s in got] == [10, 2, 0, 11, 0]
    assert [s["poll"] for s in got] == [6, 10, 6, 6, 2]


@pytest.mark.parametrize("text", ["", "\n", "  \n\n"])
def test_sources_no_sources(text):
    assert parse_sources(text) == []


def test_sources_blank_lines_skipped_but_numbering_kept():
    with pytest.raises(ValueError, match=r"line 3 does not fit"):
        parse_sources("\n" + SOURCES + "bogus\n")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # The human table (chronyc sources without -c).
        ("MS Name/IP address         Stratum Poll Reach LastRx Last sample\n", 1),
        ("^* 10.77.0.10                   10   6   377    33    -1234ns[-1000ns] +/-  123us\n", 1),
        (SOURCES + "506 Cannot talk to daemon\n", 2),
        (SOURCES + "^,*,10.77.0.10\n", 2),  # truncated
        ("^,*,10.77.0.10,ten,6,377,33,0,0,0\n", 1),  # stratum not a number
        ("^,*,10.77.0.10,10,6,378,33,0,0,0\n", 1),  # reach not octal
        ("?,*,10.77.0.10,10,6,377,33,0,0,0\n", 1),  # unknown mode
    ],
)
def test_sources_garbage_names_the_line(text, line):
    with pytest.raises(ValueError) as err:
        parse_sources(text)
    bad = text.splitlines()[line - 1]
    assert str(err.value) == f"chronyc sources line {line} does not fit: {bad!r}"


def test_sources_error_truncates_long_line():
    with pytest.raises(ValueError) as err:
        parse_sources("x" * 500)
    assert repr("x" * 120) in str(err.value)
    assert "x" * 121 not in str(err.value)


# ---------------------------------------------------------------- parse_tracking


def test_tracking_synchronised():
    assert parse_tracking(TRACKING) == {
        "reference_id": "0A4D000A",
        "reference_name": "10.77.0.10",
        "stratum": 11,
        "leap_status": "Normal",
    }


def test_tracking_not_synchronised():
    assert parse_tracking(TRACKING_UNSYNC) == {
        "reference_id": "00000000",
        "reference_name": "",
        "stratum": 0,
        "leap_status": "Not synchronised",
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "506 Cannot talk to daemon",
        "Reference ID    : 0A4D000A (10.77.0.10)",  # the human format (chronyc tracking without -c)
        "0A4D000A,10.77.0.10,11,1700000000.123456789",  # truncated
        TRACKING.replace(",11,", ",eleven,"),
    ],
)
def test_tracking_garbage_names_the_line(text):
    with pytest.raises(ValueError) as err:
        parse_tracking(text)
    assert str(err.value) == f"chronyc tracking line 1 does not fit: {text.strip()[:120]!r}"


# ---------------------------------------------------------------- module


def _run(args, run_command=None, bin_path="/usr/bin/chronyc"):
    return run_module(chrony_facts.main, args, run_command, fixed_bin_path(bin_path))


def test_main_from_given_output():
    result = _run({"sources_output": SOURCES_MIXED, "tracking_output": TRACKING})
    assert result["failed"] is False and result["changed"] is False
    facts = result["ansible_facts"]["chrony"]
    assert facts["selected"] == "10.77.0.10"
    assert len(facts["sources"]) == 5
    assert facts["tracking"]["stratum"] == 11 and facts["tracking"]["leap_status"] == "Normal"


def test_main_no_selected_source():
    result = _run({"sources_output": SOURCES.replace("^,*", "^,?"), "tracking_output": TRACKING_UNSYNC})
    facts = result["ansible_facts"]["chrony"]
    assert facts["selected"] is None
    assert facts["tracking"]["leap_status"] == "Not synchronised"


def test_main_check_mode_reads_too():
    result = _run({"sources_output": SOURCES, "tracking_output": TRACKING, "_ansible_check_mode": True})
    assert result["ansible_facts"]["chrony"]["selected"] == "10.77.0.10"


def test_main_runs_chronyc_numeric_csv_c_locale():
    calls = []

    def run_command(self, argv, environ_update=None, **kw):
        calls.append((argv, environ_update))
        return 0, {"sources": SOURCES, "tracking": TRACKING}[argv[-1]], ""

    result = _run({}, run_command)
    assert calls == [
        (["/usr/bin/chronyc", "-n", "-c", "sources"], C_LOCALE),
        (["/usr/bin/chronyc", "-n", "-c", "tracking"], C_LOCALE),
    ]
    assert result["ansible_facts"]["chrony"]["tracking"]["reference_name"] == "10.77.0.10"


def test_main_runs_only_what_is_not_given():
    calls = []

    def run_command(self, argv, **kw):
        calls.append(argv[-1])
        return 0, TRACKING, ""

    result = _run({"sources_output": SOURCES}, run_command)
    assert calls == ["tracking"]
    assert result["failed"] is False


def test_main_chronyc_missing():
    result = _run({}, bin_path=None)
    assert result["failed"] is True
    assert result["msg"].startswith("chronyc was not found on the PATH of ")
    assert result["msg"].endswith(" (install chrony, or give sources_output)")


def test_main_chronyc_fails():
    result = _run({}, lambda self, argv, **kw: (1, "", "506 Cannot talk to daemon\n"))
    assert result["failed"] is True
    assert result["msg"] == "chronyc sources failed (rc=1): 506 Cannot talk to daemon"


def test_main_garbage_fails_naming_the_line():
    result = _run({"sources_output": SOURCES + "garbage\n", "tracking_output": TRACKING})
    assert result["failed"] is True
    assert result["msg"] == "chronyc sources line 2 does not fit: 'garbage'"
    bad = _run({"sources_output": SOURCES, "tracking_output": "garbage"})
    assert bad["msg"] == "chronyc tracking line 1 does not fit: 'garbage'"
