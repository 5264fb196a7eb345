# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Slurm power saving as data (pure functions): the slurm.conf settings, the node states it makes normal,
where each node's BMC is, and the checks preflight makes before anything changes.

What went wrong by hand, and the check here that stops it:

* ResumeTimeout shorter than a slow boot: the node goes ``down~`` although it came up
  (``resume_timeout_errors``: ResumeTimeout against the slowest power-on-to-registered time, times a margin,
  naming both numbers).
* SuspendTimeout shorter than the program's own wait for a soft power-off and the hard one after it: Slurm
  marks the node down while the program still waits (``suspend_timeout_errors``).
* Two time daemons enabled (chronyd and ntpd): clocks fight, munge credentials are rejected, the node stays
  in CF with its jobs requeued (``time_daemon_errors``).
"""

from __future__ import annotations

import ipaddress
import math
import re

from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.slurm import hostlist_compress
from ansible_collections.gpuforge.cluster.plugins.module_utils.slurm_nodes import POWER_SAVING_STATES

# The program's links (roles/slurm_powersave/files/gpuforge-powersave takes its mode from its name).
MODES = ("suspend", "resume", "resumefail")

# sinfo -o %t suffixes of power saving: ~ powered off, # powering up, % powering down, ! power-down pending.
POWER_SUFFIXES = ("~", "#", "%", "!")
# States a node passes through in normal power saving (sinfo %t): powered off and idle, being resumed for a
# job (idle# while booting, alloc#/mix# once the job is placed on it), being powered down.
NORMAL_POWER_STATES = (*POWER_SAVING_STATES, "alloc#", "mix#")

# Time daemons: only one may be enabled on a node (systemd unit names as Debian and Ubuntu ship them).
TIME_DAEMONS = ("chrony.service", "ntp.service", "ntpsec.service", "openntpd.service", "systemd-timesyncd.service")

_VERSION = re.compile(r"^(\d+)\.(\d+)")


def program_paths(program: str) -> dict:
    """SuspendProgram, ResumeProgram and ResumeFailProgram: the program's links ``<program>-<mode>``."""
    if not program.startswith("/"):
        raise ValueError("the power-save program must be an absolute path (slurmctld runs it), got %r" % program)
    return {"SuspendProgram": program + "-suspend", "ResumeProgram": program + "-resume",
            "ResumeFailProgram": program + "-resumefail"}


def _version(slurm_version: str | None) -> tuple:
    match = _VERSION.match(str(slurm_version or ""))
    return (int(match.group(1)), int(match.group(2))) if match else ()


