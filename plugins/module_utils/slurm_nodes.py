# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What munge_slurm decides about Slurm's nodes (pure functions, no Ansible, no tools).

The node dicts are what parsers.slurm.parse_scontrol_nodes makes of ``scontrol show node --oneliner``
(``State`` as printed, ``state`` its base in lower case, ``flags``, ``not_responding``, ``Reason``).
States a role accepts are written as ``sinfo -o %t`` prints them (idle, alloc, mix, comp, drain, drng,
down, and a suffix: ``*`` not responding, ``~`` powered off, ``#`` powering up, ``%`` powering down,
``!`` pending power down, ``$`` maintenance, ``@`` pending reboot, ``^`` reboot issued), so that a
list such as ``[idle, alloc, mix, comp]`` is the whole policy and a power-saving role adds
``idle~``, ``idle#``, ``idle%``, ``idle!`` to it.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_compress

HW_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")
# Usable nodes, idle or running jobs (sinfo %t names).
ACCEPTED_STATES = ("idle", "alloc", "mix", "comp")
# What Slurm's power saving shows for an idle node it powered off or is powering up or down.
POWER_SAVING_STATES = ("idle~", "idle#", "idle%", "idle!")
# Flags scontrol prints and the suffix sinfo %t gives them, in sinfo's order of precedence.
SUFFIXES = (
    ("maint", "$"),
    ("reboot_requested", "@"),
    ("reboot_issued", "^"),
    ("powering_up", "#"),
    ("powering_down", "%"),
    ("powered_down", "~"),
    ("power_down", "!"),
    ("not_responding", "*"),
)
_BASE = {"idle": "idle", "allocated": "alloc", "mixed": "mix", "down": "down", "future": "futr",
         "unknown": "unk", "error": "err", "completing": "comp"}
# Base states and flags that take a node out of service (settle resumes these when this role caused it).
_OUT_STATES = ("down", "drain", "drained", "draining")


def compact_state(node: dict[str, Any]) -> str:
    """The node's state as ``sinfo -o %t`` writes it: ``IDLE+DRAIN`` -> ``drain``, ``MIXED+DRAIN`` ->
    ``drng``, ``IDLE+CLOUD+POWERED_DOWN`` -> ``idle~``, ``DOWN*`` -> ``down*``, ``IDLE+COMPLETING`` -> ``comp``."""
    base = (node.get("state") or "unknown").lower()
    flags = {str(f).lower() for f in node.get("flags") or []}
    if node.get("not_responding"):
        flags.add("not_responding")
    busy = "completing" in flags or base in ("allocated", "mixed", "completing")
    if "drain" in flags or base in ("drain", "drained"):
        name = "drng" if busy else "drain"
    elif base == "draining":
        name = "drng"
    elif "fail" in flags:
        name = "failg" if busy else "fail"
    elif base in ("idle", "future", "unknown", "error", "down") and "completing" not in flags:
        name = _BASE[base]
    elif base == "allocated":
        name = "alloc"
    elif "completing" in flags or base == "completing":
        name = "comp"
    else:
        name = _BASE.get(base, base)
    suffix = next((mark for flag, mark in SUFFIXES if flag in flags), "")
    return name + suffix


def hardware_shortfall(configured: dict[str, Any], detected: dict[str, Any], keys=HW_KEYS) -> list[str]:
    """The keys where the node's definition (``configured``) asks more than slurmd -C measured
    (``detected``), as ``CPUs 4 > 2``; a key the definition does not set is not compared."""
    short = []
    for key in keys:
        if key not in configured:
            continue
        want, have = int(configured[key]), int(detected.get(key) or 0)
        if want > have:
            short.append(f"{key} {want} > {have}")
    return short


def node_fits(configured: dict[str, Any] | None, detected: dict[str, Any] | None, keys=HW_KEYS) -> bool:
    """Whether the definition fits the measured hardware (both known, nothing asked beyond it)."""
    if not configured or not detected:
        return False
    return not hardware_shortfall(configured, detected, keys)


def node_problem(node: dict[str, Any] | None, name: str, accepted) -> str | None:
    """None when ``node`` (scontrol's entry for ``name``, None when slurmctld does not list it) is in one
    of the ``accepted`` states, else the reason in one sentence."""
    if node is None:
        return f"Slurm node {name}: not in slurmctld's node list"
    state = compact_state(node)
    wanted = [str(s).lower() for s in accepted]
    if state in wanted:
        return None
    reason = node.get("Reason") or "none"
    return (f"Slurm node {name}: state {node.get('State', state)} ({state}), reason: {reason};"
            f" accepted states: {', '.join(wanted) or 'none'}")


