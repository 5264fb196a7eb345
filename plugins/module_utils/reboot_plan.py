# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling reboots of GPU nodes: which nodes reboot together, and what Slurm is told (pure functions).

``reboot_plan`` cuts the nodes that need a reboot into batches (a number of nodes, or a percentage of
the play's nodes, as Ansible's ``serial`` reads it), puts a node that must reboot alone (the Slurm
controller) in a last batch of its own and says, per node, whether Slurm drains it. The three
``*_decision``/``drain_progress`` functions judge one node of ``scontrol show node --oneliner`` (as
parsers.slurm.parse_scontrol_nodes returns it) and the jobs of ``squeue`` (parse_squeue): drain it or
leave an existing drain alone, whether the drain is complete (no job left on it), and whether to resume
it after the reboot: only a drain whose reason is ours, so that an administrator's drain stays.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_nodes import compact_state

# scontrol prints a reason with who set it and when: "gpuforge: driver reboot [root@2026-03-28T08:18:20]".
_REASON_STAMP = re.compile(r"\s*\[[^\[\]@]*@[^\[\]]*\]\s*$")
_NOT_A_BATCH = "nvidia_stack_reboot_batch must be a number of nodes (>= 1) or a percentage such as '25%', got {value!r}"
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
# squeue states of jobs that no longer (or not yet) hold the node.
_OFF_NODE_JOB_STATES = ("PENDING", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                        "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT")


def batch_problem(value: Any) -> str | None:
    """None when ``value`` is a batch size: a whole number >= 1 (int or digits) or a percentage
    ``"N%"`` with 0 < N <= 100; else the problem in one sentence."""
    if isinstance(value, bool):
        return _NOT_A_BATCH.format(value=value)
    if isinstance(value, int):
        return None if value >= 1 else f"nvidia_stack_reboot_batch must be >= 1, got {value}"
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+", text):
            return None if int(text) >= 1 else f"nvidia_stack_reboot_batch must be >= 1, got {value!r}"
        match = _PERCENT.match(text)
        if match:
            percent = float(match.group(1))
            if 0 < percent <= 100:
                return None
            return f"nvidia_stack_reboot_batch must be a percentage above 0% and at most 100%, got {value!r}"
    return _NOT_A_BATCH.format(value=value)


def batch_size(value: Any, total: int) -> int:
    """Nodes per batch: ``value`` itself, or that percentage of ``total`` nodes rounded down (as Ansible's
    ``serial`` does), at least 1. Raises ValueError for a value batch_problem refuses."""
    problem = batch_problem(value)
    if problem:
        raise ValueError(problem)
    if isinstance(value, int):
        return value
    match = _PERCENT.match(value)
    if not match:
        return int(value)
    return max(1, math.floor(float(match.group(1)) * max(int(total), 0) / 100))


def reboot_plan(hosts: list[str], batch: Any, total: int, alone: list[str] | tuple = (),
                slurm_names: dict[str, str] | None = None, slurm_nodes: list[dict[str, Any]] | None = None
                ) -> dict[str, Any]:
    """The order of a rolling reboot.

    ``hosts``: the nodes that need a reboot, in play order; ``batch``: nodes per batch or a percentage of
    ``total`` (the play's nodes); ``alone``: nodes that reboot by themselves after all others (the Slurm
    controller). ``slurm_names``: inventory host -> Slurm NodeName (the node model's name), None when
    Slurm is not used; ``slurm_nodes``: slurm_info's nodes. A host whose name slurmctld lists is drained.

    Returns ``{size, batches: [[host, ...], ...], drain: {host: slurm name}, lines: [one per batch]}``.
    """
    size = batch_size(batch, total)
    hosts = list(dict.fromkeys(hosts))
    alone_set = {h for h in alone if h in hosts}
    rest = [h for h in hosts if h not in alone_set]
    batches = [rest[i:i + size] for i in range(0, len(rest), size)]
    batches.extend([h] for h in hosts if h in alone_set)
    listed = {n.get("NodeName") for n in slurm_nodes or []}
    drain = {}
    if slurm_names is not None and slurm_nodes is not None:
        drain = {h: slurm_names[h] for h in hosts if slurm_names.get(h) in listed}
    lines = []
    for number, members in enumerate(batches, 1):
        shown = []
        for host in members:
            if host in drain:
                note = f"drain Slurm node {drain[host]}"
            elif slurm_names is not None and slurm_nodes is not None:
                note = f"not a Slurm node ({slurm_names.get(host)} not in slurmctld's list): no drain"
            else:
                note = "no drain"
            shown.append(f"{host} ({note}{', alone: Slurm controller' if host in alone_set else ''})")
        lines.append(f"batch {number}/{len(batches)}: {', '.join(shown)}")
    return {"size": size, "batches": batches, "drain": drain, "lines": lines}


