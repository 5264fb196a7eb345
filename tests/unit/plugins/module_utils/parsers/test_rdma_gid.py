"""parse_show_gids / parse_ibv_devinfo_gids on real captures: the RoCE v2 IPv4 GID index a human would pick,
and errors."""

from __future__ import annotations

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.rdma_gid import (
    build_gid_table,
    parse_ibv_devinfo_gids,
    parse_show_gids,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from .golden import FIXTURES

DIR = FIXTURES / "rdma_gid"


def _text(name: str) -> str:
    return (DIR / f"{name}.txt").read_text(encoding="utf-8")


# fixture -> {netdev: (device, port, GID index for NCCL_IB_GID_INDEX / ib_write_bw -x, IPv4)}
CHOSEN = {
    "cx6-two-linklocal-ipv4-at-index5": {"ens1f0": ("mlx5_0", 1, 5, "172.19.0.60")},
    "mlx5-bond-vxlan-shared-ipv4": {
        "b3.vxlan.30100": ("mlx5_bond_0", 1, 3, "30.153.10.175"),
        "bond1": ("mlx5_bond_0", 1, 5, "30.153.10.175"),
    },
    "cx7-sriov-vf-pod": {"net1": ("mlx5_3", 1, 3, "192.168.10.2")},
    "cx4lx-four-ports-two-without-ipv4": {
        "eth01": ("mlx5_0", 1, 3, "10.108.164.36"),
        "eth03": ("mlx5_2", 1, 3, "192.20.28.1"),
    },
    "cx4-eth-plus-ib-port-no-ipv4": {},
    "cx4lx-pod-no-gids": {},
}


@pytest.mark.parametrize("name", sorted(CHOSEN))
def test_chosen_gid_index_per_fixture(name):
    roce = parse_show_gids(_text(name))["roce_v2_ipv4"]
    assert {ndev: (e["device"], e["port"], e["index"], e["ipv4"]) for ndev, e in roce.items()} == CHOSEN[name]


def test_every_fixture_has_a_chosen_index_or_is_an_error():
    names = {path.stem for path in DIR.glob("*.txt")}
    assert names == set(CHOSEN) | {"error-cx7-gb10-redacted-gids"}


def test_ipv6_gids_shift_the_ipv4_index():
    """Two link-local IPv6 GIDs first: the first RoCE v2 GID (1) is not the one to use; 5 is."""
    facts = parse_show_gids(_text("cx6-two-linklocal-ipv4-at-index5"))
    gids = facts["devices"]["mlx5_0"][1]["gids"]
    v2 = [g for g in gids if g["type"] == "RoCE v2"]
    assert [g["index"] for g in v2] == [1, 3, 5]
    assert [g["ipv4"] for g in v2] == [None, None, "172.19.0.60"]
    assert facts["roce_v2_ipv4"]["ens1f0"]["index"] == 5
    assert facts["roce_v2_ipv4"]["ens1f0"]["gid"] == "0000:0000:0000:0000:0000:ffff:ac13:003c"


def test_same_ipv4_gid_on_two_netdevs_is_chosen_per_netdev():
    roce = parse_show_gids(_text("mlx5-bond-vxlan-shared-ipv4"))["roce_v2_ipv4"]
    assert roce["bond1"]["gid"] == roce["b3.vxlan.30100"]["gid"]
    assert (roce["b3.vxlan.30100"]["index"], roce["bond1"]["index"]) == (3, 5)


def test_ports_without_ipv4_are_not_chosen():
    facts = parse_show_gids(_text("cx4lx-four-ports-two-without-ipv4"))
    assert set(facts["devices"]) == {"mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"}
    assert set(facts["roce_v2_ipv4"]) == {"eth01", "eth03"}
    assert [g["index"] for g in facts["devices"]["mlx5_3"][1]["gids"]] == [0, 1]


def test_ib_row_without_netdev_and_types_mapped_to_sysfs_strings():
    facts = parse_show_gids(_text("cx4-eth-plus-ib-port-no-ipv4"))
    assert facts["devices"]["mlx5_1"][1]["gids"] == [{
        "index": 0, "gid": "fe80:0000:0000:0000:248a:0703:00b1:bc05", "type": "IB/RoCE v1", "ndev": None,
        "ipv4": None}]
    assert [g["type"] for g in facts["devices"]["mlx5_0"][1]["gids"]] == ["IB/RoCE v1", "RoCE v2"]
    assert facts["devices"]["mlx5_0"][1]["link_layer"] is None  # show_gids does not print it
    assert facts["roce_v2_ipv4"] == {}


def test_empty_table_is_not_an_error():
    assert parse_show_gids(_text("cx4lx-pod-no-gids")) == {"devices": {}, "roce_v2_ipv4": {}}


def test_same_shape_as_the_sysfs_reader():
    """Rows rebuilt as rdma_gid_facts would read them from sysfs give the same table."""
    entries = []
    for line in _text("cx6-two-linklocal-ipv4-at-index5").splitlines()[3:-1]:
        dev, port, index, gid, *rest = line.split()
        entries.append({"device": dev, "port": port, "index": index, "gid": gid + "\n", "ndev": rest[-1],
                        "type": {"v1": "IB/RoCE v1", "v2": "RoCE v2"}[rest[-2]], "link_layer": None,
                        "state": None})
    assert parse_show_gids(_text("cx6-two-linklocal-ipv4-at-index5")) == build_gid_table(entries)


@pytest.mark.parametrize("name", ["cx7-sriov-vf-pod", "cx6-two-linklocal-ipv4-at-index5"])
def test_whitespace_variants_parse_the_same(name):
    text = _text(name)
    expected = parse_show_gids(text)
    lines = text.splitlines()
    assert parse_show_gids(text.replace("\t", "    ")) == expected
    assert parse_show_gids("\n".join(" ".join(line.split()) for line in lines)) == expected
    assert parse_show_gids("\r\n".join(line + "  " for line in lines) + "\r\n") == expected
    assert parse_show_gids("\n\n" + "\n\n".join(lines) + "\n\n\n") == expected
    assert parse_show_gids("\n".join(lines[3:])) == expected  # no prompt, header or separator
    assert parse_show_gids("\n".join(lines[3:-1])) == expected  # no n_gids_found either


def test_malformed_gid_names_its_line():
    bad = _text("cx7-sriov-vf-pod").replace("0cb0:10ff:fe34:0aad\t\t\tv2", "0cb0:10ff:fe34:0aa\t\t\tv2")
    with pytest.raises(ParseError) as info:
        parse_show_gids(bad)
    assert info.value.line_number == 5 and "malformed GID" in str(info.value)


def test_redacted_real_capture_is_refused_at_first_redacted_row():
    with pytest.raises(ParseError) as info:
        parse_show_gids(_text("error-cx7-gb10-redacted-gids"))
    assert info.value.line_number == 4 and "xxxx" in info.value.line


@pytest.mark.parametrize("text, line_number", [
    ("hello world\nthis is not show_gids\n", 1),
    ("\n\n   \nDEV PORT INDEX GID IPv4 VER DEV\n"
     "mlx5_0 one 0 fe80:0000:0000:0000:0000:0000:0000:0001 v1 eth0\n", 5),
    ("mlx5_0\t1\t3\t0000:0000:0000:0000:0000:ffff:0a00:0001\t10.0.0.1\tv2\teth0\n"
     "Traceback (most recent call last):\n", 2),
    ("mlx5_0 1 3 0000:0000:0000:0000:0000:ffff:0a00:0001 10.0.0.1 v2 eth0 extra\n", 1),
    ("mlx5_0 1 3 0000:0000:0000:0000:0000:ffff:0a00:0001 v2 10.0.0.1\n", 1),
    ("mlx5_0 1 3 0000:0000:0000:0000:0000:ffff:0a00:0001 v2 eth0\nmlx5_0 1 3 "
     "0000:0000:0000:0000:0000:ffff:0a00:0001 v2 eth0\n", 2),
    ("mlx5_0 1 1 fe80:0000:0000:0000:0000:0000:0000:0001 v2 eth0\nDEV PORT INDEX GID IPv4 VER DEV\n", 2),
    ("mlx5_0 1 1 fe80:0000:0000:0000:0000:0000:0000:0001 v2 eth0\nn_gids_found=1\nmlx5_0 1 2 x\n", 3),
    ("DEV\tPORT\tINDEX\tGID\n---\t----\nmlx5_0\t1\t1\tfe80::1\tv2\teth0\n", 3),
    ("mlx5_0 1 99999999 fe80:0000:0000:0000:0000:0000:0000:0001 v2 eth0\n", 1),
    ("mlx5_0 1 ٣ fe80:0000:0000:0000:0000:0000:0000:0001 v2 eth0\n", 1),
])
def test_garbage_raises_parse_error_with_line_number(text, line_number):
    with pytest.raises(ParseError) as info:
        parse_show_gids(text)
    assert info.value.line_number == line_number


def test_truncated_paste_is_caught_by_n_gids_found():
    lines = _text("cx4lx-four-ports-two-without-ipv4").splitlines()
    del lines[5]  # drop one row, keep n_gids_found=12
    with pytest.raises(ParseError) as info:
        parse_show_gids("\n".join(lines))
    assert info.value.line_number == len(lines) and "n_gids_found=12 but 11" in str(info.value)


@pytest.mark.parametrize("text", ["", "\n", "  \n\t\n"])
def test_empty_input(text):
    with pytest.raises(ParseError) as info:
        parse_show_gids(text)
    assert info.value.line_number == 0 and "empty" in str(info.value)


@pytest.mark.parametrize("text", [b"\x00\x01garbage", None, 42, "mlx5_0\x00 1 0"])
def test_non_text_and_binary(text):
    with pytest.raises(ParseError):
        parse_show_gids(text)


def _check_shape(facts: dict) -> None:
    assert set(facts) == {"devices", "roce_v2_ipv4"}
    for device, ports in facts["devices"].items():
        assert isinstance(device, str)
        for port, info in ports.items():
            assert isinstance(port, int) and set(info) == {"link_layer", "state", "gids"}
            for gid in info["gids"]:
                assert set(gid) == {"index", "gid", "type", "ndev", "ipv4"}
                assert isinstance(gid["index"], int) and gid["type"] in (None, "IB/RoCE v1", "RoCE v2")
    for ndev, entry in facts["roce_v2_ipv4"].items():
        assert isinstance(ndev, str) and set(entry) == {"device", "port", "index", "gid", "ipv4"}
        gids = facts["devices"][entry["device"]][entry["port"]]["gids"]
        row = [g for g in gids if g["index"] == entry["index"]]
        assert row and row[0]["type"] == "RoCE v2" and row[0]["ndev"] == ndev and row[0]["ipv4"]


def _parse_or_error(text: str) -> None:
    try:
        facts = parse_show_gids(text)
    except ParseError as exc:
        assert isinstance(exc.line_number, int) and exc.line_number >= 0
        return
    _check_shape(facts)


ALPHABET = st.sampled_from([*"mlx5_0123 \t\n:.-fevFEV", "0000", "ffff", "DEV", "n_gids_found=", "v2", "\r"])


@given(st.one_of(st.text(max_size=300), st.lists(ALPHABET, max_size=120).map("".join)))
@settings(max_examples=300, deadline=None)
def test_random_text_raises_only_parse_error_or_returns_the_shape(text):
    _parse_or_error(text)


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_mangled_real_output_raises_only_parse_error_or_returns_the_shape(data):
    name = data.draw(st.sampled_from(sorted(CHOSEN)))
    text = _text(name)
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.binary(max_size=20)).decode("latin-1")
    _parse_or_error(text[:cut] + junk + text[cut:][data.draw(st.integers(0, 40)):])


