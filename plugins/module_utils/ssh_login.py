# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which user a rented box lets in: the ssh command of one attempt and the judgement of its result
(pure functions).

``ssh_args`` is one BatchMode attempt with host-key checking on; ``classify`` reads ssh's rc and
messages: ``ok``, ``denied`` (try the next user), ``unreachable`` or ``host_key`` (stop: no other user
gets further), or ``error`` (anything else, also final). ``detect`` tries the candidates in order with
an attempt function and ``summary_line`` says the outcome in one line.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from ansible_collections.gpuforge.cluster.plugins.module_utils.known_hosts import host_pattern

RESULTS = ("ok", "denied", "unreachable", "host_key", "error")
# Results after which the next candidate user is tried.
TRY_NEXT = ("denied",)
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$")
# "user@10.79.0.10: Permission denied (publickey)." -> the part after the user@host prefix.
_DENIED = re.compile(r"(?:^|: )(Permission denied \([^)]*\)\.?)", re.MULTILINE)
_UNREACHABLE = (
    ("Connection timed out", "Connection timed out after {timeout} s"),
    ("timed out", "Connection timed out after {timeout} s"),  # "Connection to X port 22 timed out"
    ("Connection refused", "Connection refused"),
    ("No route to host", "No route to host"),
    ("Network is unreachable", "Network is unreachable"),
    ("Could not resolve hostname", "Could not resolve hostname"),
)


def user_problems(candidates: list[str]) -> list[str]:
    """What is wrong with the candidate user names: one sentence each, [] when fine."""
    if not candidates:
        return ["candidates is empty: give at least one user name"]
    return [f"candidate {user!r} is not a user name" for user in candidates if not _USER.match(user or "")]


def ssh_args(address: str, port: int, user: str, timeout: int, known_hosts: str,
             identity_file: str | None = None) -> list[str]:
    """Arguments of ``ssh`` for one attempt: BatchMode (no prompt), StrictHostKeyChecking=yes against
    ``known_hosts``, one connection attempt of at most ``timeout`` seconds, the command ``true``."""
    args = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", f"ConnectTimeout={int(timeout)}", "-o", "ConnectionAttempts=1"]
    if identity_file:
        args += ["-i", identity_file, "-o", "IdentitiesOnly=yes"]
    return [*args, "-p", str(int(port)), "-l", user, address, "true"]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def classify(rc: int, stdout: str, stderr: str, timeout: int, killed_after: int | None = None) -> tuple[str, str]:
    """(result, detail) of one ssh attempt.

    ``killed_after``: the seconds after which ssh was stopped because it had not ended (the attempt's
    own bound); that is ``unreachable``, unless the account had printed something (it logged in and ran
    another command that did not end in time): ``denied``. rc 255 is ssh's own failure, read from its messages; any other
    rc means the login worked but the account ran something else than the command (a cloud image's
    ``Please login as the user "ubuntu"`` for root, a nologin shell): that user is not usable, ``denied``.
    """
    if killed_after is not None:
        said = _first_line(stdout)
        if said:
            return "denied", f"logged in, but the account did not end the command within {killed_after} s: {said}"
        return "unreachable", f"no answer within {killed_after} s (ssh stopped)"
    if rc == 0:
        return "ok", ""
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return "host_key", ("the host key CHANGED since it was recorded in known_hosts (run host_key_policy "
                            "with policy 'replace' if the machine was re-created)")
    if "Host key verification failed" in stderr:
        if "host key is known" in stderr:  # "No ED25519 host key is known for X and you have requested ..."
            return "host_key", "no host key known for it in known_hosts (run host_key_policy first)"
        return "host_key", "Host key verification failed"
    if rc != 255:
        said = _first_line(stdout) or _first_line(stderr)
        return "denied", f"logged in, but the account did not run the command (rc {rc})" + (f": {said}" if said else "")
    denied = _DENIED.search(stderr)
    if denied:
        return "denied", denied.group(1)
    if "Too many authentication failures" in stderr:
        return "denied", "Too many authentication failures (too many keys offered; set identity_file)"
    for needle, detail in _UNREACHABLE:
        if needle in stderr:
            return "unreachable", detail.format(timeout=int(timeout))
    return "error", _last_line(stderr) or f"ssh failed with rc {rc} and no message"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def detect(candidates: list[str], attempt: Callable[[str], tuple[str, str]],
           clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Try ``candidates`` in order with ``attempt(user) -> (result, detail)``; stop at the first ``ok``
    or at a result other than ``denied``.

    Returns ``{user, reason, detail, tried: [{user, result, detail}], seconds}``: ``user`` the one that
    logged in (None when none did), ``reason`` None on success or the last result, ``detail`` its text.
    """
    start = clock()
    tried = []
    for user in candidates:
        result, detail = attempt(user)
        tried.append({"user": user, "result": result, "detail": detail})
        if result == "ok":
            return {"user": user, "reason": None, "detail": "", "tried": tried,
                    "seconds": round(clock() - start, 1)}
        if result not in TRY_NEXT:
            break
    last = tried[-1] if tried else {"result": "error", "detail": "no candidate user"}
    detail = last["detail"]
    if last["result"] == "denied" and len(tried) == len(candidates):
        detail = f"no candidate user was let in, last: {detail}"
    return {"user": None, "reason": last["result"], "detail": detail, "tried": tried,
            "seconds": round(clock() - start, 1)}


def display_address(address: str, port: int = 22) -> str:
    """``10.79.0.10`` on port 22, ``[10.79.0.10]:2222`` on another port."""
    return address if int(port) == 22 else host_pattern(address, port)


def summary_line(name: str, address: str, port: int, outcome: dict[str, Any]) -> str:
    """``rental0 10.79.0.10: ubuntu (tried ubuntu)`` or
    ``rental2 203.0.113.9: unreachable - Connection timed out after 10 s (tried ubuntu)``."""
    tried = ", ".join(t["user"] for t in outcome["tried"])
    where = f"{name} {display_address(address, port)}"
    if outcome["user"] is not None:
        return f"{where}: {outcome['user']} (tried {tried})"
    return f"{where}: {outcome['reason']} - {outcome['detail']} (tried {tried})"