def reason_text(reason: str | None) -> str | None:
    """A node's Reason without scontrol's ``[user@time]`` stamp; None for no reason."""
    if reason is None:
        return None
    text = _REASON_STAMP.sub("", str(reason)).strip()
    return text or None


def _drained(node: dict[str, Any]) -> bool:
    return "drain" in (node.get("flags") or []) or node.get("state") in ("drain", "drained", "draining")


def drain_decision(node: dict[str, Any] | None, name: str, reason: str) -> dict[str, Any]:
    """What to do before rebooting Slurm node ``name`` (``node``: its scontrol entry, None when missing).

    ``action``: ``drain`` (drain it with ``reason``), ``keep`` (already drained: by us in an earlier run,
    then ``resume`` is true, or by someone else, whose drain and reason stay) or ``skip`` (slurmctld does
    not list it: no drain). ``message`` says which, naming the node.
    """
    if node is None:
        return {"action": "skip", "resume": False,
                "message": f"Slurm node {name} is not in slurmctld's node list: rebooted without draining"}
    current = reason_text(node.get("Reason"))
    if _drained(node):
        if current == reason:
            return {"action": "keep", "resume": True,
                    "message": f"Slurm node {name} is already drained by gpuforge ({reason}): an earlier run's drain"}
        return {"action": "keep", "resume": False,
                "message": (f"Slurm node {name} is already drained by someone else (reason: {current or 'none'}):"
                            " left as it is, and not resumed after the reboot")}
    return {"action": "drain", "resume": True,
            "message": f"Slurm node {name}: {node.get('State')} -> drain (reason: {reason})"}


def drain_progress(node: dict[str, Any] | None, jobs: list[dict[str, Any]] | None, name: str) -> dict[str, Any]:
    """Whether Slurm node ``name`` is drained with nothing running on it.

    ``done``: the drain flag is set and no job of ``jobs`` (squeue) other than pending or finished ones
    lists the node; ``state`` as sinfo %t writes it; ``jobs``: ``id (STATE, user, name)`` of each job still
    on it. A node slurmctld no longer lists is not done.
    """
    active = [j for j in jobs or [] if name in (j.get("nodes") or []) and j.get("state") not in _OFF_NODE_JOB_STATES]
    shown = [f"{j.get('job_id')} ({j.get('state')}, {j.get('user')}, {j.get('name')})" for j in active]
    if node is None:
        return {"done": False, "state": "missing", "jobs": shown}
    state = compact_state(node)
    done = _drained(node) and state.rstrip("*~#%!$@^") != "drng" and not active
    return {"done": done, "state": state, "jobs": shown}


def resume_decision(node: dict[str, Any] | None, name: str, reason: str) -> dict[str, Any]:
    """After the reboot: ``action`` ``resume`` (drained with our ``reason`` and slurmd answers), ``wait``
    (drained by us but slurmd has not registered yet) or ``leave`` (not in the list, not drained, or
    drained with another reason: an administrator's drain stays); ``message`` names the node."""
    if node is None:
        return {"action": "leave",
                "message": f"Slurm node {name} is not in slurmctld's node list: nothing to resume"}
    current = reason_text(node.get("Reason"))
    if not _drained(node):
        return {"action": "leave",
                "message": f"Slurm node {name} is not drained ({compact_state(node)}): nothing to resume"}
    if current != reason:
        return {"action": "leave",
                "message": f"Slurm node {name} stays drained: its reason is {current or 'none'}, not gpuforge's ({reason})"}
    if node.get("not_responding"):
        return {"action": "wait", "message": f"Slurm node {name}: slurmd has not registered since the reboot"}
    return {"action": "resume", "message": f"Slurm node {name}: drained by gpuforge ({reason}) -> resume"}
