# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tmux session on a cluster's head: one window for the head, then the nodes, four panes a window.

Pure functions, no I/O. ``layout`` gives the windows and panes the session should have, ``parse_panes``
reads ``tmux list-panes -a -F LIST_FORMAT`` and ``compare`` says how a listed session differs from
the layout.

The layout (from the rental setup script this replaces):

* window ``head``: one pane, a login shell on the head (no command);
* the nodes, head included, in node order: with at most NODES_PER_WINDOW nodes one window
  ``all-nodes``, else windows ``nodes-1``, ``nodes-2``, ... of NODES_PER_WINDOW panes each. The
  head's pane there is a shell too; a worker's pane runs ``ssh <alias>`` (the alias resolves to the
  worker's private address in the user's ~/.ssh/config) and falls back to a login shell when ssh ends;
* every pane has the title ``<alias> <address>`` (``head <address>`` for the head) and its output is
  logged to ``<log_dir>/<window>.<n>.log``, n counting the window's panes from 0 in creation order
  (whatever the user's ``pane-base-index``).
"""

from __future__ import annotations

import posixpath
import re
import shlex

NODES_PER_WINDOW = 4
HEAD_WINDOW = "head"
ALL_NODES_WINDOW = "all-nodes"
NODES_WINDOW = "nodes-%d"
FIELDS = ("session", "window", "index", "title", "command")
# What the module asks tmux for; tab-separated, the start command last (it may hold anything).
LIST_FORMAT = "\t".join("#{%s}" % f for f in (
    "session_name", "window_name", "pane_index", "pane_title", "pane_start_command"))
_ESCAPE_RE = re.compile(r"\\([0-7]{3}|.)", re.DOTALL)
_C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "s": " "}


class TmuxLayoutError(ValueError):
    """The nodes do not make a layout, or tmux's listing does not read."""


def worker_command(alias: str) -> str:
    """The command of a worker's pane: ssh to it, then a login shell once ssh ends (a dropped
    connection leaves a shell in the pane, not a dead pane)."""
    return "sh -c " + shlex.quote(f'ssh {shlex.quote(alias)}; exec "${{SHELL:-/bin/sh}}" -l')


def _pane(node: dict, window: str, position: int, log_dir: str) -> dict:
    name = "head" if node["head"] else node["alias"]
    return {
        "title": f"{name} {node['address']}",
        "command": None if node["head"] else worker_command(node["alias"]),
        "log": posixpath.join(log_dir, f"{window}.{position}.log"),
    }


def _checked(nodes: list[dict]) -> list[dict]:
    if not nodes:
        raise TmuxLayoutError("no nodes given")
    checked, aliases = [], set()
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise TmuxLayoutError(f"node {index} is {type(node).__name__}, not a dict")
        alias, address = str(node.get("alias") or "").strip(), str(node.get("address") or "").strip()
        if not alias or not address:
            raise TmuxLayoutError(f"node {index} needs an alias and an address, got {node!r}")
        if alias in aliases:
            raise TmuxLayoutError(f"alias {alias} is given twice")
        aliases.add(alias)
        checked.append({"alias": alias, "address": address, "head": bool(node.get("head"))})
    heads = [n["alias"] for n in checked if n["head"]]
    if len(heads) != 1:
        raise TmuxLayoutError(f"exactly one node must be the head, got {len(heads)}: {heads}")
    return checked


def layout(nodes: list[dict], log_dir: str = "~/gpuforge-logs/tmux") -> list[dict]:
    """[{alias, address, head}] -> [{window, panes: [{title, command, log}]}], windows in creation order.

    ``command`` is None for a shell (the head's panes). Raises TmuxLayoutError without exactly one head,
    with a node lacking an alias or an address, or with an alias given twice.
    """
    nodes = _checked(nodes)
    head = next(n for n in nodes if n["head"])
    windows = [{"window": HEAD_WINDOW, "panes": [_pane(head, HEAD_WINDOW, 0, log_dir)]}]
    groups = [nodes[i:i + NODES_PER_WINDOW] for i in range(0, len(nodes), NODES_PER_WINDOW)]
    for number, group in enumerate(groups, 1):
        name = ALL_NODES_WINDOW if len(groups) == 1 else NODES_WINDOW % number
        windows.append({"window": name, "panes": [_pane(n, name, i, log_dir) for i, n in enumerate(group)]})
    return windows


def unquote(text: str) -> str:
    """A ``#{pane_start_command}`` as tmux (3.0 and later) shows it, back to the command it was given.

    tmux escapes each argument of the command (``args_escape`` in its arguments.c) with C-style and octal
    escapes (a backslash as ``\\\\``), in double quotes with ``\\"`` and ``\\$`` when it holds a space or
    one of ``#';${}%``, else in single quotes when it holds a ``"``; a leading ``~`` gets a backslash.
    The panes here get one argument each.
    """
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]

    def one(match: re.Match) -> str:
        code = match.group(1)
        if len(code) == 3:
            return chr(int(code, 8))
        return _C_ESCAPES.get(code, code)

    return _ESCAPE_RE.sub(one, text)


