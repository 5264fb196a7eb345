# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``slurmd -C`` parser and Slurm hostlist expand/compress (node[001-005,7],gpu[1-2]-ib)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
    check_text,
    first_content_line,
)

_INT_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory",
             "Sockets", "TmpDisk", "MemSpecLimit")
MAX_EXPAND = 1000000


def parse_slurmd_c(text: str) -> dict[str, Any]:
    """Parse ``slurmd -C``: NodeName=... CPUs=... (one or two lines, UpTime on the second)."""
    text = check_text(text)
    result: dict[str, Any] = {}
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        pairs = re.findall(r"(\w+)=(\S*)", line)
        if not pairs or not re.match(r"^(\w+=\S*\s*)+$", line):
            if "NodeName" not in result:
                raise ParseError("not slurmd -C output (expected key=value pairs)", number, raw)
            continue
        for key, value in pairs:
            if key in _INT_KEYS and re.match(r"^\d+$", value):
                result[key] = int(value)
            else:
                result[key] = None if value == "(null)" else value
    if "NodeName" not in result:
        number, line = first_content_line(text)
        raise ParseError("slurmd -C output without NodeName", number or 1, line)
    for key in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory"):
        result.setdefault(key, None)
    return result


def _split_top(text: str) -> list[str]:
    """Split at commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
            if depth > 1:
                raise ValueError(f"nested brackets in hostlist {text!r}")
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ']' in hostlist {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '[' in hostlist {text!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _expand_range(spec: str) -> list[str]:
    out = []
    for item in spec.split(","):
        item = item.strip()
        match = re.match(r"^(\d+)(?:-(\d+))?$", item)
        if not match:
            raise ValueError(f"bad range {item!r} in hostlist")
        lo, hi = match.group(1), match.group(2) or match.group(1)
        width = len(lo) if lo.startswith("0") and len(lo) > 1 else 0
        if int(hi) < int(lo):
            raise ValueError(f"descending range {item!r} in hostlist")
        if int(hi) - int(lo) >= MAX_EXPAND:
            raise ValueError(f"range {item!r} too large")
        out.extend(str(n).zfill(width) for n in range(int(lo), int(hi) + 1))
    return out


def _expand_one(pattern: str) -> list[str]:
    match = re.search(r"\[([^\]]*)\]", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end():]
    return [head + mid + rest for mid in _expand_range(match.group(1)) for rest in _expand_one(tail)]


def hostlist_expand(hostlist: str) -> list[str]:
    """'node[001-003,7],gpu1' -> ['node001', 'node002', 'node003', 'node007', 'gpu1'] (order kept)."""
    if not isinstance(hostlist, str):
        raise TypeError("hostlist must be a string")
    names: list[str] = []
    for part in _split_top(hostlist):
        for name in _expand_one(part):
            if len(names) >= MAX_EXPAND:
                raise ValueError("hostlist expands to too many names")
            names.append(name)
    return names


def _ranges(numbers: list[tuple[int, str]]) -> str:
    """[(1,'001'),(2,'002'),(5,'005')] -> '001-002,005' keeping each number's printed width."""
    chunks: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while (j + 1 < len(numbers) and numbers[j + 1][0] == numbers[j][0] + 1
               and len(numbers[j + 1][1]) == len(numbers[j][1])):
            j += 1
        chunks.append(numbers[i][1] if i == j else f"{numbers[i][1]}-{numbers[j][1]}")
        i = j + 1
    return ",".join(chunks)


def hostlist_compress(names: Iterable[str]) -> str:
    """Inverse of hostlist_expand for flat names: ['n01','n02','n03','x'] -> 'n[01-03],x'.

    Names are grouped by the text around their last number; each group keeps the order of its
    first appearance and sorted numbers; zero padding is kept. Duplicates are dropped.
    """
    if isinstance(names, str):
        names = [names]
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    order: list[Any] = []
    seen = set()
    for name in names:
        if not isinstance(name, str) or not name or any(c in name for c in ",[] "):
            raise ValueError(f"cannot compress host name {name!r}")
        if name in seen:
            continue
        seen.add(name)
        match = re.match(r"^(.*?)(\d+)(\D*)$", name)
        if not match:
            order.append(name)
            continue
        key = (match.group(1), match.group(3))
        digits = match.group(2)
        # a number printed with leading zeros keeps its width; '0' itself has none
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((int(digits), digits))
    out = []
    for item in order:
        if isinstance(item, str):
            out.append(item)
            continue
        head, tail = item
        numbers = sorted(set(groups[item]), key=lambda n: (n[0], len(n[1])))
        if len(numbers) == 1:
            out.append(head + numbers[0][1] + tail)
        else:
            out.append(f"{head}[{_ranges(numbers)}]{tail}")
    return ",".join(out)


_SCONTROL_KEY = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_:/.]*)=")


