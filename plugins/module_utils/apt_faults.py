# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed ansible.builtin.apt result means for a retry: a repository that could not be reached
for now (name resolution, connection, timeouts, 5xx) is worth another try after a pause; a missing file
(404), a bad signature or a broken package is not. The repositories named in apt's "Failed to fetch" lines
go into the final message, so that the one unreachable repository is named.
"""

from __future__ import annotations

import re
from typing import Any

_FETCH = re.compile(r"Failed to fetch (?P<url>\S+)\s+(?P<why>[^\n\\\"]*)")
_TRANSIENT = re.compile(
    r"Temporary failure resolving|Could not resolve|Could not connect|Connection timed out|connection timed out|"
    r"Connection failed|Network is unreachable|No route to host|Connection refused|Unable to connect|"
    r"Undetermined Error|Hash Sum mismatch|\b50[0234]\b|Temporary failure in name resolution", re.IGNORECASE)


def _repository(url: str) -> str:
    """The repository part of a fetched URL: scheme://host/path up to dists/ or pool/."""
    for marker in ("/dists/", "/pool/"):
        if marker in url:
            return url.split(marker, 1)[0]
    return url.rsplit("/", 1)[0]


def classify(result: dict[str, Any]) -> dict[str, Any]:
    """``{transient, repositories, reasons}`` of an apt module result (msg, stderr, stdout)."""
    text = "\n".join(str(result.get(key) or "") for key in ("msg", "stderr", "stdout"))
    fetches = [(m.group("url"), m.group("why").strip()) for m in _FETCH.finditer(text)]
    repositories = []
    for url, _why in fetches:
        repo = _repository(url)
        if repo not in repositories:
            repositories.append(repo)
    reasons = []
    for _url, why in fetches:
        if why and why not in reasons:
            reasons.append(why)
    transient = bool(_TRANSIENT.search(text)) and not re.search(r"\b404\b|NO_PUBKEY|not signed", text)
    return {"transient": transient, "repositories": repositories, "reasons": reasons}


def final_message(result: dict[str, Any], attempts: int) -> str:
    """The one message after the last attempt: the repositories that stayed unreachable and why."""
    info = classify(result)
    if not info["repositories"]:
        return str(result.get("msg") or "apt failed")
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    why = f" ({'; '.join(info['reasons'])})" if info["reasons"] else ""
    return (f"repository unreachable{tries}: {', '.join(info['repositories'])}{why}. apt said: "
            f"{str(result.get('msg') or '').strip()[:400]}")
