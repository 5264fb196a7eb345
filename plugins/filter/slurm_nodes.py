# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Slurm's nodes for munge_slurm: NodeName, Gres and PartitionName values for slurm.conf, and the
judgement of node states (module_utils/slurm_nodes.py decides; these filters adapt its arguments)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.filter.node_model import cluster_nodes
from ansible_collections.gpuforge.cluster.plugins.module_utils import slurm_nodes
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_compress

HW_KEYS = slurm_nodes.HW_KEYS


def slurm_node_lines(names, hardware, gres=None, options=None, keys=HW_KEYS):
    """names[i] has hardware[i] (dict of slurmd -C keys) and gres[i] ('gpu:h100:8' or '').

    Returns one line per distinct hardware/Gres/options spec, in the order of first appearance:
    'NodeName=node[0-2] CPUs=2 ... RealMemory=23081 Gres=gpu:h100:1'.
    """
    names, hardware = list(names), list(hardware)
    gres = list(gres) if gres is not None else [""] * len(names)
    if not (len(names) == len(hardware) == len(gres)):
        raise AnsibleFilterError("slurm_node_lines: names, hardware and gres differ in length "
                                 f"({len(names)}, {len(hardware)}, {len(gres)})")
    groups = {}
    for name, hw, g in zip(names, hardware, gres):
        if not isinstance(hw, dict):
            raise AnsibleFilterError(f"slurm_node_lines: hardware of {name} is not a dict: {hw!r}")
        missing = [k for k in ("CPUs", "RealMemory") if hw.get(k) in (None, "")]
        if missing:
            raise AnsibleFilterError(f"slurm_node_lines: {name} has no {', '.join(missing)}")
        parts = [f"{k}={hw[k]}" for k in keys if hw.get(k) not in (None, "")]
        if g:
            parts.append(f"Gres={g}")
        parts.extend(f"{k}={v}" for k, v in (options or {}).items())
        groups.setdefault(" ".join(parts), []).append(name)
    return [f"NodeName={hostlist_compress(members)} {spec}" for spec, members in groups.items()]


def slurm_gres(types):
    """['h100', 'h100', 'a100'] (one GPU type per GPU) -> 'gpu:h100:2,gpu:a100:1'; '' for no GPU."""
    return slurm_nodes.gres_value([str(t) for t in types])


def slurm_partition_lines(partitions, groups, hostvars, config=None, described=None, gpus=None):
    """One PartitionName line per partition: its nodes (``nodes``, else the inventory ``group``) by their
    cluster names (the node model), ``default`` and ``options``. With ``config`` (slurm.conf's settings) selecting
    memory (``SelectTypeParameters`` CR_*_Memory) and setting no memory default, a partition without one gets
    DefMemPerCPU from its nodes' descriptions (``described``: inventory host -> CPUs, RealMemory): jobs that ask
    no memory then share a node instead of each taking all of its memory. Not where a node has GPUs (``gpus``:
    inventory host -> their number): GPU jobs keep the memory they had."""
    config = dict(config or {})
    described = dict(described or {})
    gpus = dict(gpus or {})
    select = str(config.get("SelectTypeParameters", ""))
    memory_default = "Memory" in select and not any(key in config for key in slurm_nodes.MEMORY_DEFAULT_KEYS)
    lines = []
    for p in partitions:
        name = p.get("name")
        if "nodes" in p:
            hosts = p["nodes"]
        elif p.get("group") in groups:
            hosts = groups[p["group"]]
        else:
            raise AnsibleFilterError(f"slurm_partition_lines: partition {name} has no nodes and its group "
                                     f"{p.get('group')!r} is not in the inventory")
        members = [n["name"] for n in cluster_nodes(hosts, hostvars)]
        mem_per_cpu = None
        if memory_default:
            mem_per_cpu = slurm_nodes.memory_per_cpu([described[h] for h in hosts if h in described],
                                                     [gpus.get(h, 0) for h in hosts])
        try:
            lines.append(slurm_nodes.partition_line(name, members, p.get("default") or False, p.get("options"),
                                                    mem_per_cpu))
        except (TypeError, ValueError) as exc:
            raise AnsibleFilterError(f"slurm_partition_lines: partition {name}: {exc}") from exc
    return lines


def slurm_node_state(node):
    """A node of slurm_info (scontrol) -> its state as sinfo %t writes it (idle, mix, drain, idle~, down*)."""
    return slurm_nodes.compact_state(node)


def slurm_node_problems(nodes, names, accepted=slurm_nodes.ACCEPTED_STATES, extra=()):
    """One sentence per node of ``names`` missing from ``nodes`` (slurm_info) or in a state that is
    neither in ``accepted`` nor in ``extra`` (sinfo %t names); empty when all are fine."""
    return slurm_nodes.node_problems(list(nodes), list(names), [*accepted, *extra])


def slurm_resume_nodes(nodes, names, configured, detected, restart_reason, low_reason,
                       keys=slurm_nodes.HW_KEYS):
    """The nodes (slurm_info entries) of ``names`` that a restart left down or drained: see
    module_utils/slurm_nodes.resume_plan."""
    try:
        return slurm_nodes.resume_plan(list(nodes), list(names), [dict(c or {}) for c in configured],
                                       [dict(d or {}) for d in detected], restart_reason, low_reason, list(keys))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"slurm_resume_nodes: {exc}") from exc


class FilterModule:
    def filters(self):
        return {
            "slurm_node_lines": slurm_node_lines,
            "slurm_gres": slurm_gres,
            "slurm_partition_lines": slurm_partition_lines,
            "slurm_node_state": slurm_node_state,
            "slurm_node_problems": slurm_node_problems,
            "slurm_resume_nodes": slurm_resume_nodes,
        }
