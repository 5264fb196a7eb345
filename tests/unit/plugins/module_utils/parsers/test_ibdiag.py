"""ibswitches, iblinkinfo, ibportstate and sminfo: real captures, the printf layouts, errors, properties."""

from __future__ import annotations

import contextlib
import json
from collections import Counter

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import ibdiag
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from hypothesis import given, settings
from hypothesis import strategies as st

from .golden import FIXTURES, expected_path, fixture_files, result_for

PARSERS = {
    "ibswitches": ibdiag.parse_ibswitches,
    "iblinkinfo": ibdiag.parse_iblinkinfo,
    "ibportstate": ibdiag.parse_ibportstate,
    "sminfo": ibdiag.parse_sminfo,
}
FILES = [path for path in fixture_files() if path.parent.name in PARSERS]


def _text(tool: str, name: str) -> str:
    return (FIXTURES / tool / f"{name}.txt").read_text()


def _parse(tool: str, name: str):
    return PARSERS[tool](_text(tool, name))


def test_every_tool_has_real_fixtures_with_provenance():
    counts = Counter(path.parent.name for path in FILES)
    assert all(counts[tool] >= 2 for tool in PARSERS), counts
    for path in FILES:
        assert json.loads(expected_path(path).read_text()) == result_for(path)
        source = path.with_suffix(".source").read_text()
        assert "source:" in source and "tool:" in source and "hardware:" in source


# ------------------------------------------------------------------------------------------ ibswitches

def test_ibswitches_managed_and_base_port0_switches():
    switches = _parse("ibswitches", "sx6036-and-obsidian-longbow-base-port0")
    assert [s["lid"] for s in switches] == [12, 11, 13, 16]
    assert switches[0] == {"guid": "0xe41d2d03003bfb80", "ports": 36, "description": "MF0;node231:SX6036/U1",
                           "enhanced_port0": True, "lid": 12, "lmc": 0}
    assert switches[1]["enhanced_port0"] is False and switches[1]["ports"] == 2


def test_ibswitches_unmanaged_default_description_and_spaces_for_the_tab():
    (switch,) = _parse("ibswitches", "infiniscale-iv-unmanaged-base-port0")
    assert switch["description"] == "Infiniscale-IV Mellanox Technologies" and not switch["enhanced_port0"]
    assert len(_parse("ibswitches", "sun-dcs-36p-qdr-three-switches")) == 3


@pytest.mark.parametrize("text", ["", "\n", "  \n\t\n"])
def test_ibswitches_no_switch_is_an_empty_list(text):
    assert ibdiag.parse_ibswitches(text) == []


def test_ibswitches_warnings_next_to_switches_are_skipped():
    text = ("src/query_smp.c:199; umad (DR path slid 0; dlid 0; 0,1,10,19 Attr 0x11:0) bad status 110; "
            "Connection timed out\n" + _text("ibswitches", "infiniscale-iv-unmanaged-base-port0"))
    assert len(ibdiag.parse_ibswitches(text)) == 1


def test_ibswitches_failure_is_an_ibdiag_error_naming_the_fatal_line():
    # The stdout/stderr of ibnetdiscover that ibswitches passes through (treydock/infiniband_exporter#26).
    text = ("ibwarn: [298726] mad_rpc_open_port: client_register for mgmt 1 failed\n"
            "ibnetdiscover: iberror: failed: discover failed\n")
    with pytest.raises(ibdiag.IbdiagError) as info:
        ibdiag.parse_ibswitches(text)
    assert info.value.reason == "discover_failed" and info.value.line_number == 2


def test_ibswitches_rejects_ibnodes_ca_lines_naming_the_line():
    text = (_text("ibswitches", "infiniscale-iv-unmanaged-base-port0")
            + 'Ca: 0x0002c903000d7aac ports 1 "kube-node-100 HCA-1"\n')
    with pytest.raises(ParseError) as info:
        ibdiag.parse_ibswitches(text)
    assert info.value.line_number == 2 and info.value.line.startswith("Ca:")