def parse_panes(text: str) -> list[dict]:
    """``tmux list-panes -a -F LIST_FORMAT`` -> [{session, window, index, title, command}].

    ``index`` is an int; ``command`` is None for a pane started with the default shell.
    """
    panes = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t", len(FIELDS) - 1)
        if len(fields) != len(FIELDS) or not fields[2].strip().isdigit():
            raise TmuxLayoutError(f"line {number} of tmux list-panes does not read: {line!r}")
        session, window, index, title, command = fields
        panes.append({"session": session, "window": window, "index": int(index), "title": title,
                      "command": unquote(command) or None})
    return panes


def expected_panes(windows: list[dict], session: str) -> list[dict]:
    """The layout as the listing of a session made from it would read (pane indexes from 0)."""
    return [{"session": session, "window": w["window"], "index": i, "title": p["title"], "command": p["command"]}
            for w in windows for i, p in enumerate(w["panes"])]


def _by_window(panes: list[dict]) -> dict[str, list[dict]]:
    windows: dict[str, list[dict]] = {}
    for pane in panes:
        windows.setdefault(pane["window"], []).append(pane)
    return {name: sorted(found, key=lambda p: p["index"]) for name, found in windows.items()}


def compare(windows: list[dict], listed: list[dict], session: str | None = None) -> list[str]:
    """How the listed panes differ from the layout ``windows``; [] when they match.

    ``listed`` is parse_panes' list; with ``session`` only that session's panes count (list-panes -a
    lists every session of the server). Panes are matched by their order in the window, not by index.
    Compared: the windows (missing ones, and windows the layout does not have), the number of panes of
    each, and each pane's title and start command. The log pipes are not compared (tmux does not list
    them).
    """
    if session is not None:
        listed = [p for p in listed if p["session"] == session]
    if not listed:
        return [f"session {session} does not exist" if session is not None else "no session"]
    have = _by_window(listed)
    found = []
    for window in windows:
        name, want = window["window"], window["panes"]
        panes = have.get(name)
        if panes is None:
            found.append(f"window {name} is missing")
            continue
        if len(panes) != len(want):
            found.append(f"window {name} has {len(panes)} panes, expected {len(want)}")
        for position, (pane, expected) in enumerate(zip(panes, want)):
            if pane["title"] != expected["title"]:
                found.append(f"window {name} pane {position}: title {pane['title']!r}, expected "
                             f"{expected['title']!r}")
            if pane["command"] != expected["command"]:
                found.append(f"window {name} pane {position}: command {pane['command']!r}, expected "
                             f"{expected['command']!r}")
    wanted = {w["window"] for w in windows}
    found += [f"window {name} is not in the layout" for name in have if name not in wanted]
    return found