def node_problems(nodes: list[dict[str, Any]], names: list[str], accepted) -> list[str]:
    """One sentence per node of ``names`` that slurmctld does not list or lists in a state not accepted."""
    by_name = {n.get("NodeName"): n for n in nodes}
    return [p for p in (node_problem(by_name.get(name), name, accepted) for name in names) if p]


def resume_plan(nodes: list[dict[str, Any]], names: list[str], configured: list, detected: list,
                restart_reason: str, low_reason: str, keys=HW_KEYS) -> list[dict[str, Any]]:
    """The nodes of ``names`` that this role's restart took out of service, to resume.

    A node is down or drained with a reason: ``restart_reason`` (a regex: slurmctld lost it during the
    restart) resumes it; ``low_reason`` (registered with less than its definition, between the two halves
    of a restart) resumes it only when its definition (``configured[i]``) fits the hardware slurmd -C
    measured (``detected[i]``). Any other reason (an administrator's drain) leaves it alone.
    Returns the scontrol entries, in the order of ``nodes``.
    """
    if not (len(names) == len(configured) == len(detected)):
        raise ValueError(f"names, configured and detected differ in length "
                         f"({len(names)}, {len(configured)}, {len(detected)})")
    fits = {name: node_fits(c, d, keys) for name, c, d in zip(names, configured, detected)}
    plan = []
    for node in nodes:
        name, reason = node.get("NodeName"), node.get("Reason")
        if name not in fits or not isinstance(reason, str):
            continue
        out = node.get("state") in _OUT_STATES or "drain" in (node.get("flags") or [])
        if out and (re.match(restart_reason, reason) or (re.match(low_reason, reason) and fits[name])):
            plan.append(node)
    return plan


def gres_value(types: list[str]) -> str:
    """Slurm's Gres= value for a node's GPU types, one per GPU: ``[h100, h100, a100]`` ->
    ``gpu:h100:2,gpu:a100:1`` (types in the order they first appear); empty for no GPU."""
    return ",".join(f"gpu:{t}:{types.count(t)}" for t in dict.fromkeys(types))


# slurm.conf's defaults for a job's memory; with none of them a job that asks no memory is given all of its nodes'
# memory under a *_Memory SelectTypeParameters, and no second job shares the node.
MEMORY_DEFAULT_KEYS = ("DefMemPerCPU", "DefMemPerNode", "DefMemPerGPU")


def memory_per_cpu(nodes: list[dict], gpus: list[int] | None = None) -> int | None:
    """DefMemPerCPU for a partition of these nodes (slurm.conf node descriptions: CPUs, RealMemory): the smallest
    RealMemory/CPUs in MB, so a job of half a node's CPUs gets half its memory on every node; None when a node
    lacks either, and None when a node has GPUs (``gpus``, per node): a GPU job that asks one CPU and no memory
    would be held to one CPU's share of memory where it had the whole node's."""
    if any(int(count or 0) > 0 for count in gpus or []):
        return None
    shares = []
    for node in nodes:
        try:
            cpus, memory = int(node["CPUs"]), int(node["RealMemory"])
        except (KeyError, TypeError, ValueError):
            return None
        if cpus <= 0 or memory <= 0:
            return None
        shares.append(memory // cpus)
    return min(shares) if shares else None


def partition_line(name: str, members: list[str], default: bool = False, options: dict | None = None,
                   mem_per_cpu: int | None = None) -> str:
    """``PartitionName=main Nodes=node[0-2] Default=YES`` and the options sorted by key, ignoring case
    (as Jinja's dictsort). ``mem_per_cpu``: DefMemPerCPU, added where the options set no memory default."""
    options = dict(options or {})
    if mem_per_cpu and not any(key.lower() in (k.lower() for k in options) for key in MEMORY_DEFAULT_KEYS):
        options["DefMemPerCPU"] = mem_per_cpu
    line = f"PartitionName={name} Nodes={hostlist_compress(members)} Default={'YES' if default else 'NO'}"
    return line + "".join(f" {k}={v}" for k, v in sorted(options.items(), key=_key_ignoring_case))


def _key_ignoring_case(item: tuple) -> Any:
    return item[0].lower() if isinstance(item[0], str) else item[0]