def slurm_settings(program: str, suspend_time: int, suspend_timeout: int, resume_timeout: int,
                   exclude_nodes=(), resume_rate: int = 0, suspend_rate: int = 0, exclude_states=(),
                   slurm_version: str | None = None) -> dict:
    """The slurm.conf settings of power saving, as munge_slurm's config dict takes them (strings).

    ``exclude_nodes``: node names never powered down (the controller and login nodes, and any the user
    names), written as one hostlist. ``exclude_states``: SuspendExcStates, which Slurm has from 23.02 on;
    with an older or unknown ``slurm_version`` it is left out, and asking for it is an error.
    """
    for name, value in (("suspend_time", suspend_time), ("suspend_timeout", suspend_timeout),
                        ("resume_timeout", resume_timeout), ("resume_rate", resume_rate),
                        ("suspend_rate", suspend_rate)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("%s must be a whole number of seconds (or nodes per minute) >= 0, got %r"
                             % (name, value))
    if suspend_timeout == 0 or resume_timeout == 0:
        raise ValueError("suspend_timeout and resume_timeout must be > 0")
    settings = program_paths(program)
    settings.update({
        "SuspendTime": str(suspend_time),
        "SuspendTimeout": str(suspend_timeout),
        "ResumeTimeout": str(resume_timeout),
        "ResumeRate": str(resume_rate),
        "SuspendRate": str(suspend_rate),
    })
    excluded = sorted(set(exclude_nodes))
    if excluded:
        settings["SuspendExcNodes"] = hostlist_compress(excluded)
    states = [str(state).upper() for state in exclude_states]
    if states:
        if _version(slurm_version) < (23, 2):
            raise ValueError("SuspendExcStates needs Slurm 23.02 or newer; this cluster runs %s"
                             % (slurm_version or "an unknown version"))
        settings["SuspendExcStates"] = ",".join(states)
    return settings


def bmc_address(node: str, address: str | None = None, rule: str | None = None) -> str:
    """A node's BMC: its own ``address`` when set, else the name ``rule`` gives (``{node}`` replaced by the
    node's name, e.g. ``ipmi{node}`` -> ``ipminode002``)."""
    if address:
        return str(address)
    if not rule:
        raise ValueError("%s: no BMC address (set bmc_address for it, or a BMC name rule)" % node)
    if "{node}" not in rule:
        raise ValueError("the BMC name rule %r has no {node}: every node would get the same BMC" % rule)
    return rule.replace("{node}", node)


def duplicate_bmcs(bmcs: dict) -> list[str]:
    """Errors for BMC addresses that two or more nodes share (node -> BMC address)."""
    owners: dict = {}
    for node, bmc in sorted(bmcs.items()):
        owners.setdefault(str(bmc).lower(), []).append(node)
    return ["%s share the BMC %s: each node needs its own" % (" and ".join(nodes), bmc)
            for bmc, nodes in sorted(owners.items()) if len(nodes) > 1]


def resume_timeout_errors(resume_timeout: int, boot_seconds: dict, margin: float = 1.25,
                          measured: dict | None = None) -> list[str]:
    """ResumeTimeout against each node's power-on-to-slurmd-registered time: ``boot_seconds`` declared,
    ``measured`` from earlier resumes (the slowest of each node's, module_utils/slurm_recover.boot_times).

    Too short, Slurm marks a node that is still booting DOWN (``down~``) and requeues its jobs. The error
    names the slowest node, its time and whether declared or measured, the margin and ResumeTimeout.
    """
    times = [(float(seconds), node, "declared") for node, seconds in (boot_seconds or {}).items()]
    times += [(float(seconds), node, "measured") for node, seconds in (measured or {}).items()]
    if not times:
        return []
    worst, node, how = max(sorted(times, key=lambda item: (item[1], item[2])), key=lambda item: item[0])
    needed = math.ceil(worst * margin)
    if resume_timeout >= needed:
        return []
    return ["ResumeTimeout=%d s is shorter than %s's %s power-on to slurmd-registered time, %g s, times the "
            "margin %g = %d s: raise ResumeTimeout (slurm_powersave_resume_timeout) to at least %d"
            % (resume_timeout, node, how, worst, margin, needed, needed)]


def suspend_timeout_errors(suspend_timeout: int, program_suspend_timeout: int, power_off_timeout: int,
                           command_timeout: int) -> list[str]:
    """SuspendTimeout against the longest the program can take to power a node off: the soft power-off wait,
    then the hard power-off wait, each with its commands' timeouts."""
    longest = program_suspend_timeout + power_off_timeout + 2 * command_timeout
    if suspend_timeout >= longest:
        return []
    return ["SuspendTimeout=%d s is shorter than the longest power-off the program may take, %d s (soft-off "
            "wait %d + hard-off wait %d + 2 x command timeout %d): Slurm would mark the node DOWN while it "
            "still powers off" % (suspend_timeout, longest, program_suspend_timeout, power_off_timeout,
                                  command_timeout)]


def time_daemon_errors(enabled: dict) -> list[str]:
    """Nodes with more than one time daemon enabled (node -> unit names enabled, of TIME_DAEMONS)."""
    errors = []
    for node, units in sorted(enabled.items()):
        found = sorted(set(units) & set(TIME_DAEMONS))
        if len(found) > 1:
            errors.append("%s: %s are all enabled; one time daemon only (the cluster's is chrony): disable the "
                          "others" % (node, ", ".join(found)))
    return errors


def accepted_states(extra=()) -> list[str]:
    """The node states munge_slurm's settle and verify accept as normal once power saving is on."""
    return list(dict.fromkeys([*NORMAL_POWER_STATES, *extra]))


def plan(spec: dict) -> dict:
    """Everything preflight decides from the inventory, with every problem at once (nothing raised).

    ``spec``: nodes (node name -> its bmc_address, or None) to power down, controllers (node names never powered
    down), exclude_nodes, bmc_name_rule, program, suspend_time, suspend_timeout, resume_timeout, resume_rate,
    suspend_rate, exclude_states, slurm_version, boot_seconds (name -> seconds declared), measured_boot_seconds
    (name -> the slowest power-on to registered seconds in the controller's logs), boot_margin,
    soft_off_timeout, power_off_timeout, command_timeout, cipher_suite; for a soft power-off over SSH instead of
    the BMC's: ssh_nodes (node name -> true), ssh_user, ssh_command, ssh_identity_file (``ssh_poweroff``).
    A node with both an IP address and the name rule: its BMC is the rule's name, which the controller's /etc/hosts
    maps to the address.
    Returns {'settings': slurm.conf settings or {}, 'bmcs': node -> BMC, 'program_nodes': the program's
    ``nodes`` (node -> {'bmc': BMC}), 'probe': node -> where preflight asks its BMC (the address, before /etc/hosts
    has the name), 'hosts_entries': /etc/hosts entries ({ip, names}) for the named BMCs, 'accepted_states': the
    node states that become normal, 'problems': [...]}.
    """
    problems: list[str] = []
    bmcs: dict = {}
    addresses: dict = {}
    rule = spec.get("bmc_name_rule")
    excluded = set(spec.get("controllers") or []) | set(spec.get("exclude_nodes") or [])
    for node, address in sorted((spec.get("nodes") or {}).items()):
        if node in excluded:
            continue
        try:
            if rule and address and _is_ip(address):
                # The rule names the BMC and the node's address is where that name points (the controller's
                # /etc/hosts).
                bmcs[node], addresses[node] = bmc_address(node, None, rule), str(address)
            else:
                bmcs[node] = bmc_address(node, address, rule)
        except ValueError as exc:
            problems.append(str(exc))
    if not bmcs and not problems:
        problems.append("no node to power down: every node of the group is a controller or excluded")
    problems += duplicate_bmcs(bmcs) + duplicate_bmcs(addresses)
    if spec.get("cipher_suite") == 0:
        problems.append("IPMI cipher suite 0 authenticates nothing (a BMC accepts any password with it): use 3 "
                        "or 17")
    settings: dict = {}
    try:
        settings = slurm_settings(spec.get("program", ""), spec.get("suspend_time"), spec.get("suspend_timeout"),
                                  spec.get("resume_timeout"), exclude_nodes=sorted(excluded),
                                  resume_rate=spec.get("resume_rate", 0), suspend_rate=spec.get("suspend_rate", 0),
                                  exclude_states=spec.get("exclude_states") or (),
                                  slurm_version=spec.get("slurm_version"))
    except (TypeError, ValueError) as exc:
        problems.append(str(exc))
    if settings:
        problems += suspend_timeout_errors(spec["suspend_timeout"], spec.get("soft_off_timeout", 90),
                                           spec.get("power_off_timeout", 30), spec.get("command_timeout", 20))
        boot = {name: seconds for name, seconds in (spec.get("boot_seconds") or {}).items() if name in bmcs}
        measured = {name: seconds for name, seconds in (spec.get("measured_boot_seconds") or {}).items()
                    if name in bmcs}
        problems += resume_timeout_errors(spec["resume_timeout"], boot, spec.get("boot_margin", 1.25), measured)
    ssh_nodes = sorted(node for node, wanted in (spec.get("ssh_nodes") or {}).items() if wanted and node in bmcs)
    ssh: dict = {}
    if ssh_nodes:
        try:
            ssh = ssh_poweroff(spec.get("ssh_user"), spec.get("ssh_command"), spec.get("ssh_identity_file"))
        except ValueError as exc:
            problems.append(str(exc))
    program_nodes = {node: {"bmc": bmc, **({"ssh_poweroff": ssh} if ssh and node in ssh_nodes else {})}
                     for node, bmc in bmcs.items()}
    return {"settings": settings, "bmcs": bmcs, "program_nodes": program_nodes,
            "probe": {**bmcs, **addresses},
            "hosts_entries": [{"ip": addresses[node], "names": [bmcs[node]]} for node in sorted(addresses)],
            "accepted_states": accepted_states(), "problems": problems}


_SUDO_WORD = re.compile(r"[A-Za-z0-9._/:=@+-]+\Z")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")


def ssh_poweroff(user, command, identity_file) -> dict:
    """The program's ``ssh_poweroff`` for a node powered off over SSH (for BMCs without a soft power-off):
    ``user`` logs in with ``identity_file`` and runs ``sudo -n`` ``command`` (an argv: an absolute path, then
    words a sudoers rule can name). ValueError names what is wrong."""
    if not isinstance(user, str) or not _USER.match(user):
        raise ValueError("the SSH power-off user must be a plain user name (got %r)" % (user,))
    if (not isinstance(command, (list, tuple)) or not command or not all(isinstance(w, str) for w in command)
            or not command[0].startswith("/") or not all(_SUDO_WORD.match(w) for w in command)):
        raise ValueError("the SSH power-off command must be a list: an absolute path, then plain words (a sudoers "
                         "rule names it exactly), got %r" % (command,))
    if not isinstance(identity_file, str) or not identity_file.startswith("/"):
        raise ValueError("the SSH power-off key file must be an absolute path (got %r)" % (identity_file,))
    return {"user": user, "command": ["sudo", "-n", *command], "identity_file": identity_file}


def _is_ip(address) -> bool:
    try:
        ipaddress.ip_address(str(address))
    except ValueError:
        return False
    return True
