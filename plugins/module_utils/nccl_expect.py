# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an nccl-tests run should show on this hardware (pure functions), and the verdict on a run.

Intra-node: from ``nvidia-smi topo -m`` (parsers.nvidia_smi.parse_topo_matrix) and the GPUs
(parse_query_xml: name, architecture, PCIe generation and width), the transport NCCL uses between the
GPUs and a bus-bandwidth floor as a fraction of the weakest link's peak. Inter-node: NET/IB or
NET/Socket from the fabric, GPUDirect RDMA (nvidia-peermem) expected or not, and the link floor.

Sources and choices (checked 2026-11):
- Transports: NCCL's topology code (src/graph/paths.cc, ncclTopoCheckP2p) uses P2P between GPUs joined
  by NVLink, and over PCIe up to PXB (a path through PCIe switches, not the CPU); through the CPU's host
  bridge (PHB, NODE, SYS) it uses P2P on AMD x86 and SHM (a copy through host memory) on Intel x86 and
  ARM. GeForce boards expose no PCIe peer-to-peer in the driver, so NCCL uses SHM between them.
- NVLink peak per link and direction: 25 GB/s for NVLink 2 (V100: 300 GB/s over 6 links, both
  directions), NVLink 3 (A100: 600 GB/s, 12 links) and NVLink 4 (H100/H200: 900 GB/s, 18 links); 50 GB/s
  for NVLink 5 (B200: 1.8 TB/s, 18 links) - NVIDIA's product datasheets.
- PCIe per lane and direction after encoding: Gen3 0.985, Gen4 1.969, Gen5 3.938, Gen6 7.563 GB/s.
- Floors: 50 % of the NVLink peak, 40 % of the PCIe peak for P2P, 25 % of it for SHM. Measured here:
  2x H200 NV18 all_reduce 8 GiB busbw 346.7 GB/s (77 % of 450); with NCCL_P2P_DISABLE=1 it fell to
  29.96 GB/s over SHM (docs/hardware-results.md). R1's 2x V100 on PCIe Gen3 ran at 7.09 GB/s over SHM
  (45 % of 15.8).
"""

from __future__ import annotations

import re
from typing import Any

NVLINK_LINK_GBPS = {"Volta": 25.0, "Ampere": 25.0, "Hopper": 25.0, "Blackwell": 50.0}
PCIE_LANE_GBPS = {3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}
FLOOR_FRACTION = {"nvlink": 0.5, "pcie_p2p": 0.4, "shm": 0.25}
_RANK = {"host": 0, "pcie_switch": 1, "nvlink": 2}
_NV = re.compile(r"^NV(\d+)$")


def link_kind(code: str) -> tuple[str, int | None]:
    """'NV18' -> ('nvlink', 18); 'PIX'/'PXB' -> ('pcie_switch', None); 'PHB'/'NODE'/'SYS' -> ('host', None)."""
    match = _NV.match(code or "")
    if match:
        return "nvlink", int(match.group(1))
    if code in ("PIX", "PXB"):
        return "pcie_switch", None
    if code in ("PHB", "NODE", "SYS"):
        return "host", None
    raise ValueError(f"unknown topology link '{code}'")


def _pcie_peak(gpus: list[dict[str, Any]]) -> float | None:
    peaks = []
    for gpu in gpus:
        gen, width = gpu.get("pcie_link_gen_max"), gpu.get("pcie_link_width_max")
        if gen not in PCIE_LANE_GBPS or not width:
            return None
        peaks.append(PCIE_LANE_GBPS[gen] * width)
    return round(min(peaks), 2) if peaks else None


def _describe_pcie(gpus: list[dict[str, Any]]) -> str:
    gen = min(g.get("pcie_link_gen_max") or 0 for g in gpus)
    width = min(g.get("pcie_link_width_max") or 0 for g in gpus)
    return f"PCIe Gen{gen} x{width}" if gen and width else "PCIe of unknown generation"


def intra_expectation(
    topology: dict[str, Any], gpus: list[dict[str, Any]], cpu_vendor: str | None = None
) -> dict:
    """Expected transport and busbw floor for one all-GPU run on this node.

    topology: parse_topo_matrix(); gpus: parse_query_xml()['gpus'] in index order; cpu_vendor: the first
    processor field Ansible reports (GenuineIntel, AuthenticAMD) or None when unknown.
    Returns {transport (P2P, SHM or None: either is fine), forbid (prefixes), floor_gbps, peak_gbps, link, why}."""
    names = topology.get("gpus") or []
    used = gpus[: len(names)] if gpus else []
    if len(names) < 2:
        return {
            "transport": None,
            "forbid": [],
            "floor_gbps": None,
            "peak_gbps": None,
            "link": None,
            "why": f"{len(names)} GPU: no transfer between GPUs to judge",
        }
    matrix = topology["matrix"]
    weakest = None
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            kind, links = link_kind(matrix[a][b])
            key = (_RANK[kind], links or 0)
            if weakest is None or key < weakest[0]:
                weakest = (key, kind, links, matrix[a][b], f"{a}-{b}")
    _key, kind, links, code, pair = weakest
    geforce = any("GeForce" in (g.get("name") or "") for g in used)
    arch = {g.get("architecture") for g in used} - {None}
    vendor = (cpu_vendor or "").strip()
    if kind == "nvlink":
        per_link = min((NVLINK_LINK_GBPS.get(a) for a in arch if a in NVLINK_LINK_GBPS), default=None)
        peak = round(per_link * links, 2) if per_link and len(arch) == 1 else None
        transport, fraction = "P2P", FLOOR_FRACTION["nvlink"]
        why = f"{len(names)} GPUs, weakest pair {pair} {code}: {links} NVLinks" + (
            f" x {per_link} GB/s = {peak} GB/s per direction" if peak else " of unknown generation"
        )
    else:
        peak = _pcie_peak(used)
        pcie = _describe_pcie(used)
        if geforce:
            transport, reason = "SHM", "GeForce boards have no PCIe peer-to-peer"
        elif kind == "pcie_switch":
            transport, reason = "P2P", "through PCIe switches"
        elif vendor == "AuthenticAMD":
            transport, reason = "P2P", "through the CPU (AMD x86 allows P2P there)"
        elif vendor in ("GenuineIntel",) or vendor.startswith("ARM") or vendor == "aarch64":
            transport, reason = "SHM", f"through the CPU ({vendor}: NCCL copies through host memory)"
        else:
            transport, reason = None, "through the CPU on an unknown platform (P2P or SHM)"
        fraction = FLOOR_FRACTION["pcie_p2p" if transport == "P2P" else "shm"]
        why = f"{len(names)} GPUs, weakest pair {pair} {code}, {pcie}" + (
            f" = {peak} GB/s per direction" if peak else ""
        )
        why += f", {reason}"
    floor = round(peak * fraction, 2) if peak else None
    forbid = ["NET"] + (["SHM"] if transport == "P2P" else [])
    return {
        "transport": transport,
        "forbid": forbid,
        "floor_gbps": floor,
        "peak_gbps": peak,
        "link": code,
        "why": why + (f"; floor {int(fraction * 100)} % = {floor} GB/s" if floor else "; no busbw floor"),
    }


def inter_expectation(rdma: bool, gdr: bool | None, link_floor_gbps: float | None) -> dict:
    """Expected network transport across nodes: NET/IB (RDMA) with GDRDMA where nvidia-peermem is loaded, else
    NET/Socket; without GPUDirect RDMA the data is staged through host memory, so the floor is 3/4 of the link's."""
    if not rdma:
        return {
            "transport": "NET/Socket",
            "forbid": [],
            "gdr": False,
            "floor_gbps": link_floor_gbps,
            "why": "no RDMA device: TCP sockets",
        }
    floor = link_floor_gbps if gdr or link_floor_gbps is None else round(link_floor_gbps * 0.75, 2)
    return {
        "transport": "NET/IB",
        "forbid": ["NET/Socket"],
        "gdr": bool(gdr),
        "floor_gbps": floor,
        "why": "RDMA devices present"
        + (
            "; nvidia-peermem loaded: GPUDirect RDMA (GDRDMA) expected"
            if gdr
            else "; no nvidia-peermem: buffers staged through host memory"
        ),
    }


