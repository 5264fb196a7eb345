"""Fixture discovery and golden results shared by the golden tests and the regeneration command.

Regenerate after a deliberate parser change:
    .venv/bin/python -m tests.unit.plugins.module_utils.parsers.golden
(then review the diff of every *.expected.json).
"""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.gpuforge.cluster.plugins.module_utils import node_model
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers import (
    flint,
    ibdiag,
    ibstat,
    iperf3,
    nccl_tests,
    nvidia_smi,
    perftest,
    rdma_gid,
    slurm,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import (
    ParseError,
)

FIXTURES = Path(__file__).parent / "fixtures"


def parser_for(path: Path):
    tool = path.parent.name
    if tool == "nvidia_smi":
        return nvidia_smi.parse_query_csv if path.suffix == ".csv" else nvidia_smi.parse_query_xml
    return {
        "topo": nvidia_smi.parse_topo_matrix,
        "ibstat": ibstat.parse_ibstat,
        "ibswitches": ibdiag.parse_ibswitches,
        "iblinkinfo": ibdiag.parse_iblinkinfo,
        "ibportstate": ibdiag.parse_ibportstate,
        "sminfo": ibdiag.parse_sminfo,
        "flint": flint.parse_flint_query,
        "perftest": perftest.parse_perftest,
        "iperf3": iperf3.parse_iperf3_json,
        "rdma_gid": rdma_gid.parse_show_gids,
        "ibv_devinfo": rdma_gid.parse_ibv_devinfo_gids,
        "nccl_tests": nccl_tests.parse_nccl_tests,
        "slurm": slurm.parse_slurmd_c,
        "slurmd_gres": slurm.parse_slurmd_gres,
        "ip": lambda text: {"interfaces": node_model.parse_ip_addr(text)},
    }[tool]


def fixture_files() -> list[Path]:
    files = []
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name == "device_capture" or path.suffix not in (".txt", ".xml", ".csv"):
            continue
        files.append(path)
    return files


def result_for(path: Path) -> dict:
    try:
        value = parser_for(path)(path.read_text(encoding="utf-8"))
    except ParseError as exc:
        return {
            "error": type(exc).__name__,
            "reason": getattr(exc, "reason", None),
            "line_number": exc.line_number,
        }
    return json.loads(json.dumps(value))


def expected_path(path: Path) -> Path:
    return path.with_name(path.stem + ".expected.json")


if __name__ == "__main__":
    for fixture in fixture_files():
        expected_path(fixture).write_text(json.dumps(result_for(fixture), indent=2, sort_keys=True) + "\n")
        print(fixture.relative_to(FIXTURES))