def _hexgid(value: int) -> str:
    raw = f"{value:032x}"
    return ":".join(raw[i:i + 4] for i in range(0, 32, 4))


ROWS = st.lists(st.tuples(
    st.sampled_from(["mlx5_0", "mlx5_1", "mlx5_bond_0"]), st.integers(1, 2), st.integers(0, 20),
    st.one_of(st.integers(0, 2**32 - 1).map(lambda v: (0xFFFF << 32) | v), st.integers(1, 2**128 - 1)),
    st.sampled_from(["v1", "v2"]), st.sampled_from(["eth0", "bond1", "net1", ""]),
), max_size=30, unique_by=lambda row: row[:3])


@given(ROWS, st.sampled_from(["\t", " ", "   "]))
@settings(max_examples=200, deadline=None)
def test_generated_tables_pick_the_lowest_v2_ipv4_index_per_netdev(rows, sep):
    lines = ["DEV\tPORT\tINDEX\tGID\t\t\t\t\tIPv4  \t\tVER\tDEV",
             "---\t----\t-----\t---\t\t\t\t\t------------  \t---\t---"]
    expected: dict[str, tuple] = {}
    for device, port, index, value, ver, ndev in rows:
        gid = _hexgid(value)
        ipv4 = ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0)) if value >> 32 == 0xFFFF else ""
        lines.append(sep.join(x for x in (device, str(port), str(index), gid, ipv4, ver, ndev) if x))
    for device, port, index, value, ver, ndev in sorted(rows):
        if ver == "v2" and ndev and value >> 32 == 0xFFFF and ndev not in expected:
            expected[ndev] = (device, port, index)
    lines.append(f"n_gids_found={len(rows)}")
    facts = parse_show_gids("\n".join(lines))
    _check_shape(facts)
    assert {k: (v["device"], v["port"], v["index"]) for k, v in facts["roce_v2_ipv4"].items()} == expected


