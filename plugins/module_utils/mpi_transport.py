# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which transport MPI uses, decided from the node's RDMA ports and what Open MPI was built with.

Pure functions, no I/O. ``parse_ompi_components`` reads ``ompi_info --parsable``; ``parse_pml_selection``
reads the ``--mca pml_base_verbose 10`` lines of a run ("[node0:4329] select: component ob1 selected");
``choose`` decides: UCX on the active RDMA ports when Open MPI has the UCX PML, TCP when the node has
no usable RDMA port or when asked, and a problem (never a silent fallback) when RDMA ports are active
but Open MPI cannot use them.
"""

from __future__ import annotations

import re

_COMPONENT = re.compile(r"^mca:(?P<framework>[a-z0-9_]+):(?P<component>[a-z0-9_]+):version:")
_VERSION = re.compile(r'^ompi:version:full:"?(?P<version>[0-9][^"]*)"?$')
_SELECTED = re.compile(r"^\[(?P<host>[^:\]]+):\d+\] select: component (?P<component>[a-z0-9_]+) selected$")
TRANSPORTS = ("auto", "ucx", "tcp")


def parse_ompi_components(text: str) -> dict:
    """``ompi_info --parsable`` -> {version, components: {framework: [component, ...]}} (in printed order)."""
    components: dict = {}
    version = None
    for line in text.splitlines():
        line = line.strip()
        match = _COMPONENT.match(line)
        if match:
            names = components.setdefault(match["framework"], [])
            if match["component"] not in names:
                names.append(match["component"])
            continue
        match = _VERSION.match(line)
        if match:
            version = match["version"]
    return {"version": version, "components": components}


def parse_pml_selection(text: str) -> dict:
    """The PML each rank's process selected, by short host name: {host: [pml, ...]} (one entry per rank)."""
    selected: dict = {}
    for line in text.splitlines():
        match = _SELECTED.match(line.strip())
        if match:
            selected.setdefault(match["host"].split(".")[0], []).append(match["component"])
    return selected


def hello_lines(nodes: list[str]) -> list[str]:
    """What the openmpi role's MPI hello (templates/mpi-hello.py.j2) prints with one rank per node, in the
    order of ``nodes`` (mpirun --host node0:1,node1:1,...): ``rank 0 of 3 on node0``, ..."""
    return [f"rank {rank} of {len(nodes)} on {node}" for rank, node in enumerate(nodes)]


def choose(requested: str, hca: dict | None, components: dict) -> dict:
    """{transport, pml, params (MCA parameters), reason, problems}.

    ``hca``: the rdma_hca_choice result of the node ({hca: 'mlx4_0:2', gid_index: 3, ports}), or None;
    ``components``: parse_ompi_components(...)['components'].
    """
    hca = hca or {}
    pmls = components.get("pml") or []
    ports = hca.get("hca") or ""
    why_not = "; ".join(p.get("reason", "") for p in hca.get("ports") or [] if not p.get("use"))
    if requested not in TRANSPORTS:
        return {"transport": None, "pml": None, "params": {}, "reason": "",
                "problems": ["openmpi_transport must be one of %s, got %s" % (", ".join(TRANSPORTS), requested)]}
    if requested == "tcp":
        although = " although RDMA ports %s are active" % ports if ports else ""
        return {"transport": "tcp", "pml": "ob1", "params": {}, "problems": [],
                "reason": "TCP as asked (openmpi_transport: tcp)" + although}
    if not ports:
        if requested == "ucx":
            return {"transport": None, "pml": None, "params": {}, "reason": "", "problems": [
                "openmpi_transport is ucx but this node has no usable RDMA port (%s)" % (why_not or "no RDMA device")]}
        return {"transport": "tcp", "pml": "ob1", "params": {}, "problems": [],
                "reason": "TCP: no usable RDMA port on this node (%s)" % (why_not or "no RDMA device")}
    if "ucx" not in pmls:
        return {"transport": None, "pml": None, "params": {}, "reason": "", "problems": [
            "RDMA ports %s are active but this Open MPI has no UCX PML (its PMLs: %s): MPI would fall back to TCP "
            "without saying so. Install an Open MPI built with UCX, or set openmpi_transport: tcp to accept TCP"
            % (ports, ", ".join(pmls) or "none")]}
    gid = "" if hca.get("gid_index") is None else " (RoCE v2 GID index %s)" % hca["gid_index"]
    env = ["UCX_NET_DEVICES=%s" % ports]
    if hca.get("gid_index") is not None:
        env.append("UCX_IB_GID_INDEX=%s" % hca["gid_index"])
    return {"transport": "ucx", "pml": "ucx", "problems": [],
            "params": {"pml": "ucx", "osc": "ucx", "mca_base_env_list": ";".join(env)},
            "reason": "UCX on %s%s" % (ports, gid)}
