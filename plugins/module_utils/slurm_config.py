# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a change of Slurm's configuration files needs, decided from the deployed files (pure logic).

``decide`` compares the files on the node with the new ones: a change of a setting that
``scontrol reconfigure`` cannot apply (the caller's ``restart_keys``), of the node definitions, or of
any file other than slurm.conf (gres.conf, cgroup.conf) needs a restart of the daemons; any other
slurm.conf change a reconfigure. An action an earlier run recorded and did not finish (the pending
marker, see ``marker_text``) is added, so that a run that died between writing the files and
restarting the daemons is finished by the next one.
"""

from __future__ import annotations

import json
import os

ACTIONS = ("none", "reconfigure", "restart")
MARKER_VERSION = 1


class SlurmConfigError(ValueError):
    """The pending marker or the request cannot be read; the message says which and why."""


def _logical_lines(text: str) -> list[str]:
    """slurm.conf lines without comments and blank lines, continuation lines (``\\``) joined."""
    lines, pending = [], ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


def parse_slurm_conf(text: str) -> tuple[dict[str, str], list[str]]:
    """(settings, node lines) of a slurm.conf text.

    Settings are keyed by the lower-cased name (slurm.conf keys are case-insensitive) and keep the
    value as written; a key given twice keeps the last value, as slurmctld does. Lines that start with
    ``NodeName=`` (any case) are node definitions and returned whole, whitespace normalised.
    ``PartitionName=`` and ``NodeSet=`` lines are neither (a reconfigure applies them). ``Include``
    lines are kept as the setting ``include`` (a different include file needs a look by the caller).
    """
    settings: dict[str, str] = {}
    nodes: list[str] = []
    for line in _logical_lines(text):
        head = line.split(None, 1)[0]
        key = head.split("=", 1)[0].lower()
        if key == "nodename":
            nodes.append(" ".join(line.split()))
        elif key in ("partitionname", "nodeset", "downnodes", "frontendname"):
            continue
        elif key == "include" and "=" not in head:
            settings["include"] = line.split(None, 1)[1].strip() if " " in line else ""
        elif "=" in line:
            name, value = line.split("=", 1)
            settings[name.strip().lower()] = value.strip()
    return settings, nodes


def restart_reasons(old: dict, new: dict, restart_keys, main: str = "slurm.conf") -> list[str]:
    """Why the new files need the daemons restarted (empty: a reconfigure, or nothing, is enough).

    ``old`` and ``new`` map a file's name to its text (``old`` value None: the file is not there yet).
    ``main`` names the slurm.conf among them.
    """
    reasons = []
    for name in sorted(new):
        if old.get(name) is None:
            reasons.append("%s is new" % name)
        elif name != main and old[name] != new[name]:
            reasons.append("%s changed" % name)
    if main in new and old.get(main) is not None and old[main] != new[main]:
        before, before_nodes = parse_slurm_conf(old[main])
        after, after_nodes = parse_slurm_conf(new[main])
        for key in restart_keys:
            low = key.lower()
            if before.get(low) != after.get(low):
                reasons.append("%s: %s -> %s" % (key, before.get(low, "(unset)"), after.get(low, "(unset)")))
        if sorted(before_nodes) != sorted(after_nodes):
            reasons.append("node definitions changed")
    return reasons


def decide(old: dict, new: dict, restart_keys, pending: dict | None = None, extra_reasons=(),
           main: str = "slurm.conf") -> dict:
    """The action the change needs: {'action': 'none'|'reconfigure'|'restart', 'reasons': [...]}.

    ``pending`` is an earlier run's unfinished marker (``read_marker``); ``extra_reasons`` force a
    restart for something outside the files (a new JWT key).
    """
    changed = sorted(name for name in new if old.get(name) != new[name])
    reasons = restart_reasons(old, new, restart_keys, main) + list(extra_reasons)
    if reasons:
        action = "restart"
    elif changed:
        action = "reconfigure"
        reasons = ["%s changed (settings scontrol reconfigure applies)" % name for name in changed]
    else:
        action = "none"
    if pending:
        if ACTIONS.index(pending["action"]) > ACTIONS.index(action):
            action = pending["action"]
        earlier = "; ".join(pending.get("reasons", [])) or "no reason recorded"
        reasons = [*reasons, "an earlier run changed the files and stopped before the %s (%s)"
                   % (pending["action"], earlier)]
    return {"action": action, "reasons": reasons, "changed": changed}


def merge_marker(pending: dict | None, decision: dict, files) -> dict:
    """The marker to write before the files change: the stronger action, all reasons, all files."""
    action = decision["action"]
    reasons = list(decision["reasons"])
    names = set(files)
    if pending:
        if ACTIONS.index(pending["action"]) > ACTIONS.index(action):
            action = pending["action"]
        names.update(pending.get("files", []))
    return {"version": MARKER_VERSION, "action": action, "reasons": reasons, "files": sorted(names)}


def marker_text(marker: dict) -> str:
    return json.dumps(marker, indent=2, sort_keys=True) + "\n"


def read_marker(text: str | None, path: str = "marker") -> dict | None:
    """The pending marker's content (None when there is none); a marker that cannot be read raises."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SlurmConfigError("%s: not JSON (%s); remove it after checking the daemons run the files "
                               "in the configuration directory" % (path, exc)) from exc
    if not isinstance(data, dict) or data.get("action") not in ACTIONS[1:]:
        raise SlurmConfigError("%s: no action 'reconfigure' or 'restart' in it: %r" % (path, data))
    if not isinstance(data.get("reasons", []), list) or not isinstance(data.get("files", []), list):
        raise SlurmConfigError("%s: 'reasons' and 'files' must be lists: %r" % (path, data))
    return data


def backup_name(dest: str) -> str:
    """The name a file's previous version gets in the backup directory (its path, '/' as '%')."""
    return dest.strip("/").replace("%", "%25").replace("/", "%")


def restore_plan(manifest: dict, present: dict) -> list[tuple[str, str]]:
    """What putting the previous files back does: [(dest, 'write'|'remove'|'keep')].

    ``manifest`` maps each managed path to whether it existed before the change (the backup's
    manifest.json); ``present`` maps the path to whether it exists now.
    """
    plan = []
    for dest in sorted(manifest):
        if manifest[dest]:
            plan.append((dest, "write"))
        elif present.get(dest):
            plan.append((dest, "remove"))
        else:
            plan.append((dest, "keep"))
    return plan


def file_key(dest: str) -> str:
    """The name a managed file is known by in ``decide`` (its base name)."""
    return os.path.basename(dest)
