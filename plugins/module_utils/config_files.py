# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and write several small files in one module call (the ``config_files`` module's logic).

``check_request`` is the validation pass: it reads the file system (lstat, isdir) and the user
and group databases but changes nothing, and raises one error naming every problem and its path,
so that the module fails before it writes anything. ``read_bytes``, ``replace_file``,
``set_attributes`` and ``file_diff`` are the steps of the module's write pass.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
import tempfile

OCTAL_RE = re.compile(r"^0?[0-7]{3,4}$")
# The argument spec of one entry of a ``files`` option (config_files, slurm_config).
FILE_OPTIONS = dict(
    dest=dict(type="path", required=True), content=dict(type="str", required=True),
    owner=dict(type="str"), group=dict(type="str"), mode=dict(type="raw", default="0644"))


class ConfigFilesError(ValueError):
    """The request cannot be carried out; the message names every offending path."""


def parse_mode(value) -> int:
    """An octal mode string (``"0644"``, ``"644"``) or an int (YAML ``0644`` is 420) -> int."""
    if isinstance(value, bool):
        raise ValueError("mode %r is not an octal mode" % (value,))
    if isinstance(value, int):
        mode = value
    elif isinstance(value, str) and OCTAL_RE.match(value.strip()):
        mode = int(value.strip(), 8)
    else:
        raise ValueError("mode %r is not an octal mode such as \"0644\"" % (value,))
    if mode != stat.S_IMODE(mode):
        raise ValueError("mode %o has bits beyond the permission bits (07777)" % mode)
    return mode


def _account_problem(kind: str, name) -> str | None:
    if name is None or str(name).isdigit():
        return None
    try:
        (pwd.getpwnam if kind == "owner" else grp.getgrnam)(name)
    except KeyError:
        return "%s %r does not exist on this host" % (kind, name)
    return None


def _place_problem(path: str, is_file: bool, planned: set) -> str | None:
    """What is wrong with writing at ``path`` as it stands now (None when nothing)."""
    kind = "regular file" if is_file else "directory"
    if os.path.islink(path):
        return "is a symbolic link (links are neither followed nor replaced)"
    if is_file and os.path.isdir(path):
        return "is a directory"
    if os.path.lexists(path) and not (os.path.isfile if is_file else os.path.isdir)(path):
        return "exists and is not a %s" % kind
    parent = os.path.dirname(path)
    if parent in planned or os.path.isdir(parent):
        return None
    return "parent directory %s is not an existing directory and is not in directories" % parent


def _check(item: dict, key: str, seen: dict, planned: set) -> tuple[str, list[str], int]:
    """All checks of one file (key ``dest``) or directory (key ``path``) entry.

    Returns (normalised path, problems, mode as int).
    """
    raw = item[key]
    path = os.path.normpath(raw)
    problems = []
    if not os.path.isabs(raw):
        problems.append("%s is not an absolute path" % key)
    if path in seen:
        problems.append("listed twice (also as a %s)" % seen[path])
    seen[path] = key
    if os.path.isabs(raw):
        problem = _place_problem(path, key == "dest", planned)
        if problem:
            problems.append(problem)
    mode = 0
    try:
        mode = parse_mode(item["mode"])
    except ValueError as exc:
        problems.append(str(exc))
    for kind in ("owner", "group"):
        problem = _account_problem(kind, item.get(kind))
        if problem:
            problems.append(problem)
    return path, problems, mode


def check_request(files: list, directories: list) -> tuple[list[dict], list[dict]]:
    """Validate both lists without changing anything -> (files, directories) with ``mode`` as int.

    Paths come back normalised (``os.path.normpath``). A directory may sit in one listed before it;
    a file may sit in any listed directory. Raises ConfigFilesError with all problems, each as
    ``<path as given>: <problem>``, joined by ``"; "``.
    """
    seen: dict = {}
    planned: set = set()
    problems: list[str] = []
    out: dict = {"path": [], "dest": []}
    for key, items in (("path", directories), ("dest", files)):
        for item in items:
            path, found, mode = _check(item, key, seen, planned)
            if key == "path":
                planned.add(path)
            problems += ["%s: %s" % (item[key], problem) for problem in found]
            out[key].append(dict(item, **{key: path, "mode": mode}))
    if problems:
        raise ConfigFilesError("; ".join(problems))
    return out["dest"], out["path"]


def read_bytes(path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def replace_file(module, dest: str, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``dest`` and ``atomic_move`` it there.

    atomic_move gives the file the old file's attributes, or 0666 & ~umask for a new one;
    ``set_attributes`` sets the wanted ones right after.
    """
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".config_files.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp, dest)
    except Exception as exc:  # atomic_move raises plain Exception where its workarounds fail
        raise ConfigFilesError("%s: cannot write: %s" % (dest, exc)) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def set_attributes(module, path: str, item: dict) -> bool:
    """Owner, group and mode of ``path`` set from ``item`` -> whether they differed.

    The AnsibleModule methods honour check mode (report, change nothing; a missing path differs).
    """
    changed = module.set_owner_if_different(path, item.get("owner"), False, expand=False)
    changed = module.set_group_if_different(path, item.get("group"), changed, expand=False)
    return module.set_mode_if_different(path, item["mode"], changed, expand=False)


def file_diff(dest: str, before: bytes | None, after: str) -> dict:
    """One entry of the module's ``diff`` list (``before`` is "" for a new file)."""
    text = "" if before is None else before.decode("utf-8", "replace")
    return {"before_header": dest, "after_header": dest, "before": text, "after": after}


def key_value_text(params: dict, separator: str = " = ") -> str:
    """``{'b': 1, 'A': 'x'}`` -> ``'A = x\\nb = 1\\n'``: one line per key, sorted ignoring case (as Jinja's
    dictsort), for a config file or a managed block of one."""
    items = sorted(params.items(), key=lambda kv: kv[0].lower() if isinstance(kv[0], str) else kv[0])
    return "".join(f"{key}{separator}{value}\n" for key, value in items)