# ------------------------------------------------------------------------------------------ iblinkinfo

def test_iblinkinfo_qdr_switch_and_cas():
    result = _parse("iblinkinfo", "qdr-infiniscale-iv-four-cas")
    (switch,) = result["switches"]
    assert (switch["guid"], switch["lid"], len(switch["ports"])) == ("0x0002c9020046c588", 2, 36)
    port1 = switch["ports"][0]
    assert (port1["width"], port1["speed_gbps"], port1["rate_gbps"]) == ("4X", 10.0, 40.0)
    assert port1["generation"] == "QDR"
    assert (port1["peer_lid"], port1["peer_port"]) == (3, 1)
    assert port1["peer_description"] == "centos-data-202 HCA-1"
    assert switch["ports"][35]["state"] == "Down" and switch["ports"][35]["peer_lid"] is None
    assert result["nodes"][0]["description"] == "centos-data-200 HCA-1"
    assert result["nodes"][0]["ports"][0]["port_guid"] == "0x0002c903000d81f9"


def test_iblinkinfo_fdr_is_56_25_and_nominally_56():
    line = ('           2    1[  ] ==( 4X      14.0625 Gbps Active/  LinkUp)==>       3    1[  ] '
            '"node01 HCA-1" ( )')
    header = "Switch: 0x0002c90200482d08 MF0;switch-6a8d8c:SX6036/U1:\n"
    (port,) = ibdiag.parse_iblinkinfo(header + line)["switches"][0]["ports"]
    assert (port["speed_gbps"], port["rate_gbps"], port["nominal_rate_gbps"], port["generation"]) == (
        14.0625, 56.25, 56, "FDR")


def test_iblinkinfo_fdr10_line_from_a_real_run():
    ports = _parse("iblinkinfo", "fragment-three-diags-versions-fdr10")["nodes"][0]["ports"]
    assert [p["generation"] for p in ports] == ["QDR", "DDR", "FDR10"]
    assert ports[2]["fdr10"] and ports[2]["speed"] == "10.0 Gbps (FDR10)"
    assert ports[2]["nominal_rate_gbps"] == 40


def test_iblinkinfo_hints_hoq_and_unavailable_ports():
    # The layouts of iblinkinfo.c print_port(): get_max_msg() hints, -p (HOQ/VL_Stall), no remote port.
    text = ("Switch: 0x0002c90200482d08 MF0;sw:SX6005/U1:\n"
            "           5    1[  ] ==( 4X          10.0 Gbps Active/  LinkUp)==>      12    1[  ] "
            "\"a HCA-1\" ( Could be FDR10 (Found link at QDR but expected speed is FDR10))\n"
            "           5    2[  ] ==( 1X      14.0625 Gbps Active/  LinkUp) (HOQ:16 VL_Stall:7)==>"
            "      13    1[  ] \"b HCA-1\" (Could be 4X )\n"
            "           5    3[  ] ==( 4X      14.0625 Gbps Active/  LinkUp)==>      "
            "\"Port not available\"\n")
    ports = ibdiag.parse_iblinkinfo(text)["switches"][0]["ports"]
    assert ports[0]["note"] == "Could be FDR10 (Found link at QDR but expected speed is FDR10)"
    assert ports[0]["generation"] == "QDR" and not ports[0]["fdr10"]
    assert ports[1]["note"] == "Could be 4X" and ports[1]["hoq"] == "HOQ:16 VL_Stall:7"
    assert ports[1]["rate_gbps"] == 14.0625 and ports[1]["nominal_rate_gbps"] == 14
    assert ports[2]["available"] is False and ports[2]["peer_lid"] is None