def judge(expectation: dict, transports: list[str], busbw_gbps: float, nranks: int) -> list[dict]:
    """Checks of one run against an expectation: one message naming what was expected and what came."""
    used = ", ".join(transports) or "no inter-rank transport"
    checks = []
    want = expectation.get("transport")
    floor = expectation.get("floor_gbps")
    floor_text = f"busbw >= {floor} GB/s" if floor else "no busbw floor"
    got = f"got {used} at {busbw_gbps} GB/s"
    if want:
        ok = any(t.startswith(want) for t in transports)
        checks.append(
            {
                "name": f"transport {want}",
                "ok": ok,
                "msg": f"expected {want} ({floor_text}; {expectation.get('why')}), {got}",
            }
        )
    for bad in expectation.get("forbid") or []:
        checks.append(
            {
                "name": f"no transport {bad}",
                "ok": not any(t.startswith(bad) for t in transports),
                "msg": f"must not use {bad}: {got}",
            }
        )
    if expectation.get("gdr"):
        checks.append(
            {
                "name": "GPUDirect RDMA",
                "ok": any("GDRDMA" in t for t in transports),
                "msg": f"expected GPUDirect RDMA (GDRDMA), {got}",
            }
        )
    if floor and nranks > 1:
        checks.append(
            {
                "name": "busbw floor",
                "ok": busbw_gbps >= floor,
                "msg": f"busbw {busbw_gbps} GB/s, expected >= {floor} GB/s ({expectation.get('why')})",
            }
        )
    return checks


def results_summary(runs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures of each nccl_tests run that ran: ``{'intra': registered result, ...}`` (a run skipped or
    not parsed has no ``result``) -> ``{'intra': {'ranks': 2, 'hosts': [...], 'busbw_max_size_gbps': ...,
    'checks': [msg, ...]}}``, in the order given."""
    out = {}
    for name, run in runs.items():
        if not isinstance(run, dict) or "result" not in run:
            continue
        result = run["result"]
        ranks = result["ranks"]
        out[name] = {
            "ranks": len(ranks),
            "hosts": list(dict.fromkeys(r["host"] for r in ranks)),
            "busbw_max_size_gbps": run["busbw_max_size_gbps"],
            "algbw_max_size_gbps": run["algbw_max_size_gbps"],
            "size_max_bytes": run["size_max_bytes"],
            "wrong_total": result["wrong_total"],
            "avg_busbw_gbps": result["avg_busbw_gbps"],
            "transports": result["transports"],
            "checks": [c["msg"] for c in run["checks"]],
        }
    return out
