# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for ``ibstat`` (infiniband-diags)."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    to_int,
)

_CA = re.compile(r"^CA '([^']+)'\s*$")
_PORT = re.compile(r"^Port (\d+):\s*$")
_KV = re.compile(r"^([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$")
_RATE = re.compile(r"^(\d+)(?:\s*\(([^)]+)\))?")
_NOISE = re.compile(r"^(ibwarn|ibdebug|\+ |\.\.\.$)")
_ERROR = re.compile(r"^(ibpanic|ibwarn: .*(fail|error)|ibstat: |.*[Ee]rror:|.*failed)")

_CA_KEYS = {
    "CA type": "type", "Number of ports": "num_ports", "Firmware version": "firmware_version",
    "Hardware version": "hardware_version", "Node GUID": "node_guid", "System image GUID": "system_image_guid",
}
_PORT_KEYS = {
    "State": "state", "Physical state": "physical_state", "Rate": "rate", "Base lid": "base_lid",
    "LMC": "lmc", "SM lid": "sm_lid", "Capability mask": "capability_mask", "Port GUID": "port_guid",
    "Link layer": "link_layer",
}
_INT_KEYS = ("num_ports", "base_lid", "lmc", "sm_lid")


def _new_port() -> dict[str, Any]:
    port: dict[str, Any] = dict.fromkeys(_PORT_KEYS.values())
    port["rate_note"] = None
    return port


def parse_ibstat(text: str) -> dict[str, Any]:
    """Parse ``ibstat``: {ca_name: {..., ports: {n: {...}}}}, plus ``errors`` when ibstat complained."""
    text = check_text(text)
    cas: dict[str, Any] = {}
    errors: list[str] = []
    ca = None
    port = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        match = _CA.match(line)
        if match:
            ca = dict.fromkeys(_CA_KEYS.values())
            ca["ports"] = {}
            cas[match.group(1)] = ca
            port = None
            continue
        if (_NOISE.match(line) and not line.startswith("ibwarn: ")) or (
                line.startswith("ibwarn: ") and not _ERROR.match(line)):
            continue
        if ca is not None:
            match = _PORT.match(line)
            if match:
                port = _new_port()
                ca["ports"][int(match.group(1))] = port
                continue
            match = _KV.match(line)
            if match and ((match.group(1) in _PORT_KEYS and port is not None) or match.group(1) in _CA_KEYS):
                key, value = match.group(1), match.group(2)
                target, name = (port, _PORT_KEYS[key]) if key in _PORT_KEYS and port is not None else (
                    ca, _CA_KEYS.get(key))
                if name is None:
                    continue
                if value in ("", "..."):
                    target[name] = None
                elif name == "rate":
                    rate = _RATE.match(value)
                    target["rate"] = int(rate.group(1)) if rate else None
                    target["rate_note"] = rate.group(2) if rate else None
                elif name in _INT_KEYS:
                    target[name] = to_int(value)
                else:
                    target[name] = value
                continue
        if _ERROR.match(line):
            errors.append(line)
            continue
        if not cas:
            raise ParseError("not ibstat output (expected \"CA '<name>'\")", number, raw)
        # unknown lines inside a CA block (new ibstat fields) are skipped
    if not cas and not errors:
        raise ParseError("empty ibstat output", 1, "")
    result: dict[str, Any] = dict(cas)
    if errors:
        result["errors"] = errors
    return result
