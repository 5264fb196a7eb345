"""The PSID table, the QDR/FDR10 rule and the sentence the infiniband_fw role prints for a slow port."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import psid_table as t
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import ibdiag, ibstat
from hypothesis import given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "parsers" / "fixtures"
R3 = "SX6005T FDR10 image EMC1260110026; FDR image MT_1260110021"


def test_r3_switch_is_explained_exactly():
    assert t.explain_rate("EMC1260110026", 40, 56) == R3
    assert t.explain_rate(" emc1260110026\n", 40.0, 56, rate_note="FDR10") == R3


@pytest.mark.parametrize("active,expected", [(56, 56), (56.25, 56), (40, 40), (100, 56), (103.125, 100)])
def test_rate_as_expected_is_none(active, expected):
    assert t.explain_rate("EMC1260110026", active, expected) is None
    assert t.explain_rate("NOT_A_PSID", active, expected) is None


def test_unknown_and_missing_psids_give_both_rates():
    assert t.explain_rate("MT_0000000000", 40, 56, "FDR10") == (
        "PSID MT_0000000000 is not in the PSID table; active 40 Gb/s (FDR10), expected 56 Gb/s.")
    assert t.explain_rate(None, 20, 56) == (
        "No PSID was read for this device; active 20 Gb/s (DDR), expected 56 Gb/s.")


def test_known_full_rate_image_does_not_explain_a_slow_link():
    text = t.explain_rate("MT_1260110021", 40, 56)
    assert text.startswith("PSID MT_1260110021 (") and "does not explain the rate" in text
    assert "active 40 Gb/s (QDR), expected 56 Gb/s" in text and "up to 56 Gb/s" in text


def test_limited_hca_image_names_the_full_rate_image():
    expected = "ConnectX-3 QDR image ISL1090110018; FDR image MT_1090120019"
    assert t.explain_rate("ISL1090110018", 40, 56) == expected


def test_table_rows_have_sources_and_consistent_links():
    for psid, row in t.PSIDS.items():
        assert re.fullmatch(r"[A-Z]{2,3}_?[0-9A-F]{10}", psid), psid
        assert len(row["source"]) > 40 and row["description"] and row["device"]
        assert row["kind"] in ("switch", "hca") and row["link"] in ("InfiniBand", "Ethernet")
        for other in (row["full_rate_psid"], row["crossflash_psid"]):
            assert other is None or other in t.PSIDS
        if row["full_rate_psid"]:
            assert row["max_rate_gbps"] < t.PSIDS[row["full_rate_psid"]]["max_rate_gbps"]
        if row["max_rate_gbps"] is not None:
            assert t.link_rate_name(row["max_rate_gbps"]) in (row["generation"], "QDR")
    for psid in ("EMC1260110026", "MT_1260110021", "MT_1090120019", "MT_1090111023"):
        assert psid in t.PSIDS


def test_lookup_is_a_copy_and_forgiving():
    row = t.lookup("mt_1090120019")
    assert row["psid"] == "MT_1090120019" and row["part_number"] == "MCX354A-FCB"
    row["device"] = "changed"
    assert t.PSIDS["MT_1090120019"]["device"] == "ConnectX-3"
    assert t.lookup("MT_1090111023")["link"] == "Ethernet"
    for value in (None, "", "   ", 12, b"MT_1090120019", "MT_109012001"):
        assert t.lookup(value) is None


@pytest.mark.parametrize("rate,note,name", [
    (40, None, "QDR"), (40, "FDR10", "FDR10"), (40.0, "10.0 Gbps (FDR10)", "FDR10"), (10, "FDR10", "FDR10"),
    (56, None, "FDR"), (56.25, None, "FDR"), (20, None, "DDR"), (103.125, None, "EDR"), (212.5, None, "HDR"),
    (400, None, "NDR"), (56, "FDR10", None), (33, None, None),
])
def test_link_rate_name(rate, note, name):
    assert t.link_rate_name(rate, note) == name


def test_qdr_and_fdr10_from_real_port_data():
    """The rule on real captures: ibstat's rate note, ibportstate's MLNX block, iblinkinfo's speed text."""
    fdr10_ibstat = ibstat.parse_ibstat((FIXTURES / "ibstat" / "cx3-fdr10-active-tabs.txt").read_text())
    port = fdr10_ibstat["mlx4_0"]["ports"][1]
    assert t.link_rate_name(port["rate"], port["rate_note"]) == "FDR10"
    qdr = ibdiag.parse_iblinkinfo((FIXTURES / "iblinkinfo" / "qdr-infiniscale-iv-four-cas.txt").read_text())
    link = qdr["switches"][0]["ports"][0]
    assert t.link_rate_name(link["rate_gbps"], link["speed"]) == "QDR"
    portstate = ibdiag.parse_ibportstate(
        (FIXTURES / "ibportstate" / "fdr10-4x-width-set-initial-and-after.txt").read_text())
    assert t.link_rate_name(portstate["active_rate_gbps"], portstate["generation"]) == "FDR10"


@pytest.mark.parametrize("bad", [True, "40", None, [40]])
def test_rates_must_be_numbers(bad):
    with pytest.raises(TypeError):
        t.explain_rate("EMC1260110026", bad, 56)
    with pytest.raises(TypeError):
        t.link_rate_name(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1])
def test_rates_must_be_finite_and_not_negative(bad):
    with pytest.raises(ValueError):
        t.explain_rate("EMC1260110026", 40, bad)


RATES = st.floats(min_value=0, max_value=1000, allow_nan=False)
PSIDS = st.one_of(st.sampled_from(sorted(t.PSIDS)), st.text(max_size=20), st.none())


@given(PSIDS, RATES, RATES, st.one_of(st.none(), st.sampled_from(["FDR10", "10.0 Gbps (FDR10)", ""])))
@settings(max_examples=400, deadline=None)
def test_explain_rate_is_none_exactly_when_the_rate_is_reached(psid, active, expected, note):
    text = t.explain_rate(psid, active, expected, note)
    assert (text is None) == (active >= expected * (1 - t._TOLERANCE / 3))
    if text is not None and t.lookup(psid) is None:
        assert "PSID" in text and f"active {active:g} Gb/s" in text and f"expected {expected:g} Gb/s" in text


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_lookup_never_raises(text):
    row = t.lookup(text)
    assert row is None or row["psid"] == text.strip().upper()
