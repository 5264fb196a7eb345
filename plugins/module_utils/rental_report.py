# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rented GPU boxes: the summary table printed at the end of a setup run, and the commands to get in.

Pure functions, no I/O, no Ansible. A row is one box as the setup play found it: ``node``, ``public``,
``private``, ``user``, ``gpus`` (a count or None), ``gpu_name``, ``driver``, ``docker``, ``ray`` and
``status`` ('ok' or why the box failed). ``table_lines`` lays them out as aligned text lines,
``quick_access_lines`` gives the ssh commands to reach the head, its tmux session and Ray.
"""

from __future__ import annotations

import re
import shlex

HEADER = ("node", "public", "private", "user", "GPUs", "driver", "Docker", "Ray", "status")
# A row's keys for the plain columns of HEADER (GPUs and status are computed).
PLAIN_KEYS = ("node", "public", "private", "user")
VERSION_KEYS = ("driver", "docker", "ray")
MISSING = "-"
STATUS_WIDTH = 60  # a longer status is cut to this many characters, "..." included
GAP = "  "
WHITESPACE_RE = re.compile(r"\s+")


class RentalReportError(ValueError):
    """A row that is not a dict."""


def _cell(value: object) -> str:
    """None and empty text as '-', booleans as yes/no, everything else as one line of text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = WHITESPACE_RE.sub(" ", str(value)).strip()
    return text or MISSING


def gpus_cell(count: object, name: object = None) -> str:
    """(1, 'H100') -> '1x H100'; (8, None) -> '8'; 0 or None -> '-'."""
    if count is None or isinstance(count, bool):
        return MISSING
    try:
        number = int(count)
    except (TypeError, ValueError):
        return _cell(count)
    if number <= 0:
        return MISSING
    gpu = _cell(name)
    return f"{number}x {gpu}" if gpu != MISSING else str(number)


def is_ok(row: dict) -> bool:
    """A row whose status is 'ok' (any case, spaces around allowed)."""
    return str(row.get("status") or "").strip().lower() == "ok"


def status_cell(status: object, width: int = STATUS_WIDTH) -> str:
    """The status on one line; longer than ``width`` cut to ``width`` characters ending in '...'."""
    text = _cell(status)
    if len(text) > width:
        text = text[: width - 3] + "..."
    return text


def table_cells(rows: list[dict]) -> list[tuple[str, ...]]:
    """The header and one tuple of cells per row: ok rows first, then failures, each in input order."""
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RentalReportError(f"row {index} is {type(row).__name__}, not a dict")
    ordered = [r for r in rows if is_ok(r)] + [r for r in rows if not is_ok(r)]
    cells = [HEADER]
    for row in ordered:
        cells.append((
            *(_cell(row.get(key)) for key in PLAIN_KEYS),
            gpus_cell(row.get("gpus"), row.get("gpu_name")),
            *(_cell(row.get(key)) for key in VERSION_KEYS),
            status_cell(row.get("status")),
        ))
    return cells


def align(cells: list[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart, no trailing spaces."""
    if not cells:
        return []
    widths = [max(len(row[col]) for row in cells) for col in range(len(cells[0]))]
    return [GAP.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]


def table_lines(rows: list[dict]) -> list[str]:
    """The aligned table: a header line and one line per row (ok rows first, failures after)."""
    return align(table_cells(rows))


def quick_access_lines(rows: list[dict], head: str, session: str = "multinode",
                       config_note: str | None = None) -> list[str]:
    """Commands to reach the cluster, each with a comment saying what it opens.

    ``head`` is what ssh is given for the head node (``ubuntu@203.0.113.7``, or a ~/.ssh/config alias).
    Lines: a shell on the head, the tmux session on it, ``ray status`` on it, then one direct ssh per
    row that has a public address (``user@public``, or the public address alone without a user), then
    ``config_note`` as a last comment line when given.
    """
    head = str(head or "").strip()
    if not head:
        raise RentalReportError("no head given (what ssh connects to, e.g. ubuntu@203.0.113.7)")
    target = shlex.quote(head)
    commands = [
        (f"ssh {target}", "a shell on the head"),
        (f"ssh -t {target} tmux attach -t {shlex.quote(str(session))}", "the tmux session: one pane per node"),
        (f"ssh {target} ray status", "the Ray cluster's nodes and resources"),
    ]
    for index, row in enumerate(rows or []):
        if not isinstance(row, dict):
            raise RentalReportError(f"row {index} is {type(row).__name__}, not a dict")
        public = _cell(row.get("public"))
        if public == MISSING:
            continue
        user = _cell(row.get("user"))
        login = public if user == MISSING else f"{user}@{public}"
        note = _cell(row.get("node"))
        if not is_ok(row):
            note += " (failed: " + status_cell(row.get("status"), 40) + ")"
        commands.append((f"ssh {shlex.quote(login)}", note))
    width = max(len(command) for command, _note in commands)
    lines = [f"{command.ljust(width)}  # {note}" for command, note in commands]
    if config_note:
        lines.append("# " + _cell(config_note))
    return lines
