# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling reboots (nvidia_stack): the batch plan and the Slurm drain/resume judgement of one node
(module_utils/reboot_plan.py decides; these filters adapt its arguments)."""

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils import reboot_plan as _plan


def _by_name(nodes, name):
    return next((n for n in nodes or [] if n.get("NodeName") == name), None)


def reboot_plan(hosts, batch, total, alone=(), slurm_names=None, slurm_nodes=None):
    """Hosts needing a reboot -> {size, batches, drain, lines}: see module_utils/reboot_plan.reboot_plan."""
    try:
        return _plan.reboot_plan([str(h) for h in hosts], batch, int(total), [str(h) for h in alone or []],
                                 dict(slurm_names) if slurm_names is not None else None,
                                 list(slurm_nodes) if slurm_nodes is not None else None)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"reboot_plan: {exc}") from exc


def reboot_batch_problems(value):
    """[] when ``value`` is a batch size (a number >= 1 or 'N%'), else [the problem]."""
    problem = _plan.batch_problem(value)
    return [problem] if problem else []


def slurm_drain_decision(nodes, name, reason):
    """slurm_info's nodes -> what to do with node ``name`` before its reboot (drain, keep, skip)."""
    return _plan.drain_decision(_by_name(nodes, name), str(name), str(reason))


def slurm_drain_progress(nodes, jobs, name):
    """slurm_info's nodes and jobs -> {done, state, jobs} of node ``name``."""
    return _plan.drain_progress(_by_name(nodes, name), list(jobs or []), str(name))


def slurm_resume_decision(nodes, name, reason):
    """slurm_info's nodes -> what to do with node ``name`` after its reboot (resume, wait, leave)."""
    return _plan.resume_decision(_by_name(nodes, name), str(name), str(reason))


class FilterModule:
    def filters(self):
        return {
            "reboot_plan": reboot_plan,
            "reboot_batch_problems": reboot_batch_problems,
            "slurm_drain_decision": slurm_drain_decision,
            "slurm_drain_progress": slurm_drain_progress,
            "slurm_resume_decision": slurm_resume_decision,
        }