# --- ibv_devinfo -v ---------------------------------------------------------------------------------------

IBV_DIR = FIXTURES / "ibv_devinfo"
CX3 = "cx3-mlx4-ib-port-down-one-gid"

# fixture -> {'<device>/<port>': (GID index for NCCL_IB_GID_INDEX / ib_write_bw -x, IPv4)}
IBV_CHOSEN: dict[str, dict[str, tuple[int, str]]] = {
    CX3: {},  # ConnectX-3 port 2 on InfiniBand: one link-local GID, nothing RoCE v2 to pick
}


def _ibv_text(name: str) -> str:
    return (IBV_DIR / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(IBV_CHOSEN))
def test_ibv_devinfo_chosen_gid_index_per_fixture(name):
    roce = parse_ibv_devinfo_gids(_ibv_text(name))["roce_v2_ipv4"]
    assert {key: (e["index"], e["ipv4"]) for key, e in roce.items()} == IBV_CHOSEN[name]


def test_ibv_devinfo_every_fixture_has_a_chosen_index():
    assert {path.stem for path in IBV_DIR.glob("*.txt")} == set(IBV_CHOSEN)


def test_ibv_devinfo_cx3_infiniband_port_gid_table():
    facts = parse_ibv_devinfo_gids(_ibv_text(CX3))
    assert facts == {"devices": {"mlx4_1": {2: {"link_layer": "InfiniBand", "state": "1: DOWN", "gids": [{
        "index": 0, "gid": "fe80:0000:0000:0000:7cfe:9003:00a5:95c2", "type": "IB/RoCE v1", "ndev": None,
        "ipv4": None}]}}}, "roce_v2_ipv4": {}}