def test_iblinkinfo_old_switch_header_and_line_mode():
    old = ("Switch 0x0002c902004048c8 MF0;ib0-is5200-a2-bip-m:IS5200/L07/U1:\n"
           + _text("iblinkinfo", "fragment-three-diags-versions-fdr10").split("\n")[0] + "\n")
    (switch,) = ibdiag.parse_iblinkinfo(old)["switches"]
    assert switch["guid"] == "0x0002c902004048c8" and switch["ports"][0]["peer_port"] == 18
    line = _parse("iblinkinfo", "line-mode-switchib-edr")
    assert line["mode"] == "line" and line["nodes"][0]["description"] == "thing4 HCA-1"
    assert line["nodes"][0]["ports"][0]["peer_guid"] == "0xec0d9a030002b810"
    assert line["nodes"][3]["ports"][0]["state"] == "Down"


def test_iblinkinfo_hdr_and_edr_rates():
    hdr = _parse("iblinkinfo", "hdr-quantum-sharp-aggregation-node")
    assert {p["nominal_rate_gbps"] for n in hdr["nodes"] for p in n["ports"]} == {200}
    edr = _parse("iblinkinfo", "edr-sb7700-two-cas-partial-switch")
    assert edr["switches"][0]["ports"][16]["generation"] == "EDR"


def test_iblinkinfo_failure_and_errors_next_to_a_result():
    with pytest.raises(ibdiag.IbdiagError) as info:
        ibdiag.parse_iblinkinfo("ibwarn: [10] mad_rpc_open_port: can't open UMAD port ((null):0)\n"
                                "iblinkinfo: iberror: failed: Failed to open '(null)' port '0'\n")
    assert info.value.reason == "port_open_failed"
    text = ("src/query_smp.c:199; umad (DR path slid 0; dlid 0; 0,1,10) bad status 110; "
            "Connection timed out\n" + _text("iblinkinfo", "ddr-connectx-back-to-back-archwiki"))
    assert len(ibdiag.parse_iblinkinfo(text)["errors"]) == 1


def test_iblinkinfo_not_tool_output_names_the_line():
    with pytest.raises(ParseError) as info:
        ibdiag.parse_iblinkinfo("CA: a HCA-1:\n      0x01 1 1[  ] ==( 4X 10.0 Gbps Active/  LinkUp)==> ?\n")
    assert info.value.line_number == 2


# ------------------------------------------------------------------------------------------ ibportstate

def test_ibportstate_fdr_port():
    port = _parse("ibportstate", "cx3-fdr-4x-query-lid12-port2")
    assert (port["lid"], port["port"], port["link_state"], port["phys_state"]) == (12, 2, "Active", "LinkUp")
    assert port["speed"]["supported"] == ["2.5 Gbps", "5.0 Gbps", "10.0 Gbps"]
    assert port["speed_ext"] == {"supported": ["14.0625 Gbps"], "enabled": ["14.0625 Gbps"],
                                 "active": "14.0625 Gbps"}
    assert (port["active_rate_gbps"], port["active_nominal_gbps"], port["generation"]) == (56.25, 56, "FDR")
    assert port["fdr10"] is False and port["fdr10_enabled"] is True and port["node_type"] == "CA/RT"


@pytest.mark.parametrize("name,rate", [("cx3-fdr10-1x-after-reset", 10.0),
                                       ("fdr10-4x-width-set-initial-and-after", 40.0)])
def test_ibportstate_fdr10_comes_from_the_mlnx_block(name, rate):
    port = _parse("ibportstate", name)
    assert port["speed"]["active"] == "10.0 Gbps" and port["speed_ext"]["active"] == "No Extended Speed"
    assert port["fdr10"] and port["generation"] == "FDR10" and port["active_rate_gbps"] == rate


