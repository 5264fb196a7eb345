"""Time the parsers on large inputs: a 64-GPU nvidia-smi XML built by replicating the real H100 <gpu>
block captured on the GPU machine, and a 10,000-row nccl-tests log built from a real GB200 row.

Usage: .venv/bin/python scripts/bench_parsers.py   (exits 1 when a parse takes a second or more)
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".cache" / "collections"))
sys.path.insert(0, str(REPO / "tests" / "unit"))
# tests/unit/conftest.py links this checkout into .cache/collections when imported; the
# collection import below has to follow it and the sys.path set-up above.
importlib.import_module("conftest")
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import (  # noqa: E402
    nccl_tests,
    nvidia_smi,
)

FIX = REPO / "tests" / "unit" / "plugins" / "module_utils" / "parsers" / "fixtures"


def big_xml(gpus: int = 64) -> str:
    text = (FIX / "nvidia_smi" / "h100-580-q-x.xml").read_text()
    start, end = text.index("<gpu "), text.index("</gpu>") + len("</gpu>")
    block = text[start:end]
    return text[:start] + "\n".join([block] * gpus) + text[end:]


def big_nccl(rows: int = 10000) -> str:
    lines = (FIX / "nccl_tests" / "gb200-nvl72-allreduce-new-layout.txt").read_text().split("\n")
    header = "\n".join(lines[:5])
    return header + "\n" + "\n".join([lines[5]] * rows) + "\n" + "\n".join(lines[10:])


def best_of(func, text: str, runs: int = 5) -> float:
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        func(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    xml, log = big_xml(), big_nccl()
    t_xml = best_of(nvidia_smi.parse_query_xml, xml)
    t_log = best_of(nccl_tests.parse_nccl_tests, log)
    assert len(nvidia_smi.parse_query_xml(xml)["gpus"]) == 64
    assert len(nccl_tests.parse_nccl_tests(log)["rows"]) == 10000
    print(f"nvidia_smi.parse_query_xml   64 GPUs     {len(xml) / 1e6:6.2f} MB  {t_xml * 1000:8.1f} ms")
    print(f"nccl_tests.parse_nccl_tests  10000 rows  {len(log) / 1e6:6.2f} MB  {t_log * 1000:8.1f} ms")
    return 0 if max(t_xml, t_log) < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