def parse_scontrol_nodes(text: str) -> list[dict[str, Any]]:
    """Parse ``scontrol show node --oneliner``: one dict per ``NodeName=`` line.

    Values keep their text (``State`` such as ``IDLE+CLOUD``, ``Reason`` with its spaces);
    ``State`` is also split into ``state`` (base state, lower case) and ``flags``.
    """
    text = check_text(text)
    nodes = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("NodeName="):
            if line.startswith("No nodes in the system"):
                continue
            raise ParseError("not scontrol show node --oneliner output", number, raw)
        keys = list(_SCONTROL_KEY.finditer(line))
        node: dict[str, Any] = {}
        for i, match in enumerate(keys):
            end = keys[i + 1].start() if i + 1 < len(keys) else len(line)
            node[match.group(1)] = line[match.end():end].strip()
        state = node.get("State", "")
        parts = state.split("+")
        node["state"] = parts[0].rstrip("*").lower() or None
        node["flags"] = [p.lower() for p in parts[1:]]
        # Slurm < 23.02 marks it with '*' (DOWN*), later releases with a NOT_RESPONDING flag.
        node["not_responding"] = parts[0].endswith("*") or "not_responding" in node["flags"]
        for key in ("CPUTot", "CPUAlloc", "RealMemory", "Sockets", "CoresPerSocket", "ThreadsPerCore", "Boards"):
            if key in node and re.match(r"^\d+$", node[key]):
                node[key] = int(node[key])
        nodes.append(node)
    return nodes


SQUEUE_FORMAT = "%i|%T|%N|%u|%j|%D"


def parse_squeue(text: str) -> list[dict[str, Any]]:
    """Parse ``squeue -h -o '%i|%T|%N|%u|%j|%D'`` (job id, state, nodes, user, name, node count)."""
    text = check_text(text)
    jobs = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        fields = line.split("|", 4)
        if len(fields) == 5 and "|" in fields[4]:
            name, count = fields[4].rsplit("|", 1)
            fields = [*fields[:4], name, count]
        # job ids: 12, 12_3 (array task), 12_[1-10%2] (pending array), 1234+0 (het job)
        if len(fields) != 6 or not re.match(r"^\d+(\+\d+)?(_(\d+|\[[^\]]*\]))?$", fields[0]) \
                or not re.fullmatch(r"[0-9]+", fields[5]):
            raise ParseError(f"not squeue -o '{SQUEUE_FORMAT}' output", number, raw)
        job_id, state, nodelist, user, name, count = fields
        try:
            nodes = hostlist_expand(nodelist) if nodelist and not nodelist.startswith("(") else []
        except ValueError as exc:
            raise ParseError(f"bad node list {nodelist!r}: {exc}", number, raw) from None
        jobs.append({"job_id": job_id, "state": state, "nodelist": nodelist, "nodes": nodes,
                     "user": user, "name": name, "node_count": int(count)})
    return jobs


_LOG_PREFIX = re.compile(r"^(?:slurmd(?:-[^:\s]+)?:|\[\d{4}-\d\d-\d\dT[\d:.]+\])\s*")
_GRES_KEYS = {"Name": "name", "Type": "type", "Count": "count", "Index": "index", "ID": "plugin_id",
              "File": "file", "Cores": "cores", "CoreCnt": "core_count", "Links": "links",
              "Flags": "flags"}


def parse_slurmd_gres(text: str) -> dict[str, Any]:
    """Parse ``slurmd -G`` (what slurmd makes of slurm.conf + gres.conf, printed to stderr).

    Returns ``gres`` (one dict per ``Gres Name=...`` record: name, type, count, index, file...),
    ``errors`` (``error:`` and ``fatal:`` lines), ``warnings`` (``WARNING:`` lines) and
    ``notes`` (any other log line, e.g. ``s_p_parse_file: file ... is empty``). slurmd exits 0
    after a WARNING or a bad device ``error:``, so callers must look at both lists. Lines of
    slurmd's log file (``[2026-11-23T18:09:24.862] error: ...``, from ``-L FILE``) are read too.
    """
    text = check_text(text)
    result: dict[str, Any] = {"gres": [], "errors": [], "warnings": [], "notes": []}
    for number, raw in enumerate(text.split("\n"), 1):
        line = _LOG_PREFIX.sub("", raw.strip())
        if not line:
            continue
        lower = line.lower()
        if lower.startswith(("error:", "fatal:")):
            result["errors"].append(line)
        elif lower.startswith("warning:"):
            result["warnings"].append(line)
        elif line.startswith("Gres "):
            record: dict[str, Any] = {}
            for key, value in re.findall(r"(\w+)=(\S*)", line):
                if key not in _GRES_KEYS:
                    continue
                if value == "(null)":
                    value = None
                elif key in ("Count", "Index", "ID", "CoreCnt") and re.fullmatch(r"[0-9]+", value):
                    value = int(value)
                record[_GRES_KEYS[key]] = value
            if "name" not in record or "count" not in record:
                raise ParseError("slurmd -G Gres record without Name= and Count=", number, raw)
            result["gres"].append(record)
        elif _LOG_PREFIX.match(raw.strip()):
            result["notes"].append(line)
        else:
            raise ParseError("not slurmd -G output (expected 'slurmd[-node]: ...' log lines)", number, raw)
    return result
