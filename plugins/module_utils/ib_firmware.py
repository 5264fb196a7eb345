# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the infiniband_fw role, as pure functions over parsed tool output.

- :func:`port_findings`: every InfiniBand HCA port of a node, its active rate against the rate expected of
  it, and, for a port below it, why (the PSID of the HCA or of the switch at the other end of the cable,
  explained by :mod:`psid_table`).
- :func:`switch_findings`: the same for the switch ports the fabric view (``iblinkinfo``) shows.
- :func:`burn_plan`: which image goes to which device, and what is refused before anything is burned
  (PSID change without the flag, PSID change on secure firmware, another device's image, a downgrade,
  two images for one device).
- :func:`opensm_choice`: whether OpenSM must run on this node (no subnet manager answers ``sminfo``, or the
  one answering is this node's own), and on which port GUID.

Inputs are the parsers' results: ``parse_ibstat`` (per CA), ``parse_ibportstate``, ``parse_ibswitches``,
``parse_iblinkinfo``, ``parse_sminfo``, ``parse_flint_query``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.psid_table import (
    explain_rate,
    image_limits,
    link_rate_name,
    lookup,
)

# A rate within 2% of the expected one is the expected one (FDR is 56.25 on the wire, 56 on labels).
_TOLERANCE = 0.02


def _below(active: float, expected: float) -> bool:
    return active < expected * (1 - _TOLERANCE)


def _version(text: Any) -> tuple[int, ...] | None:
    if not isinstance(text, str):
        return None
    parts = text.strip().split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def ib_ports(ibstat: dict[str, Any]) -> list[dict[str, Any]]:
    """The InfiniBand ports (link layer InfiniBand) of ``parse_ibstat`` output, sorted, with their CA."""
    ports = []
    for ca in sorted(ibstat or {}):
        info = ibstat[ca]
        if not isinstance(info, dict):
            continue
        for number, port in sorted((info.get("ports") or {}).items(), key=lambda item: int(item[0])):
            if (port.get("link_layer") or "InfiniBand") != "InfiniBand":
                continue
            ports.append(dict(port, ca=ca, port=int(number)))
    return ports


def expected_rate(portstate: dict[str, Any] | None, override: float | None) -> tuple[float | None, str]:
    """The rate a port should run at and where that figure comes from.

    ``override`` (the inventory's ``infiniband_fw_expected_rate_gbps``) wins; else the fastest rate the port
    supports at its widest supported width (``ibportstate``: ``supported_max_rate_gbps``: FDR 56.25 for a
    ConnectX-3 FDR port); else None (the port is reported, not judged).
    """
    if override is not None:
        return float(override), "infiniband_fw_expected_rate_gbps"
    supported = (portstate or {}).get("supported_max_rate_gbps")
    if supported:
        return float(supported), "ibportstate: fastest supported speed x width"
    return None, "no expected rate (ibportstate gave no supported speeds; set infiniband_fw_expected_rate_gbps)"


def _switch_name(switch: dict[str, Any] | None, lid: Any) -> str:
    desc = (switch or {}).get("description")
    return f"switch lid {lid}" + (f" ({desc})" if desc else "")


def _peer_link(links: list[dict[str, Any]], lid: Any, port: int) -> dict[str, Any] | None:
    """The iblinkinfo line of the switch port cabled to (lid, port): the line whose peer is this port."""
    for link in links:
        if link.get("peer_lid") == lid and link.get("peer_port") == port:
            return link
    return None


def _psid(flint: dict[str, Any], key: str) -> str | None:
    query = (flint or {}).get(key)
    return query.get("psid") if isinstance(query, dict) else None


def _pending(flint: dict[str, Any], key: str, name: str) -> str:
    """A note when the device runs another version than its flash holds (burned, not yet reset): the PSID read
    is the flash's, not the running image's."""
    query = (flint or {}).get(key)
    running = query.get("running_fw_version") if isinstance(query, dict) else None
    if running and running != query.get("fw_version"):
        return (f" {name} runs {running} while its flash holds {query.get('fw_version')} (PSID "
                f"{query.get('psid')}): the burned image runs after a reset or power cycle.")
    return ""


def _explanations(own_psid: str | None, peer_psid: str | None, peer: str | None, active: float,
                  expected: float, note: str | None) -> str:
    """Why a port runs below its rate: the image that holds the link down (this HCA's or, as on R3, the
    switch's at the other end of the cable), else what is known of both ends."""
    if peer is not None and image_limits(peer_psid, active):
        return f"{explain_rate(peer_psid, active, expected, note)} (at the other end: {peer})"
    own = explain_rate(own_psid, active, expected, note) or ""
    if image_limits(own_psid, active) or peer is None:
        return own
    return f"{own} At the other end, {peer}: {explain_rate(peer_psid, active, expected, note)}"


def port_findings(host: str, ibstat: dict[str, Any], portstates: dict[str, Any], flint: dict[str, Any],
                  fabric: dict[str, Any] | None, override: float | None = None) -> list[dict[str, Any]]:
    """One row per InfiniBand port of ``host``.

    ``portstates``: ``"<ca>/<port>"`` -> parse_ibportstate of that port; ``flint``: CA name -> parse_flint_query
    of its HCA, and ``"lid-N"`` -> the switch's; ``fabric``: ``{switches: parse_ibswitches, links: the
    ports of parse_iblinkinfo}`` or None where the fabric was not read. Each row: host, device, ca, port,
    state, active_gbps, rate_name, expected_gbps, expected_from, verdict (ok, below, down, unjudged),
    psid, peer, explanation (for ``below``).
    """
    fabric = fabric or {}
    links = fabric.get("links") or []
    switches = {switch.get("lid"): switch for switch in fabric.get("switches") or []}
    rows = []
    for port in ib_ports(ibstat):
        key = f"{port['ca']}/{port['port']}"
        expected, source = expected_rate(portstates.get(key), override)
        active = port.get("rate")
        note = port.get("rate_note")
        link = _peer_link(links, port.get("base_lid"), port["port"])
        peer = None
        peer_psid = None
        if link is not None:
            peer = f"{_switch_name(switches.get(link.get('lid')), link.get('lid'))} port {link.get('port')}"
            peer_psid = _psid(flint, f"lid-{link.get('lid')}")
        row = {
            "host": host, "device": f"{port['ca']} port {port['port']}", "ca": port["ca"], "port": port["port"],
            "lid": port.get("base_lid"),
            "state": port.get("state"), "physical_state": port.get("physical_state"),
            "active_gbps": active, "rate_name": None, "expected_gbps": expected, "expected_from": source,
            "psid": _psid(flint, port["ca"]), "peer": peer, "peer_psid": peer_psid, "verdict": "ok",
            "explanation": None,
        }
        if port.get("state") != "Active" or not active:
            row["verdict"] = "down"
            row["explanation"] = f"port {port.get('state')}/{port.get('physical_state')}: no rate to judge"
        else:
            row["rate_name"] = link_rate_name(float(active), note)
            if expected is None:
                row["verdict"] = "unjudged"
                row["explanation"] = source
            elif _below(float(active), expected):
                row["verdict"] = "below"
                row["explanation"] = _explanations(row["psid"], peer_psid, peer, float(active), expected, note) \
                    + _pending(flint, port["ca"], port["ca"]) \
                    + (_pending(flint, f"lid-{link.get('lid')}", f"switch lid {link.get('lid')}") if link else "")
        rows.append(row)
    return rows


def switch_findings(fabric: dict[str, Any], flint: dict[str, Any], hca_rows: list[dict[str, Any]],
                    override: float | None = None) -> list[dict[str, Any]]:
    """One row per active switch port in the fabric view.

    A switch port is judged against ``override`` when set, else against the expected rate of the HCA port
    at the other end (``hca_rows``: :func:`port_findings` of every node, matched by LID and port), else
    unjudged. ``below`` rows carry the switch PSID's explanation.
    """
    expected_by_peer = {f"{row.get('lid')}/{row.get('port')}": row.get("expected_gbps") for row in hca_rows or []
                        if row.get("expected_gbps")}
    switches = {switch.get("lid"): switch for switch in (fabric or {}).get("switches") or []}
    rows = []
    for link in (fabric or {}).get("links") or []:
        lid = link.get("lid")
        if lid not in switches or link.get("state") != "Active":
            continue
        expected = float(override) if override is not None else expected_by_peer.get(
            f"{link.get('peer_lid')}/{link.get('peer_port')}")
        active = link.get("rate_gbps")
        note = "FDR10" if link.get("fdr10") else None
        psid = _psid(flint, f"lid-{lid}")
        row = {
            "device": f"{_switch_name(switches[lid], lid)} port {link.get('port')}", "lid": lid,
            "port": link.get("port"), "active_gbps": active,
            "rate_name": link_rate_name(float(active), note) if active else None,
            "expected_gbps": expected, "psid": psid,
            "peer": f"lid {link.get('peer_lid')} port {link.get('peer_port')}"
                    + (f" ({link['peer_description']})" if link.get("peer_description") else ""),
            "verdict": "ok", "explanation": None,
        }
        if not active or expected is None:
            row["verdict"] = "unjudged"
            row["explanation"] = "no expected rate for this port (its peer is not a node of this play)"
        elif _below(float(active), float(expected)):
            row["verdict"] = "below"
            row["explanation"] = (explain_rate(psid, float(active), float(expected), note) or "") \
                + _pending(flint, f"lid-{lid}", f"switch lid {lid}")
        rows.append(row)
    return rows


def _describe(psid: str | None) -> str:
    row = lookup(psid)
    return f"{psid} ({row['description']})" if row else f"{psid} (not in the PSID table)"


def burn_decision(device: str, current: dict[str, Any], image: dict[str, Any], image_name: str,
                  allow_psid_change: bool = False, allow_downgrade: bool = False) -> dict[str, Any]:
    """What burning ``image`` (parse_flint_query of ``flint -i IMAGE query``) on ``device`` (its query) does.

    ``action``: ``burn``, ``current`` (the image is on flash already, pending a reset or running) or ``refuse``
    with ``message`` naming the device, both PSIDs/versions and the flag or fix. Rules, in order: another
    device ID refused; a PSID change on secure firmware refused (signed images only keep their PSID); a
    PSID change without ``allow_psid_change`` refused; the same version with the same PSID is current; an
    older version without ``allow_downgrade`` refused.
    """
    cur_psid, img_psid = current.get("psid"), image.get("psid")
    cur_ver, img_ver = current.get("fw_version"), image.get("fw_version")
    result = {"device": device, "image": image_name, "from_psid": cur_psid, "to_psid": img_psid,
              "from_version": cur_ver, "to_version": img_ver, "running_version": current.get("running_fw_version"),
              "psid_change": bool(cur_psid and img_psid and cur_psid != img_psid), "action": "burn", "message": ""}
    if not img_psid or not img_ver:
        return dict(result, action="refuse", message=f"{device}: the image {image_name} shows no PSID or FW version "
                    "in 'flint -i IMAGE query': not a firmware image for flint")
    if current.get("device_id") and image.get("device_id") and current["device_id"] != image["device_id"]:
        return dict(result, action="refuse", message=(
            f"{device}: the image {image_name} is for device ID {image['device_id']}, the flash holds device ID "
            f"{current['device_id']}"))
    secure = "secure-fw" in (current.get("security_attributes") or "")
    if result["psid_change"] and secure:
        return dict(result, action="refuse", message=(
            f"{device}: secure firmware (Security Attributes: {current.get('security_attributes')}) accepts only "
            f"signed images of its own PSID; the image changes the PSID {_describe(cur_psid)} -> {_describe(img_psid)}"))
    if result["psid_change"] and not allow_psid_change:
        return dict(result, action="refuse", message=(
            f"{device}: PSID mismatch: the flash holds {_describe(cur_psid)}, the image {image_name} "
            f"{_describe(img_psid)}; set infiniband_fw_allow_psid_change: true to cross-flash"))
    if not result["psid_change"] and cur_ver == img_ver:
        pending = current.get("running_fw_version")
        state = f"burned, running {pending} until a reset" if pending and pending != img_ver else "running"
        return dict(result, action="current", message=f"{device}: {img_ver} ({img_psid}) is on flash already ({state})")
    older = _version(img_ver) is not None and _version(cur_ver) is not None and _version(img_ver) < _version(cur_ver)
    if older and not result["psid_change"] and not allow_downgrade:
        return dict(result, action="refuse", message=(
            f"{device}: the image {image_name} ({img_ver}) is older than the flash ({cur_ver}); set "
            "infiniband_fw_allow_downgrade: true to go back"))
    change = f"PSID {cur_psid} -> {img_psid}, " if result["psid_change"] else ""
    return dict(result, message=f"{device}: burn {image_name}: {change}{cur_ver} -> {img_ver}")


def burn_plan(devices: dict[str, dict[str, Any]], images: list[dict[str, Any]], allow_psid_change: bool = False,
              allow_downgrade: bool = False) -> list[dict[str, Any]]:
    """One decision per device: ``devices`` maps a flint device name to its query; ``images`` are
    ``{name, query, devices}`` where ``devices`` (may be empty) names the devices the image is for. An image
    without names goes to every device whose PSID is the image's; naming devices is how a PSID change is
    asked for. A device no image matches gets ``action: none``; one two images match is refused."""
    plan = []
    for device in sorted(devices):
        current = devices[device]
        matches = [image for image in images
                   if device in (image.get("devices") or [])
                   or (not image.get("devices") and current.get("psid")
                       and (image.get("query") or {}).get("psid") == current.get("psid"))]
        if not matches:
            plan.append({"device": device, "image": None, "action": "none", "from_psid": current.get("psid"),
                         "from_version": current.get("fw_version"), "psid_change": False,
                         "message": f"{device}: no image for PSID {current.get('psid')}; left as it is"})
            continue
        if len(matches) > 1:
            names = ", ".join(image["name"] for image in matches)
            plan.append({"device": device, "image": None, "action": "refuse", "psid_change": False,
                         "from_psid": current.get("psid"), "from_version": current.get("fw_version"),
                         "message": f"{device}: more than one image matches ({names}); name the devices per image"})
            continue
        image = matches[0]
        plan.append(burn_decision(device, current, image.get("query") or {}, image["name"],
                                  allow_psid_change, allow_downgrade))
    return plan


def reset_advice(kind: str, device: str) -> str:
    """What to do after a burn for the new image to run."""
    if kind == "switch":
        return (f"{device}: unmanaged switch: power-cycle it (its firmware loads only at power-on), wait for its "
                "LID to come back in ibswitches, then run playbooks/fabric.yml for the new port rates")
    return (f"{device}: reboot the host (or run 'mlxfwreset -d {device} reset' where MFT is installed) for the new "
            "firmware to run; 'flint query' shows FW Version(Running) until then")


def opensm_choice(sminfo: dict[str, Any] | None, ibstat: dict[str, Any], mode: Any = "auto") -> dict[str, Any]:
    """Whether this node must run OpenSM and on which port GUID.

    ``mode``: ``auto`` (run it when ``sminfo`` says no SM answered, or when the SM that answers is this
    node's own port), true or false. An sminfo that could not ask (port not opened, no permission) is a
    failure (``error``), not a "no SM". The port is the first InfiniBand port with a physical link
    (Initializing before an SM exists, Active after).
    """
    ports = [port for port in ib_ports(ibstat) if port.get("physical_state") == "LinkUp"]
    own = {str(port.get("port_guid") or "").lower() for port in ib_ports(ibstat)}
    guid = ports[0].get("port_guid") if ports else None
    result = {"run": False, "own": False, "port_guid": guid, "reason": "", "error": None}
    if isinstance(mode, str) and mode.lower() not in ("auto",):
        mode = mode.lower() in ("true", "yes", "on", "1")
    if mode is True or mode is False:
        result.update(run=bool(mode) and guid is not None,
                      reason=f"infiniband_fw_opensm: {mode}" + ("" if guid or not mode else ": but no port has a link"))
        return result
    if not ports:
        return dict(result, reason="no InfiniBand port with a physical link")
    sminfo = sminfo or {}
    if sminfo.get("present"):
        mine = str(sminfo.get("guid") or "").lower() in own
        return dict(result, run=mine, own=mine, reason=(
            f"the subnet manager answering is this node's own (lid {sminfo.get('lid')}, {sminfo.get('state_name')})"
            if mine else f"a subnet manager answers: lid {sminfo.get('lid')} guid {sminfo.get('guid')} "
            f"priority {sminfo.get('priority')} {sminfo.get('state_name')}"))
    if sminfo.get("reason") == "no_response":
        return dict(result, run=True, reason=f"no subnet manager answers ({sminfo.get('error')})")
    return dict(result, error=(f"sminfo could not ask for a subnet manager ({sminfo.get('reason')}: "
                               f"{sminfo.get('error')}); fix the port before deciding on OpenSM"))


def opensm_hosts(choices: dict[str, dict[str, Any]], order: list[str], wanted: list[str] | None = None) -> list[str]:
    """The hosts that run OpenSM: ``wanted`` (the inventory's list) when given, each host that wants it;
    else, of the hosts whose choice says run, those whose own SM answers already, or the first in play
    order: one subnet manager per fabric, not one per node that found none."""
    runs = [host for host in order if (choices.get(host) or {}).get("run")]
    if wanted:
        return [host for host in runs if host in wanted]
    own = [host for host in runs if choices[host].get("own")]
    return own or runs[:1]


def firmware_by_device(hca_results: list[dict[str, Any]], switch_results: list[dict[str, Any]]) -> dict[str, Any]:
    """The flint_info loop results of the report (HCAs looped over the stat of their sysfs ``device`` link,
    switches over ibswitches entries) as ``{devices: flint name -> query, flint: CA name or lid-N -> query, errors: [messages]}``."""
    devices: dict[str, Any] = {}
    by_name: dict[str, Any] = {}
    errors = []
    for result in hca_results or []:
        # The loop item is the stat of /sys/class/infiniband/<ca>/device: the CA name and its PCI link.
        item = result.get("item") or {}
        ca = item.get("item")
        device = ((item.get("stat") or {}).get("lnk_source") or "").rstrip("/").rpartition("/")[2] or ca
        if result.get("failed") or not result.get("firmware"):
            errors.append(f"{ca} ({device}): {result.get('msg')}")
            continue
        devices[device] = by_name[ca] = result["firmware"]
    for result in switch_results or []:
        name = f"lid-{(result.get('item') or {}).get('lid')}"
        if result.get("failed") or not result.get("firmware"):
            errors.append(f"{name}: {result.get('msg')}")
            continue
        devices[name] = by_name[name] = result["firmware"]
    return {"devices": devices, "flint": by_name, "errors": errors}


def report_lines(devices: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The report as lines: each device's firmware and PSID (with the table's description), then each port."""
    lines = []
    for name in sorted(devices):
        query = devices[name] or {}
        row = lookup(query.get("psid"))
        running = query.get("running_fw_version")
        lines.append(f"{name}: FW {query.get('fw_version')}" + (f" (running {running})" if running else "")
                     + f", PSID {query.get('psid')}" + (f" = {row['description']}" if row else " (not in the PSID table)")
                     + (f", {query['security_attributes']}" if query.get("security_attributes") else ""))
    for row in rows or []:
        rate = f"{row.get('active_gbps')} Gb/s" + (f" ({row['rate_name']})" if row.get("rate_name") else "")
        expected = f", expected {row['expected_gbps']:g}" if row.get("expected_gbps") else ""
        text = f"{row.get('host') + ' ' if row.get('host') else ''}{row['device']}: {rate}{expected} - {row['verdict']}"
        lines.append(text + (f": {row['explanation']}" if row.get("explanation") else ""))
    return lines


def checksum_mismatches(stat_results: list[dict[str, Any]]) -> list[str]:
    """Of the controller's stat results (sha256) over infiniband_fw_images, the files whose sha256 is not the
    one given, as ``"FILE (sha256 X, expected Y)"``."""
    bad = []
    for result in stat_results or []:
        item, stat = result.get("item") or {}, result.get("stat") or {}
        given = str(item.get("sha256") or "").strip().lower()
        if stat.get("checksum") != given:
            bad.append(f"{item.get('file')} (sha256 {stat.get('checksum')}, expected {given or 'none given'})")
    return bad


def images(query_results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """flint_info -i results over infiniband_fw_images -> burn_plan's ``{name, query, devices}``."""
    return [{"name": str((result.get("item") or {}).get("file", "")).rpartition("/")[2],
             "query": result.get("firmware") or {}, "devices": list((result.get("item") or {}).get("devices") or [])}
            for result in query_results or []]
