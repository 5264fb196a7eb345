# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for ``nvidia-smi -q -x``, ``--query-gpu ... --format=csv`` and ``topo -m``."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
    is_na,
    to_float,
    to_int,
)

REASONS = ("no_driver", "no_devices", "version_mismatch", "gpu_lost", "unknown")

_ERRORS = (
    (re.compile(r"couldn.t communicate with the NVIDIA driver", re.IGNORECASE), "no_driver"),
    (re.compile(r"Driver/library version mismatch", re.IGNORECASE), "version_mismatch"),
    (re.compile(r"GPU is lost", re.IGNORECASE), "gpu_lost"),
    (re.compile(r"^\s*No devices were found", re.IGNORECASE | re.MULTILINE), "no_devices"),
    (re.compile(r"Failed to initialize NVML|Unable to determine the device handle|NVIDIA-SMI has failed",
                re.IGNORECASE), "unknown"),
)

# A plain external DOCTYPE, as nvidia-smi prints it; anything else (internal subset, ENTITY) is refused.
_DOCTYPE = re.compile(r'<!DOCTYPE\s+nvidia_smi_log\s+SYSTEM\s+"[^"<>\[\]]*"\s*>')


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NvidiaSmiError(ParseError):
    """nvidia-smi printed an error instead of data; ``reason`` is one of REASONS."""

    def __init__(self, reason: str, message: str, line_number: int = 0, line: str = "") -> None:
        self.reason = reason
        super().__init__(message, line_number, line)


def detect_error(text: str) -> None:
    """Raise NvidiaSmiError when ``text`` is one of nvidia-smi's failure messages."""
    lines = text.split("\n")
    for pattern, reason in _ERRORS:
        match = pattern.search(text)
        if match:
            number = text[: match.start()].count("\n") + 1
            line = lines[number - 1].strip()
            raise NvidiaSmiError(reason, f"nvidia-smi failed ({reason}): {line}", number, line)