def test_ibportstate_set_operation_blocks_and_notes():
    port = _parse("ibportstate", "cx3-fdr-disable-initial-and-after")
    assert port["notes"] == ["Disable may be irreversible"]
    after = port["after_set"]
    assert after["speed"]["active"] == "Extended speed" and after["generation"] == "FDR"
    assert port["enabled_max_rate_gbps"] == 14.0625  # LinkWidthEnabled 1X
    width = _parse("ibportstate", "fdr10-4x-width-set-initial-and-after")
    assert width["width"]["enabled"] == ["1X", "4X"] and width["after_set"]["width"]["enabled"] == ["1X"]


def test_ibportstate_old_layout_peer_and_down_port():
    port = _parse("ibportstate", "sun-dcs-qdr-switch-port-with-peer-old-layout")
    assert port["node_type"] is None and port["speed_ext"] is None and port["generation"] == "QDR"
    assert port["peer"]["lid"] is None and port["peer"]["port"] == 1
    assert port["peer"]["width"]["supported"] == ["4X (IBA extension)"]
    down = _parse("ibportstate", "sun-dcs-switch-port-down-disabled-old-layout")
    assert down["link_state"] == "Down" and down["active_rate_gbps"] is None
    assert down["enabled_max_rate_gbps"] == 40.0


def test_ibportstate_qdr_has_mlnx_active_zero_and_peer_warning():
    ext = "LinkSpeedExtActive:.............."
    warning = "ibwarn: [4711] main: Peer ports operating at active speed 4 rather than FDR10"
    text = _text("ibportstate", "cx3-fdr-4x-query-lid12-port2")
    text = text.replace(ext + "14.0625 Gbps", ext + "No Extended Speed")
    text += warning + "\n"
    port = ibdiag.parse_ibportstate(text)
    assert port["generation"] == "QDR" and port["fdr10"] is False and port["active_rate_gbps"] == 40.0
    assert port["warnings"] == [warning]


def test_ibportstate_failure_reason():
    with pytest.raises(ibdiag.IbdiagError) as info:
        ibdiag.parse_ibportstate("ibwarn: [11192] mad_rpc: _do_madrpc failed; dport (Lid 4)\n"
                                 "ibportstate: iberror: failed: smp query nodeinfo failed\n")
    assert info.value.reason == "no_response" and info.value.line_number == 2


@pytest.mark.parametrize("text,number", [
    ("LinkState:.......................Active\n", 1),
    ("CA/RT PortInfo:\nLinkState:.......................Active\n", 2),
    ("# MLNX ext Port info: Lid 3 port 1\nLinkSpeedActive:.................0x01\n", 1),
    ("", 0),
])
def test_ibportstate_errors_name_the_line(text, number):
    with pytest.raises(ParseError) as info:
        ibdiag.parse_ibportstate(text)
    assert info.value.line_number == number


# ------------------------------------------------------------------------------------------ sminfo

def test_sminfo_master():
    assert _parse("sminfo", "sun-dcs-master-lid15-bda") == {
        "present": True, "lid": 15, "guid": "0x10e0406d5aa0a0", "activity_count": 26263191, "priority": 14,
        "state": 3, "state_name": "SMINFO_MASTER", "error": None, "reason": None, "warnings": []}
    old = _parse("sminfo", "ofed-1.5.3-readme-old-layout-hex-lid")
    assert (old["lid"], old["state"]) == (1, None)


def test_sminfo_no_sm_is_a_result_not_an_exception():
    result = _parse("sminfo", "error-no-sm-ofed-readme")
    assert result["present"] is False and result["reason"] == "no_response"
    # The rdma-core layout: IBWARN from libibmad, then ibexit()'s "<prog>: iberror: failed: <msg>".
    text = ("ibwarn: [3345] _do_madrpc: recv failed: Connection timed out\n"
            "ibwarn: [3345] mad_rpc: _do_madrpc failed; dport (DR path slid 0; dlid 0; 0)\n"
            "sminfo: iberror: failed: query\n")
    result = ibdiag.parse_sminfo(text)
    got = (result["present"], result["reason"], result["error"])
    assert got == (False, "no_response", "sminfo: iberror: failed: query")
    assert len(result["warnings"]) == 2
    opened = _parse("sminfo", "error-umad-port-open-failed")
    assert opened["reason"] == "port_open_failed" and opened["warnings"][0].startswith("ibwarn:")