def test_ibv_devinfo_same_table_as_the_sysfs_reader_would_build():
    """The entries rdma_gid_facts would read from sysfs for that port give the same devices table."""
    entry = {"device": "mlx4_1", "port": "2", "index": "0", "type": "IB/RoCE v1", "ndev": None,
             "gid": "fe80:0000:0000:0000:7cfe:9003:00a5:95c2\n", "link_layer": "InfiniBand",
             "state": "1: DOWN"}
    assert parse_ibv_devinfo_gids(_ibv_text(CX3))["devices"] == build_gid_table([entry])["devices"]


def test_ibv_devinfo_whitespace_variants_parse_the_same():
    text = _ibv_text(CX3)
    expected = parse_ibv_devinfo_gids(text)
    lines = text.splitlines()
    assert parse_ibv_devinfo_gids(text.replace("\t", "        ")) == expected  # as GitHub renders tabs
    assert parse_ibv_devinfo_gids("\n".join("    " + line for line in lines)) == expected  # pasted indented
    assert parse_ibv_devinfo_gids("\r\n".join(line + "  " for line in lines) + "\r\n") == expected
    assert parse_ibv_devinfo_gids("\n\n" + "\n\n".join(lines) + "\n\n") == expected
    assert parse_ibv_devinfo_gids("\n".join(lines[1:])) == expected  # without the prompt line