def _text(node: ET.Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return None if is_na(value) else value


def _bool(value: str | None) -> bool | None:
    if value in ("Enabled", "On", "Yes"):
        return True
    if value in ("Disabled", "Off", "No"):
        return False
    return None


def _safe_xml(text: str) -> str:
    if re.search(r"<!ENTITY", text, re.IGNORECASE):
        number = text[: re.search(r"<!ENTITY", text, re.IGNORECASE).start()].count("\n") + 1
        raise ParseError("XML entity declarations are not accepted", number, text.split("\n")[number - 1])
    # Blank the one DOCTYPE nvidia-smi prints (same length keeps error positions right).
    text = _DOCTYPE.sub(lambda m: " " * len(m.group(0)), text, count=1)
    match = re.search(r"<!DOCTYPE", text, re.IGNORECASE)
    if match:
        number = text[: match.start()].count("\n") + 1
        raise ParseError("unexpected DOCTYPE in XML", number, text.split("\n")[number - 1])
    return text


def _power_limit(gpu: ET.Element) -> float | None:
    for path in ("gpu_power_readings/current_power_limit", "power_readings/current_power_limit",
                 "power_readings/power_limit", "gpu_power_readings/power_limit"):
        value = _text(gpu, path)
        if value is not None:
            return to_float(value)
    return None


def _mig_devices(gpu: ET.Element) -> list[dict[str, Any]]:
    devices = []
    for mig in gpu.findall("mig_devices/mig_device"):
        devices.append({
            "index": to_int(_text(mig, "index")),
            "gpu_instance_id": to_int(_text(mig, "gpu_instance_id")),
            "compute_instance_id": to_int(_text(mig, "compute_instance_id")),
            "memory_total_mib": to_int(_text(mig, "fb_memory_usage/total")),
        })
    return devices


def _pci_device_id(value: str | None) -> str | None:
    """nvidia-smi's '233510DE' (device, then vendor 10DE) -> '0x2335'; None when absent."""
    text = (value or "").strip().lower()
    text = text[2:] if text.startswith("0x") else text
    return f"0x{text[:4]}" if re.fullmatch(r"[0-9a-f]{4}10de", text) else None


def parse_query_xml(text: str) -> dict[str, Any]:
    """Parse ``nvidia-smi -q -x``."""
    text = check_text(text)
    start = text.find("<?xml")
    if start < 0:
        start = text.find("<nvidia_smi_log")
    if start < 0:
        detect_error(text)
        number, line = first_content_line(text)
        raise ParseError("not nvidia-smi XML output", number or 1, line)
    body = " " * start + text[start:]
    body = _safe_xml(body)
    try:
        root = ET.fromstring(body.lstrip())
    except ET.ParseError as exc:
        row = getattr(exc, "position", (1, 0))[0] or 1
        # position is relative to the stripped body; count lines skipped by lstrip
        skipped = body[: len(body) - len(body.lstrip())].count("\n")
        row += skipped
        lines = text.split("\n")
        raise ParseError(f"malformed nvidia-smi XML: {exc}", row, lines[min(row, len(lines)) - 1]) from exc
    if root.tag != "nvidia_smi_log":
        raise ParseError(f"root element is <{root.tag}>, not <nvidia_smi_log>")
    gpus = []
    for index, gpu in enumerate(root.findall("gpu")):
        gpus.append({
            "index": index,
            "minor_number": to_int(_text(gpu, "minor_number")),
            "uuid": _text(gpu, "uuid"),
            "name": _text(gpu, "product_name"),
            "pci_bus_id": _text(gpu, "pci/pci_bus_id") or gpu.get("id"),
            "pci_device_id": _pci_device_id(_text(gpu, "pci/pci_device_id")),
            "serial": _text(gpu, "serial"),
            "vbios_version": _text(gpu, "vbios_version"),
            "memory_total_mib": to_int(_text(gpu, "fb_memory_usage/total")),
            "persistence_mode": _bool(_text(gpu, "persistence_mode")),
            "mig_mode": _text(gpu, "mig_mode/current_mig") if _text(gpu, "mig_mode/current_mig") in (
                "Enabled", "Disabled") else None,
            "ecc_mode": _bool(_text(gpu, "ecc_mode/current_ecc")),
            "temperature_c": to_int(_text(gpu, "temperature/gpu_temp")),
            "power_limit_w": _power_limit(gpu),
            "architecture": _text(gpu, "product_architecture"),
            "pcie_link_gen_max": to_int(_text(gpu, "pci/pci_gpu_link_info/pcie_gen/max_link_gen")),
            "pcie_link_width_max": to_int(_text(gpu, "pci/pci_gpu_link_info/link_widths/max_link_width")),
            "driver_model": _text(gpu, "driver_model/current_dm"),
            "mig_devices": _mig_devices(gpu),
        })
    return {
        "driver_version": _text(root, "driver_version"),
        "cuda_version": _text(root, "cuda_version"),
        "attached_gpus": to_int(_text(root, "attached_gpus")),
        "gpus": gpus,
    }


_NUMERIC_PREFIXES = ("index", "count", "temperature.", "utilization.", "memory.", "power.", "clocks.",
                     "clocks_", "fan.", "pcie.link.", "ecc.errors.", "retired_pages.", "enforced.",
                     "encoder.stats.", "minor_number")
_UNIT = re.compile(r"^(.*?)\s*\[([^\]]*)\]\s*$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:\s*[A-Za-z%/]+)?$")
# Without a header the unit suffix is unknown: a value with one of nvidia-smi's units is a number.
_WITH_UNIT = re.compile(r"^[-+]?\d+(?:\.\d+)?\s+(?:MiB|KiB|GiB|W|MHz|%|us|ms|C|mV)$")


def _csv_value(name: str, numeric: bool, value: str, header: bool = True) -> Any:
    value = value.strip()
    if is_na(value) or value.startswith("[Requested functionality"):
        return None
    if (numeric or (not header and _WITH_UNIT.match(value))) and _NUMBER.match(value):
        number = re.match(r"^[-+]?\d+(?:\.\d+)?", value).group(0)
        return float(number) if "." in number else int(number)
    return value


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(\s*\[[^\]]*\])?$")


def _csv_fields(line: str, number: int) -> list[str]:
    try:
        return next(csv.reader([line], skipinitialspace=True))
    except (csv.Error, StopIteration) as exc:  # e.g. a stray carriage return inside a field
        raise ParseError(f"not CSV: {exc}", number, line) from exc


