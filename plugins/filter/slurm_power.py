# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from ansible.errors import AnsibleFilterError
from ansible_collections.gpuforge.cluster.plugins.module_utils.bmc_guid import crossed, parse_smbios_uuid
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_power import plan, resume_timeout_errors
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_recover import (
    bmc_power,
    boot_times,
    last_resumes,
    lost_reasons,
    recovery_commands,
    recovery_plan,
    resume_timeout,
    unregistered,
    wake_plan,
)


def powersave_plan(spec):
    """Power saving's slurm.conf settings, each node's BMC and every problem (module_utils/slurm_power.plan)."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError("powersave_plan: expected a dict, got %s" % type(spec).__name__)
    return plan(dict(spec))


def bmc_crossed(pairs):
    """node -> [BMC GUID, SMBIOS UUID text] -> one message per node whose BMC is not its own
    (module_utils/bmc_guid.crossed); the SMBIOS side is parsed here (product_uuid or dmidecode output)."""
    if not isinstance(pairs, dict):
        raise AnsibleFilterError("bmc_crossed: expected a dict, got %s" % type(pairs).__name__)
    values = {}
    problems = []
    for node, pair in pairs.items():
        guid, smbios_text = [*list(pair), None, None][:2]
        smbios = None
        if smbios_text:
            try:
                smbios = parse_smbios_uuid(str(smbios_text))
            except ParseError as exc:
                problems.append("%s: the SMBIOS UUID cannot be used: %s" % (node, exc))
                continue
        values[node] = (guid, smbios)
    try:
        return problems + [finding["message"] for finding in crossed(values)]
    except ParseError as exc:
        raise AnsibleFilterError("bmc_crossed: %s" % exc) from exc


def powersave_boot_seconds(log_text):
    """node -> the slowest power-on-to-registered seconds measured from the power-save program's log lines and
    slurmctld's ``Node N now responding`` lines (module_utils/slurm_recover.boot_times)."""
    return boot_times(str(log_text or ""))


def powersave_recovery(slurm, pending_text, status_text, log_text, now, config_text, program, slurm_user,
                       force=False, margin=1.25):
    """The nodes power saving left stuck and the commands that repair them (module_utils/slurm_recover).

    ``slurm``: gpuforge.cluster.slurm_info's result (nodes, jobs); ``pending_text``: ``squeue -h -t PD -o '%i|%r'``;
    ``status_text``: ``gpuforge-powersave status`` output (every power-saved node); ``log_text``: the tail of the
    power-save log and slurmctld's ``now responding`` lines; ``config_text``: ``scontrol show config``
    (ResumeTimeout). Also measures each node's power-on to registered time from ``log_text`` (``boot_seconds``)
    and names a ResumeTimeout shorter than the slowest times ``margin`` (``resume_timeout_problems``).
    """
    if not isinstance(slurm, dict) or "nodes" not in slurm:
        raise AnsibleFilterError("powersave_recovery: expected gpuforge.cluster.slurm_info's result")
    pending = []
    for number, line in enumerate(str(pending_text or "").splitlines(), 1):
        if not line.strip():
            continue
        job_id, sep, reason = line.strip().partition("|")
        if not sep or not job_id:
            raise AnsibleFilterError("powersave_recovery: line %d of squeue -o '%%i|%%r' is %r" % (number, line))
        pending.append([job_id, reason])
    power = bmc_power(str(status_text or ""))
    if not power:
        raise AnsibleFilterError("powersave_recovery: gpuforge-powersave status named no node")
    try:
        timeout = resume_timeout(str(config_text or ""))
        result = recovery_plan(slurm["nodes"], slurm.get("jobs") or [], pending, power,
                               last_resumes(str(log_text or "")), float(now), timeout, bool(force))
        result["commands"] = recovery_commands(result, str(program), str(slurm_user))
    except ValueError as exc:
        raise AnsibleFilterError("powersave_recovery: %s" % exc) from exc
    result["power"] = power
    result["boot_seconds"] = {node: took for node, took in boot_times(str(log_text or "")).items() if node in power}
    result["resume_timeout_problems"] = resume_timeout_errors(timeout, {}, float(margin), result["boot_seconds"])
    return result


def _slurm_nodes(slurm, name):
    if not isinstance(slurm, dict) or not isinstance(slurm.get("nodes"), list):
        raise AnsibleFilterError("%s: expected gpuforge.cluster.slurm_info's result" % name)
    return slurm["nodes"]


def powersave_unregistered(slurm, names):
    """The nodes of ``names`` not registered with slurmctld and usable yet (module_utils/slurm_recover)."""
    return unregistered(_slurm_nodes(slurm, "powersave_unregistered"), list(names))


def powersave_wake(slurm, names):
    """Which power-saved nodes to power up, wait for or leave alone (module_utils/slurm_recover.wake_plan)."""
    return wake_plan(_slurm_nodes(slurm, "powersave_wake"), list(names))


def powersave_lost_reasons(slurm, reasons):
    """The drained nodes whose reason Slurm dropped at registration, to set again
    (module_utils/slurm_recover.lost_reasons)."""
    if not isinstance(reasons, dict):
        raise AnsibleFilterError("powersave_lost_reasons: expected {node: reason}, got %s" % type(reasons).__name__)
    return lost_reasons(_slurm_nodes(slurm, "powersave_lost_reasons"), reasons)


class FilterModule:
    def filters(self):
        return {"powersave_plan": powersave_plan, "bmc_crossed": bmc_crossed, "powersave_recovery": powersave_recovery,
                "powersave_boot_seconds": powersave_boot_seconds, "powersave_unregistered": powersave_unregistered,
                "powersave_wake": powersave_wake, "powersave_lost_reasons": powersave_lost_reasons}