# Constructed (not captured) in the layout of rdma-core's devinfo.c, to pin both printed GID forms: the long
# form with ", RoCE v1" and the inet_ntop form with ", RoCE v2", as an Ethernet port of a ConnectX-3 Pro
# in RoCE v1/v2 mode would print them. Addresses are documentation-style placeholders.
CONSTRUCTED_ROCE = "\n".join([
    "hca_id:\tmlx4_0",
    "\ttransport:\t\t\tInfiniBand (0)",
    "\tvendor_part_id:\t\t\t4103",
    "\tdevice_cap_flags:\t\t0x00000000",
    "\t\t\t\t\tBAD_PKEY_CNTR",
    "\tlog atomic arg sizes (mask)\t\t0x8",
    "\t\tport:\t1",
    "\t\t\tstate:\t\t\tPORT_ACTIVE (4)",
    "\t\t\tlink_layer:\t\tEthernet",
    "\t\t\tport_lid:\t\t0",
    "\t\t\tGID[  0]:\t\tfe80:0000:0000:0000:0202:c9ff:fe00:0001, RoCE v1",
    "\t\t\tGID[  1]:\t\tfe80::202:c9ff:fe00:1, RoCE v2",
    "\t\t\tGID[  2]:\t\t0000:0000:0000:0000:0000:ffff:c000:0201, RoCE v1",
    "\t\t\tGID[  3]:\t\t::ffff:192.0.2.1, RoCE v2",
    "",
    "\t\tport:\t2",
    "\t\t\tstate:\t\t\tPORT_DOWN (1)",
    "\t\t\tlink_layer:\t\tEthernet",
    "\t\t\tGID[  0]:\t\tfe80:0000:0000:0000:0202:c9ff:fe00:0002, RoCE v1",
    "\t\t\tGID[  1]:\t\tfe80::202:c9ff:fe00:2, RoCE v2",
    "",
])


def test_ibv_devinfo_both_gid_forms_and_the_ipv4_index():
    facts = parse_ibv_devinfo_gids(CONSTRUCTED_ROCE)
    gids = facts["devices"]["mlx4_0"][1]["gids"]
    assert [(g["index"], g["type"], g["ipv4"]) for g in gids] == [
        (0, "IB/RoCE v1", None), (1, "RoCE v2", None),
        (2, "IB/RoCE v1", "192.0.2.1"), (3, "RoCE v2", "192.0.2.1")]
    assert gids[0]["gid"] == gids[1]["gid"] == "fe80:0000:0000:0000:0202:c9ff:fe00:0001"
    assert gids[2]["gid"] == gids[3]["gid"] == "0000:0000:0000:0000:0000:ffff:c000:0201"
    assert all(g["ndev"] is None for g in gids)
    assert facts["devices"]["mlx4_0"][1]["state"] == "4: ACTIVE"
    assert facts["devices"]["mlx4_0"][2]["state"] == "1: DOWN"
    # keyed by device/port because ibv_devinfo prints no netdev; index 3, not the first v2 index (1)
    assert facts["roce_v2_ipv4"] == {"mlx4_0/1": {"device": "mlx4_0", "port": 1, "index": 3,
                                                  "gid": "0000:0000:0000:0000:0000:ffff:c000:0201",
                                                  "ipv4": "192.0.2.1"}}


