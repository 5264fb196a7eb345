"""module_utils/bmc_guid.py: BMC GUID / SMBIOS UUID parsers, the first-three-fields swap rule, unusable UUIDs
and crossed() naming whose GUID a node's BMC answers with.

Every output comes from parsers/fixtures/bmc_guid (each .out with its .source and golden .expected.json). The
real same-machine pairs are the Supermicro X11DPT-B Redfish/SMBIOS pairs (BIOS 4.0 exact, BIOS 3.8a swapped,
metal-stack/go-hal issue #57) and the Calxeda BMC whose one GUID ipmitool prints in both orders (mc guid and
pef). The crossed-wiring scenarios put those real values on invented node names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import bmc_guid as bg
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError

FIXTURES = Path(__file__).parent / "parsers" / "fixtures" / "bmc_guid"
OUTPUTS = sorted(FIXTURES.glob("*.out"))


def parser_for(path: Path):
    name = path.stem
    if name.startswith("ipmitool-pef"):
        # `ipmitool pef` summary: version | table size | policy size | System GUID | actions
        return "pef_guid_column", lambda text: bg.canonical(text.split("|")[3])
    if name.startswith("ipmitool"):
        return "parse_ipmitool_mc_guid", bg.parse_ipmitool_mc_guid
    if name.endswith("redfish"):
        return "parse_redfish_uuid", bg.parse_redfish_uuid
    return "parse_smbios_uuid", bg.parse_smbios_uuid


def result_for(path: Path) -> dict:
    name, parse = parser_for(path)
    try:
        return {"parser": name, "uuid": parse(path.read_text(encoding="utf-8"))}
    except bg.UnusableUUID as exc:
        return {"parser": name, "error": "UnusableUUID", "reason": exc.reason, "line_number": exc.line_number}


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.out").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: p.stem)
def test_golden(path):
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    assert result_for(path) == expected


@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: p.stem)
def test_provenance(path):
    text = path.with_suffix(".source").read_text()
    assert "source:" in text and ("hardware:" in text or "tool:" in text)


def test_fixture_set_is_complete():
    names = {p.stem for p in OUTPUTS}
    assert len([n for n in names if n.startswith("ipmitool")]) >= 5
    assert len([n for n in names if n.startswith("dmidecode")]) >= 6
    assert len([n for n in names if n.startswith("pair-")]) == 4
    # every .source / .expected.json belongs to an output (no orphans)
    for extra in FIXTURES.iterdir():
        for suffix in (".source", ".expected.json"):
            if extra.name.endswith(suffix):
                assert extra.name[: -len(suffix)] in names, extra.name
                break
        else:
            assert extra.suffix == ".out", extra.name


# --- ipmitool / bmc-info parsing ------------------------------------------------------------------------

def test_ipmitool_1_8_18_and_1_8_19_layouts():
    assert bg.parse_ipmitool_mc_guid(fixture("ipmitool-1.8.18-mc-guid-calxeda")) == \
        "9026e400-c075-11e1-409f-2aa3aeedbd4e"
    assert bg.parse_ipmitool_mc_guid(fixture("ipmitool-1.8.19-mc-guid-lenovo-imm-smbios-encoding")) == \
        "bb5f86ae-7d72-11e6-8a80-02e0ec40a0d1"


def test_freeipmi_bmc_info_forms():
    # bmc-info prints "System GUID : <guid>" in its full output and the bare value with --get-system-guid;
    # the value is a real one (Lenovo IMM fixture) placed in those two layouts.
    guid = "bb5f86ae-7d72-11e6-8a80-02e0ec40a0d1"
    assert bg.parse_ipmitool_mc_guid(f"Device GUID : {guid}\nSystem GUID : {guid}\n") == guid
    assert bg.parse_ipmitool_mc_guid(f"\n{guid}\n") == guid


def test_ipmitool_dump_mode_is_read_as_printed():
    # 1.8.19 prints the raw bytes when it recognises no encoding (e.g. "System GUID   : 0101020304...")
    assert bg.parse_ipmitool_mc_guid("System GUID   : 00E4269075C0E111409F2AA3AEEDBD4E\n") == \
        "00e42690-75c0-e111-409f-2aa3aeedbd4e"


def test_garbage_names_its_line():
    with pytest.raises(ParseError) as info:
        bg.parse_ipmitool_mc_guid("\nGet GUID command failed\nAddress lookup for bmc-07 failed\n")
    assert info.value.line_number == 2
    assert "Get GUID command failed" in str(info.value) and "line 2" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_guid_line_without_a_guid_names_its_line():
    with pytest.raises(ParseError) as info:
        bg.parse_ipmitool_mc_guid("System GUID   : 9026e400-c075-11e1\nGUID Version  : Time-based\n")
    assert info.value.line_number == 1 and "does not hold a GUID" in str(info.value)


def test_two_different_guid_lines_are_refused():
    text = fixture("ipmitool-1.8.18-bmc-guid-razor") + "System GUID  : 76859f93-b6fc-4cb7-8166-42aa5b40cd1c\n"
    with pytest.raises(ParseError) as info:
        bg.parse_ipmitool_mc_guid(text)
    assert info.value.line_number == 3


def test_empty_output_is_an_error():
    with pytest.raises(ParseError):
        bg.parse_ipmitool_mc_guid("")
    with pytest.raises(ParseError):
        bg.parse_smbios_uuid("   \n")


# --- SMBIOS parsing ----------------------------------------------------------------------------------

def test_smbios_forms():
    dell = "4c4c4544-0051-3410-8051-b5c04f375931"
    assert bg.parse_smbios_uuid(fixture("dmidecode-dell-optiplex7010")) == dell
    assert bg.parse_smbios_uuid(fixture("dmidecode-s-system-uuid-suse-report")) == \
        "39373638-3935-584d-5138-33333030585a"
    assert bg.parse_smbios_uuid(fixture("pair-x11dpt-b-bios-4.0-sum-dmi")) == \
        "bdc26000-8930-11eb-8000-7cc255106b08"
    # the same value in upper case (as Redfish and sum print UUIDs) reads the same
    assert bg.parse_smbios_uuid(dell.upper() + "\n") == dell


@pytest.mark.parametrize("name, reason", [
    ("dmidecode-2.11-dell-vostro1720-not-settable", "Not Settable"),
    ("dmidecode-via-kt600-not-present", "Not Present"),
    ("dmidecode-quanta-leopard-u-bmc-placeholder", "AMI BIOS placeholder"),
])
def test_real_unusable_smbios_uuids(name, reason):
    with pytest.raises(bg.UnusableUUID) as info:
        bg.parse_smbios_uuid(fixture(name))
    assert reason in info.value.reason and info.value.line_number > 0
    assert "UUID" in info.value.line


@pytest.mark.parametrize("text, reason", [
    ("00000000-0000-0000-0000-000000000000\n", "all zeros"),   # product_uuid of a board without a UUID
    ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n", "all FF"),
    ("Not Settable\n", "Not Settable"),                       # dmidecode -s system-uuid prints the word alone
    ("03000200-0400-0500-0006-000700080009\n", "placeholder"),
])
def test_unusable_bare_values(text, reason):
    with pytest.raises(bg.UnusableUUID) as info:
        bg.parse_smbios_uuid(text)
    assert reason in info.value.reason and info.value.line_number == 1


def test_unusable_bmc_guid():
    with pytest.raises(bg.UnusableUUID):
        bg.parse_ipmitool_mc_guid("System GUID   : 00000000000000000000000000000000\n")


def test_smbios_garbage_names_its_line():
    with pytest.raises(ParseError) as info:
        bg.parse_smbios_uuid("# dmidecode 3.2\n/dev/mem: Permission denied\n")
    assert info.value.line_number == 1
    with pytest.raises(ParseError) as info:
        bg.parse_smbios_uuid("System Information\n\tUUID: 1234\n")
    assert info.value.line_number == 2 and not isinstance(info.value, bg.UnusableUUID)


def test_redfish_json_document():
    # the real Redfish UUID of the X11DPT-B (BIOS 3.8a) placed in a minimal ComputerSystem document
    document = json.dumps({"@odata.id": "/redfish/v1/Systems/1",
                           "UUID": "005CB4E7-0989-EB11-8000-7CC255106AFE"})
    assert bg.parse_redfish_uuid(document) == "005cb4e7-0989-eb11-8000-7cc255106afe"


# --- the swap rule -------------------------------------------------------------------------------------

def test_swap_rule_both_ways_on_the_real_supermicro_pair():
    redfish = bg.parse_redfish_uuid(fixture("pair-x11dpt-b-bios-3.8a-redfish"))
    smbios = bg.parse_smbios_uuid(fixture("pair-x11dpt-b-bios-3.8a-sum-dmi"))
    assert bg.swap_first_three(smbios) == redfish
    assert bg.swap_first_three(redfish) == smbios
    assert bg.match(redfish, smbios) == "swapped"
    assert bg.match(smbios, redfish) == "swapped"


def test_exact_on_the_real_supermicro_pair():
    redfish = bg.parse_redfish_uuid(fixture("pair-x11dpt-b-bios-4.0-redfish"))
    smbios = bg.parse_smbios_uuid(fixture("pair-x11dpt-b-bios-4.0-sum-dmi"))
    assert bg.match(redfish, smbios) == "exact"


def test_one_bmc_printed_in_both_orders_by_ipmitool():
    mc_guid = bg.parse_ipmitool_mc_guid(fixture("ipmitool-1.8.18-mc-guid-calxeda"))
    pef_guid = bg.canonical(fixture("ipmitool-pef-calxeda-same-bmc").split("|")[3])
    assert mc_guid != pef_guid
    assert bg.match(mc_guid, pef_guid) == "swapped"
    assert bg.swap_first_three(pef_guid) == mc_guid


def test_dell_bmc_layout_is_the_swap_of_the_dmidecode_layout():
    # Dell's SMBIOS UUID starts 4c4c4544 ("LLED"); the iDRAC6 GUID in ipmitool 1.8.18 starts 44454c4c ("DELL")
    bmc = bg.parse_ipmitool_mc_guid(fixture("ipmitool-mc-guid-dell-idrac6"))
    assert bg.swap_first_three(bmc) == "4c4c4544-0032-4610-8033-b2c04f39354a"
    assert bg.match(bmc, "4c4c4544-0032-4610-8033-b2c04f39354a") == "swapped"
    optiplex = bg.parse_smbios_uuid(fixture("dmidecode-dell-optiplex7010"))
    assert bg.swap_first_three(optiplex).startswith("44454c4c-5100-1034-")


def test_swap_is_an_involution_and_keeps_the_last_two_fields():
    for path in OUTPUTS:
        result = result_for(path)
        if "uuid" in result:
            uuid = result["uuid"]
            assert bg.swap_first_three(bg.swap_first_three(uuid)) == uuid
            assert bg.swap_first_three(uuid)[19:] == uuid[19:]


def test_match_rejects_unrelated_and_unusable():
    lenovo = bg.parse_ipmitool_mc_guid(fixture("ipmitool-1.8.19-mc-guid-lenovo-imm-smbios-encoding"))
    quanta = bg.parse_smbios_uuid(fixture("dmidecode-quanta-leopard-stock-bmc"))
    assert bg.match(lenovo, quanta) == ""
    # a full 16-byte reversal (true IPMI order misread) is not one of the accepted orders
    reversed_bytes = bytes.fromhex(quanta.replace("-", ""))[::-1].hex()
    assert bg.match(reversed_bytes, quanta) == ""
    zero = "00000000-0000-0000-0000-000000000000"
    assert bg.match(zero, zero) == ""
    placeholder = "03000200-0400-0500-0006-000700080009"
    assert bg.match(placeholder, placeholder) == ""
    assert bg.match(bg.swap_first_three(placeholder), placeholder) == ""


def test_match_accepts_other_spellings_and_refuses_non_uuids():
    assert bg.match("{BDC26000-8930-11EB-8000-7CC255106B08}", "bdc26000893011eb80007cc255106b08") == "exact"
    with pytest.raises(ValueError):
        bg.match("not-a-guid", "bdc26000-8930-11eb-8000-7cc255106b08")


# --- crossed() -----------------------------------------------------------------------------------------

def real_nodes() -> dict:
    """Three nodes built from real values. node1/node2: the X11DPT-B machines (BMC's Redfish UUID, SMBIOS
    UUID from sum GetDmiInfo). node3 stands for a machine whose two sides print in opposite orders; its values
    are the Calxeda BMC's two real renderings of one GUID (mc guid, pef)."""
    x11_bmc = bg.parse_redfish_uuid(fixture("pair-x11dpt-b-bios-3.8a-redfish"))
    x11_smbios = bg.parse_smbios_uuid(fixture("pair-x11dpt-b-bios-3.8a-sum-dmi"))
    b40_bmc = bg.parse_redfish_uuid(fixture("pair-x11dpt-b-bios-4.0-redfish"))
    b40_smbios = bg.parse_smbios_uuid(fixture("pair-x11dpt-b-bios-4.0-sum-dmi"))
    calxeda_mc = bg.parse_ipmitool_mc_guid(fixture("ipmitool-1.8.18-mc-guid-calxeda"))
    calxeda_raw = bg.canonical(fixture("ipmitool-pef-calxeda-same-bmc").split("|")[3])
    return {"node1": (x11_bmc, x11_smbios), "node2": (b40_bmc, b40_smbios),
            "node3": (calxeda_mc, calxeda_raw)}


