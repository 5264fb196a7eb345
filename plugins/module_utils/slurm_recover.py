# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nodes that power saving left stuck, and the commands that bring each back (pure functions; used by
playbooks/recover_nodes.yml through the ``powersave_recovery`` filter).

The stuck states, as Slurm (``scontrol show node``) and the node's BMC (``gpuforge-powersave status``) see them:

* powered on but marked powered down (``idle~`` with the BMC saying on: a power-off that failed, a node switched
  on by hand): a resume would find it "already on", its slurmd would not register again and the node would go
  ``down~`` at ResumeTimeout. Repair: power it off through the BMC, then ``state=power_up`` (a clean boot).
* ``down~``: DOWN and powered down (missed ResumeTimeout, ResumeFailProgram): ``state=resume``, then
  ``state=power_up``.
* DOWN while powering up (``down#``: the resume program failed, e.g. the BMC refused power-on): ``state=resume``
  leaves it waiting for a registration that no power-on will bring; power it on through the BMC.
* powering up for longer than ResumeTimeout (``alloc#``, ``mix#``, ``idle#``: slurmctld restarted during a
  resume, a boot that hung): a power cycle through the BMC.

Each repair ends with the node registered (checked by the playbook). A node with running jobs is refused unless
forced; forced, its jobs are requeued first.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_nodes import compact_state

# Slurm's job states that hold a node's resources while the job's processes exist.
RUNNING_STATES = ("RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT")

_LOG_LINE = re.compile(r"^(\S+) node=(\S+) action=(\w+) result=(\w+)")
_NODE = re.compile(r"^[A-Za-z0-9._-]+$")


def _program_lines(text: str, action: str):
    """(node, result, epoch seconds or None, line) of the power-save program's log lines for ``action``."""
    for line in (text or "").splitlines():
        match = _LOG_LINE.match(line)
        if not match or match.group(3) != action:
            continue
        try:
            stamp = datetime.datetime.fromisoformat(match.group(1)).timestamp()
        except ValueError:
            stamp = None
        yield match.group(2), match.group(4), stamp, line


def last_resumes(log_text: str) -> dict:
    """node -> epoch seconds of its last ``action=resume`` line in the power-save program's log."""
    last: dict = {}
    for node, _result, stamp, _line in _program_lines(log_text, "resume"):
        if stamp is not None:
            last[node] = max(stamp, last.get(node, 0.0))
    return last


_RESPONDING = re.compile(r"^\[([0-9T:.-]+)\] Node (\S+) now responding\s*$")
_SECONDS = re.compile(r" seconds=([0-9.]+) ")


def _local(stamp: str) -> datetime.datetime | None:
    """An ISO time as naive local time: the program writes local time with its offset, slurmctld without one."""
    try:
        return datetime.datetime.fromisoformat(stamp).replace(tzinfo=None)
    except ValueError:
        return None


def boot_times(text: str, window: float = 3600.0) -> dict:
    """node -> the slowest power-on-to-registered time (seconds) measured from the logs.

    ``text``: the power-save program's log lines and slurmctld's ``Node N now responding`` lines, in any order.
    Each registration is paired with the latest power-on of that node before it (a resume line with result=ok
    that powered it on: its time less its ``seconds``), if that power-on came within ``window`` seconds and no
    earlier registration took it: a resume that never registered (ResumeFailProgram) is superseded by the next,
    and a registration without a power-on of its own (slurmd restarted, slurmctld restarted) counts for nothing.
    """
    events = []
    for node, result, _stamp, line in _program_lines(text, "resume"):
        when = _local(line.split(" ", 1)[0])
        took = _SECONDS.search(line)
        if result == "ok" and when and took and 'detail="power on' in line:
            events.append((when - datetime.timedelta(seconds=float(took.group(1))), 0, node))
    for line in (text or "").splitlines():
        match = _RESPONDING.match(line)
        when = _local(match.group(1)) if match else None
        if when:
            events.append((when, 1, match.group(2)))
    powered: dict = {}
    slowest: dict = {}
    for when, kind, node in sorted(events):
        if kind == 0:
            powered[node] = when
            continue
        start = powered.pop(node, None)
        if start is not None and (when - start).total_seconds() <= window:
            took = round((when - start).total_seconds(), 1)
            slowest[node] = max(took, slowest.get(node, 0.0))
    return slowest


def resume_timeout(config_text: str) -> int:
    """ResumeTimeout in seconds from ``scontrol show config`` (``ResumeTimeout           = 60 sec``)."""
    match = re.search(r"^ResumeTimeout\s*=\s*(\d+)", config_text or "", re.MULTILINE)
    if not match:
        raise ValueError("scontrol show config names no ResumeTimeout (is power saving configured?)")
    return int(match.group(1))


def bmc_power(status_text: str) -> dict:
    """node -> 'on', 'off' or None (no answer) from ``gpuforge-powersave status`` output (its log lines)."""
    power: dict = {}
    for node, result, _stamp, line in _program_lines(status_text, "status"):
        detail = re.search(r'detail="power (on|off)"', line)
        power[node] = detail.group(1) if result == "ok" and detail else None
    return power


def _problem(node: dict, power: str | None, age: float | None, resume_timeout: float):
    """(what is wrong, the steps that repair it) or None for a node in a normal state."""
    down = node.get("state") == "down"
    flags = node.get("flags") or []
    if "powering_down" in flags or "power_down" in flags:
        return None  # a power-off in progress: Slurm ends it at SuspendTimeout
    if "powered_down" in flags and power == "on":
        return ("powered on but marked powered down" + (" and DOWN" if down else ""),
                ["bmc_off", *(["resume_state"] if down else []), "power_up"])
    if "powered_down" in flags and down:
        return "DOWN and powered down", ["resume_state", "power_up"]
    if "powering_up" in flags and down:
        return ("DOWN while powering up (its resume failed)",
                [*(["bmc_off"] if power == "on" else []), "resume_state", "bmc_on"])
    if "powering_up" in flags and (age is None or age > resume_timeout):
        since = "with no resume in the power-save log" if age is None else "for %d s" % age
        return ("powering up %s, longer than ResumeTimeout (%d s)" % (since, resume_timeout),
                [*(["bmc_off"] if power != "off" else []), "bmc_on"])
    return None


_REASON_STAMP = re.compile(r"\s*\[[^\]@]*@[^\]]*\]\s*$")
# scontrol wants a reason to drain; a drained node that shows none (rare: Slurm asks for one) gets this.
_NO_REASON = "drained (no reason was shown)"


def _shown_reason(node: dict) -> str:
    return _REASON_STAMP.sub("", str(node.get("Reason") or "")).strip()


def drain_reason(node: dict) -> str:
    """A node's Reason without the ``[user@time]`` scontrol appends (``state=drain`` wants one)."""
    return _shown_reason(node) or _NO_REASON


def lost_reasons(nodes, reasons: dict) -> list:
    """The nodes of ``reasons`` ({node: reason}, read before a power-up) that are still drained but no longer
    show that reason: Slurm 22.05 drops a drained node's reason when the node registers after a power-up (the
    DRAIN flag stays; seen on the lab). [{'node', 'reason'}] to set again; a node resumed meanwhile is left."""
    by_name = {node.get("NodeName"): node for node in nodes}
    lost = []
    for name, reason in sorted(reasons.items()):
        node = by_name.get(name)
        if node is not None and "drain" in (node.get("flags") or []) and _shown_reason(node) != reason:
            lost.append({"node": name, "reason": reason})
    return lost


def recovery_plan(nodes, jobs, pending, power, last_resume, now, resume_timeout, force=False):
    """What recover_nodes does, decided before it changes anything.

    ``nodes``: parsed ``scontrol show node --oneliner`` entries; ``jobs``: parsed squeue entries; ``pending``:
    [job id, reason] of pending jobs; ``power``: node -> 'on'/'off'/None for every power-saved node (the others
    are not looked at); ``last_resume``: node -> epoch seconds; ``now``: epoch seconds.
    Returns {'repairs': [{'node', 'state', 'problem', 'steps', 'jobs', and 'reason' for a drained node}],
    'refused': [{'node', 'state', 'jobs'}], 'refusal': one sentence naming them, 'hold': [job ids], 'states':
    {node: sinfo state}, 'reasons': {drained node: its reason}}: a refused node has running jobs and ``force`` is
    false;
    'hold' lists the pending jobs to hold during the repair (none held already, none when nothing is repaired).
    """
    repairs, refused, states = [], [], {}
    for node in sorted(nodes, key=lambda n: n.get("NodeName", "")):
        name = node.get("NodeName", "")
        if name not in power:
            continue
        states[name] = compact_state(node)
        last = last_resume.get(name)
        found = _problem(node, power.get(name), None if last is None else max(0.0, now - last), resume_timeout)
        if found is None:
            continue
        running = sorted(job["job_id"] for job in jobs if name in job["nodes"] and job["state"] in RUNNING_STATES)
        if running and not force:
            refused.append({"node": name, "state": states[name], "jobs": running})
            continue
        problem, steps = found
        repair = {"node": name, "state": states[name], "problem": problem,
                  "steps": (["requeue"] if running else []) + steps, "jobs": running}
        if "resume_state" in steps and "drain" in (node.get("flags") or []):
            # state=resume clears DRAIN with DOWN: a node an admin drained (a bad DIMM) would take jobs again.
            # Drained again at once, with its reason (the pending jobs are held around the repairs).
            at = repair["steps"].index("resume_state") + 1
            repair["steps"][at:at] = ["drain_again"]
            repair["reason"] = drain_reason(node)
            problem += ", drained (the drain is kept)"
            repair["problem"] = problem
        repairs.append(repair)
    hold = [] if not repairs else sorted(
        {str(job_id) for job_id, reason in pending if not str(reason).startswith("JobHeld")}, key=_job_key)
    refusal = "; ".join("%s (%s) runs jobs %s" % (r["node"], r["state"], ", ".join(r["jobs"])) for r in refused)
    reasons = {r["node"]: r["reason"] for r in repairs if "reason" in r}
    return {"repairs": repairs, "refused": refused, "refusal": refusal, "hold": hold, "states": states,
            "reasons": reasons}


# Slurm's base states of a node that registered and takes jobs, and the flags that say it has not (yet).
_REGISTERED_STATES = ("idle", "mixed", "allocated")
_NOT_REGISTERED_FLAGS = ("powered_down", "powering_up", "not_responding")


def unregistered(nodes, names) -> list:
    """The nodes of ``names`` that are not registered with slurmctld and usable: missing, in a base state other
    than idle/mixed/allocated, or powered down, powering up or not responding (``nodes``: slurm_info entries)."""
    by_name = {node.get("NodeName"): node for node in nodes}
    waiting = []
    for name in names:
        node = by_name.get(name)
        flags = set(node.get("flags") or []) if node else set()
        if (node is None or node.get("state") not in _REGISTERED_STATES or node.get("not_responding")
                or flags & set(_NOT_REGISTERED_FLAGS)):
            waiting.append(name)
    return waiting


def wake_plan(nodes, names) -> dict:
    """Power the power-saved nodes of ``names`` up so that Ansible reaches them (playbooks/wake_nodes.yml).

    Returns {'wake': idle~ nodes and drained idle ones Slurm powered down (drain~: ``state=power_up``; the drain
    stays, an admin's), 'wait': nodes powering up already (idle#, alloc#, mix#), 'drained': the woken nodes that
    stay drained, 'reasons': {drained node: its reason}, 'refused': [{'node', 'state', 'why'}] nodes this does
    not touch (stuck: recover_nodes.yml; powering down: again after SuspendTimeout), 'refusal': one sentence
    naming them, 'states': {node: sinfo state}}."""
    by_name = {node.get("NodeName"): node for node in nodes}
    wake, wait, drained, refused, states, reasons = [], [], [], [], {}, {}
    for name in names:
        node = by_name.get(name)
        if node is None:
            refused.append({"node": name, "state": "unknown", "why": "not in Slurm's nodes"})
            continue
        state = states[name] = compact_state(node)
        if state == "idle~":
            wake.append(name)
        elif state == "drain~" and node.get("state") == "idle" and not node.get("not_responding"):
            # An admin drained an idle node and Slurm powered it down (a drained node runs nothing). Powering it
            # up keeps the drain (Slurm clears only the power flags): site.yml reaches it; the admin resumes it.
            wake.append(name)
            drained.append(name)
            reasons[name] = drain_reason(node)
        elif state in ("idle#", "alloc#", "mix#"):
            wait.append(name)
        elif state in ("idle%", "idle!"):
            refused.append({"node": name, "state": state, "why": "powering down: run again after SuspendTimeout"})
        elif state[-1:] in ("~", "#", "%", "!"):
            refused.append({"node": name, "state": state, "why": "stuck: run playbooks/recover_nodes.yml"})
    refusal = "; ".join("%s (%s) %s" % (r["node"], r["state"], r["why"]) for r in refused)
    return {"wake": wake, "wait": wait, "drained": drained, "reasons": reasons, "refused": refused,
            "refusal": refusal, "states": states}


def _job_key(job_id: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", job_id)]


def step_argv(step: str, repair: dict, program: str, slurm_user: str, scontrol: str = "scontrol") -> list:
    """The argv of one repair step (the power-save program runs as the SlurmUser, whose password file it reads)."""
    node = repair["node"]
    if not _NODE.match(node):
        raise ValueError("not a Slurm node name: %r" % node)
    as_slurm = ["runuser", "-u", slurm_user, "--", program]
    commands = {
        "requeue": [scontrol, "requeue", ",".join(repair.get("jobs") or [])],
        "bmc_off": [*as_slurm, "suspend", node],
        "bmc_on": [*as_slurm, "resume", node],
        "resume_state": [scontrol, "update", "nodename=" + node, "state=resume"],
        "drain_again": [scontrol, "update", "nodename=" + node, "state=drain",
                        "reason=" + str(repair.get("reason") or _NO_REASON)],
        "power_up": [scontrol, "update", "nodename=" + node, "state=power_up"],
    }
    if step not in commands:
        raise ValueError("unknown repair step %r" % step)
    return commands[step]


def recovery_commands(plan: dict, program: str, slurm_user: str, scontrol: str = "scontrol") -> list:
    """Every repair step in order: [{'node', 'step', 'argv'}]."""
    return [{"node": repair["node"], "step": step, "argv": step_argv(step, repair, program, slurm_user, scontrol)}
            for repair in plan["repairs"] for step in repair["steps"]]