def test_ibv_devinfo_unsuffixed_gids_on_ethernet_have_no_type():
    """libibverbs before 2020 printed no type (and every GID in the long form): none is taken for RoCE v2."""
    text = CONSTRUCTED_ROCE.replace(", RoCE v1", "").replace(", RoCE v2", "")
    for short, long in (("fe80::202:c9ff:fe00:1", "fe80:0000:0000:0000:0202:c9ff:fe00:0001"),
                        ("fe80::202:c9ff:fe00:2", "fe80:0000:0000:0000:0202:c9ff:fe00:0002"),
                        ("::ffff:192.0.2.1", "0000:0000:0000:0000:0000:ffff:c000:0201")):
        text = text.replace(short, long)
    facts = parse_ibv_devinfo_gids(text)
    assert {g["type"] for g in facts["devices"]["mlx4_0"][1]["gids"]} == {None}
    assert facts["roce_v2_ipv4"] == {}


def test_ibv_devinfo_ports_without_gid_lines_are_kept():
    lines = [line for line in _ibv_text(CX3).splitlines() if "GID[" not in line]
    assert parse_ibv_devinfo_gids("\n".join(lines))["devices"] == {
        "mlx4_1": {2: {"link_layer": "InfiniBand", "state": "1: DOWN", "gids": []}}}


def test_ibv_devinfo_no_devices_is_an_empty_table():
    assert parse_ibv_devinfo_gids("No IB devices found\n") == {"devices": {}, "roce_v2_ipv4": {}}


@pytest.mark.parametrize("text, line_number, words", [
    ("hello world\nthis is not ibv_devinfo\n", 1, "expected hca_id"),
    ("show_gids\nDEV\tPORT\tINDEX\tGID\n", 1, "expected hca_id"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\tfe80:0000:0000:0000:0202:c9ff:fe00:000\n", 3,
     "malformed GID"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\tfe80::1%eth0, RoCE v2\n", 3, "malformed GID"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\t::ffff:10.0.0.1, RoCE v1\n", 3, "malformed GID"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\tfe80::1\n", 3, "malformed GID"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\tfe80::1, RoCE v3\n", 3, "unknown GID type"),
    ("hca_id:\tmlx4_0\n\tfw_ver:\t\t\t\t2.42.5000\n\t\t\tGID[  0]:\t\tfe80::1, RoCE v2\n", 3,
     "outside a port"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\tport:\t1\n", 3, "duplicate port"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[  0]:\t\tfe80::1, RoCE v2\n"
     "\t\t\tGID[  0]:\t\tfe80::2, RoCE v2\n", 4, "duplicate GID index"),
    ("hca_id:\tmlx4_0\n\t\tport:\tone\n", 2, "malformed port number"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\n\t\t\tGID[ ٣]:\t\tfe80::1, RoCE v2\n", 3, "malformed GID index"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\nTraceback (most recent call last):\n", 3, "not indented"),
    ("hca_id:\tmlx4 0\n", 1, "malformed hca_id"),
    ("hca_id:\tmlx4_0\n\t\tport:\t1\nhca_id:\tmlx4_0\n", 3, "duplicate hca_id"),
    ("No IB devices found\nhca_id:\tmlx4_0\n", 2, "after 'No IB devices found'"),
])
def test_ibv_devinfo_garbage_raises_parse_error_naming_the_line(text, line_number, words):
    with pytest.raises(ParseError) as info:
        parse_ibv_devinfo_gids(text)
    assert info.value.line_number == line_number and words in str(info.value)


def test_ibv_devinfo_truncated_gid_line_names_its_line():
    text = _ibv_text(CX3)
    cut = text[:text.index("00a5:95c2")]
    with pytest.raises(ParseError) as info:
        parse_ibv_devinfo_gids(cut)
    assert info.value.line_number == len(cut.splitlines()) and "malformed GID" in str(info.value)


@pytest.mark.parametrize("text", ["", "\n", "  \n\t\n"])
def test_ibv_devinfo_empty_input(text):
    with pytest.raises(ParseError) as info:
        parse_ibv_devinfo_gids(text)
    assert info.value.line_number == 0 and "empty" in str(info.value)


