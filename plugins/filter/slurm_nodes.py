# Copyright: gpuforge.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""slurm_node_lines: NodeName lines for slurm.conf, identical nodes grouped into one hostlist."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_compress

HW_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")


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


class FilterModule:
    def filters(self):
        return {"slurm_node_lines": slurm_node_lines}