def _csv_keys(columns: list[str]) -> list[tuple[str, bool]]:
    keys = []
    for column in columns:
        match = _UNIT.match(column)
        name = match.group(1) if match else column
        keys.append((name, bool(match) or name.startswith(_NUMERIC_PREFIXES)))
    return keys


def parse_query_csv(text: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Parse ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]``.

    Any field list nvidia-smi accepts (camelCase vGPU/fabric fields, MIG fields, 200+ columns), with or
    without unit suffixes in the header. Without a header line (``noheader``) pass the queried ``fields``;
    with them, a header line is still recognised and checked against them.
    """
    text = check_text(text)
    if not text.strip():
        raise ParseError("empty nvidia-smi CSV output")
    lines = text.split("\n")
    number, header_line = first_content_line(text)
    columns = [c.strip() for c in _csv_fields(header_line, number)]
    is_header = bool(columns) and all(_FIELD.match(c) for c in columns)
    if fields is not None:
        wanted = [f.strip() for f in fields]
        names = [k for k, _numeric in _csv_keys(columns)]
        if is_header and names != wanted:
            raise ParseError(f"header does not name the queried fields {wanted}", number, header_line)
        keys = _csv_keys(columns) if is_header else _csv_keys(wanted)
        first = number if is_header else number - 1
    elif is_header:
        keys = _csv_keys(columns)
        first = number
    else:
        detect_error(text)
        raise ParseError("not nvidia-smi CSV output (no header line)", number, header_line)
    rows = []
    for row_number in range(first, len(lines)):
        line = lines[row_number]
        if not line.strip():
            continue
        values = _csv_fields(line, row_number + 1)
        if len(values) != len(keys):
            detect_error(line)
            raise ParseError(f"expected {len(keys)} columns, got {len(values)}", row_number + 1, line)
        rows.append({name: _csv_value(name, numeric, value, is_header)
                     for (name, numeric), value in zip(keys, values)})
    return rows


def parse_topo_matrix(text: str) -> dict[str, Any]:
    """Parse ``nvidia-smi topo -m``."""
    text = _ANSI.sub("", check_text(text))
    lines = text.split("\n")
    header_at = None
    for number, line in enumerate(lines):
        if re.match(r"^\s+GPU\d+", line):
            header_at = number
            break
    if header_at is None:
        detect_error(text)
        number, line = first_content_line(text)
        raise ParseError("no topology header (GPU0 ...) found", number or 1, line)
    header = [t for t in re.split(r"\t+|\s{2,}", lines[header_at].strip()) if t]
    devices = [t for t in header if re.match(r"^(GPU|NIC)\d+$", t)]
    extras = header[len(devices):]
    matrix: dict[str, dict[str, str]] = {}
    cpu_affinity: dict[str, str | None] = {}
    numa_affinity: dict[str, str | None] = {}
    nics: dict[str, str] = {}
    for number in range(header_at + 1, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("Legend"):
            for rest in lines[number:]:
                match = re.match(r"^\s*(NIC\d+):\s*(\S+)", rest)
                if match:
                    nics[match.group(1)] = match.group(2)
            break
        tokens = [t for t in re.split(r"\t+|\s+", stripped) if t]
        name = tokens[0]
        if name not in devices:
            raise ParseError(f"row {name} is not a device of the header", number + 1, line)
        if len(tokens) < 1 + len(devices):
            raise ParseError(f"row {name} has {len(tokens) - 1} links, expected {len(devices)}",
                             number + 1, line)
        matrix[name] = dict(zip(devices, tokens[1:1 + len(devices)]))
        rest = tokens[1 + len(devices):]
        if name.startswith("GPU"):
            fields = dict(zip(extras, rest))
            cpu_affinity[name] = None if is_na(fields.get("CPU Affinity")) else fields.get("CPU Affinity")
            numa_affinity[name] = None if is_na(fields.get("NUMA Affinity")) else fields.get("NUMA Affinity")
    if not matrix:
        raise ParseError("topology header without rows", header_at + 1, lines[header_at])
    return {
        "gpus": [d for d in devices if d.startswith("GPU")],
        "nics": nics,
        "matrix": matrix,
        "cpu_affinity": cpu_affinity,
        "numa_affinity": numa_affinity,
    }