@pytest.mark.parametrize("text", [b"\x00\x01garbage", None, 42, "hca_id:\tmlx4_0\x00"])
def test_ibv_devinfo_non_text_and_binary(text):
    with pytest.raises(ParseError):
        parse_ibv_devinfo_gids(text)


def _check_ibv_shape(facts: dict) -> None:
    assert set(facts) == {"devices", "roce_v2_ipv4"}
    for device, ports in facts["devices"].items():
        assert isinstance(device, str)
        for port, info in ports.items():
            assert isinstance(port, int) and set(info) == {"link_layer", "state", "gids"}
            indexes = [gid["index"] for gid in info["gids"]]
            assert indexes == sorted(set(indexes))
            for gid in info["gids"]:
                assert set(gid) == {"index", "gid", "type", "ndev", "ipv4"} and gid["ndev"] is None
                assert gid["type"] in (None, "IB/RoCE v1", "RoCE v2")
                assert len(gid["gid"]) == 39 and gid["gid"] != "0000:0000:0000:0000:0000:0000:0000:0000"
    for key, entry in facts["roce_v2_ipv4"].items():
        assert key == f"{entry['device']}/{entry['port']}"
        gids = facts["devices"][entry["device"]][entry["port"]]["gids"]
        first = next(g for g in gids if g["type"] == "RoCE v2" and g["ipv4"])
        assert (first["index"], first["gid"], first["ipv4"]) == (entry["index"], entry["gid"], entry["ipv4"])


def _ibv_parse_or_error(text: str) -> None:
    try:
        facts = parse_ibv_devinfo_gids(text)
    except ParseError as exc:
        assert isinstance(exc.line_number, int) and exc.line_number >= 0
        return
    _check_ibv_shape(facts)


IBV_ALPHABET = st.sampled_from([*"mlx4_0123 \t\n:.,-fe", "hca_id:", "port:", "GID[  1]:", "::ffff:", "0000:",
                                ", RoCE v2", ", RoCE v1", "state:", "link_layer:", "PORT_ACTIVE (4)", "\r"])


@given(st.one_of(st.text(max_size=300), st.lists(IBV_ALPHABET, max_size=120).map("".join)))
@settings(max_examples=300, deadline=None)
def test_ibv_devinfo_random_text_raises_only_parse_error_or_returns_the_shape(text):
    _ibv_parse_or_error(text)


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_ibv_devinfo_mangled_output_raises_only_parse_error_or_returns_the_shape(data):
    text = data.draw(st.sampled_from([_ibv_text(CX3), CONSTRUCTED_ROCE]))
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.binary(max_size=20)).decode("latin-1")
    _ibv_parse_or_error(text[:cut] + junk + text[cut:][data.draw(st.integers(0, 40)):])


@given(st.lists(st.tuples(st.integers(1, 2), st.integers(0, 20), st.integers(0, 2**32 - 1),
                          st.sampled_from(["RoCE v1", "RoCE v2"])), max_size=30, unique_by=lambda r: r[:2]))
@settings(max_examples=200, deadline=None)
def test_ibv_devinfo_generated_tables_pick_the_lowest_v2_ipv4_index_per_port(rows):
    lines = ["hca_id:\tmlx4_0"]
    for port in (1, 2):
        lines += [f"\t\tport:\t{port}", "\t\t\tlink_layer:\t\tEthernet"]
        for _port, index, value, kind in sorted(r for r in rows if r[0] == port):
            ipv4 = ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))
            long = f"0000:0000:0000:0000:0000:ffff:{value >> 16:04x}:{value & 0xFFFF:04x}"
            gid = f"::ffff:{ipv4}" if kind == "RoCE v2" else long
            lines.append(f"\t\t\tGID[{index:3d}]:\t\t{gid}, {kind}")
    expected = {}
    for port, index, _value, kind in sorted(rows):
        if kind == "RoCE v2" and f"mlx4_0/{port}" not in expected:
            expected[f"mlx4_0/{port}"] = index
    facts = parse_ibv_devinfo_gids("\n".join(lines))
    _check_ibv_shape(facts)
    assert {k: v["index"] for k, v in facts["roce_v2_ipv4"].items()} == expected
