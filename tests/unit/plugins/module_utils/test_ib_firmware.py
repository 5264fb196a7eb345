"""infiniband_fw's decisions on real parsed captures: slow ports explained, burns planned or refused,
OpenSM on or off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.gpuforge.cluster.plugins.module_utils import ib_firmware as f
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import flint

FIXTURES = Path(__file__).parent / "parsers" / "fixtures"
R3 = "SX6005T FDR10 image EMC1260110026; FDR image MT_1260110021"


def expected(name: str):
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def query(name: str) -> dict:
    return flint.parse_flint_query((FIXTURES / "flint" / f"{name}.txt").read_text())


# R3: the head's ConnectX-3 (ibstat: Rate 40 (FDR10), base lid 7) cabled to port 5 of the SX6005T at lid 2.
IBSTAT = expected("ibstat/cx3-fdr10-active-tabs")
PORTSTATE = {"mlx4_0/1": expected("ibportstate/cx3-fdr-4x-query-lid12-port2")}
SWITCH = {"lid": 2, "guid": "0x0002c90300aaaa00", "description": "SwitchX -  Mellanox Technologies",
          "ports": 12}
LINK = {"lid": 2, "port": 5, "peer_lid": 7, "peer_port": 1, "state": "Active", "rate_gbps": 40.0,
        "fdr10": True, "peer_description": "head HCA-1"}
FABRIC = {"switches": [SWITCH], "links": [LINK]}
FLINT = {"mlx4_0": {"psid": "MT_1090120019"}, "lid-2": {"psid": "EMC1260110026"}}


def test_r3_head_port_is_below_and_the_switch_image_is_named():
    [row] = f.port_findings("head", IBSTAT, PORTSTATE, FLINT, FABRIC)
    assert row["verdict"] == "below"
    assert (row["active_gbps"], row["rate_name"], row["expected_gbps"]) == (40, "FDR10", 56.25)
    assert row["explanation"] == (
        f"{R3} (at the other end: switch lid 2 (SwitchX -  Mellanox Technologies) port 5)")
    assert row["peer_psid"] == "EMC1260110026" and row["psid"] == "MT_1090120019"


def test_without_the_switch_psid_both_ends_are_said():
    [row] = f.port_findings("head", IBSTAT, PORTSTATE, {"mlx4_0": {"psid": "MT_1090120019"}}, FABRIC)
    assert row["verdict"] == "below"
    assert "At the other end, switch lid 2" in row["explanation"] and "No PSID was read" in row["explanation"]


def test_an_expected_rate_from_inventory_wins_and_40_is_then_fine():
    [row] = f.port_findings("head", IBSTAT, PORTSTATE, FLINT, FABRIC, override=40)
    assert (row["verdict"], row["expected_from"]) == ("ok", "infiniband_fw_expected_rate_gbps")


def test_a_port_without_ibportstate_is_reported_unjudged():
    [row] = f.port_findings("head", IBSTAT, {}, FLINT, None)
    assert row["verdict"] == "unjudged" and "infiniband_fw_expected_rate_gbps" in row["explanation"]
    assert row["peer"] is None


def test_down_ports_and_ethernet_ports_are_not_judged():
    rows = f.port_findings("n", expected("ibstat/cx3-fdr10-initializing"), {}, {}, None)
    assert [(r["port"], r["verdict"]) for r in rows] == [(1, "down"), (2, "down")]
    assert f.ib_ports(expected("ibstat/cx6dx-ethernet-100g")) == []


def test_switch_ports_are_judged_against_the_hca_at_the_other_end():
    hca_rows = f.port_findings("head", IBSTAT, PORTSTATE, FLINT, FABRIC)
    [row] = f.switch_findings(FABRIC, FLINT, hca_rows)
    assert row["verdict"] == "below" and row["explanation"] == R3
    assert row["device"] == "switch lid 2 (SwitchX -  Mellanox Technologies) port 5"
    [row] = f.switch_findings(FABRIC, FLINT, [])
    assert row["verdict"] == "unjudged"
    [row] = f.switch_findings(FABRIC, FLINT, [], override=40)
    assert row["verdict"] == "ok"


def test_switch_findings_skip_ca_lines_and_inactive_ports():
    fabric = {"switches": [SWITCH], "links": [dict(LINK, lid=9), dict(LINK, state="Down")]}
    assert f.switch_findings(fabric, FLINT, [{"lid": 7, "port": 1, "expected_gbps": 56}]) == []


# Burns, on the real ConnectX-3 chain: flash 2.35.5100, image 2.42.5000, both MT_1170110023.
FLASH = query("cx3-fs2-query-full")
IMAGE = query("cx3-fs2-image-query-full")
PENDING = query("cx3-fs2-query-full-pending")
SECURE = query("bluefield-fs4-secure-fw")


def test_same_psid_newer_image_is_burned():
    d = f.burn_decision("01:00.0", FLASH, IMAGE, "fw.bin")
    assert (d["action"], d["psid_change"]) == ("burn", False)
    assert d["message"] == "01:00.0: burn fw.bin: 2.35.5100 -> 2.42.5000"


def test_a_burned_image_waiting_for_reset_is_current():
    d = f.burn_decision("01:00.0", PENDING, IMAGE, "fw.bin")
    assert d["action"] == "current" and "running 2.35.5100 until a reset" in d["message"]


def test_psid_change_needs_the_flag_and_names_both_psids():
    image = dict(IMAGE, psid="MT_1260110021", device_id=None)
    d = f.burn_decision("lid-2", dict(FLASH, psid="EMC1260110026", device_id=None), image, "fdr.bin")
    assert d["action"] == "refuse"
    assert "EMC1260110026 (SX6005T, EMC-branded FDR10 image)" in d["message"]
    assert "MT_1260110021 (SX6005 FDR image (MSX6005F-xxxS))" in d["message"]
    assert "infiniband_fw_allow_psid_change" in d["message"]
    d = f.burn_decision("lid-2", dict(FLASH, psid="EMC1260110026", device_id=None), image, "fdr.bin", True)
    assert (d["action"], d["psid_change"]) == ("burn", True)
    assert "PSID EMC1260110026 -> MT_1260110021" in d["message"]


def test_secure_firmware_refuses_a_psid_change_even_with_the_flag():
    image = dict(IMAGE, psid="MT_0000000001", device_id=None)
    d = f.burn_decision("41:00.0", SECURE, image, "x.bin", allow_psid_change=True)
    assert d["action"] == "refuse" and "secure firmware" in d["message"]
    # Its own PSID, newer: allowed (signed image of the same PSID).
    same = dict(IMAGE, psid=SECURE["psid"], device_id=None, fw_version="24.40.1000")
    assert f.burn_decision("41:00.0", SECURE, same, "x.bin")["action"] == "burn"


def test_another_devices_image_and_a_downgrade_are_refused():
    d = f.burn_decision("01:00.0", FLASH, dict(IMAGE, device_id="4103"), "cx3pro.bin")
    assert d["action"] == "refuse" and "device ID 4103" in d["message"]
    newer, older = dict(FLASH, fw_version="2.42.5000"), dict(IMAGE, fw_version="2.40.7000")
    d = f.burn_decision("01:00.0", newer, older, "o.bin")
    assert d["action"] == "refuse" and "older" in d["message"]
    d = f.burn_decision("01:00.0", newer, older, "o.bin", allow_downgrade=True)
    assert d["action"] == "burn"


def test_not_an_image_is_refused():
    assert f.burn_decision("d", FLASH, {}, "readme.txt")["action"] == "refuse"


def test_plan_matches_by_psid_or_by_name_and_refuses_ambiguity():
    devices = {"01:00.0": FLASH, "lid-2": dict(FLASH, psid="EMC1260110026", device_id=None)}
    images = [{"name": "cx3.bin", "query": IMAGE, "devices": []}]
    plan = f.burn_plan(devices, images)
    assert [(p["device"], p["action"]) for p in plan] == [("01:00.0", "burn"), ("lid-2", "none")]
    fdr = {"name": "fdr.bin", "query": dict(IMAGE, psid="MT_1260110021", device_id=None),
           "devices": ["lid-2"]}
    plan = f.burn_plan(devices, [*images, fdr], allow_psid_change=True)
    assert [(p["device"], p["action"], p["image"]) for p in plan] == [
        ("01:00.0", "burn", "cx3.bin"), ("lid-2", "burn", "fdr.bin")]
    twice = [{"name": "a.bin", "query": IMAGE}, {"name": "b.bin", "query": IMAGE}]
    assert f.burn_plan({"01:00.0": FLASH}, twice)[0]["action"] == "refuse"


def test_reset_advice_names_the_power_cycle_for_a_switch():
    assert f.reset_advice("switch", "lid-2").startswith("lid-2: unmanaged switch: power-cycle it")
    assert "mlxfwreset" in f.reset_advice("hca", "01:00.0")


# OpenSM.
PRESENT = expected("sminfo/cx3-hca-master-lid37")
ABSENT = expected("sminfo/error-no-sm-ofed-readme")
PORT_FAILED = expected("sminfo/error-umad-port-open-failed")
INIT = expected("ibstat/cx3-fdr10-initializing")


def test_no_sm_answering_starts_opensm_on_the_port_with_a_link():
    c = f.opensm_choice(ABSENT, INIT)
    assert (c["run"], c["port_guid"], c["error"]) == (True, "0x5cf3fc000004ec03", None)
    assert "no subnet manager answers" in c["reason"]


def test_another_sm_keeps_opensm_off_and_our_own_keeps_it_on():
    c = f.opensm_choice(PRESENT, IBSTAT)
    assert c["run"] is False and "lid 37" in c["reason"]
    own = dict(PRESENT, guid="0x0002C90300EA9941")
    c = f.opensm_choice(own, IBSTAT)
    assert (c["run"], c["own"]) == (True, True)


def test_sminfo_that_could_not_ask_is_an_error_not_a_missing_sm():
    c = f.opensm_choice(PORT_FAILED, INIT)
    assert c["run"] is False and "port_open_failed" in c["error"]


@pytest.mark.parametrize(("mode", "run"), [(True, True), ("true", True), (False, False), ("false", False)])
def test_opensm_forced_on_or_off(mode, run):
    assert f.opensm_choice(PRESENT, INIT, mode)["run"] is run


def test_no_linked_port_no_opensm():
    assert f.opensm_choice(ABSENT, {})["run"] is False


def test_one_opensm_per_fabric():
    run = {"run": True, "own": False}
    choices = {"node1": run, "node2": run, "node3": {"run": False}}
    assert f.opensm_hosts(choices, ["node3", "node2", "node1"]) == ["node2"]
    assert f.opensm_hosts(dict(choices, node1={"run": True, "own": True}), ["node2", "node1"]) == ["node1"]
    assert f.opensm_hosts(choices, ["node1", "node2"], wanted=["node1", "node2"]) == ["node1", "node2"]
    assert f.opensm_hosts({}, ["node1"]) == []


def test_firmware_by_device_and_report_lines():
    link = "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
    hca = {"item": {"item": "mlx4_0", "stat": {"lnk_source": link}}, "firmware": FLASH, "failed": False}
    broken = {"item": {"item": "mlx5_0", "stat": {"exists": False}}, "failed": True,
              "msg": "flint failed (cr_access)"}
    switch = {"item": {"lid": 2}, "firmware": dict(FLASH, psid="EMC1260110026"), "failed": False}
    read = f.firmware_by_device([hca, broken], [switch])
    assert sorted(read["devices"]) == ["0000:01:00.0", "lid-2"]
    assert sorted(read["flint"]) == ["lid-2", "mlx4_0"]
    assert read["errors"] == ["mlx5_0 (mlx5_0): flint failed (cr_access)"]
    rows = f.port_findings("head", IBSTAT, PORTSTATE, read["flint"], FABRIC)
    lines = f.report_lines(read["devices"], rows)
    assert lines[0] == "0000:01:00.0: FW 2.35.5100, PSID MT_1170110023 (not in the PSID table)"
    assert lines[1] == "lid-2: FW 2.35.5100, PSID EMC1260110026 = SX6005T, EMC-branded FDR10 image"
    assert lines[2].startswith("head mlx4_0 port 1: 40 Gb/s (FDR10), expected 56.25 - below: " + R3)


def test_checksums_and_images_from_loop_results():
    good = {"item": {"file": "/x/a.bin", "sha256": "AB12"}, "stat": {"checksum": "ab12"}}
    bad = {"item": {"file": "/x/b.bin", "sha256": "ab12"}, "stat": {"checksum": "ff00"}}
    assert f.checksum_mismatches([good, bad]) == ["/x/b.bin (sha256 ff00, expected ab12)"]
    [image] = f.images([{"item": {"file": "/x/a.bin", "devices": ["lid-2"]}, "firmware": IMAGE}])
    assert (image["name"], image["devices"], image["query"]["psid"]) == ("a.bin", ["lid-2"], "MT_1170110023")


def test_a_burned_switch_waiting_for_its_power_cycle_is_said():
    flint = {"mlx4_0": {"psid": "MT_1090120019"},
             "lid-2": {"psid": "MT_1260110021", "fw_version": "9.3.8000", "running_fw_version": "9.3.6000"}}
    [row] = f.port_findings("head", IBSTAT, PORTSTATE, flint, FABRIC)
    assert row["explanation"].endswith(
        " switch lid 2 runs 9.3.6000 while its flash holds 9.3.8000 (PSID MT_1260110021): the burned image "
        "runs after a reset or power cycle.")
    hca_rows = f.port_findings("head", IBSTAT, PORTSTATE, flint, FABRIC)
    [switch_row] = f.switch_findings(FABRIC, flint, hca_rows)
    assert "switch lid 2 runs 9.3.6000" in switch_row["explanation"]
