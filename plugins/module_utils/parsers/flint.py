# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for ``flint``/``mstflint`` ``query`` and ``query full``."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
    is_na,
)

_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9 ()/._-]*?):\s*(.*?)\s*$")
_ERRORS = (
    (re.compile(r"MFE_CR_ERROR|Operation not supported", re.IGNORECASE), "cr_access"),
    (re.compile(r"No such (file or )?device|Failed to open|Cannot open Device|MFE_NO_DEV", re.IGNORECASE), "no_device"),
    (re.compile(r"Permission denied|Operation not permitted|MFE_PERM", re.IGNORECASE), "permission"),
    (re.compile(r"Unsupported device|MFE_UNSUPPORTED", re.IGNORECASE), "unsupported_device"),
    (re.compile(r"^-E-", re.MULTILINE), "unknown"),
)
_KEYS = {
    "Image type": "image_type", "FW Version": "fw_version", "FW Version(Running)": "running_fw_version",
    "FW Release Date": "fw_release_date", "MIC Version": "mic_version", "PRS Name": "prs_name",
    "Product Version": "product_version", "Device ID": "device_id", "PSID": "psid", "VSD": "vsd",
    "Image VSD": "image_vsd", "Device VSD": "device_vsd", "Security Attributes": "security_attributes",
    "Part Number": "part_number", "Description": "description", "Config Sectors": "config_sectors",
    "Security Ver": "security_version", "Default Update Method": "default_update_method",
}


class FlintError(ParseError):
    """flint printed an error (-E- ...); ``reason`` names the kind."""

    def __init__(self, reason: str, message: str, line_number: int = 0, line: str = "") -> None:
        self.reason = reason
        super().__init__(message, line_number, line)


def _value(value: str) -> str | None:
    return None if is_na(value) else value


def parse_flint_query(text: str) -> dict[str, Any]:
    """Parse ``flint -d DEV query [full]`` (FS2, FS3, FS4 layouts)."""
    text = check_text(text)
    lines = text.split("\n")
    for pattern, reason in _ERRORS:
        match = pattern.search(text)
        if match and not re.search(r"^FW Version:", text, re.MULTILINE):
            number = text[: match.start()].count("\n") + 1
            raise FlintError(reason, f"flint failed ({reason}): {lines[number - 1].strip()}",
                             number, lines[number - 1])
    result: dict[str, Any] = dict.fromkeys(_KEYS.values())
    result.update(base_guid=None, base_mac=None, guids=[], macs=[], rom_info=[], guids_description=None)
    last = None
    seen = False
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        if raw[:1].isspace() and last == "rom_info":
            result["rom_info"].append(raw.strip())
            continue
        match = _LINE.match(raw.strip())
        if not match:
            if not seen:
                raise ParseError("not flint query output", number, raw)
            continue
        key, value = match.group(1), match.group(2)
        seen = seen or key in ("Image type", "FW Version")
        last = None
        if key == "Rom Info":
            if not is_na(value):
                result["rom_info"].append(value)
            last = "rom_info"
        elif key == "GUIDs":
            result["guids"] = [v for v in value.split() if v]
        elif key == "MACs":
            result["macs"] = [v for v in value.split() if v]
        elif key in ("Base GUID", "Base MAC"):
            parts = value.split()
            result["base_guid" if key == "Base GUID" else "base_mac"] = parts[0] if parts else None
        elif key == "Description" and ("Guids" in value or "Sys image" in value or "Port1" in value):
            result["guids_description"] = value.split()
        elif key in _KEYS:
            result[_KEYS[key]] = _value(value)
    if not seen:
        number, line = first_content_line(text)
        raise ParseError("not flint query output (no 'Image type' or 'FW Version')", number or 1, line)
    # FS2 layout: the first entry of the GUIDs/MACs tables is the base.
    if result["base_guid"] is None and result["guids"]:
        result["base_guid"] = result["guids"][0]
    if result["base_mac"] is None and result["macs"]:
        result["base_mac"] = result["macs"][0]
    return result