def test_sminfo_state_name_filled_from_the_number_and_bad_input():
    result = ibdiag.parse_sminfo("sminfo: sm lid 1 sm guid 0x2c903000a8a51, activity count 5320 priority 0 "
                                 "state 2\n")
    assert result["state_name"] == "SMINFO_STANDBY"
    twice = ("sminfo: sm lid 1 sm guid 0x1, activity count 1 priority 0\n"
             "sminfo: sm lid 1 sm guid 0x1, activity count 2 priority 0\n")
    for text, number in (("", 1), ("hello\n", 1), (twice, 2)):
        with pytest.raises(ParseError) as info:
            ibdiag.parse_sminfo(text)
        assert info.value.line_number == number


# ------------------------------------------------------------------------------------------ properties

def _only_parse_errors(parser, text):
    with contextlib.suppress(ParseError):
        parser(text)


ALPHABET = st.sampled_from([
    *"0123456789abcdefx \t\n:.\"[]()=/>-", "Switch", "CA", "ports", "lid", "lmc", "enhanced",
    "base port 0",
    "Gbps", "4X", "Active", "LinkUp", "Down", "Polling", "==(", ")==>", "# Port info: Lid 3 port 1",
    "# MLNX ext Port info: Lid 3 port 1", "LinkSpeedActive:", "PortInfo:", "Peer PortInfo:",
    "sminfo: sm lid ",
    "sm guid 0x", ", activity count ", " priority ", " state ", "ibwarn: ", "iberror: ", "\r", "FDR10",
])


@pytest.mark.parametrize("tool", sorted(PARSERS))
@given(st.one_of(st.text(max_size=300), st.lists(ALPHABET, max_size=80).map("".join)))
@settings(max_examples=150, deadline=None)
def test_any_text_raises_only_parse_error(tool, text):
    _only_parse_errors(PARSERS[tool], text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
@given(data=st.data())
@settings(max_examples=25, deadline=None)
def test_truncated_or_mangled_real_output_raises_only_parse_error(path, data):
    parser = PARSERS[path.parent.name]
    text = path.read_text()
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.binary(max_size=20)).decode("latin-1")
    _only_parse_errors(parser, text[:cut] + junk + text[cut:][data.draw(st.integers(0, 40)):])
    _only_parse_errors(parser, text[:cut].encode())


@pytest.mark.parametrize("tool", sorted(PARSERS))
def test_binary_input(tool):
    with pytest.raises(ParseError):
        PARSERS[tool]("\x00\x01\x02garbage")


DESC = st.text(st.sampled_from([*"abcdefghijklmnopqrstuvwxyzABCXZ0123456789;:/-_.", " "]), min_size=1,
               max_size=30).map(str.strip).filter(bool)
GUID = st.integers(1, 2**64 - 1)
LANE = st.sampled_from([("2.5 Gbps", 2.5, "SDR"), ("5.0 Gbps", 5.0, "DDR"), ("10.0 Gbps", 10.0, "QDR"),
                        ("10.0 Gbps (FDR10)", 10.0, "FDR10"), ("14.0625 Gbps", 14.0625, "FDR"),
                        ("25.78125 Gbps", 25.78125, "EDR"), ("53.125 Gbps", 53.125, "HDR"),
                        ("106.25 Gbps", 106.25, "NDR"), ("212.5 Gbps", 212.5, "XDR")])
WIDTH = st.sampled_from([("1X", 1), ("2X", 2), ("4X", 4), ("8X", 8), ("12X", 12)])