def test_crossed_is_empty_when_every_bmc_answers_for_its_node():
    assert bg.crossed(real_nodes()) == []


def test_crossed_names_both_nodes_of_a_swapped_pair_of_bmc_addresses():
    nodes = real_nodes()
    # the inventory has node1's and node2's BMC addresses the wrong way round
    (bmc1, smbios1), (bmc2, smbios2) = nodes["node1"], nodes["node2"]
    nodes["node1"], nodes["node2"] = (bmc2, smbios1), (bmc1, smbios2)
    found = bg.crossed(nodes)
    assert [f["node"] for f in found] == ["node1", "node2"]
    node1, node2 = found
    assert node1["matches"] == [{"node": "node2", "how": "exact"}]
    assert node2["matches"] == [{"node": "node1", "how": "swapped"}]
    assert node1["message"].startswith("node1's BMC answers with node2's GUID (same byte order)")
    assert node2["message"].startswith(
        "node2's BMC answers with node1's GUID (byte-swapped first three fields)")
    assert node1["unusable"] == "" and node2["bmc_guid"] == "005cb4e7-0989-eb11-8000-7cc255106afe"


def test_crossed_with_an_unknown_bmc_and_unusable_sides():
    nodes = real_nodes()
    stock = bg.parse_smbios_uuid(fixture("dmidecode-quanta-leopard-stock-bmc"))
    nodes["node3"] = (stock, nodes["node3"][1])  # a BMC of some machine that is not in the list
    nodes["node4"] = (nodes["node2"][0], "00000000-0000-0000-0000-000000000000")
    nodes["node5"] = (None, nodes["node1"][1])
    found = {f["node"]: f for f in bg.crossed(nodes)}
    assert sorted(found) == ["node3", "node4", "node5"]
    assert found["node3"]["matches"] == [] and "no node's SMBIOS UUID" in found["node3"]["message"]
    # node4's own UUID is unusable, but its BMC GUID still names node2: it is crossed (or a duplicate BMC)
    assert found["node4"]["matches"] == [{"node": "node2", "how": "exact"}]
    assert "all zeros" in found["node4"]["unusable"]
    assert found["node5"]["message"] == "node5: cannot check the BMC wiring: no BMC GUID"


def test_crossed_rejects_a_value_that_is_not_a_uuid():
    with pytest.raises(ParseError) as info:
        bg.crossed({"node1": ("Get GUID command failed", "bdc26000-8930-11eb-8000-7cc255106b08")})
    assert "node1" in str(info.value) and "bmc_guid" in str(info.value)
