# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict on ``slurmd -G`` output against the GPUs a node has (pure functions).

Input is what parsers.slurm.parse_slurmd_gres makes of ``slurmd -G -f CONF -N NODE`` (GRES records,
``error:``/``fatal:`` lines, ``WARNING:`` lines) and the expected GPUs as (type, device file) pairs.
slurmd 22.05 exits 0 after a WARNING (more GPUs in gres.conf than in slurm.conf's Gres=) and after a
File= that is not a character device, and accepts fewer File= lines than Gres= counts without a word;
slurmctld later drains such a node. So the verdict looks at the lines and compares the GPUs itself.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# error: lines that mean the GRES configuration is wrong (the rest are slurmd's start-up noise: no spool
# directory yet, "Node configuration differs from hardware" when slurm.conf declares less than the node has).
BLOCKING_ERROR = re.compile(r"^fatal:|gres|parse|parsing|unrecognized key|device|file=", re.IGNORECASE)


def parse_expected(entries: list[str]) -> list[tuple[str, str]]:
    """``["h100:/dev/nvidia0"]`` -> ``[("h100", "/dev/nvidia0")]``; ValueError naming the first bad entry."""
    expected = []
    for entry in entries:
        gres_type, sep, path = entry.partition(":")
        if not sep or not gres_type or not path.startswith("/"):
            raise ValueError(f"expected entries are TYPE:/dev/FILE, got {entry!r}")
        expected.append((gres_type, path))
    return expected


def is_blocking(line: str) -> bool:
    """Whether an ``error:``/``fatal:`` line of slurmd is about the GRES or the configuration files."""
    return bool(BLOCKING_ERROR.search(line))


def judge(parsed: dict[str, Any], expected: list[tuple[str, str]], rc: int = 0) -> tuple[list[str], list[str]]:
    """Problems (list of text, empty when slurmd gives exactly ``expected``) and the GPUs slurmd sees
    (``type:file`` strings, in its order).

    ``parsed`` is parse_slurmd_gres's dict, ``expected`` the (type, file) pairs, ``rc`` slurmd's exit
    status: a non-zero one comes first, with the error lines that explain it unless already listed.
    """
    blocking = [line for line in parsed["errors"] if is_blocking(line)]
    problems = [f"slurmd said: {line}" for line in blocking + parsed["warnings"]]
    seen = []
    for rec in parsed["gres"]:
        if rec.get("name") != "gpu":
            continue
        if rec.get("count") != 1:
            problems.append(f"a gpu record counts {rec.get('count')} devices in one line ({rec.get('file')});"
                            " expected one line per device file")
        seen.append((rec.get("type"), rec.get("file")))
    want = Counter(expected)
    got = Counter(seen)
    missing = sorted((want - got).elements(), key=str)
    extra = sorted((got - want).elements(), key=str)
    if missing:
        problems.append("missing: " + ", ".join(f"{t}:{f}" for t, f in missing))
    if extra:
        problems.append("not expected: " + ", ".join(f"{t}:{f}" for t, f in extra))
    if rc != 0:
        reasons = [line for line in parsed["errors"] if f"slurmd said: {line}" not in problems]
        if reasons:
            why = ": " + "; ".join(reasons)
        elif parsed["errors"]:
            why = ""
        else:
            why = " and logged nothing (run it by hand with -vvv)"
        problems.insert(0, f"slurmd -G exited {rc}{why}")
    return problems, [f"{t}:{f}" for t, f in seen]


def failure_message(node: str, config: str | None, expected: list[tuple[str, str]], problems: list[str]) -> str:
    """The module's msg when judge() found problems."""
    want = ", ".join(f"{t}:{f}" for t, f in expected) or "none"
    return (f"slurmd -G for node {node} ({config or 'given output'}) does not give the GPUs nvidia-smi "
            f"found ({want}): " + "; ".join(problems))