@given(st.lists(st.tuples(GUID, st.integers(1, 255), DESC, st.booleans(), st.integers(1, 49151),
                          st.integers(0, 7)), max_size=12), st.sampled_from(["\t", "  ", ""]))
@settings(max_examples=150, deadline=None)
def test_generated_ibswitches_lines_round_trip(rows, sep):
    # scripts/ibswitches.in: print $1 "\t: 0x" guid " ports " $2 " " desc " " type " " pinfo
    text = "".join(f'Switch{sep}: 0x{guid:016x} ports {ports} "{desc}" {"enhanced" if enh else "base"} '
                   f"port 0 lid {lid} lmc {lmc}\n" for guid, ports, desc, enh, lid, lmc in rows)
    expected = [{"guid": f"0x{guid:016x}", "ports": ports, "description": desc, "enhanced_port0": enh,
                 "lid": lid, "lmc": lmc} for guid, ports, desc, enh, lid, lmc in rows]
    assert ibdiag.parse_ibswitches(text) == expected


def _link(width, speed, state="Active", phys="LinkUp"):
    # iblinkinfo.c: "(%3s %18s %6s/%8s)" for a live port, "(              %6s/%8s)" for a Down one.
    if width:
        return f"({width:>3} {speed:>18} {state:>6}/{phys:>8})"
    return f"(              {state:>6}/{phys:>8})"


PORT = st.fixed_dictionaries({
    "port": st.integers(1, 64), "lid": st.integers(1, 49151), "width": WIDTH, "lane": LANE,
    "up": st.booleans(),
    "rlid": st.integers(1, 49151), "rport": st.integers(1, 64), "rdesc": DESC,
    "note": st.sampled_from(["", "Could be 4X", "Could be FDR10"]),
})


def _port_line(guid: int, desc: str, line_mode: bool, p: dict) -> str:
    # print_port(): "%6d %4d[%2s] ==%s==>  %s" after 6 spaces (default) or the GUID and "%30s" description.
    if p["up"]:
        link = _link(p["width"][0], p["lane"][0])
        rguid = f"0x{guid:016x} " if line_mode else ""
        remote = f'{rguid}{p["rlid"]:6d} {p["rport"]:4d}[  ] "{p["rdesc"]}" ({p["note"]} )'
    else:
        link, remote = _link(None, None, "Down", "Polling"), '           [  ] "" ( )'
    head = f'0x{guid:016x} "{desc:>30}" ' if line_mode else "      "
    return f"{head}{p['lid']:6d} {p['port']:4d}[  ] =={link}==>  {remote}"


@given(GUID, DESC, st.lists(PORT, min_size=1, max_size=8), st.booleans())
@settings(max_examples=150, deadline=None)
def test_generated_iblinkinfo_printf_layouts_round_trip(guid, desc, ports, line_mode):
    lines = [] if line_mode else [f"Switch: 0x{guid:016x} {desc}:"]
    lines += [_port_line(guid, desc, line_mode, p) for p in ports]
    result = ibdiag.parse_iblinkinfo("\n".join(lines) + "\n")
    (node,) = result["nodes"] if line_mode else result["switches"]
    assert node["description"] == desc and len(node["ports"]) == len(ports)
    for got, p in zip(node["ports"], ports, strict=True):
        assert (got["port"], got["lid"]) == (p["port"], p["lid"])
        if not p["up"]:
            assert (got["state"], got["physical_state"]) == ("Down", "Polling")
            assert got["rate_gbps"] is None and got["peer_lid"] is None
            continue
        speed, lane, generation = p["lane"]
        assert (got["speed"], got["speed_gbps"], got["generation"]) == (speed, lane, generation)
        assert got["fdr10"] == (generation == "FDR10")
        assert got["rate_gbps"] == pytest.approx(p["width"][1] * lane)
        assert (got["peer_lid"], got["peer_port"]) == (p["rlid"], p["rport"])
        assert got["peer_description"] == p["rdesc"]
        assert got["note"] == (p["note"] or None)


