# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser for the output of nccl-tests (all_reduce_perf, all_gather_perf, sendrecv_perf, ...)."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

# What launchers put before each line: mpirun --tag-output ('[1,0]<stdout>:'), srun --label (' 0: '), pdsh and
# friends ('host: '), timestamps ('2025-01-02T03:04:05.678Z ', '[2025-01-02 03:04:05] '). Repeated, in any order.
_PREFIX = re.compile(
    r"^\s*(?:(?:\[\d+,\d+\]<std(?:out|err)>:|\[1,\d+\]:|\d+:(?=\s|$)|[A-Za-z][\w.-]*:(?=\s)"
    r"|\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?"
    r"|\[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\])\s*)+")
_RANK = re.compile(r"^#\s*Rank\s+(\d+)\s+(?:Group\s+\d+\s+)?(?:Pid\s+\d+\s+)?on\s+(\S+)\s+device\s+(\d+)"
                   r"(?:\s+\[[^\]]*\])?\s*(.*?)\s*$")
_RANK_ANY = re.compile(r"#\s*Rank\s+\d+\s")
# A run that died: nccl-tests' own failure lines, CUDA/NCCL failures, MPI aborts. An NCCL WARN counts only once
# the result table has begun (warnings during init, such as a missing libibverbs, are often harmless).
_CRASH = re.compile(r"Test (?:CUDA |NCCL )?failure\b|\bCuda failure\b|^NCCL failure\b"
                    r"|MPI_ABORT was invoked|Segmentation fault|\bcore dumped\b", re.IGNORECASE)
_WARN = re.compile(r"\bNCCL WARN\b")
_VIA = re.compile(r"NCCL INFO .*? via (\S+)")
_AVG = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*([-\d.eE+]+|nan|N/A)")
_OOB = re.compile(r"^#\s*Out of bounds values\s*:\s*(\d+)")
_FLOAT = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_TYPES = {"int8", "uint8", "int32", "uint32", "int64", "uint64", "half", "float", "double", "bfloat16",
          "fp8_e4m3", "fp8_e5m2", "int", "char"}


def _f(value: str) -> float | None:
    return float(value) if _FLOAT.match(value) else None


_UINT = re.compile(r"[0-9]+")  # str.isdigit() also takes '²', which int() refuses


def _wrong(value: str) -> int | None:
    return int(value) if _UINT.fullmatch(value) else None


def _strip(raw: str) -> str:
    line = _PREFIX.sub("", raw, count=1).strip()
    if not line.startswith("#") and "#" in line:
        tail = line[line.index("#"):]  # an unknown prefix before a comment line
        header = tail.lstrip("#").split()[:2] == ["size", "count"]
        if header or _RANK_ANY.match(tail) or _AVG.match(tail) or _OOB.match(tail):
            return tail
    return line


def _row_fields(line: str) -> list[str]:
    fields = line.split()
    if len(fields) >= 3 and _UINT.fullmatch(fields[0]) and _UINT.fullmatch(fields[1]):
        return fields
    for start in range(1, max(len(fields) - 2, 1)):  # an unknown prefix before a result row: anchor on the type
        if fields[start + 2] in _TYPES and _UINT.fullmatch(fields[start]) and _UINT.fullmatch(fields[start + 1]):
            return fields[start:]
    return fields


def parse_nccl_tests(text: str) -> dict[str, Any]:
    """Parse one nccl-tests run (old ``error`` and new ``#wrong`` layouts, with or without root).

    Lines may carry a launcher prefix (mpirun --tag-output, srun --label, host names, timestamps). A run that
    failed (``Test NCCL failure``, ``Cuda failure``, ``NCCL WARN``, ...) without a later ``# Avg bus bandwidth``
    raises ParseError naming the first failure line.
    """
    text = check_text(text)
    rows: list[dict[str, Any]] = []
    ranks: list[dict[str, Any]] = []
    transports: list[str] = []
    columns: list[str] | None = None
    avg = None
    oob = None
    crash: tuple[int, str] | None = None
    warn: tuple[int, str] | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = _strip(raw)
        if not line:
            continue
        if crash is None and (_CRASH.search(line) or (columns is not None and _WARN.search(line))):
            crash = (number, raw)
        if warn is None and _WARN.search(line):
            warn = (number, raw)
        if "NCCL INFO" in line:
            match = _VIA.search(line)
            if match and match.group(1) not in transports:
                transports.append(match.group(1))
            continue
        if line.startswith("#"):
            match = _RANK.match(line)
            if match:
                ranks.append({"rank": int(match.group(1)), "host": match.group(2),
                              "device": int(match.group(3)), "name": match.group(4)})
                continue
            if _RANK_ANY.match(line):
                raise ParseError("rank line not understood", number, raw)
            match = _AVG.match(line)
            if match:
                avg = _f(match.group(1))
                crash = None  # the run went on to the end: the failure lines were not fatal
                continue
            match = _OOB.match(line)
            if match:
                oob = int(match.group(1))
                continue
            tokens = line.lstrip("#").split()
            if tokens[:2] in (["size", "count"], ["bytes", "N"]):
                columns = tokens
            continue
        fields = _row_fields(line)
        if columns is None or len(fields) < 8 or not _UINT.fullmatch(fields[0]) or not _UINT.fullmatch(fields[1]):
            continue
        has_redop = "redop" in columns or "op" in columns
        has_root = "root" in columns
        idx = 2
        dtype = fields[idx] if fields[idx] in _TYPES or not _FLOAT.match(fields[idx]) else None
        idx += 1
        redop = None
        if has_redop:
            redop = fields[idx]
            idx += 1
        root = None
        if has_root:
            root = int(fields[idx]) if re.match(r"^-?\d+$", fields[idx]) else None
            idx += 1
        rest = fields[idx:]
        if len(rest) < 8:
            continue
        old_layout = "error" in columns or "res" in columns
        row = {
            "size_bytes": int(fields[0]), "count": int(fields[1]), "type": dtype, "redop": redop, "root": root,
            "oop_time_us": _f(rest[0]), "oop_algbw_gbps": _f(rest[1]), "oop_busbw_gbps": _f(rest[2]),
            "oop_wrong": None if old_layout else _wrong(rest[3]),
            "ip_time_us": _f(rest[4]), "ip_algbw_gbps": _f(rest[5]), "ip_busbw_gbps": _f(rest[6]),
            "ip_wrong": None if old_layout else _wrong(rest[7]),
        }
        if old_layout:
            row["oop_error"] = _f(rest[3])
            row["ip_error"] = _f(rest[7])
        rows.append(row)
    if crash is not None:
        raise ParseError("the nccl-tests run failed before its summary", crash[0], crash[1].strip())
    if not rows:
        number, line = warn or first_content_line(text)
        raise ParseError("no complete nccl-tests result row found", number or 1, line.strip())
    return {
        "rows": rows,
        "avg_busbw_gbps": avg,
        "wrong_total": sum((r["oop_wrong"] or 0) + (r["ip_wrong"] or 0) for r in rows),
        "out_of_bounds": oob,
        "ranks": ranks,
        "transports": transports,
    }