def _field(key, value):
    # libibmad _dump_fields(): "<key>:" padded with dots to column 33, then the value.
    return f"{key}:{'.' * (32 - len(key))}{value}"


SPEEDS = st.sampled_from([
    ("10.0 Gbps", "No Extended Speed", 0, "QDR", 10.0),
    ("10.0 Gbps", "No Extended Speed", 1, "FDR10", 10.0),
    ("Extended speed", "14.0625 Gbps", 0, "FDR", 14.0625),
    ("10.0 Gbps", "25.78125 Gbps", 0, "EDR", 25.78125),
])


@given(st.integers(1, 49151), st.integers(1, 64), st.sampled_from(["1X", "4X", "1X or 4X"]), WIDTH, SPEEDS,
       st.booleans())
@settings(max_examples=150, deadline=None)
def test_generated_ibportstate_blocks(lid, port, enabled, width, speeds, mlnx):
    (active_width, lanes), (speed_active, ext_active, fdr10_bit, generation, lane) = width, speeds
    every = "2.5 Gbps or 5.0 Gbps or 10.0 Gbps"
    ext = "14.0625 Gbps or 25.78125 Gbps"
    lines = ["CA/RT PortInfo:", f"# Port info: Lid {lid} port {port}", _field("LinkState", "Active"),
             _field("PhysLinkState", "LinkUp"), _field("Lid", lid), _field("SMLid", 1), _field("LMC", 0),
             _field("LinkWidthSupported", "1X or 4X"), _field("LinkWidthEnabled", enabled),
             _field("LinkWidthActive", active_width), _field("LinkSpeedSupported", every),
             _field("LinkSpeedEnabled", every), _field("LinkSpeedActive", speed_active),
             _field("LinkSpeedExtSupported", ext), _field("LinkSpeedExtEnabled", ext),
             _field("LinkSpeedExtActive", ext_active)]
    if mlnx:
        lines += [f"# MLNX ext Port info: Lid {lid} port {port}", _field("StateChangeEnable", "0x00"),
                  _field("LinkSpeedSupported", "0x01"), _field("LinkSpeedEnabled", "0x01"),
                  _field("LinkSpeedActive", f"0x{fdr10_bit:02x}")]
    result = ibdiag.parse_ibportstate("\n".join(lines) + "\n")
    fdr10 = bool(mlnx and fdr10_bit)
    expected_generation = "QDR" if generation == "FDR10" and not fdr10 else generation
    assert (result["lid"], result["port"], result["fdr10"]) == (lid, port, fdr10)
    assert result["generation"] == expected_generation
    assert result["active_rate_gbps"] == pytest.approx(lanes * lane)
    assert result["width"]["enabled"] == enabled.split(" or ")
    widest = max(int(item[0]) for item in enabled.split(" or "))
    assert result["enabled_max_rate_gbps"] == pytest.approx(widest * 25.78125)


@given(st.integers(1, 49151), GUID, st.integers(0, 2**32 - 1), st.integers(0, 15), st.integers(0, 3),
       st.booleans())
@settings(max_examples=150, deadline=None)
def test_generated_sminfo_lines(lid, guid, activity, priority, state, hex_lid):
    names = ("SMINFO_NOTACT", "SMINFO_DISCOVER", "SMINFO_STANDBY", "SMINFO_MASTER")
    shown = f"0x{lid:x}" if hex_lid else str(lid)
    text = (f"sminfo: sm lid {shown} sm guid 0x{guid:x}, activity count {activity} priority {priority} "
            f"state {state} {names[state]}\n")
    result = ibdiag.parse_sminfo(text)
    got = tuple(result[key] for key in ("present", "lid", "guid", "activity_count", "priority", "state",
                                        "state_name"))
    assert got == (True, lid, f"0x{guid:x}", activity, priority, state, names[state])
